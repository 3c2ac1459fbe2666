/**
 * Diff benchmark (issue 3): an application of 50 journeys × 40 steps × 10 settings (20,000
 * setting leaves); `from` changes 1% of the leaves, adds 3 steps and removes 2 (rewiring what
 * pointed at them). Times our full diff (ids, summaries, requires, bundles) against microdiff and
 * jsondiffpatch on the same plain documents, in the same run.
 *
 * Journey hashes are computed once outside the timing: they are stored with every version, as the
 * diff service reads them. Ten settings per step is more than any catalogue step type has, so the
 * documents are not catalogue-valid; the diff does not need them to be.
 *
 *   npm run bench -- diff.bench
 */
import { pathToFileURL } from "node:url";
import { create as createJsonDiffPatch } from "jsondiffpatch";
import microdiff from "microdiff";
import type { ApplicationDocument } from "../../src/domain/change.js";
import { type DiffSide, diffApplication, diffSide } from "../../src/domain/diff.js";
import type { JourneyDocument, JourneyStepDefinition, JsonObject } from "../../src/domain/journey-document.js";

export interface DiffBenchFigures {
  journeys: number;
  steps: number;
  settingLeaves: number;
  changedLeaves: number;
  addedSteps: number;
  removedSteps: number;
  runs: number;
  /** what each diff reported on this pair */
  counts: { ours: number; bundles: number; microdiff: number; jsondiffpatchJourneys: number };
  /** medians, milliseconds */
  medianMs: { ours: number; microdiff: number; jsondiffpatch: number; hashBothSides: number };
  /** fastest runs, milliseconds: the cost without the noise of a shared machine */
  bestMs: { ours: number; microdiff: number; jsondiffpatch: number };
  /** ours / theirs, of the medians: below 1 means ours is faster */
  ratios: { oursToMicrodiff: number; oursToJsondiffpatch: number };
}

const JOURNEYS = 50;
const STEPS = 40;
const SETTINGS = 10;
const CHANGED_LEAF_SHARE = 0.01;
const ADDED_STEPS = 3;
const REMOVED_STEPS = 2;

export function runDiffBench(options: { runs?: number; warmup?: number } = {}): DiffBenchFigures {
  const runs = options.runs ?? 100;
  const warmup = options.warmup ?? 20;
  const { from, to, changedLeaves } = benchApplicationPair();

  const [hashTimes] = timeInterleaved(Math.max(5, Math.floor(runs / 10)), 2, [() => [diffSide(from), diffSide(to)]]);
  const hashBothSides = median(hashTimes);
  const fromSide: DiffSide = diffSide(from);
  const toSide: DiffSide = diffSide(to);
  const jsondiffpatch = createJsonDiffPatch();

  const ours = diffApplication(fromSide, toSide);
  const micro = microdiff(to, from);
  const patch = jsondiffpatch.diff(to, from) as { journeys?: object } | undefined;

  const [oursTimes, microTimes] = timeInterleaved(runs, warmup, [() => diffApplication(fromSide, toSide), () => microdiff(to, from)]);
  // timed on its own: the garbage it leaves would be collected during the others' runs
  const [patchTimes] = timeInterleaved(runs, warmup, [() => jsondiffpatch.diff(to, from)]);
  const oursMs = median(oursTimes);
  const microMs = median(microTimes);
  const patchMs = median(patchTimes);

  return {
    journeys: JOURNEYS,
    steps: JOURNEYS * STEPS,
    settingLeaves: JOURNEYS * STEPS * SETTINGS,
    changedLeaves,
    addedSteps: ADDED_STEPS,
    removedSteps: REMOVED_STEPS,
    runs,
    counts: {
      ours: ours.changes.length,
      bundles: ours.bundles.length,
      microdiff: micro.length,
      jsondiffpatchJourneys: Object.keys(patch?.journeys ?? {}).length,
    },
    medianMs: { ours: oursMs, microdiff: microMs, jsondiffpatch: patchMs, hashBothSides },
    bestMs: { ours: Math.min(...oursTimes), microdiff: Math.min(...microTimes), jsondiffpatch: Math.min(...patchTimes) },
    ratios: { oursToMicrodiff: oursMs / microMs, oursToJsondiffpatch: oursMs / patchMs },
  };
}

export function formatDiffBench(f: DiffBenchFigures): string {
  const ms = (value: number) => `${value.toFixed(3)} ms`;
  return [
    `diff: ${f.journeys} journeys × ${f.steps / f.journeys} steps × ${f.settingLeaves / f.steps} settings ` +
      `(${f.settingLeaves} leaves), ${f.changedLeaves} leaves changed, +${f.addedSteps} / -${f.removedSteps} steps, ` +
      `median of ${f.runs} runs`,
    `  median / best`,
    `  ours (ids, summaries, requires, bundles) ${ms(f.medianMs.ours)} / ${ms(f.bestMs.ours)}  ${f.counts.ours} changes, ${f.counts.bundles} bundles`,
    `  microdiff (raw)                         ${ms(f.medianMs.microdiff)} / ${ms(f.bestMs.microdiff)}  ${f.counts.microdiff} differences`,
    `  jsondiffpatch (raw)                     ${ms(f.medianMs.jsondiffpatch)} / ${ms(f.bestMs.jsondiffpatch)}  ${f.counts.jsondiffpatchJourneys} journeys differ`,
    `  ours / microdiff      ${f.ratios.oursToMicrodiff.toFixed(2)}`,
    `  ours / jsondiffpatch  ${f.ratios.oursToJsondiffpatch.toFixed(2)}`,
    `  (hashing both sides, done once per saved version, not per diff: ${ms(f.medianMs.hashBothSides)})`,
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------
// documents

/** The pair the benchmark diffs, the same on every call (seeded), for other benchmarks to seed. */
export function benchApplicationPair(): { from: ApplicationDocument; to: ApplicationDocument; changedLeaves: number } {
  const random = mulberry32(20240603);
  const to = application(random);
  return { to, ...mutate(to, random) };
}

const STEP_TYPES = ["IDENTIFIER", "PASSWORD", "EMAIL_OTP", "SMS_OTP", "RISK_CHECK", "WEBHOOK", "CONSENT", "TOTP"];
const REGIONS = ["eu-west-1", "us-east-1", "ap-southeast-2"];

function application(random: () => number): ApplicationDocument {
  const journeys: Record<string, JourneyDocument> = {};
  for (let j = 0; j < JOURNEYS; j++) journeys[`journey-${j}`] = journey(j, random);
  return {
    client: {
      settings: {
        accessTokenTtlSeconds: 3600,
        refreshTokenTtlSeconds: 2592000,
        grantTypes: ["authorization_code", "refresh_token"],
        pkceRequired: true,
        refreshTokenRotation: true,
      },
    },
    journeys,
  };
}

function journey(j: number, random: () => number): JourneyDocument {
  const keys = Array.from({ length: STEPS }, (_, s) => `step-${s}`);
  const steps: Record<string, JourneyStepDefinition> = {};
  keys.forEach((key, s) => {
    const next = keys[s + 1] ?? "COMPLETE";
    const transitions: Record<string, string> = { success: next, failure: random() < 0.7 ? "DENY" : keys[Math.floor(random() * STEPS)] };
    if (random() < 0.2) transitions["high-risk"] = keys[Math.floor(random() * STEPS)];
    steps[key] = {
      type: STEP_TYPES[(j + s) % STEP_TYPES.length],
      name: `Step ${s} of journey ${j}`,
      enabled: random() < 0.9,
      settings: settings(random),
      transitions,
    };
  });
  return { start: keys[0], order: keys, steps };
}

function settings(random: () => number): JsonObject {
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  return {
    url: `https://hooks.example.com/${int(1, 9999)}`,
    timeoutMs: int(100, 10000),
    retries: int(0, 5),
    method: random() < 0.5 ? "POST" : "PUT",
    codeLength: int(4, 10),
    ttlSeconds: int(30, 3600),
    failOpen: random() < 0.5,
    region: REGIONS[int(0, REGIONS.length - 1)],
    scopes: ["openid", "profile", ...(random() < 0.5 ? ["email"] : [])],
    threshold: int(0, 100),
  };
}

/** `from`: a copy of `to` with 1% of the setting leaves changed, steps added and removed. */
function mutate(to: ApplicationDocument, random: () => number): { from: ApplicationDocument; changedLeaves: number } {
  const from = structuredClone(to);
  const journeyKeys = Object.keys(from.journeys);
  const leaves = JOURNEYS * STEPS * SETTINGS;
  const target = Math.round(leaves * CHANGED_LEAF_SHARE);
  const changed = new Set<string>();
  while (changed.size < target) {
    const journeyKey = journeyKeys[Math.floor(random() * journeyKeys.length)];
    const steps = from.journeys[journeyKey].steps;
    const stepKey = `step-${Math.floor(random() * STEPS)}`;
    const settingKeys = Object.keys(steps[stepKey].settings);
    const settingKey = settingKeys[Math.floor(random() * settingKeys.length)];
    const id = `${journeyKey}/${stepKey}/${settingKey}`;
    if (changed.has(id)) continue;
    changed.add(id);
    steps[stepKey].settings[settingKey] = changedValue(steps[stepKey].settings[settingKey]);
  }

  for (let i = 0; i < ADDED_STEPS; i++) {
    const doc = from.journeys[journeyKeys[(i * 7) % JOURNEYS]];
    const key = `added-${i}`;
    const after = `step-${10 + i}`;
    doc.steps[key] = {
      type: "EMAIL_OTP",
      name: `Added email code ${i}`,
      enabled: true,
      settings: settings(random),
      transitions: { success: doc.steps[after].transitions.success, failure: "DENY" },
    };
    doc.steps[after].transitions.success = key;
    doc.order.splice(doc.order.indexOf(after) + 1, 0, key);
  }

  for (let i = 0; i < REMOVED_STEPS; i++) {
    const doc = from.journeys[journeyKeys[(i * 11 + 3) % JOURNEYS]];
    const key = `step-${20 + i}`;
    const successor = doc.steps[key].transitions.success;
    delete doc.steps[key];
    doc.order = doc.order.filter((k) => k !== key);
    for (const step of Object.values(doc.steps)) {
      for (const [outcome, next] of Object.entries(step.transitions)) {
        if (next === key) step.transitions[outcome] = successor === key ? "DENY" : successor;
      }
    }
  }
  return { from, changedLeaves: changed.size };
}

function changedValue(value: JsonObject[string]): JsonObject[string] {
  if (typeof value === "number") return value + 1;
  if (typeof value === "boolean") return !value;
  if (typeof value === "string") return `${value}-v2`;
  if (Array.isArray(value)) return [...value, "offline_access"];
  return value;
}

// ---------------------------------------------------------------------------------------------
// timing

/**
 * Times each function once per round, rotating which goes first, so that all of them see the same
 * machine load (a shared machine's load moves more than the differences measured).
 */
function timeInterleaved(runs: number, warmup: number, fns: readonly (() => unknown)[]): number[][] {
  const times = fns.map(() => [] as number[]);
  let sink = 0;
  for (let round = 0; round < warmup + runs; round++) {
    for (let k = 0; k < fns.length; k++) {
      const i = (round + k) % fns.length;
      const start = performance.now();
      sink += fns[i]() === undefined ? 0 : 1;
      if (round >= warmup) times[i].push(performance.now() - start);
    }
  }
  if (sink < 0) throw new Error("unreachable: keeps the results alive");
  return times;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Small seeded PRNG so every run diffs the same pair. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(formatDiffBench(runDiffBench()));
}

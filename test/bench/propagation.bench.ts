/**
 * Propagation benchmark (issue 5): `propagateChanges` of a selection of 1,000 changes, development →
 * staging, through the real server over HTTP. Targets: under 150 ms median on the embedded
 * database, and a statement count that does not grow with the number of changes (batch writes),
 * shown by counting the statements of propagations of 10, 100 and 1,000 changes.
 *
 * The result of a propagation is validated, so the documents must be catalogue-valid: 50 journeys
 * × 40 steps of catalogue types (EMAIL_OTP, SMS_OTP, PASSWORD, RISK_CHECK, WEBHOOK, TOTP) with all
 * their settings, a chain of `success` transitions ending in COMPLETE and `failure` → DENY.
 * Development differs from staging by exactly 1,000 setting changes (20 per journey).
 *
 * A propagation changes its target, so every run needs the same starting point: after each one,
 * staging's old documents are written back as new versions (untimed), which brings back the same
 * 1,000 changes with the same ids.
 *
 *   npm run bench -- propagation.bench          (DATABASE_URL set: also once on PostgreSQL)
 */
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { JourneyDocument, JourneyStepDefinition, JsonObject } from "../../src/domain/journey-document.js";
import { validateJourneyDocument } from "../../src/domain/journey-validation.js";
import { formatFigures, machine, round } from "./figures.js";
import {
  type BenchServer,
  benchTargets,
  type DatabaseTarget,
  median,
  openBenchDatabase,
  percentile,
  startBenchServer,
  statementLines,
  storeApplication,
  writeDocuments,
} from "./large-application.js";

const JOURNEYS = 50;
const STEPS = 40;
const CHANGES_PER_JOURNEY = 20;
const SELECTION = JOURNEYS * CHANGES_PER_JOURNEY;
const WARMUP = 3;
const RUNS = 20;
const _PHASE_RUNS = 10;
/** Selections whose statements are counted: the count must not grow with them. */
const COUNTED_SIZES = [10, 100, SELECTION] as const;
const TARGET_MEDIAN_MS = 150;

const DIFF_IDS = `query DiffIds($applicationId: ID!, $from: ID!, $to: ID!) {
  diff(applicationId: $applicationId, fromEnvironmentId: $from, toEnvironmentId: $to) {
    status
    changes { id kind requires }
  }
}`;

const PROPAGATE = `mutation Propagate($input: PropagateChangesInput!) {
  propagateChanges(input: $input) {
    __typename
    ... on PropagateChangesSuccess { propagation { id } addedChangeIds }
    ... on Error { code message }
  }
}`;

const HISTORY = `query History($applicationId: ID!) {
  propagations(applicationId: $applicationId, first: 1) { edges { node { items { id } } } }
}`;

// ---------------------------------------------------------------------------------------------
// documents

const STEP_TYPES = ["EMAIL_OTP", "SMS_OTP", "PASSWORD", "RISK_CHECK", "WEBHOOK", "TOTP"] as const;
type BenchStepType = (typeof STEP_TYPES)[number];

/** Every setting of the type, within the catalogue's bounds and with room for `changed` to move it. */
function baseSettings(type: BenchStepType, j: number, s: number, random: () => number): JsonObject {
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  switch (type) {
    case "EMAIL_OTP":
      return { codeLength: int(4, 9), ttlSeconds: int(30, 3000) };
    case "SMS_OTP":
      return { codeLength: int(4, 9), ttlSeconds: int(30, 3000), senderId: `ACME${int(1, 999)}` };
    case "PASSWORD":
      return { minLength: int(8, 100), allowReset: random() < 0.5 };
    case "RISK_CHECK":
      return { threshold: int(0, 99), action: random() < 0.5 ? "challenge" : "deny" };
    case "WEBHOOK":
      return { url: `https://hooks.example.com/journeys/${j}/steps/${s}`, timeoutMs: int(100, 9000) };
    case "TOTP":
      return { digits: random() < 0.5 ? 6 : 8, issuer: `Acme ${j}` };
  }
}

/** One setting of the step moved to another valid value; `variant` picks which setting. */
function changed(type: BenchStepType, settings: JsonObject, variant: number): JsonObject {
  const next = { ...settings };
  const n = (key: string) => next[key] as number;
  switch (type) {
    case "EMAIL_OTP":
    case "SMS_OTP":
      if (variant % 2 === 0) next.codeLength = n("codeLength") + 1;
      else next.ttlSeconds = n("ttlSeconds") + 60;
      break;
    case "PASSWORD":
      if (variant % 2 === 0) next.minLength = n("minLength") + 1;
      else next.allowReset = !next.allowReset;
      break;
    case "RISK_CHECK":
      if (variant % 2 === 0) next.threshold = n("threshold") + 1;
      else next.action = next.action === "deny" ? "challenge" : "deny";
      break;
    case "WEBHOOK":
      if (variant % 2 === 0) next.timeoutMs = n("timeoutMs") + 500;
      else next.url = `${next.url as string}/v2`;
      break;
    case "TOTP":
      if (variant % 2 === 0) next.digits = n("digits") === 6 ? 8 : 6;
      else next.issuer = `${next.issuer as string} v2`;
      break;
  }
  return next;
}

function valid(document: JourneyDocument, what: string): JourneyDocument {
  const validated = validateJourneyDocument(document);
  if (!validated.ok) throw new Error(`${what} is not valid: ${validated.problems.map((p) => p.message).join("; ")}`);
  return validated.value;
}

/** Staging's documents and development's, which differ from them in exactly 20 settings per journey. */
export function validApplicationPair(): { key: string; development: JourneyDocument; staging: JourneyDocument }[] {
  const random = mulberry32(20240605);
  return Array.from({ length: JOURNEYS }, (_, j) => {
    const keys = Array.from({ length: STEPS }, (_, s) => `step-${s}`);
    const steps: Record<string, JourneyStepDefinition> = {};
    keys.forEach((key, s) => {
      const type = STEP_TYPES[(j + s) % STEP_TYPES.length];
      const transitions: Record<string, string> = { success: keys[s + 1] ?? "COMPLETE", failure: "DENY" };
      if (type === "RISK_CHECK") transitions["high-risk"] = "DENY";
      steps[key] = { type, name: `Step ${s} of journey ${j}`, enabled: true, settings: baseSettings(type, j, s, random), transitions };
    });
    const staging = valid({ start: keys[0], order: keys, steps }, `journey ${j} (staging)`);
    const development = structuredClone(staging);
    for (let k = 0; k < CHANGES_PER_JOURNEY; k++) {
      // every other step, from the first or the second: 20 distinct steps, one setting each
      const step = development.steps[keys[2 * k + (j % 2)]];
      step.settings = changed(step.type as BenchStepType, step.settings, j + k);
    }
    return { key: `journey-${String(j).padStart(2, "0")}`, staging, development: valid(development, `journey ${j} (development)`) };
  });
}

// ---------------------------------------------------------------------------------------------
// bench

export interface PropagationFigures {
  database: string;
  changesSelected: number;
  runs: number;
  /** over HTTP, milliseconds */
  http: { medianMs: number; p90Ms: number; minMs: number; maxMs: number; cpuMedianMs: number };
  /** SQL statements of one propagation request (authentication included; BEGIN/COMMIT not) by selection size */
  statements: Record<`of${number}`, number>;
  /** no selection runs more statements than the smallest */
  statementsDoNotGrow: boolean;
  targetMedianMs: number;
  meetsTarget: boolean;
  /** the machine's 1-minute load average at the end of the run (2 CPUs: above 2 means queued work) */
  loadAverage: number;
}

export type PropagationBenchFigures = Partial<Record<DatabaseTarget, PropagationFigures>>;

interface PropagateResponse {
  data?: { propagateChanges: { __typename: string; code?: string; message?: string; addedChangeIds?: string[] } };
  errors?: unknown[];
}

async function runOn(target: DatabaseTarget): Promise<PropagationFigures> {
  const pair = validApplicationPair();
  const stagingDocuments = new Map(pair.map((j) => [j.key, j.staging]));
  const bench = await openBenchDatabase(target, "propagation");
  let server: BenchServer | undefined;
  try {
    const stored = await storeApplication(bench.database, pair);
    server = await startBenchServer(bench.database, stored.token);
    const scope = { applicationId: stored.ids.application, fromEnvironmentId: stored.ids.development, toEnvironmentId: stored.ids.staging };
    const diffBody = JSON.stringify({
      query: DIFF_IDS,
      operationName: "DiffIds",
      variables: { applicationId: scope.applicationId, from: scope.fromEnvironmentId, to: scope.toEnvironmentId },
    });

    const diff = JSON.parse((await server.post(diffBody)).text) as {
      data?: { diff: { status: string; changes: { id: string; kind: string; requires: string[] }[] } };
    };
    const changes = diff.data?.diff.changes ?? [];
    if (changes.length !== SELECTION || changes.some((c) => c.kind !== "MODIFIED" || c.requires.length > 0)) {
      throw new Error(`expected ${SELECTION} independent setting changes, the diff has ${changes.length}`);
    }
    const ids = changes.map((c) => c.id);

    const propagate = async (changeIds: string[]) => {
      const body = JSON.stringify({
        query: PROPAGATE,
        operationName: "Propagate",
        variables: { input: { ...scope, changeIds, comment: "bench" } },
      });
      const { text, ms, cpuMs } = await server!.post(body);
      const result = (JSON.parse(text) as PropagateResponse).data?.propagateChanges;
      if (result?.__typename !== "PropagateChangesSuccess") throw new Error(`propagation failed: ${text.slice(0, 1000)}`);
      return { ms, cpuMs };
    };
    const reset = async () => {
      const moved = await writeDocuments(bench.database, stored, stored.staging, stagingDocuments);
      if (moved === 0) throw new Error("the propagation left staging as it was");
    };

    // The first propagation must leave staging equal to development, with every change in its audit record.
    await propagate(ids);
    const after = JSON.parse((await server.post(diffBody)).text) as { data?: { diff: { status: string } } };
    if (after.data?.diff.status !== "IN_SYNC") throw new Error(`after propagating everything: ${JSON.stringify(after).slice(0, 500)}`);
    const history = JSON.parse(
      (await server.post(JSON.stringify({ query: HISTORY, variables: { applicationId: scope.applicationId } }))).text,
    ) as { data?: { propagations: { edges: { node: { items: { id: string }[] } }[] } } };
    const recorded = history.data?.propagations.edges[0]?.node.items.map((i) => i.id) ?? [];
    if (recorded.length !== SELECTION || new Set(recorded).size !== SELECTION || recorded.some((id) => !ids.includes(id))) {
      throw new Error(`the audit record holds ${recorded.length} items, expected the ${SELECTION} selected`);
    }
    await reset();

    const times: number[] = [];
    const cpuTimes: number[] = [];
    for (let run = 0; run < WARMUP + RUNS; run++) {
      const { ms, cpuMs } = await propagate(ids);
      if (run >= WARMUP) {
        times.push(ms);
        cpuTimes.push(cpuMs);
      }
      await reset();
    }

    const statements: Record<`of${number}`, number> = {};
    const lists = new Map<number, string[]>();
    for (const size of COUNTED_SIZES) {
      // evenly spread over the diff, so that the small selections touch several journeys
      const stride = SELECTION / size;
      const selection = ids.filter((_, i) => i % stride === 0);
      const counted = await bench.countStatements(() => propagate(selection));
      statements[`of${size}`] = counted.statements.length;
      lists.set(size, counted.statements);
      await reset();
    }
    const smallest = statements[`of${COUNTED_SIZES[0]}`];
    const statementsDoNotGrow = Object.values(statements).every((count) => count <= smallest);

    const medianMs = median(times);
    console.log(`propagation on ${bench.label}: statements of one propagation of ${SELECTION} changes`);
    console.log(statementLines(lists.get(SELECTION)!).join("\n"));
    for (const size of COUNTED_SIZES.slice(0, -1)) {
      const extra = multisetDifference(lists.get(size)!, lists.get(SELECTION)!);
      const fewer = multisetDifference(lists.get(SELECTION)!, lists.get(size)!);
      if (extra.length + fewer.length === 0) continue;
      console.log(`  a propagation of ${size} changes runs ${extra.length === 0 ? "no other statements" : "these in addition:"}`);
      if (extra.length > 0) console.log(statementLines(extra, "      ").join("\n"));
      console.log(`  and ${fewer.length === 0 ? `every statement of the ${SELECTION}-change one` : "not these:"}`);
      if (fewer.length > 0) console.log(statementLines(fewer, "      ").join("\n"));
    }
    return {
      database: bench.label,
      changesSelected: SELECTION,
      runs: RUNS,
      http: {
        medianMs: round(medianMs, 1),
        p90Ms: round(percentile(times, 0.9), 1),
        minMs: round(Math.min(...times), 1),
        maxMs: round(Math.max(...times), 1),
        cpuMedianMs: round(median(cpuTimes), 1),
      },
      statements,
      statementsDoNotGrow,
      targetMedianMs: TARGET_MEDIAN_MS,
      meetsTarget: medianMs < TARGET_MEDIAN_MS,
      loadAverage: round(loadavg()[0], 2),
    };
  } finally {
    await server?.stop();
    await bench.close();
  }
}

export async function runPropagationBench(): Promise<PropagationBenchFigures> {
  const results: PropagationBenchFigures = {};
  for (const target of benchTargets()) results[target] = await runOn(target);
  return results;
}

export function formatPropagationBench(f: PropagationBenchFigures): string {
  const lines = [
    `propagation: propagateChanges of ${SELECTION} setting changes (${JOURNEYS} journeys × ${STEPS} steps, ` +
      `${CHANGES_PER_JOURNEY} changes each), development → staging, over HTTP, staging reset between runs`,
    formatFigures(machine()),
  ];
  for (const target of ["embedded", "postgres"] as const) {
    const r = f[target];
    if (!r) continue;
    lines.push(
      `  ${r.database}`,
      `    ${r.runs} runs after ${WARMUP} warm-up: median ${r.http.medianMs} ms, p90 ${r.http.p90Ms} ms, min ${r.http.minMs} ms, max ${r.http.maxMs} ms; ` +
        `CPU time per request ${r.http.cpuMedianMs} ms (median)`,
      `    SQL statements per propagation request: ${Object.entries(r.statements)
        .map(([size, count]) => `${size.slice(2)} changes → ${count}`)
        .join(", ")} (${r.statementsDoNotGrow ? "does not grow with the selection" : "GROWS with the selection"})`,
      `    target: median under ${r.targetMedianMs} ms${target === "embedded" ? "" : " (the embedded database is the target)"}: ` +
        `${r.meetsTarget ? "met" : "MISSED"}; statement count does not grow: ${r.statementsDoNotGrow ? "met" : "MISSED"} ` +
        `(load average at the end of the run ${r.loadAverage})`,
    );
  }
  return lines.join("\n");
}

/** A statement without its parameter count: `in ($1, $2)` and multi-row `values (…), (…)` collapsed. */
function statementShape(statement: string): string {
  return statement
    .replace(/\s+/g, " ")
    .replace(/\$\d+/g, "?")
    .replace(/\((?:\?|default)(?:, (?:\?|default))*\)(?:, \((?:\?|default)(?:, (?:\?|default))*\))*/g, "(…)");
}

/** The statements of `a` whose shape `b` does not have (as many times as `a` has it more often). */
function multisetDifference(a: readonly string[], b: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const s of b) left.set(statementShape(s), (left.get(statementShape(s)) ?? 0) + 1);
  return a.filter((s) => {
    const n = left.get(statementShape(s)) ?? 0;
    if (n > 0) left.set(statementShape(s), n - 1);
    return n === 0;
  });
}

/** Small seeded PRNG so every run stores the same documents. */
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

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  console.log(formatPropagationBench(await runPropagationBench()));
}

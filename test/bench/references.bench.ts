/**
 * Variable references benchmark (issue 14): the `diff` query and a propagation of 1,000 changes
 * stay within 15% of the same work without references, measured in the same run.
 *
 * One organization, two applications of the same shape — the propagation bench's 50 journeys × 40
 * steps, development differing from staging by exactly 1,000 setting changes — one plain, one where
 * 200 settings are references (`"codeLength": "&{otp.length.g3}"`, `"url":
 * "https://&{webhook.host.g3}/journeys/3/steps/7"`) to 80 variables that have fitting values in
 * both environments: per journey, 2 of its changes set a setting to a reference (the change carries
 * the reference upward) and 2 steps that do not change hold one on both sides. Both diffs have the
 * same 1,000 changes; a propagation of the referencing one writes 200 references into staging,
 * each checked against staging's values.
 *
 * Timed over HTTP against the real server, alternating the two applications request by request
 * (so drift on this shared machine hits both alike): (a) the `diff` query, missingVariables
 * included; (b) `propagateChanges` with selectAll, staging written back to its old documents
 * (untimed) after each one. Also timed in-process, to say where the extra time goes: the variables
 * check of that propagation (checkVariablesIn, in a transaction) with its statements, and its parts
 * — the shared key locks (lockVariableKeys), reading the values (variablesIn), the domain check.
 *
 *   npm run bench -- references          (DATABASE_URL set: also on PostgreSQL)
 */
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { canonicalHash } from "../../src/domain/canonical-json.js";
import type { JourneyDocument, JsonValue } from "../../src/domain/journey-document.js";
import { journeyVariableProblems, validateJourneyDocument } from "../../src/domain/journey-validation.js";
import type { ResolvableVariable, VariableKind } from "../../src/domain/variables.js";
import { lockVariableKeys } from "../../src/services/locks.js";
import { checkVariablesIn, variablesIn } from "../../src/services/variables.js";
import { formatFigures, machine, round } from "./figures.js";
import {
  type BenchServer,
  benchTargets,
  createOrganization,
  type DatabaseTarget,
  median,
  openBenchDatabase,
  percentile,
  type StoredApplication,
  type StoredJourney,
  startBenchServer,
  storeApplicationIn,
  writeDocuments,
} from "./large-application.js";
import { validApplicationPair } from "./propagation.bench.js";

const CHANGES = 1_000;
const REFERENCES = 200;
/** Per journey: changes that set a setting to a reference, and unchanged steps that hold one on both sides. */
const REFERENCING_CHANGES = 2;
const REFERENCING_UNCHANGED = 2;
/** Variables are per setting and per group of journeys (journey number modulo this). */
const GROUPS = 10;
const DIFF_WARMUP = 5;
const DIFF_RUNS = 60;
const PROPAGATION_WARMUP = 3;
const PROPAGATION_RUNS = 30;
const CHECK_RUNS = 20;
/** The referencing application's median may be at most this much above the plain one's. */
const TARGET_RATIO = 1.15;

const DIFF_QUERY = `query Diff($applicationId: ID!, $from: ID!, $to: ID!) {
  diff(applicationId: $applicationId, fromEnvironmentId: $from, toEnvironmentId: $to) {
    status
    changes { id path kind summary oldValue newValue requires bundleId }
    bundles { id label changeIds }
    missingVariables { key changeIds }
  }
}`;

const PROPAGATE = `mutation Propagate($input: PropagateChangesInput!) {
  propagateChanges(input: $input) {
    __typename
    ... on PropagateChangesSuccess { propagation { id } addedChangeIds }
    ... on Error { code message }
  }
}`;

// ---------------------------------------------------------------------------------------------
// documents and variables

interface BenchVariable {
  kind: VariableKind;
  development: JsonValue;
  staging: JsonValue;
}

/** What a setting of the bench's step types holds instead of its literal: the text and the variable it names. */
function referenceFor(settingKey: string, j: number, s: number): { text: string; key: string; variable: BenchVariable } {
  const g = `g${j % GROUPS}`;
  const whole = (name: string, kind: VariableKind, development: JsonValue, staging: JsonValue) => {
    const key = `${name}.${g}`;
    return { text: `&{${key}}`, key, variable: { kind, development, staging } };
  };
  switch (settingKey) {
    case "codeLength":
      return whole("otp.length", "NUMBER", 6, 8);
    case "ttlSeconds":
      return whole("otp.ttl", "NUMBER", 300, 600);
    case "senderId":
      return whole("sms.sender", "STRING", "ACME", "ACME-STG");
    case "minLength":
      return whole("password.min-length", "NUMBER", 12, 14);
    case "allowReset":
      return whole("password.allow-reset", "BOOLEAN", true, false);
    case "threshold":
      return whole("risk.threshold", "NUMBER", 70, 80);
    case "action":
      return whole("risk.action", "STRING", "challenge", "deny");
    case "timeoutMs":
      return whole("webhook.timeout", "NUMBER", 3000, 5000);
    case "digits":
      return whole("totp.digits", "NUMBER", 6, 8);
    case "issuer":
      return whole("totp.issuer", "STRING", "Acme Dev", "Acme");
    case "url": {
      const key = `webhook.host.${g}`;
      return {
        text: `https://&{${key}}/journeys/${j}/steps/${s}`,
        key,
        variable: { kind: "STRING", development: "dev-hooks.example.com", staging: "hooks.example.com" },
      };
    }
    default:
      throw new Error(`no reference for setting ${settingKey}`);
  }
}

function valid(document: JourneyDocument, what: string): JourneyDocument {
  const validated = validateJourneyDocument(document);
  if (!validated.ok) throw new Error(`${what} is not valid: ${validated.problems.map((p) => p.message).join("; ")}`);
  return validated.value;
}

/**
 * The propagation bench's pair, and the same pair with 200 settings as references: in each journey,
 * the changed setting of its first 2 changed steps becomes a reference in development (still a
 * change), and a setting of its first 2 unchanged steps a reference on both sides (still none).
 */
export function benchPairs(): { plain: StoredJourney[]; referencing: StoredJourney[]; variables: Map<string, BenchVariable> } {
  const plain = validApplicationPair();
  const variables = new Map<string, BenchVariable>();
  let references = 0;
  const referencing = plain.map((journey, j) => {
    const development = structuredClone(journey.development);
    const staging = structuredClone(journey.staging);
    const keys = development.order;
    const changedSteps = keys.filter((key) => canonicalHash(development.steps[key]) !== canonicalHash(staging.steps[key]));
    const unchangedSteps = keys.filter((key) => !changedSteps.includes(key));
    for (const stepKey of changedSteps.slice(0, REFERENCING_CHANGES)) {
      const settings = development.steps[stepKey].settings;
      const changed = Object.keys(settings).filter(
        (key) => JSON.stringify(settings[key]) !== JSON.stringify(staging.steps[stepKey].settings[key]),
      );
      if (changed.length !== 1) throw new Error(`${journey.key}.${stepKey}: expected one changed setting, found ${changed.length}`);
      const reference = referenceFor(changed[0], j, keys.indexOf(stepKey));
      settings[changed[0]] = reference.text;
      variables.set(reference.key, reference.variable);
      references++;
    }
    for (const stepKey of unchangedSteps.slice(0, REFERENCING_UNCHANGED)) {
      const settingKey = Object.keys(development.steps[stepKey].settings)[0];
      const reference = referenceFor(settingKey, j, keys.indexOf(stepKey));
      development.steps[stepKey].settings[settingKey] = reference.text;
      staging.steps[stepKey].settings[settingKey] = reference.text;
      variables.set(reference.key, reference.variable);
      references++;
    }
    return {
      key: journey.key,
      development: valid(development, `${journey.key} (development, with references)`),
      staging: valid(staging, `${journey.key} (staging, with references)`),
    };
  });
  if (references !== REFERENCES) throw new Error(`expected ${REFERENCES} references, made ${references}`);
  return { plain, referencing, variables };
}

// ---------------------------------------------------------------------------------------------
// storing both applications in one organization

// ---------------------------------------------------------------------------------------------
// bench

interface Timing {
  medianMs: number;
  p90Ms: number;
  minMs: number;
  maxMs: number;
}

interface Comparison {
  runs: number;
  plain: Timing;
  references: Timing;
  /** references' median / plain's median */
  ratio: number;
  p90Ratio: number;
  meetsTarget: boolean;
}

export interface ReferencesFigures {
  database: string;
  changes: number;
  references: number;
  variables: number;
  diffQuery: Comparison;
  propagation: Comparison;
  /**
   * In-process medians, milliseconds: the variables check of the referencing propagation (50 journeys)
   * and its parts: the key locks, the read of the values, the domain check; the plain one's check.
   */
  variablesCheck: { serviceMs: number; statements: number; lockMs: number; readMs: number; domainMs: number; plainServiceMs: number };
  targetRatio: number;
  /** the machine's 1-minute load average at the start and at the end of the run (2 CPUs) */
  loadAverageStart: number;
  loadAverageEnd: number;
}

export type ReferencesBenchFigures = Partial<Record<DatabaseTarget, ReferencesFigures>>;

function timing(times: readonly number[]): Timing {
  return {
    medianMs: round(median(times), 1),
    p90Ms: round(percentile(times, 0.9), 1),
    minMs: round(Math.min(...times), 1),
    maxMs: round(Math.max(...times), 1),
  };
}

function compare(plain: readonly number[], references: readonly number[]): Comparison {
  const ratio = median(references) / median(plain);
  return {
    runs: plain.length,
    plain: timing(plain),
    references: timing(references),
    ratio: round(ratio, 3),
    p90Ratio: round(percentile(references, 0.9) / percentile(plain, 0.9), 3),
    meetsTarget: ratio <= TARGET_RATIO,
  };
}

interface Subject {
  name: "plain" | "references";
  stored: StoredApplication;
  staging: Map<string, JourneyDocument>;
  development: Map<string, JourneyDocument>;
  diffBody: string;
  propagateBody: string;
}

function subject(name: Subject["name"], stored: StoredApplication, journeys: readonly StoredJourney[]): Subject {
  const scope = { applicationId: stored.ids.application, fromEnvironmentId: stored.ids.development, toEnvironmentId: stored.ids.staging };
  return {
    name,
    stored,
    staging: new Map(journeys.map((j) => [j.key, j.staging])),
    development: new Map(journeys.map((j) => [j.key, j.development])),
    diffBody: JSON.stringify({
      query: DIFF_QUERY,
      operationName: "Diff",
      variables: { applicationId: scope.applicationId, from: scope.fromEnvironmentId, to: scope.toEnvironmentId },
    }),
    propagateBody: JSON.stringify({
      query: PROPAGATE,
      operationName: "Propagate",
      variables: { input: { ...scope, selectAll: true, comment: "bench" } },
    }),
  };
}

interface DiffAnswer {
  data?: { diff: { status: string; changes: { id: string; newValue: JsonValue }[]; missingVariables: { key: string }[] } };
  errors?: unknown[];
}

/** Runs `work` for each subject, alternating which goes first, and returns each one's times after the warm-up. */
async function alternate(subjects: readonly Subject[], warmup: number, runs: number, work: (s: Subject) => Promise<number>) {
  const times = new Map<Subject["name"], number[]>(subjects.map((s) => [s.name, []]));
  for (let run = 0; run < warmup + runs; run++) {
    const order = run % 2 === 0 ? subjects : [...subjects].reverse();
    for (const s of order) {
      const ms = await work(s);
      if (run >= warmup) times.get(s.name)!.push(ms);
    }
  }
  return times;
}

async function runOn(target: DatabaseTarget): Promise<ReferencesFigures> {
  const loadAverageStart = round(loadavg()[0], 2);
  const pairs = benchPairs();
  const bench = await openBenchDatabase(target, "references");
  let server: BenchServer | undefined;
  try {
    const org = await createOrganization(bench.database, "References bench");
    const plainApp = await storeApplicationIn(bench.database, org, "Plain application", pairs.plain);
    const referencingApp = await storeApplicationIn(bench.database, org, "Referencing application", pairs.referencing);
    server = await startBenchServer(bench.database, org.token);
    for (const [key, variable] of pairs.variables) {
      const row = await server.services.createVariable(org.actor, { key, kind: variable.kind });
      await server.services.setVariableValue(org.actor, {
        variableId: row.id,
        environmentId: org.development.id,
        value: variable.development,
      });
      await server.services.setVariableValue(org.actor, { variableId: row.id, environmentId: org.staging.id, value: variable.staging });
    }
    await bench.database.analyze();
    const subjects = [subject("plain", plainApp, pairs.plain), subject("references", referencingApp, pairs.referencing)];

    // Both diffs: the same 1,000 changes, nothing missing; 100 of the referencing one's carry a reference.
    for (const s of subjects) {
      const answer = (JSON.parse((await server.post(s.diffBody)).text) as DiffAnswer).data?.diff;
      const carrying = answer?.changes.filter((c) => JSON.stringify(c.newValue).includes("&{")).length;
      const expected = s.name === "plain" ? 0 : REFERENCING_CHANGES * pairs.plain.length;
      if (answer?.changes.length !== CHANGES || answer.missingVariables.length > 0 || carrying !== expected) {
        throw new Error(
          `${s.name}: expected ${CHANGES} changes (${expected} with references), nothing missing: ${JSON.stringify(answer).slice(0, 500)}`,
        );
      }
    }

    const diffTimes = await alternate(subjects, DIFF_WARMUP, DIFF_RUNS, async (s) => {
      const { text, ms } = await server!.post(s.diffBody);
      if ((JSON.parse(text) as DiffAnswer).data?.diff.changes.length !== CHANGES)
        throw new Error(`${s.name}: diff failed: ${text.slice(0, 500)}`);
      return ms;
    });

    const reset = async (s: Subject) => {
      const moved = await writeDocuments(bench.database, s.stored, s.stored.staging, s.staging);
      if (moved === 0) throw new Error(`${s.name}: the propagation left staging as it was`);
    };
    const propagationTimes = await alternate(subjects, PROPAGATION_WARMUP, PROPAGATION_RUNS, async (s) => {
      const { text, ms } = await server!.post(s.propagateBody);
      const result = (JSON.parse(text) as { data?: { propagateChanges: { __typename: string } } }).data?.propagateChanges;
      if (result?.__typename !== "PropagateChangesSuccess") throw new Error(`${s.name}: propagation failed: ${text.slice(0, 1000)}`);
      await reset(s);
      return ms;
    });

    // Where the extra time goes: the check of what the propagation writes, in-process.
    const checkOf = async (s: Subject) => {
      const journeys = [...s.development].map(([key, document]) => ({ key, document }));
      const started = performance.now();
      const check = await bench.database.db.transaction((tx) =>
        checkVariablesIn(tx as never, org.actor.organizationId, org.staging, { journeys, clientSettings: null }),
      );
      const ms = performance.now() - started;
      if (check.missing.length + check.problems.length > 0)
        throw new Error(`${s.name}: the check found ${JSON.stringify(check).slice(0, 500)}`);
      return ms;
    };
    const checkTimes = await alternate(subjects, 3, CHECK_RUNS, checkOf);
    const { statements } = await bench.countStatements(() => checkOf(subjects[1]));
    const keys = [...pairs.variables.keys()];
    const lockTimes: number[] = [];
    const readTimes: number[] = [];
    const domainTimes: number[] = [];
    for (let run = 0; run < CHECK_RUNS + 3; run++) {
      let lookup: (key: string) => ResolvableVariable | undefined = () => undefined;
      await bench.database.db.transaction(async (tx) => {
        let started = performance.now();
        await lockVariableKeys(tx as never, org.actor.organizationId, keys, true);
        if (run >= 3) lockTimes.push(performance.now() - started);
        started = performance.now();
        lookup = await variablesIn(tx as never, org.actor.organizationId, org.staging.id);
        if (run >= 3) readTimes.push(performance.now() - started);
      });
      const started = performance.now();
      for (const [key, document] of subjects[1].development) journeyVariableProblems(document, lookup, "Staging", `journeys.${key}`);
      if (run >= 3) domainTimes.push(performance.now() - started);
    }

    return {
      database: bench.label,
      changes: CHANGES,
      references: REFERENCES,
      variables: pairs.variables.size,
      diffQuery: compare(diffTimes.get("plain")!, diffTimes.get("references")!),
      propagation: compare(propagationTimes.get("plain")!, propagationTimes.get("references")!),
      variablesCheck: {
        serviceMs: round(median(checkTimes.get("references")!), 2),
        statements: statements.length,
        lockMs: round(median(lockTimes), 2),
        readMs: round(median(readTimes), 2),
        domainMs: round(median(domainTimes), 2),
        plainServiceMs: round(median(checkTimes.get("plain")!), 2),
      },
      targetRatio: TARGET_RATIO,
      loadAverageStart,
      loadAverageEnd: round(loadavg()[0], 2),
    };
  } finally {
    await server?.stop();
    await bench.close();
  }
}

export async function runReferencesBench(): Promise<ReferencesBenchFigures> {
  const results: ReferencesBenchFigures = {};
  for (const target of benchTargets()) results[target] = await runOn(target);
  return results;
}

export function formatReferencesBench(f: ReferencesBenchFigures): string {
  const lines = [
    `references: the diff query and propagateChanges (selectAll) of ${CHANGES} setting changes, development → staging, over HTTP; ` +
      `an application with ${REFERENCES} settings as references against the same one without, in one organization, alternating`,
    formatFigures(machine()),
  ];
  const row = (label: string, c: Comparison) =>
    `    ${label}, ${c.runs} runs each: without references median ${c.plain.medianMs} ms (p90 ${c.plain.p90Ms}), ` +
    `with ${c.references.medianMs} ms (p90 ${c.references.p90Ms}): ×${c.ratio} (p90 ×${c.p90Ratio}), ` +
    `target ≤ ×${TARGET_RATIO}: ${c.meetsTarget ? "met" : "MISSED"}`;
  for (const target of ["embedded", "postgres"] as const) {
    const r = f[target];
    if (!r) continue;
    lines.push(
      `  ${r.database}: ${r.changes} changes, ${r.references} references to ${r.variables} variables`,
      row("diff query", r.diffQuery),
      row("propagation", r.propagation),
      `    in-process variables check of the ${REFERENCES}-reference propagation (median): ${r.variablesCheck.serviceMs} ms in ` +
        `${r.variablesCheck.statements} SQL statements; its parts: ${r.variables} key locks ${r.variablesCheck.lockMs} ms, ` +
        `reading the values ${r.variablesCheck.readMs} ms, domain check ${r.variablesCheck.domainMs} ms; ` +
        `without references ${r.variablesCheck.plainServiceMs} ms`,
      `    load average ${r.loadAverageStart} at the start, ${r.loadAverageEnd} at the end`,
    );
  }
  return lines.join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  console.log(formatReferencesBench(await runReferencesBench()));
}

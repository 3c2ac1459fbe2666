/**
 * Revert benchmark (DESIGN.md §7): `revertPreview` and `revertPropagation` (selectAll) of a
 * propagation of 1,000 setting changes, through the real server over HTTP, against
 * `propagateChanges` of the same 1,000 changes timed in the same run. Targets: each median within
 * 1.5× of the propagation's, and a statement count that does not grow with the number of items,
 * shown by counting the statements of reverts of propagations of 10, 100 and 1,000 changes.
 *
 * The application is the propagation benchmark's (validApplicationPair: 50 journeys × 40 steps,
 * development differs from staging by exactly 1,000 setting changes). One propagation P of the
 * 1,000 changes is the one previewed and reverted throughout. The three operations are timed in
 * rounds, one of each per round, so that a machine whose load drifts during the run skews them
 * alike (the ratios are what the targets are about):
 *
 * 1. propagateChanges of the 1,000 changes (the reference): staging becomes development, so P's
 *    items hold again — the untimed reset the revert needs is this propagation itself;
 * 2. revertPreview(P): must report the 1,000 changes and no conflict;
 * 3. revertPropagation(P, selectAll): staging is back to its documents from before any
 *    propagation — checked after every round by writing those documents into staging, which
 *    must move nothing — and the next round's propagation starts where the propagation bench's do.
 *
 * Before the rounds, the first revert is checked: staging holds its pre-propagation documents again
 * (the diff development → staging has the same 1,000 changes), and its audit record has mode
 * REVERT, revertOf P and the 1,000 items.
 *
 *   npm run bench -- revert.bench          (DATABASE_URL set: also once on PostgreSQL)
 */
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
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
import { validApplicationPair } from "./propagation.bench.js";

const ITEMS = 1000;
const WARMUP = 3;
const RUNS = 20;
/** Propagations whose revert's statements are counted: the count must not grow with them. */
const COUNTED_SIZES = [10, 100, ITEMS] as const;
const TARGET_RATIO = 1.5;

const DIFF_IDS = `query RevertBenchDiff($applicationId: ID!, $from: ID!, $to: ID!) {
  diff(applicationId: $applicationId, fromEnvironmentId: $from, toEnvironmentId: $to) {
    status
    changes { id kind requires }
  }
}`;

const PROPAGATE = `mutation RevertBenchPropagate($input: PropagateChangesInput!) {
  propagateChanges(input: $input) {
    __typename
    ... on PropagateChangesSuccess { propagation { id } addedChangeIds }
    ... on Error { code message }
  }
}`;

/** What a client reviewing a revert asks for: the diff query bench's selection of each change, and the conflicts. */
const PREVIEW = `query RevertBenchPreview($propagationId: ID!) {
  revertPreview(propagationId: $propagationId) {
    propagation { id }
    changes { id path kind summary oldValue newValue requires bundleId }
    bundles { id label changeIds }
    conflicts { path propagatedValue currentValue message }
    missingVariables { key changeIds }
  }
}`;

const REVERT = `mutation RevertBenchRevert($input: RevertPropagationInput!) {
  revertPropagation(input: $input) {
    __typename
    ... on RevertPropagationSuccess { propagation { id } addedChangeIds }
    ... on Error { code message }
  }
}`;

const LATEST = `query RevertBenchLatest($applicationId: ID!) {
  propagations(applicationId: $applicationId, first: 1) {
    edges { node { id mode revertOf { id } items { id path } } }
  }
}`;

export interface Timing {
  medianMs: number;
  p90Ms: number;
  minMs: number;
  maxMs: number;
  /** CPU time of this process (server, embedded database, client) per request, median */
  cpuMedianMs: number;
}

export interface RevertFigures {
  database: string;
  items: number;
  runs: number;
  /** over HTTP, milliseconds, one of each per round */
  propagation: Timing;
  preview: Timing;
  revert: Timing;
  /** median over median of the propagation's */
  ratio: { preview: number; revert: number };
  /** the median of the per-round ratios (the same round's propagation), less sensitive to load drift */
  roundRatio: { preview: number; revert: number };
  /** SQL statements of one request (authentication included; BEGIN/COMMIT not) by the reverted propagation's size */
  statements: {
    revert: Record<`of${number}`, number>;
    preview: Record<`of${number}`, number>;
    propagation: Record<`of${number}`, number>;
  };
  /** no revert (nor preview) of a larger propagation runs more statements than of the smallest */
  statementsDoNotGrow: boolean;
  targetRatio: number;
  meetsTarget: { preview: boolean; revert: boolean; statements: boolean };
  /** the machine's 1-minute load average at the start and the end of the timed rounds */
  loadAverage: { start: number; end: number };
}

export type RevertBenchFigures = Partial<Record<DatabaseTarget, RevertFigures>>;

interface Outcome {
  __typename: string;
  code?: string;
  message?: string;
  propagation?: { id: string };
  addedChangeIds?: string[];
}

interface PreviewAnswer {
  changes: { id: string }[];
  conflicts: unknown[];
  missingVariables: unknown[];
}

async function runOn(target: DatabaseTarget): Promise<RevertFigures> {
  const pair = validApplicationPair();
  const stagingDocuments = new Map(pair.map((j) => [j.key, j.staging]));
  const bench = await openBenchDatabase(target, "revert");
  let server: BenchServer | undefined;
  try {
    const stored = await storeApplication(bench.database, pair);
    server = await startBenchServer(bench.database, stored.token);
    const post = server.post;
    const scope = { applicationId: stored.ids.application, fromEnvironmentId: stored.ids.development, toEnvironmentId: stored.ids.staging };
    const diffBody = JSON.stringify({
      query: DIFF_IDS,
      variables: { applicationId: scope.applicationId, from: scope.fromEnvironmentId, to: scope.toEnvironmentId },
    });
    const diffIds = async () => {
      const diff = JSON.parse((await post(diffBody)).text) as {
        data?: { diff: { status: string; changes: { id: string; kind: string; requires: string[] }[] } };
      };
      return diff.data?.diff.changes ?? [];
    };

    const changes = await diffIds();
    if (changes.length !== ITEMS || changes.some((c) => c.kind !== "MODIFIED" || c.requires.length > 0)) {
      throw new Error(`expected ${ITEMS} independent setting changes, the diff has ${changes.length}`);
    }
    const ids = changes.map((c) => c.id);

    const propagate = async (changeIds: string[]) => {
      const body = JSON.stringify({ query: PROPAGATE, variables: { input: { ...scope, changeIds, comment: "bench" } } });
      const { text, ms, cpuMs } = await post(body);
      const result = (JSON.parse(text) as { data?: { propagateChanges: Outcome } }).data?.propagateChanges;
      if (result?.__typename !== "PropagateChangesSuccess" || !result.propagation)
        throw new Error(`propagation failed: ${text.slice(0, 1000)}`);
      return { ms, cpuMs, propagationId: result.propagation.id };
    };
    const preview = async (propagationId: string, items: number) => {
      const { text, ms, cpuMs } = await post(JSON.stringify({ query: PREVIEW, variables: { propagationId } }));
      const answer = (JSON.parse(text) as { data?: { revertPreview: PreviewAnswer } }).data?.revertPreview;
      if (answer?.changes.length !== items || answer.conflicts.length > 0 || answer.missingVariables.length > 0) {
        throw new Error(`expected a preview of ${items} changes without conflicts: ${text.slice(0, 1000)}`);
      }
      return { ms, cpuMs };
    };
    const revert = async (propagationId: string) => {
      const body = JSON.stringify({ query: REVERT, variables: { input: { propagationId, selectAll: true, comment: "bench" } } });
      const { text, ms, cpuMs } = await post(body);
      const result = (JSON.parse(text) as { data?: { revertPropagation: Outcome } }).data?.revertPropagation;
      if (result?.__typename !== "RevertPropagationSuccess" || !result.propagation)
        throw new Error(`revert failed: ${text.slice(0, 1000)}`);
      return { ms, cpuMs, propagationId: result.propagation.id };
    };
    /** After a whole revert staging must hold its documents from before any propagation: writing them moves nothing. */
    const checkStagingReverted = async (what: string) => {
      const moved = await writeDocuments(bench.database, stored, stored.staging, stagingDocuments);
      if (moved !== 0) throw new Error(`${what} left ${moved} staging journeys other than before the propagation`);
    };

    // P, and the first revert of it, checked.
    const { propagationId } = await propagate(ids);
    await preview(propagationId, ITEMS);
    const first = await revert(propagationId);
    await checkStagingReverted("the first revert");
    const again = await diffIds();
    if (again.length !== ITEMS || again.some((c, i) => c.id !== ids[i])) {
      throw new Error(`after the first revert the diff development → staging has ${again.length} changes, expected the ${ITEMS} before`);
    }
    const latest = JSON.parse((await post(JSON.stringify({ query: LATEST, variables: { applicationId: scope.applicationId } }))).text) as {
      data?: { propagations: { edges: { node: { id: string; mode: string; revertOf: { id: string } | null; items: unknown[] } }[] } };
    };
    const record = latest.data?.propagations.edges[0]?.node;
    if (
      record?.id !== first.propagationId ||
      record.mode !== "REVERT" ||
      record.revertOf?.id !== propagationId ||
      record.items.length !== ITEMS
    ) {
      throw new Error(`the revert's audit record: ${JSON.stringify(record).slice(0, 500)}`);
    }

    // The rounds: propagate (staging = development, P's items hold), preview P, revert P (staging as before).
    const times = { propagation: [] as number[], preview: [] as number[], revert: [] as number[] };
    const cpu = { propagation: [] as number[], preview: [] as number[], revert: [] as number[] };
    const roundRatios = { preview: [] as number[], revert: [] as number[] };
    const loadAtStart = loadavg()[0];
    for (let run = 0; run < WARMUP + RUNS; run++) {
      const p = await propagate(ids);
      const v = await preview(propagationId, ITEMS);
      const r = await revert(propagationId);
      await checkStagingReverted(`revert ${run + 1}`);
      if (run < WARMUP) continue;
      for (const [key, m] of [
        ["propagation", p],
        ["preview", v],
        ["revert", r],
      ] as const) {
        times[key].push(m.ms);
        cpu[key].push(m.cpuMs);
      }
      roundRatios.preview.push(v.ms / p.ms);
      roundRatios.revert.push(r.ms / p.ms);
    }
    const loadAtEnd = loadavg()[0];

    // Statements of a propagation of 10, 100 and 1,000 changes, of its preview and of its revert.
    const statements: RevertFigures["statements"] = { revert: {}, preview: {}, propagation: {} };
    const lists = { revert: new Map<number, string[]>(), preview: new Map<number, string[]>() };
    for (const size of COUNTED_SIZES) {
      // evenly spread over the diff, so that the small propagations touch several journeys
      const stride = ITEMS / size;
      const selection = ids.filter((_, i) => i % stride === 0);
      const propagated = await bench.countStatements(() => propagate(selection));
      const previewed = await bench.countStatements(() => preview(propagated.result.propagationId, size));
      const reverted = await bench.countStatements(() => revert(propagated.result.propagationId));
      await checkStagingReverted(`the revert of ${size} changes`);
      statements.propagation[`of${size}`] = propagated.statements.length;
      statements.preview[`of${size}`] = previewed.statements.length;
      statements.revert[`of${size}`] = reverted.statements.length;
      lists.revert.set(size, reverted.statements);
      lists.preview.set(size, previewed.statements);
    }
    const doesNotGrow = (counts: Record<string, number>) => Object.values(counts).every((n) => n <= counts[`of${COUNTED_SIZES[0]}`]);
    const statementsDoNotGrow = doesNotGrow(statements.revert) && doesNotGrow(statements.preview);

    console.log(`revert on ${bench.label}: statements of one revertPropagation of a propagation of ${ITEMS} changes`);
    console.log(statementLines(lists.revert.get(ITEMS)!).join("\n"));
    for (const what of ["revert", "preview"] as const) {
      for (const size of COUNTED_SIZES.slice(0, -1)) {
        const extra = multisetDifference(lists[what].get(size)!, lists[what].get(ITEMS)!);
        const fewer = multisetDifference(lists[what].get(ITEMS)!, lists[what].get(size)!);
        if (extra.length + fewer.length === 0) continue;
        console.log(
          `  the ${what} of a propagation of ${size} changes runs ${extra.length === 0 ? "no other statements" : "these in addition:"}`,
        );
        if (extra.length > 0) console.log(statementLines(extra, "      ").join("\n"));
        console.log(`  and ${fewer.length === 0 ? `every statement of the ${ITEMS}-change one` : "not these:"}`);
        if (fewer.length > 0) console.log(statementLines(fewer, "      ").join("\n"));
      }
    }

    const timing = (key: keyof typeof times): Timing => ({
      medianMs: round(median(times[key]), 1),
      p90Ms: round(percentile(times[key], 0.9), 1),
      minMs: round(Math.min(...times[key]), 1),
      maxMs: round(Math.max(...times[key]), 1),
      cpuMedianMs: round(median(cpu[key]), 1),
    });
    const ratio = {
      preview: round(median(times.preview) / median(times.propagation), 2),
      revert: round(median(times.revert) / median(times.propagation), 2),
    };
    return {
      database: bench.label,
      items: ITEMS,
      runs: RUNS,
      propagation: timing("propagation"),
      preview: timing("preview"),
      revert: timing("revert"),
      ratio,
      roundRatio: { preview: round(median(roundRatios.preview), 2), revert: round(median(roundRatios.revert), 2) },
      statements,
      statementsDoNotGrow,
      targetRatio: TARGET_RATIO,
      meetsTarget: { preview: ratio.preview <= TARGET_RATIO, revert: ratio.revert <= TARGET_RATIO, statements: statementsDoNotGrow },
      loadAverage: { start: round(loadAtStart, 2), end: round(loadAtEnd, 2) },
    };
  } finally {
    await server?.stop();
    await bench.close();
  }
}

export async function runRevertBench(): Promise<RevertBenchFigures> {
  const results: RevertBenchFigures = {};
  for (const target of benchTargets()) results[target] = await runOn(target);
  return results;
}

export function formatRevertBench(f: RevertBenchFigures): string {
  const lines = [
    `revert: revertPreview and revertPropagation (selectAll) of a propagation of ${ITEMS} setting changes (50 journeys × 40 steps), ` +
      "staging → its documents before it, against propagateChanges of the same changes, over HTTP, one of each per round",
    formatFigures(machine()),
  ];
  const timing = (name: string, t: Timing) =>
    `    ${name.padEnd(12)} median ${t.medianMs} ms, p90 ${t.p90Ms} ms, min ${t.minMs} ms, max ${t.maxMs} ms; CPU time per request ${t.cpuMedianMs} ms (median)`;
  const counts = (c: Record<string, number>) =>
    Object.entries(c)
      .map(([size, count]) => `${size.slice(2)} → ${count}`)
      .join(", ");
  for (const target of ["embedded", "postgres"] as const) {
    const r = f[target];
    if (!r) continue;
    const met = (ok: boolean) => (ok ? "met" : "MISSED");
    lines.push(
      `  ${r.database}`,
      `    ${r.runs} rounds after ${WARMUP} warm-up:`,
      timing("propagation", r.propagation),
      timing("preview", r.preview),
      timing("revert", r.revert),
      `    ratio to the propagation (medians): preview ${r.ratio.preview}×, revert ${r.ratio.revert}× ` +
        `(median of the per-round ratios: preview ${r.roundRatio.preview}×, revert ${r.roundRatio.revert}×)`,
      `    SQL statements per request by the propagation's size: revert ${counts(r.statements.revert)}; preview ${counts(r.statements.preview)}; ` +
        `(propagation ${counts(r.statements.propagation)}) — ${r.statementsDoNotGrow ? "does not grow with the items" : "GROWS with the items"}`,
      `    targets: preview within ${r.targetRatio}× ${met(r.meetsTarget.preview)}, revert within ${r.targetRatio}× ${met(r.meetsTarget.revert)}, ` +
        `statement count does not grow ${met(r.meetsTarget.statements)} (load average ${r.loadAverage.start} at the start of the rounds, ${r.loadAverage.end} at the end)`,
    );
  }
  return lines.join("\n");
}

/**
 * A statement without its parameters: placeholders as `?`, `in (…)` lists and a multi-row insert's
 * rows collapsed (rows may hold expressions, such as a notification's `seq`), so that the same
 * statement over more rows has the same shape.
 */
function statementShape(statement: string): string {
  return statement
    .replace(/\s+/g, " ")
    .replace(/\$\d+/g, "?")
    .replace(/ in \([?, ]*\)/g, " in (…)")
    .replace(/ values \(.*?\)(?= on conflict| returning|$)/, " values (…)");
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

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  console.log(formatRevertBench(await runRevertBench()));
}

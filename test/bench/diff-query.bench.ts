/**
 * `diff` query benchmark (issue 3, end to end): the large application of the diff benchmark
 * (50 journeys × 40 steps × 10 settings; development = its `from`, staging = its `to`) stored in a
 * database, the real server started, and the `diff` query development → staging timed over HTTP,
 * sequentially, from sending the request to the last byte of the answer. Target: median under 20 ms
 * on the embedded database. The answer must hold exactly the changes the in-process diff of the
 * same pair finds (same ids).
 *
 * The documents carry ten settings per step, more than any catalogue type has, so they cannot go
 * through createJourney: they are written with the repositories (the diff never validates). Also
 * timed, in-process: the GraphQL operation without HTTP, the service call, and its two phases
 * (resolving the request and loading both sides; computing the diff), to show where the time goes.
 *
 *   npm run bench -- diff-query.bench          (DATABASE_URL set: also once on PostgreSQL)
 */
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { execute, parse } from "graphql";
import { diffApplication, diffSide } from "../../src/domain/diff.js";
import { schema } from "../../src/graphql/schema/index.js";
import { computeDiff, diff, loadDiffContext, resolveDiffTarget } from "../../src/services/diff.js";
import { benchApplicationPair } from "./diff.bench.js";
import { formatFigures, machine, round } from "./figures.js";
import {
  benchTargets,
  type DatabaseTarget,
  median,
  openBenchDatabase,
  percentile,
  startBenchServer,
  statementLines,
  storeApplication,
} from "./large-application.js";

const WARMUP = 10;
const RUNS = 60;
const TARGET_MEDIAN_MS = 20;

const DIFF_QUERY = `query Diff($applicationId: ID!, $from: ID!, $to: ID!) {
  diff(applicationId: $applicationId, fromEnvironmentId: $from, toEnvironmentId: $to) {
    status
    changes { id path kind summary oldValue newValue requires bundleId }
    bundles { id label changeIds }
  }
}`;

interface DiffResponse {
  data?: {
    diff: {
      status: string;
      changes: { id: string; requires: string[]; bundleId: string }[];
      bundles: { id: string; changeIds: string[] }[];
    };
  };
  errors?: unknown[];
}

export interface DiffQueryFigures {
  database: string;
  runs: number;
  changes: number;
  bundles: number;
  responseKiB: number;
  statementsPerRequest: number;
  /** over HTTP, milliseconds */
  http: { medianMs: number; p90Ms: number; minMs: number; maxMs: number; cpuMedianMs: number };
  /** in-process service phases, medians in milliseconds */
  inProcess: { serviceMs: number; loadContextMs: number; computeDiffMs: number; graphqlExecuteMs: number };
  targetMedianMs: number;
  meetsTarget: boolean;
  /** the machine's 1-minute load average at the end of the run (2 CPUs: above 2 means queued work) */
  loadAverage: number;
}

export type DiffQueryBenchFigures = Partial<Record<DatabaseTarget, DiffQueryFigures>>;

async function runOn(target: DatabaseTarget): Promise<DiffQueryFigures> {
  const { from, to } = benchApplicationPair();
  const bench = await openBenchDatabase(target, "diff-query");
  let server: Awaited<ReturnType<typeof startBenchServer>> | undefined;
  try {
    const stored = await storeApplication(
      bench.database,
      Object.keys(from.journeys).map((key) => ({ key, development: from.journeys[key], staging: to.journeys[key] })),
    );
    // What the diff must find: the in-process diff of the same pair (both clients hold the same settings).
    const expected = diffApplication(diffSide(from), diffSide(to));
    const expectedIds = expected.changes.map((c) => c.id).sort();

    server = await startBenchServer(bench.database, stored.token);
    const body = JSON.stringify({
      query: DIFF_QUERY,
      operationName: "Diff",
      variables: { applicationId: stored.ids.application, from: stored.ids.development, to: stored.ids.staging },
    });

    const first = await server.post(body);
    const response = JSON.parse(first.text) as DiffResponse;
    if (response.errors || !response.data) throw new Error(`diff answered with errors: ${first.text.slice(0, 1000)}`);
    const answer = response.data.diff;
    const ids = answer.changes.map((c) => c.id).sort();
    if (answer.status !== "OUT_OF_SYNC") throw new Error(`status ${answer.status}`);
    if (ids.length !== expectedIds.length || ids.some((id, i) => id !== expectedIds[i])) {
      throw new Error(`the query found ${ids.length} changes, the in-process diff ${expectedIds.length} (or other ids)`);
    }
    if (answer.bundles.length !== expected.bundles.length) {
      throw new Error(`the query found ${answer.bundles.length} bundles, the in-process diff ${expected.bundles.length}`);
    }

    for (let i = 0; i < WARMUP; i++) await server.post(body);
    const counted = await bench.countStatements(() => server!.post(body));
    const times: number[] = [];
    const cpuTimes: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const { text, ms, cpuMs } = await server.post(body);
      if (text.length !== first.text.length) throw new Error("the answer changed between runs");
      times.push(ms);
      cpuTimes.push(cpuMs);
    }

    // In-process, where the time of a request goes: the operation without HTTP, the service call, and its two phases.
    const { db } = bench.database;
    const request = { applicationId: stored.applicationId, fromEnvironmentId: stored.development.id, toEnvironmentId: stored.staging.id };
    const service: number[] = [];
    const load: number[] = [];
    const compute: number[] = [];
    const graphql: number[] = [];
    const document = parse(DIFF_QUERY);
    const variableValues = JSON.parse(body).variables as Record<string, string>;
    for (let i = 0; i < WARMUP + RUNS / 2; i++) {
      let started = performance.now();
      await diff(db, stored.actor, request);
      const serviceMs = performance.now() - started;
      // the whole operation without HTTP: resolvers (the service call included) and the JSON of the result
      started = performance.now();
      const contextValue = { actor: stored.actor, services: server.services, loaders: server.services.loaders(stored.actor) };
      const executed = await execute({ schema, document, variableValues, contextValue });
      if (executed.errors) throw new Error(`in-process execution failed: ${JSON.stringify(executed.errors)}`);
      JSON.stringify(executed);
      const graphqlMs = performance.now() - started;
      started = performance.now();
      const context = await loadDiffContext(db, stored.actor, await resolveDiffTarget(db, stored.actor, request));
      const loadMs = performance.now() - started;
      started = performance.now();
      computeDiff(context);
      const computeMs = performance.now() - started;
      if (i < WARMUP) continue;
      service.push(serviceMs);
      load.push(loadMs);
      compute.push(computeMs);
      graphql.push(graphqlMs);
    }

    const medianMs = median(times);
    console.log(`diff query on ${bench.label}: statements of one request`);
    console.log(statementLines(counted.statements).join("\n"));
    return {
      database: bench.label,
      runs: RUNS,
      changes: answer.changes.length,
      bundles: answer.bundles.length,
      responseKiB: round(Buffer.byteLength(first.text) / 1024),
      statementsPerRequest: counted.statements.length,
      http: {
        medianMs: round(medianMs, 2),
        p90Ms: round(percentile(times, 0.9), 2),
        minMs: round(Math.min(...times), 2),
        maxMs: round(Math.max(...times), 2),
        cpuMedianMs: round(median(cpuTimes), 2),
      },
      inProcess: {
        serviceMs: round(median(service), 2),
        loadContextMs: round(median(load), 2),
        computeDiffMs: round(median(compute), 2),
        graphqlExecuteMs: round(median(graphql), 2),
      },
      targetMedianMs: TARGET_MEDIAN_MS,
      meetsTarget: medianMs < TARGET_MEDIAN_MS,
      loadAverage: round(loadavg()[0], 2),
    };
  } finally {
    await server?.stop();
    await bench.close();
  }
}

export async function runDiffQueryBench(): Promise<DiffQueryBenchFigures> {
  const results: DiffQueryBenchFigures = {};
  for (const target of benchTargets()) results[target] = await runOn(target);
  return results;
}

export function formatDiffQueryBench(f: DiffQueryBenchFigures): string {
  const lines = [
    "diff query: 50 journeys × 40 steps × 10 settings, development → staging, end to end over HTTP, sequential",
    formatFigures(machine()),
  ];
  for (const target of ["embedded", "postgres"] as const) {
    const r = f[target];
    if (!r) continue;
    lines.push(
      `  ${r.database}: ${r.changes} changes, ${r.bundles} bundles, response ${r.responseKiB} KiB, ` +
        `${r.statementsPerRequest} SQL statements per request`,
      `    HTTP, ${r.runs} runs after ${WARMUP} warm-up: median ${r.http.medianMs} ms, p90 ${r.http.p90Ms} ms, ` +
        `min ${r.http.minMs} ms, max ${r.http.maxMs} ms; CPU time per request ${r.http.cpuMedianMs} ms (median)`,
      `    in-process medians: GraphQL execution without HTTP ${r.inProcess.graphqlExecuteMs} ms, of which the diff service ` +
        `${r.inProcess.serviceMs} ms = resolve + load both sides ${r.inProcess.loadContextMs} ms + compute diff ${r.inProcess.computeDiffMs} ms`,
      `    target: median under ${r.targetMedianMs} ms${target === "embedded" ? "" : " (the embedded database is the target)"}: ` +
        `${r.meetsTarget ? "met" : "MISSED"} (load average at the end of the run ${r.loadAverage})`,
    );
  }
  return lines.join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  console.log(formatDiffQueryBench(await runDiffQueryBench()));
}

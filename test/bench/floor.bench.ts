/**
 * The request floor (issue 17): an authenticated `{ __typename }` through this server against a bare
 * graphql-yoga `{ __typename }` server started here, in the same process, under the same load, in
 * alternating rounds. Target: ours ≥ 50% of bare yoga's throughput.
 *
 * With FLOOR_PROFILE=<file.cpuprofile>, one more run of ours is profiled (node:inspector) and the
 * functions with the most self time are printed, grouped by where they live (our src, a package,
 * node itself): where the time of one request goes.
 *
 *   npm run bench -- floor.bench          (DATABASE_URL set: on that PostgreSQL database)
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import autocannon from "autocannon";
import { createSchema, createYoga } from "graphql-yoga";
import { migrateDatabase, openDatabase } from "../../src/db/client.js";
import { createApp } from "../../src/server/app.js";
import { createLogger } from "../../src/server/logger.js";
import { ensureOrganization, issueToken } from "../../src/services/tokens.js";
import { profiled, summarizeProfile } from "./cpu-profile.js";
import { type Figures, formatFigures, machine, round } from "./figures.js";

const LOAD = { connections: 10, duration: 8, pipelining: 1, workers: 1 } as const;
const WARMUP_SECONDS = 3;
const ROUNDS = 2;
const TARGET = 0.5;
const BODY = JSON.stringify({ query: "{ __typename }" });
const EXPECTED = JSON.stringify({ data: { __typename: "Query" } });

function listen(server: Server): Promise<string> {
  return new Promise((done) =>
    server.listen(0, "127.0.0.1", () => done(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`)),
  );
}

async function load(url: string, headers: Record<string, string>): Promise<{ rps: number; busyMsPerRequest: number; p99: number }> {
  const options = {
    ...LOAD,
    url,
    method: "POST" as const,
    headers: { "content-type": "application/json", ...headers },
    body: BODY,
    expectBody: EXPECTED,
  };
  await autocannon({ ...options, duration: WARMUP_SECONDS });
  const before = performance.eventLoopUtilization();
  const result = await autocannon(options);
  const elu = performance.eventLoopUtilization(before);
  if (result.non2xx > 0 || result.errors > 0 || result.mismatches > 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.mismatches} mismatches`);
  }
  return { rps: result.requests.average, busyMsPerRequest: elu.active / Math.max(1, result.requests.total), p99: result.latency.p99 };
}

export async function runFloorBench(): Promise<Figures> {
  const url = process.env.DATABASE_URL || undefined;
  const dataDir = url ? undefined : await mkdtemp(join(tmpdir(), "floor-bench-"));
  const bare = createServer(
    createYoga({ schema: createSchema({ typeDefs: "type Query { ok: Boolean }" }), logging: false, graphiql: false }),
  );
  const bareUrl = await listen(bare);
  if (url) await migrateDatabase({ url });
  const database = await openDatabase({ url, dataDir });
  const app = createApp({ database, logger: createLogger("silent") });
  try {
    if (!url) await migrateDatabase({ database });
    const { organization } = await ensureOrganization(database.db, `Floor ${new Date().toISOString()}`);
    const { token } = await issueToken(database.db, { organizationId: organization.id, name: "floor", role: "VIEWER" });
    const ours = `${await app.start(0, "127.0.0.1")}/graphql`;
    const auth = { authorization: `Bearer ${token}` };

    const bareRuns: Awaited<ReturnType<typeof load>>[] = [];
    const ourRuns: Awaited<ReturnType<typeof load>>[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      bareRuns.push(await load(bareUrl, {}));
      ourRuns.push(await load(ours, auth));
    }
    const best = (runs: typeof bareRuns) => runs.reduce((a, b) => (b.rps > a.rps ? b : a));
    const b = best(bareRuns);
    const o = best(ourRuns);
    const figures: Figures = {
      ...machine(),
      database: url ? "PostgreSQL" : "embedded PGlite",
      "bare yoga { __typename } req/s (best of rounds)": round(b.rps),
      "bare yoga req/s per round": bareRuns.map((r) => round(r.rps)).join(", "),
      "bare yoga busy ms per request": round(b.busyMsPerRequest, 3),
      "ours authenticated { __typename } req/s (best of rounds)": round(o.rps),
      "ours req/s per round": ourRuns.map((r) => round(r.rps)).join(", "),
      "ours busy ms per request": round(o.busyMsPerRequest, 3),
      "ours p99 ms": o.p99,
      "ours / bare yoga": round(o.rps / b.rps, 3),
      target: `≥ ${TARGET}: ${o.rps / b.rps >= TARGET ? "met" : "MISSED"}`,
    };

    const profileFile = process.env.FLOOR_PROFILE;
    if (profileFile) {
      const { result, profile } = await profiled(() =>
        autocannon({
          ...LOAD,
          url: ours,
          method: "POST",
          headers: { "content-type": "application/json", ...auth },
          body: BODY,
        }),
      );
      await writeFile(profileFile, JSON.stringify(profile));
      const summary = summarizeProfile(profile, result.requests.total);
      console.log(`\nfloor profile (${result.requests.total} requests; self time per request, by place):`);
      for (const line of summary.places) console.log(`  ${line}`);
      console.log("\nby function:");
      for (const line of summary.functions) console.log(`  ${line}`);
    }
    return figures;
  } finally {
    await app.stop();
    bare.close();
    await database.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(resolve(process.argv[1] ?? "")).href) {
  const figures = await runFloorBench();
  console.log(`\nfloor\n${formatFigures(figures)}`);
  process.exit(0);
}

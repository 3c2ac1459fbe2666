/**
 * Scale-out (issue 17): two server processes on one PostgreSQL database, behind this bench's own
 * round-robin, against one, on the uncached dashboard. Target: two serve ≥ 1.6× the throughput of
 * one — when the machine has the cores for it. PostgreSQL only (DATABASE_URL); without it the bench
 * says it is skipped.
 *
 * - Data: the dashboard bench's shape (`dashboard.bench.ts`: 200 applications × 3 journeys × 3
 *   environments, seeded through the services in an organization of its own), a VIEWER token, the
 *   dashboard's query of the first page of 50 applications. ANALYZE after seeding, so that
 *   autovacuum does not change the plans between phases.
 * - Servers: `scale-out-server.ts`, two child processes started alike (the real server, configured
 *   from the environment as `main.ts` is, with RESPONSE_CACHE=false: every request executes its
 *   statements; pool of DATABASE_POOL_SIZE, default 10, connections each).
 * - Load: autocannon in a worker thread of this process (the servers' CPU is their own), a fixed
 *   number of keep-alive connections (SCALE_OUT_CONNECTIONS, default 20), no pipelining, each
 *   response byte-compared with the validated one. Phase A: every connection to server 1. Phase B:
 *   the same connections given to servers 1 and 2 in turn — autocannon's own distribution of its
 *   connections over several URLs (connection i to URL i mod 2). That is the round-robin: no proxy,
 *   so no hop that costs CPU per request on the cores the servers need (a Node proxy parses and
 *   forwards every request and response, on a 2-core machine a large share of what the servers
 *   have), and one autocannon run with one latency histogram. Balance is per connection, closed
 *   loop: a slower server gets fewer requests (the per-server counts are printed).
 * - Phases alternate (A, B, A, B… SCALE_OUT_ROUNDS rounds, default 2), each after its own warm-up;
 *   the best round of each phase is reported, every round's req/s listed.
 * - Grounding the projection, per phase: CPU seconds of each server process (its probe:
 *   `process.cpuUsage`) and event-loop busy time, of PostgreSQL (`pgrep -u postgres postgres`, utime
 *   + stime of /proc/<pid>/stat: needs the server on this machine), of this process (the load
 *   generator) and of the machine as a whole (/proc/stat: what else ran); per request. And the time
 *   requests wait on PostgreSQL, measured in the server process (`scale-out-server.ts`: every
 *   drizzle statement timed): its share of the requests' time under load, and — from requests sent
 *   one at a time after the phases — its share of an unloaded request's latency.
 *
 * Projection, from phase A's CPU per request (node n, PostgreSQL p, load generator g, ms):
 * throughput(k processes, C cores) ≈ min(k / n, C / (n + p)) req/ms; on this machine, whose cores
 * also run the load generator, C / (n + p + g).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench -- scale-out.bench
 *   DATABASE_URL=… npm run bench -- scale-out
 *   SCALE_OUT_SECONDS=3 SCALE_OUT_WARMUP_SECONDS=2 SCALE_OUT_ROUNDS=1 … (a smoke run)
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import autocannon from "autocannon";
import { sql } from "drizzle-orm";
import { migrateDatabase, openDatabase } from "../../src/db/client.js";
import { APPLICATIONS, DASHBOARD, ENVIRONMENT_KEYS, JOURNEYS, PAGE_SIZE, seedDashboard, validateDashboard } from "./dashboard-data.js";
import { type Figures, formatFigures, loadFigures, machine, round } from "./figures.js";
import type { ProcessStats } from "./process-probe.js";
import type { ScaleOutCounters, ScaleOutServerInfo } from "./scale-out-server.js";
import { type ServerProcess, startServerProcess } from "./server-process.js";

const TARGET_RATIO = 1.6;
const CONNECTIONS = Number(process.env.SCALE_OUT_CONNECTIONS ?? 20);
const SECONDS = Number(process.env.SCALE_OUT_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.SCALE_OUT_WARMUP_SECONDS ?? 3);
const ROUNDS = Number(process.env.SCALE_OUT_ROUNDS ?? 2);
/** Connections of each server's pool: main.ts's default unless DATABASE_POOL_SIZE says otherwise. */
const POOL_SIZE = process.env.DATABASE_POOL_SIZE || "10";
/** Requests sent one at a time to time an unloaded request. */
const SEQUENTIAL_REQUESTS = 50;
/** Projections printed: [processes, cores]. */
const PROJECTIONS: [number, number][] = [
  [1, 2],
  [2, 2],
  [2, 4],
  [4, 4],
  [4, 8],
  [8, 8],
  [8, 16],
];

type Stats = ProcessStats & ScaleOutCounters;
type Server = ServerProcess<ScaleOutServerInfo, Stats>;

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process, seconds; undefined when it is gone. */
function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces: fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** CPU seconds of every PostgreSQL server process on this machine (postmaster, backends, background workers), by pid. */
function postgresCpu(): Map<number, number> {
  let pids: number[] = [];
  try {
    pids = execFileSync("pgrep", ["-u", "postgres", "postgres"], { encoding: "utf8" }).split("\n").filter(Boolean).map(Number);
  } catch {
    // pgrep exits 1 when nothing matches: PostgreSQL is not on this machine (or not as user postgres).
  }
  const cpu = new Map<number, number>();
  for (const pid of pids) {
    const seconds = processCpuSeconds(pid);
    if (seconds !== undefined) cpu.set(pid, seconds);
  }
  return cpu;
}

/** Busy CPU seconds of the whole machine, all cores (/proc/stat: everything but idle and iowait). */
function machineBusySeconds(): number {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync("/proc/stat", "utf8")
    .split("\n")[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS;
}

interface Snapshot {
  at: number;
  servers: Stats[];
  postgres: Map<number, number>;
  benchCpuMs: number;
  machineSeconds: number;
}

async function snapshot(servers: Server[]): Promise<Snapshot> {
  const stats = await Promise.all(servers.map((s) => s.stats()));
  const cpu = process.cpuUsage();
  return {
    at: performance.now(),
    servers: stats,
    postgres: postgresCpu(),
    benchCpuMs: (cpu.user + cpu.system) / 1000,
    machineSeconds: machineBusySeconds(),
  };
}

/** PostgreSQL CPU ms between two snapshots: processes started in between count whole, processes gone in between are lost. */
function postgresCpuMs(before: Map<number, number>, after: Map<number, number>): number {
  let seconds = 0;
  for (const [pid, cpu] of after) seconds += cpu - (before.get(pid) ?? 0);
  return seconds * 1000;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

interface PhaseResult {
  result: autocannon.Result;
  /** Requests the servers answered (or saw abandoned) between the snapshots, each. */
  served: number[];
  seconds: number;
  nodeCpuMs: number[];
  loopActiveMs: number[];
  postgresCpuMs: number;
  benchCpuMs: number;
  machineCpuMs: number;
  queryMs: number[];
  dbBusyMs: number[];
  requestMs: number[];
  statements: number;
}

/**
 * Waits until the servers are idle: no request open, no statement awaited, their event loops quiet
 * for a moment. autocannon ends a run with its connections' last requests in flight (it closes the
 * sockets; the servers finish the work): a window between idle moments holds the whole work of the
 * requests counted in it.
 */
async function settle(servers: Server[]): Promise<Stats[]> {
  const deadline = performance.now() + 30_000;
  let previous = await Promise.all(servers.map((s) => s.stats()));
  while (performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const current = await Promise.all(servers.map((s) => s.stats()));
    const quiet = current.every((c, i) => c.openRequests === 0 && c.openQueries === 0 && c.activeMs - previous[i].activeMs < 10);
    previous = current;
    if (quiet) return current;
  }
  throw new Error("the servers did not settle within 30 s");
}

/**
 * Resolves once a server sees a request after `idle`: the measured window starts with the load, not
 * with autocannon's worker thread starting.
 */
async function loadStarted(servers: Server[], idle: Stats[]): Promise<void> {
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    const current = await Promise.all(servers.map((s) => s.stats()));
    if (current.some((c, i) => c.requests + c.openRequests > idle[i].requests + idle[i].openRequests)) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error("no request reached the servers within 30 s");
}

async function phase(servers: Server[], options: autocannon.Options, title: string): Promise<PhaseResult> {
  await autocannon({ ...options, title: `${title} warm-up`, duration: WARMUP_SECONDS });
  const idle = await settle(servers);
  const running = autocannon({ ...options, title });
  running.catch(() => {}); // awaited below; a failure to start must not go unhandled meanwhile
  await loadStarted(servers, idle);
  const before = await snapshot(servers);
  const result = await running;
  await settle(servers);
  const after = await snapshot(servers);
  const failures = result.errors + result.timeouts + result.non2xx + result.mismatches;
  if (failures > 0) {
    throw new Error(
      `${title}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts, ${result.mismatches} mismatches`,
    );
  }
  const delta = (key: keyof Stats) => servers.map((_, i) => (after.servers[i][key] as number) - (before.servers[i][key] as number));
  return {
    result,
    served: delta("requests"),
    // From the first request to idle: autocannon's run and the work of the requests it left open.
    seconds: (after.at - before.at) / 1000,
    nodeCpuMs: delta("cpuMs"),
    loopActiveMs: delta("activeMs"),
    postgresCpuMs: postgresCpuMs(before.postgres, after.postgres),
    benchCpuMs: after.benchCpuMs - before.benchCpuMs,
    machineCpuMs: (after.machineSeconds - before.machineSeconds) * 1000,
    queryMs: delta("queryMs"),
    dbBusyMs: delta("dbBusyMs"),
    requestMs: delta("requestMs"),
    statements: sum(delta("sqlStatements")),
  };
}

/** The figures of one phase; per request = per request the servers answered in the measured window. */
function phaseFigures(label: string, p: PhaseResult, postgresSeen: boolean): Figures {
  const requests = Math.max(1, sum(p.served));
  const perRequest = (ms: number) => round(ms / requests, 3);
  const cores = (ms: number) => round(ms / 1000 / p.seconds, 2);
  const own = sum(p.nodeCpuMs) + (postgresSeen ? p.postgresCpuMs : 0) + p.benchCpuMs;
  return {
    ...loadFigures(label, p.result),
    [`${label} requests per server`]: p.served.join(" / "),
    [`${label} node CPU ms/request`]: perRequest(sum(p.nodeCpuMs)),
    [`${label} node event-loop busy ms/request`]: perRequest(sum(p.loopActiveMs)),
    // Idle: the process had nothing to run, every request it held waiting on PostgreSQL (or on the client).
    [`${label} node event-loop idle % per server`]: p.loopActiveMs.map((ms) => round(100 - (ms / 1000 / p.seconds) * 100)).join(" / "),
    [`${label} PostgreSQL CPU ms/request`]: postgresSeen ? perRequest(p.postgresCpuMs) : "n/a (not on this machine)",
    [`${label} load generator CPU ms/request`]: perRequest(p.benchCpuMs),
    [`${label} SQL statements/request`]: round(p.statements / requests, 2),
    // Under load a statement's time includes waiting for a pool connection and for the event loop to resume its caller.
    [`${label} statement await ms/request (queueing included)`]: perRequest(sum(p.queryMs)),
    [`${label} server request ms (mean, server side)`]: perRequest(sum(p.requestMs)),
    [`${label} no statement in flight % per server`]: p.dbBusyMs.map((ms) => round(100 - (ms / 1000 / p.seconds) * 100)).join(" / "),
    [`${label} CPU cores busy: node / PostgreSQL / load generator`]: `${cores(sum(p.nodeCpuMs))} / ${postgresSeen ? cores(p.postgresCpuMs) : "n/a"} / ${cores(p.benchCpuMs)}`,
    [`${label} CPU cores busy: machine / other processes`]: `${cores(p.machineCpuMs)} / ${cores(Math.max(0, p.machineCpuMs - own))}`,
  };
}

/**
 * Runs the scale-out bench on DATABASE_URL's PostgreSQL database (an organization of its own); prints
 * and returns the figures. Without DATABASE_URL: skipped.
 */
export async function runScaleOutBench(): Promise<Figures> {
  const url = process.env.DATABASE_URL || undefined;
  if (!url) {
    console.log("\nScale-out benchmark: skipped (PostgreSQL only: set DATABASE_URL)");
    return { skipped: "DATABASE_URL not set (PostgreSQL only)" };
  }
  const host = machine();
  await migrateDatabase({ url });
  const database = await openDatabase({ url, poolSize: 4 });
  let seeded: { token: string; productionId: string };
  const seedStarted = performance.now();
  try {
    seeded = await seedDashboard(database, "Scale-out", "VIEWER");
    // Planner statistics now, rather than from autovacuum during a phase.
    await database.db.execute(sql`analyze`);
  } finally {
    await database.close();
  }
  const seedSeconds = round((performance.now() - seedStarted) / 1000);

  const servers: Server[] = [];
  try {
    for (const n of [1, 2]) {
      servers.push(
        await startServerProcess<ScaleOutServerInfo, Stats>("scale-out-server.ts", {
          label: `server ${n}`,
          startTimeoutMs: 60_000,
          env: { RESPONSE_CACHE: "false", DATABASE_POOL_SIZE: POOL_SIZE, LOG_LEVEL: process.env.SCALE_OUT_LOG_LEVEL ?? "warn" },
        }),
      );
    }
    if (servers.some((s) => s.info.responseCache)) throw new Error("a server kept its response cache");
    const headers = { "content-type": "application/json", authorization: `Bearer ${seeded.token}` };
    const body = JSON.stringify({ query: DASHBOARD, operationName: "Dashboard", variables: { env: seeded.productionId } });
    const post = async (endpoint: string) => {
      const response = await fetch(endpoint, { method: "POST", headers, body });
      if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
      return response.text();
    };
    const expected = await post(servers[0].info.url);
    validateDashboard(expected);
    if ((await post(servers[1].info.url)) !== expected) throw new Error("the two servers answered the dashboard differently");

    const options = (urls: string[]): autocannon.Options => ({
      // autocannon gives connection i to URL i mod urls.length (its types know one URL only).
      url: (urls.length === 1 ? urls[0] : urls) as string,
      connections: CONNECTIONS,
      duration: SECONDS,
      pipelining: 1,
      workers: 1,
      method: "POST",
      headers,
      body,
      expectBody: expected,
    });
    const postgresSeen = postgresCpu().size > 0;
    const one: PhaseResult[] = [];
    const two: PhaseResult[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      one.push(await phase([servers[0]], options([servers[0].info.url]), "A: one server"));
      two.push(await phase(servers, options(servers.map((s) => s.info.url)), "B: two servers"));
    }
    // One request at a time, on a warm server: an unloaded request's latency and the share of it spent on PostgreSQL
    // (with nothing else in flight, the process's statement-in-flight time is this request's).
    const [first] = servers;
    await settle(servers);
    const sequentialBefore = await first.stats();
    const sequentialPostgres = postgresCpu();
    const sequentialStarted = performance.now();
    for (let i = 0; i < SEQUENTIAL_REQUESTS; i++) await post(first.info.url);
    const sequentialMs = (performance.now() - sequentialStarted) / SEQUENTIAL_REQUESTS;
    const sequentialAfter = await first.stats();
    const sequentialPostgresMs = postgresCpuMs(sequentialPostgres, postgresCpu()) / SEQUENTIAL_REQUESTS;
    const unloaded = (key: keyof Stats) =>
      ((sequentialAfter[key] as number) - (sequentialBefore[key] as number)) / (sequentialAfter.requests - sequentialBefore.requests);

    const best = (runs: PhaseResult[]) => runs.reduce((a, b) => (b.result.requests.average > a.result.requests.average ? b : a));
    const a = best(one);
    const b = best(two);
    const ratio = b.result.requests.average / a.result.requests.average;

    // The projection, from phase A (one process, the least contention): CPU ms per request.
    const requestsA = Math.max(1, sum(a.served));
    const n = sum(a.nodeCpuMs) / requestsA;
    const pg = postgresSeen ? a.postgresCpuMs / requestsA : Number.NaN;
    const g = a.benchCpuMs / requestsA;
    const project = (k: number, cores: number, generator = 0) => Math.min((k * 1000) / n, (cores * 1000) / (n + pg + generator));
    const cpus = host.cpus as number;
    // What the model gives two processes over one on this machine, whose cores also run the load generator.
    const allowedRatio = project(2, cpus, g) / project(1, cpus, g);
    const rps = a.result.requests.average;

    const figures: Figures = {
      "database seeded in s": seedSeconds,
      "connections (both phases)": CONNECTIONS,
      "pool per server": Number(POOL_SIZE),
      "dashboard response KiB": round(Buffer.byteLength(expected) / 1024),
      "unloaded request ms (sequential, client side)": round(sequentialMs, 2),
      "unloaded node CPU ms/request": round(unloaded("cpuMs"), 3),
      "unloaded node event-loop busy ms/request": round(unloaded("activeMs"), 3),
      "unloaded server request ms": round(unloaded("requestMs"), 2),
      "unloaded PostgreSQL CPU ms/request": postgresSeen ? round(sequentialPostgresMs, 3) : "n/a (not on this machine)",
      // Statements in flight: PostgreSQL's time, the round trips, and postgres.js reading the rows (node CPU).
      "unloaded statements in flight ms/request": round(unloaded("dbBusyMs"), 3),
      "unloaded statements in flight % of request": round((unloaded("dbBusyMs") / unloaded("requestMs")) * 100),
      // Event loop idle: the request had nothing to run but waited on PostgreSQL (a lower bound of the wait).
      "unloaded event loop idle % of request": round((1 - unloaded("activeMs") / unloaded("requestMs")) * 100),
      "unloaded SQL statements/request": round(unloaded("sqlStatements"), 2),
      ...phaseFigures("A", a, postgresSeen),
      ...phaseFigures("B", b, postgresSeen),
      "A req/s per round": one.map((r) => round(r.result.requests.average)).join(", "),
      "B req/s per round": two.map((r) => round(r.result.requests.average)).join(", "),
      "B/A": round(ratio, 3),
      "target B/A": TARGET_RATIO,
      "meets target": ratio >= TARGET_RATIO,
    };
    if (postgresSeen) {
      for (const [k, cores] of PROJECTIONS) figures[`projected req/s, ${k} processes on ${cores} cores`] = round(project(k, cores));
      figures[`projected req/s on this machine (${cpus} cores, load generator included), 1 / 2 processes`] =
        `${round(project(1, cpus, g))} / ${round(project(2, cpus, g))}`;
      figures["A measured / projected for 1 process"] = round(rps / project(1, cpus, g), 3);
      figures["B/A this machine allows (projection, 2 processes / 1)"] = round(allowedRatio, 3);
      // One process saturated serves 1 / n; 1.6 times that needs 1.6 (n + p) / n cores.
      figures["cores for 1.6× one saturated process: servers + PostgreSQL / + load generator"] =
        `${round((TARGET_RATIO * (n + pg)) / n, 2)} / ${round((TARGET_RATIO * (n + pg + g)) / n, 2)}`;
      figures["cores for 1.6× A measured: servers + PostgreSQL / + load generator"] =
        `${round((TARGET_RATIO * rps * (n + pg)) / 1000, 2)} / ${round((TARGET_RATIO * rps * (n + pg + g)) / 1000, 2)}`;
    }
    figures["load average 1 min after"] = round(loadavg()[0], 2);

    console.log(
      `\nScale-out benchmark: uncached dashboard (${APPLICATIONS} applications × ${JOURNEYS.length} journeys × ` +
        `${ENVIRONMENT_KEYS.length} environments, page of ${PAGE_SIZE}), one server process vs two behind autocannon's round-robin`,
    );
    console.log(formatFigures(host));
    console.log(
      `  PostgreSQL (DATABASE_URL); RESPONSE_CACHE=false; autocannon ${CONNECTIONS} connections in a worker thread, ` +
        `${SECONDS} s after ${WARMUP_SECONDS} s warm-up, ${ROUNDS} round(s) A/B alternating, best of each reported`,
    );
    console.log(formatFigures(figures));
    if (postgresSeen) {
      console.log(
        `  projection: throughput(k, C) ≈ min(k / n, C / (n + p)) with phase A's n = ${round(n, 3)} ms node CPU, ` +
          `p = ${round(pg, 3)} ms PostgreSQL CPU per request (load generator g = ${round(g, 3)} ms, on these cores too)`,
      );
      console.log(
        `  this machine (${cpus} cores) allows B/A ≈ ${round(allowedRatio, 2)} against the target ${TARGET_RATIO}: ` +
          `${allowedRatio >= TARGET_RATIO ? "enough cores" : "not enough cores for the target"}; measured ${round(ratio, 2)}`,
      );
    }
    if (!figures["meets target"]) console.log(`  BELOW TARGET: two servers serve ${round(ratio, 2)}× one (target ${TARGET_RATIO}×)`);
    return figures;
  } finally {
    for (const server of servers) await server.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await runScaleOutBench();
}

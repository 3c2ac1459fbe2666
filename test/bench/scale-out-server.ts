/**
 * A server of the scale-out benchmark (`scale-out.bench.ts`), in a process of its own: the real
 * server (`createApp`) on the PostgreSQL database of DATABASE_URL, configured as `src/server/main.ts`
 * configures it from the environment (`loadSettings`: RESPONSE_CACHE, DATABASE_POOL_SIZE, LOG_LEVEL;
 * the bench sets RESPONSE_CACHE=false), on a free port of 127.0.0.1. No migration and no seed: the
 * bench has done both. Prints one JSON line (`ScaleOutServerInfo`) and serves a probe
 * (`process-probe.ts`, with `ScaleOutCounters`) on another port. Stops on SIGTERM.
 *
 * What it measures beyond the probe's CPU and event-loop figures, from outside src/ (nothing there
 * changes):
 *
 * - the time spent waiting on PostgreSQL: drizzle's postgres.js prepared query (`execute`, `all`:
 *   every statement a repository runs, in or out of a transaction) is wrapped on its prototype, so
 *   each statement is timed from the call to the moment its caller resumes. Kept: the sum of those
 *   times, and the time during which at least one statement was in flight (their union). BEGIN and
 *   COMMIT of a transaction are not statements drizzle prepares (the dashboard reads outside
 *   transactions). The time includes postgres.js parsing the rows and the event loop's delay in
 *   resuming the caller, which under load is queueing in this process, not in PostgreSQL;
 * - HTTP requests answered (counted when their response closes: sent, or abandoned by the client),
 *   their time from the request event to then, and those still open;
 * - SQL statements run (the database handle's `onQuery`).
 */
import { PostgresJsPreparedQuery } from "drizzle-orm/postgres-js/session";
import { openDatabase } from "../../src/db/client.js";
import { type App, createApp } from "../../src/server/app.js";
import { createLogger } from "../../src/server/logger.js";
import { loadSettings } from "../../src/server/settings.js";
import { announce, exitWithParent, type ProbeCounters, startProbe } from "./process-probe.js";

/** What a scale-out server announces on its first stdout line. */
export interface ScaleOutServerInfo {
  url: string;
  probeUrl: string;
  pid: number;
  responseCache: boolean;
  poolSize: number;
}

/** What its probe reports beyond the memory and CPU figures; every figure counts since the process started. */
export interface ScaleOutCounters extends ProbeCounters {
  sqlStatements: number;
  /** HTTP requests to the server (not the probe) whose response has closed. */
  requests: number;
  /** Their summed time, request event to the response's `close`, ms. */
  requestMs: number;
  /** Requests whose response has not closed yet. */
  openRequests: number;
  /** Statements awaited right now. */
  openQueries: number;
  /** Statements timed (drizzle prepared queries). */
  queries: number;
  /** Their summed time, call to resumption, ms. */
  queryMs: number;
  /** Time with at least one statement in flight, ms. */
  dbBusyMs: number;
}

const settings = loadSettings(process.env);
if (!settings.databaseUrl) {
  console.error("scale-out-server: DATABASE_URL is not set (PostgreSQL only)");
  process.exit(1);
}

let sqlStatements = 0;
let requests = 0;
let requestMs = 0;
let openRequests = 0;
let queries = 0;
let queryMs = 0;
let dbBusyMs = 0;
let inFlight = 0;
let busySince = 0;

type Run = (this: unknown, ...args: unknown[]) => Promise<unknown>;
/** `run`, timed: its time is added to `queryMs`, and to `dbBusyMs` while no other statement is in flight. */
function timed(run: Run): Run {
  return async function timedQuery(this: unknown, ...args: unknown[]) {
    const started = performance.now();
    if (inFlight++ === 0) busySince = started;
    try {
      return await run.apply(this, args);
    } finally {
      const ended = performance.now();
      queries++;
      queryMs += ended - started;
      if (--inFlight === 0) dbBusyMs += ended - busySince;
    }
  };
}
const prepared = PostgresJsPreparedQuery.prototype as unknown as { execute: Run; all: Run };
prepared.execute = timed(prepared.execute);
prepared.all = timed(prepared.all);

const database = await openDatabase({ url: settings.databaseUrl, poolSize: settings.databasePoolSize, onQuery: () => sqlStatements++ });
let app: App | undefined;
let stopped: Promise<void> | undefined;
async function shutdown(code: number): Promise<never> {
  stopped ??= (async () => {
    try {
      await Promise.race([app?.stop(), new Promise((resolve) => setTimeout(resolve, 5_000))]);
    } finally {
      await database.close();
    }
  })();
  await stopped.catch((error: unknown) => console.error(error));
  process.exit(code);
}
process.once("SIGTERM", () => void shutdown(0));
process.stdout.on("error", () => void shutdown(1));
exitWithParent();

try {
  app = createApp({
    database,
    logger: createLogger(settings.logLevel),
    introspection: settings.introspection,
    responseCache: settings.responseCache,
  });
  const base = await app.start(0, "127.0.0.1");
  // A second listener: the app's handler runs first, this one only counts and times.
  app.server.on("request", (_request, response) => {
    const started = performance.now();
    openRequests++;
    response.once("close", () => {
      openRequests--;
      requests++;
      requestMs += performance.now() - started;
    });
  });
  const probeUrl = await startProbe(
    (): ScaleOutCounters => ({
      subscribers: 0,
      sqlStatements,
      requests,
      requestMs,
      openRequests,
      openQueries: inFlight,
      queries,
      queryMs,
      // A statement in flight while the probe reads counts up to now.
      dbBusyMs: dbBusyMs + (inFlight > 0 ? performance.now() - busySince : 0),
    }),
  );
  const info: ScaleOutServerInfo = {
    url: `${base}/graphql`,
    probeUrl,
    pid: process.pid,
    responseCache: settings.responseCache,
    poolSize: settings.databasePoolSize,
  };
  announce({ ...info });
} catch (error) {
  console.error(error);
  await shutdown(1);
}

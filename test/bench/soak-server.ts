import { monitorEventLoopDelay } from "node:perf_hooks";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import type { Database } from "../../src/db/client.js";
import { listEnvironments } from "../../src/db/repositories/environments.js";
import type { JourneyDocument } from "../../src/domain/journey-document.js";
import { globalId } from "../../src/graphql/ids.js";
import { type App, createApp } from "../../src/server/app.js";
import { createLogger } from "../../src/server/logger.js";
import type { Actor } from "../../src/services/actor.js";
import { createApplication } from "../../src/services/applications.js";
import { createClient } from "../../src/services/clients.js";
import { createDatabase } from "../../src/services/environments.js";
import { createJourney } from "../../src/services/journeys.js";
import { ensureOrganization, issueToken } from "../../src/services/tokens.js";
import { BENCH_JOURNEYS } from "./journeys.js";
import { type BenchDatabase, type DatabaseTarget, openBenchDatabase } from "./large-application.js";
import { announce, countLiveSubscriptions, exitWithParent, type ProbeCounters, startProbe } from "./process-probe.js";

const TARGET: DatabaseTarget = process.env.SOAK_BENCH_TARGET === "postgres" ? "postgres" : "embedded";
/** How long stopping the server may take before the database is closed and removed regardless (the bench kills at 10 s). */
const STOP_TIMEOUT_MS = 5_000;
const APPLICATIONS = Number(process.env.SOAK_APPLICATIONS ?? 20);

const JOURNEYS = BENCH_JOURNEYS;

/** The step the soak's saves edit: every seeded journey starts with it. */
const EDITED_STEP = "identify";

/** A step as `saveJourneyStep` takes it (transitions as a list). */
export interface StepInput {
  key: string;
  type: string;
  name: string;
  enabled: boolean;
  settings: Record<string, unknown>;
  transitions: { outcome: string; to: string }[];
}

/** What the soak server announces on its first stdout line. */
export interface SoakServerInfo {
  url: string;
  wsUrl: string;
  probeUrl: string;
  /** What the figures were taken on. */
  database: string;
  /** VIEWER: dashboards, diffs, subscribers. */
  viewerToken: string;
  /** PROMOTER: saves in development and propagations into staging. */
  promoterToken: string;
  environments: { development: string; staging: string; production: string };
  applications: { id: string; name: string; journeys: { id: string; key: string; step: StepInput }[] }[];
}

/** What the probe reports beyond the memory and CPU figures. */
export interface SoakCounters extends ProbeCounters {
  /** Log lines at warn level or above, by level name. */
  logged: Record<string, number>;
  /** The first few of them, as logged. */
  loggedSamples: string[];
  /** SQL statements run since the start, by their first words. */
  statements: Record<string, number>;
  /** The event loop's longest delay and its 99th percentile since the previous reading, ms: stalls show here. */
  loopDelayMaxMs: number;
  loopDelayP99Ms: number;
  /** PostgreSQL only: the database's sessions, sampled every WAITS_EVERY_MS since the start (cumulative). */
  waits?: DatabaseWaits;
  /** Since the start: operations admitted at once and those that waited for admission (src/server/admission.ts). */
  admission: { admittedAtOnce: number; waited: number; overloadedSamples: number };
  /**
   * Since the previous reading: each HTTP request's time in this server, ms (from its `request` event
   * to its response's `finish`), by the `x-soak-kind` header the bench labels it with.
   */
  serverMs: Record<string, number[]>;
}

/** Sums over samples of the soak database's sessions (pg_stat_activity), this sampler's own left out. */
export interface DatabaseWaits {
  samples: number;
  /** Sessions running a statement, summed over the samples. */
  active: number;
  /** Sessions waiting for a lock (a row, a transaction), summed over the samples, and by wait event. */
  locked: number;
  lockedBy: Record<string, number>;
  /** Samples in which any session waited for a lock. */
  anyLocked: number;
}

/** How often PostgreSQL's sessions are sampled. */
const WAITS_EVERY_MS = 20;

/**
 * Samples the sessions of the server's database on a connection of its own (PostgreSQL only): how
 * many run a statement and how many wait for a lock — where saves queue, if they do. Stops with the process.
 */
async function sampleWaits(database: Database): Promise<DatabaseWaits | undefined> {
  if (database.kind === "pglite" || !process.env.DATABASE_URL) return undefined;
  const [{ name }] = (await database.db.execute(sql`select current_database() as name`)) as unknown as { name: string }[];
  const client = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} });
  const waits: DatabaseWaits = { samples: 0, active: 0, locked: 0, lockedBy: {}, anyLocked: 0 };
  const sample = async () => {
    const rows = await client<{ state: string | null; wait_event_type: string | null; wait_event: string | null }[]>`
      select state, wait_event_type, wait_event from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid()`;
    waits.samples++;
    let locked = 0;
    for (const row of rows) {
      if (row.state === "active") waits.active++;
      if (row.wait_event_type === "Lock") {
        locked++;
        waits.lockedBy[row.wait_event ?? "?"] = (waits.lockedBy[row.wait_event ?? "?"] ?? 0) + 1;
      }
    }
    waits.locked += locked;
    if (locked > 0) waits.anyLocked++;
  };
  const timer = setInterval(() => void sample().catch(() => {}), WAITS_EVERY_MS);
  timer.unref();
  return waits;
}

const liveSubscriptions = countLiveSubscriptions();

/** Warnings and errors the server logs (unexpected errors are masked in responses, but logged): counted, a few kept. */
const logged: Record<string, number> = {};
const loggedSamples: string[] = [];
const LEVELS: Record<number, string> = { 40: "warn", 50: "error", 60: "fatal" };
const logDestination = {
  write(line: string) {
    const level = LEVELS[(JSON.parse(line) as { level: number }).level] ?? "other";
    logged[level] = (logged[level] ?? 0) + 1;
    if (loggedSamples.length < 5) loggedSamples.push(line.trim().slice(0, 2_000));
  },
};

function stepInput(key: string, document: JourneyDocument): StepInput {
  const { transitions, ...step } = document.steps[key];
  return {
    key,
    ...step,
    settings: { ...step.settings },
    transitions: Object.entries(transitions).map(([outcome, to]) => ({ outcome, to })),
  };
}

let sqlStatements = 0;
const statements: Record<string, number> = {};
const onQuery = (query: string) => {
  sqlStatements++;
  const shape = query
    .replace(/\s+/g, " ")
    .replace(/\$\d+(, \$\d+)*/g, "$n")
    .slice(0, 110);
  statements[shape] = (statements[shape] ?? 0) + 1;
};

let soakDatabase: BenchDatabase | undefined;
let app: App | undefined;
let stopped: Promise<void> | undefined;
/** Stops the server and removes the database, however the process is asked to end. */
async function shutdown(code: number): Promise<never> {
  stopped ??= (async () => {
    try {
      await Promise.race([app?.stop(), new Promise((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS))]);
    } finally {
      await soakDatabase?.close();
    }
  })();
  await stopped.catch((error: unknown) => console.error(error));
  process.exit(code);
}
process.once("SIGTERM", () => void shutdown(0));
// The bench stopped reading (it is gone): nobody is left to stop this server.
process.stdout.on("error", () => void shutdown(1));
exitWithParent();

async function seed(database: Database) {
  const { db } = database;
  const { organization } = await ensureOrganization(db, "Soak bench");
  const admin = await issueToken(db, { organizationId: organization.id, name: "soak-admin", role: "ADMIN" });
  const promoter = await issueToken(db, { organizationId: organization.id, name: "soak-promoter", role: "PROMOTER" });
  const viewer = await issueToken(db, { organizationId: organization.id, name: "soak-viewer", role: "VIEWER" });
  const actor: Actor = { organizationId: organization.id, tokenId: admin.apiToken.id, role: "ADMIN", name: "soak-admin" };
  const environments = await listEnvironments(db, organization.id);
  if (environments.map((e) => e.key).join() !== "development,staging,production") throw new Error("unexpected default pipeline");
  const [development, staging, production] = environments;
  const databases = await Promise.all(
    environments.map((e) => createDatabase(db, actor, { environmentId: e.id, name: `soak-users-${e.key}` })),
  );

  const applications: SoakServerInfo["applications"] = [];
  for (let n = 1; n <= APPLICATIONS; n++) {
    const name = `Application ${String(n).padStart(2, "0")}`;
    const application = await createApplication(db, actor, { name });
    const clientIn = (index: 0 | 1) =>
      createClient(db, actor, {
        applicationId: application.id,
        environmentId: environments[index].id,
        databaseId: databases[index].id,
        redirectUris: [`https://${environments[index].key}.app-${n}.example.com/callback`],
        allowedOrigins: [`https://${environments[index].key}.app-${n}.example.com`],
      });
    await clientIn(0);
    const journeys = [];
    for (const journey of JOURNEYS) {
      const row = await createJourney(db, actor, { applicationId: application.id, ...journey });
      journeys.push({ id: globalId("Journey", row.id), key: journey.key, step: stepInput(EDITED_STEP, journey.document) });
    }
    // Copies every journey's configuration up: staging starts in sync.
    await clientIn(1);
    applications.push({ id: globalId("Application", application.id), name, journeys });
  }
  // As npm start does after seeding: PGlite has no autovacuum to gather planner statistics. A
  // PostgreSQL server's autovacuum would get there in its own time: analyzed now, so that every run
  // plans with statistics from the start.
  if (database.kind === "pglite") await database.analyze();
  else await db.execute(sql`analyze`);
  return {
    viewerToken: viewer.token,
    promoterToken: promoter.token,
    environments: {
      development: globalId("Environment", development.id),
      staging: globalId("Environment", staging.id),
      production: globalId("Environment", production.id),
    },
    applications,
  };
}

try {
  soakDatabase = await openBenchDatabase(TARGET, "soak", { onQuery });
  const { database } = soakDatabase;
  const seeded = await seed(database);

  app = createApp({ database, logger: createLogger("warn", logDestination) });
  const { admission } = app;
  // Each labelled request's time in this server: what of an operation's latency is the server's.
  let serverMs: Record<string, number[]> = {};
  app.server.prependListener("request", (request, response) => {
    const kind = request.headers["x-soak-kind"];
    if (typeof kind !== "string") return;
    const started = performance.now();
    response.once("finish", () => {
      (serverMs[kind] ??= []).push(performance.now() - started);
    });
  });
  const url = await app.start(0, "127.0.0.1");
  const waits = await sampleWaits(database);
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const counters = (): SoakCounters => {
    const figures = {
      subscribers: liveSubscriptions(),
      sqlStatements,
      logged,
      loggedSamples,
      statements,
      loopDelayMaxMs: loopDelay.max / 1e6,
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      waits: waits && { ...waits, lockedBy: { ...waits.lockedBy } },
      admission: admission.stats,
      serverMs,
    };
    serverMs = {};
    loopDelay.reset();
    return figures;
  };
  const probeUrl = await startProbe(counters);

  const info: SoakServerInfo = {
    url: `${url}/graphql`,
    wsUrl: `${url.replace(/^http/, "ws")}/graphql`,
    probeUrl,
    database: soakDatabase.label,
    ...seeded,
  };
  announce({ ...info });
} catch (error) {
  console.error(error);
  await shutdown(1);
}

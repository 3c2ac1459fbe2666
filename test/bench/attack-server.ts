/**
 * The server of the attack benchmark (issue 11), in a process of its own, on the database of
 * `ATTACK_BENCH_TARGET` (`embedded`: PGlite in a temporary folder; `postgres`: a scratch database
 * on DATABASE_URL's server, dropped at the end — `openBenchDatabase` of `large-application.ts`),
 * migrated and seeded through the services with two organizations that share nothing:
 *
 * - the victim: the default pipeline, a database per environment, one application with a client
 *   in development and staging and three journeys, and a VIEWER token (its dashboard's);
 * - the attacker: the same pipeline, one application with a client in development and staging and
 *   20 journeys (`ATTACK_JOURNEYS`), VIEWER and ADMIN tokens, and a history of `ATTACK_HISTORY`
 *   (default 3,000) sync notifications of its journeys in staging — written through the
 *   notification repository in batches, under its lock, as saves and promotions would have
 *   (thousands of saves through the services would take minutes);
 * - the attacker of the diff phase, an organization of its own (so the other attacks' lists do not
 *   grow): the same pipeline, one application with a client in development and staging and
 *   `ATTACK_DIFF_JOURNEYS` (default 120) journeys of `ATTACK_DIFF_STEPS` (20) steps that all differ
 *   between the two (two settings a step), written through the journey repository in a few statements, and a VIEWER token. With
 *   `ATTACK_DIFF_QUEUE=bypass` the server's `diff` service calls the diff directly, without the
 *   queue of src/services/index.ts (a comparison only: never how the server runs).
 *   `ATTACK_ADMISSION` (JSON) starts the server with admission options other than the defaults
 *   (src/server/admission.ts), to compare; `ATTACK_TRACE` writes a trace of requests (below).
 *
 * Then `createApp` (the real server: limits, caches, WebSocket) on a free port, logging at warn
 * level into a counter. Prints one JSON line (`AttackServerInfo`) and serves a probe
 * (`process-probe.ts`, with `AttackCounters`) on another port. Stops on SIGTERM.
 */
import { randomBytes } from "node:crypto";
import { appendFileSync } from "node:fs";
import { monitorEventLoopDelay, PerformanceObserver, performance } from "node:perf_hooks";
import { sql } from "drizzle-orm";
import type { Db } from "../../src/db/client.js";
import { listEnvironments } from "../../src/db/repositories/environments.js";
import { appendVersions, insertJourney, type NewVersion } from "../../src/db/repositories/journeys.js";
import { insertNotifications, type NewSyncNotification } from "../../src/db/repositories/sync-notifications.js";
import { canonicalHash } from "../../src/domain/canonical-json.js";
import type { JourneyDocument } from "../../src/domain/journey-document.js";
import { syncMessage } from "../../src/domain/sync.js";
import { globalId } from "../../src/graphql/ids.js";
import { type App, createApp } from "../../src/server/app.js";
import { createLogger } from "../../src/server/logger.js";
import type { Actor } from "../../src/services/actor.js";
import { createApplication } from "../../src/services/applications.js";
import { createClient } from "../../src/services/clients.js";
import * as diffs from "../../src/services/diff.js";
import { createDatabase } from "../../src/services/environments.js";
import { createJourney } from "../../src/services/journeys.js";
import { ensureOrganization, issueToken } from "../../src/services/tokens.js";
import { atCommit, inTransaction } from "../../src/services/transaction.js";
import { BENCH_JOURNEYS } from "./journeys.js";
import { type BenchDatabase, type DatabaseTarget, openBenchDatabase } from "./large-application.js";
import { announce, countLiveSubscriptions, exitWithParent, type ProbeCounters, startProbe } from "./process-probe.js";

const TARGET: DatabaseTarget = process.env.ATTACK_BENCH_TARGET === "postgres" ? "postgres" : "embedded";
const JOURNEYS = Number(process.env.ATTACK_JOURNEYS ?? 20);
const HISTORY = Number(process.env.ATTACK_HISTORY ?? 3_000);
/**
 * Journeys of the diff attacker's application. 120: on the embedded database a diff of 150 or more
 * differing journeys fails (INTERNAL_SERVER_ERROR: a document missing from what findVersions read;
 * PostgreSQL reads them all), so the size of each diff comes from its steps instead.
 */
const DIFF_JOURNEYS = Number(process.env.ATTACK_DIFF_JOURNEYS ?? 120);
/** Steps of each of its journeys, every one differing between development and staging. */
const DIFF_STEPS = Number(process.env.ATTACK_DIFF_STEPS ?? 20);
const BYPASS_DIFF_QUEUE = process.env.ATTACK_DIFF_QUEUE === "bypass";
/** How long stopping the server may take before the database is closed and removed regardless (the bench kills at 10 s). */
const STOP_TIMEOUT_MS = 5_000;
/** Notifications per insert: the insert announces its ids with pg_notify, whose payload is limited to 8,000 bytes. */
const HISTORY_BATCH = 400;

/** What the attack server announces on its first stdout line. */
export interface AttackServerInfo {
  url: string;
  wsUrl: string;
  probeUrl: string;
  /** What the figures were taken on. */
  database: string;
  victim: { viewerToken: string; applicationId: string };
  attacker: {
    viewerToken: string;
    adminToken: string;
    applicationId: string;
    developmentId: string;
    stagingId: string;
    journeys: number;
    /** Sync notifications stored for the attacker's organization. */
    history: number;
  };
  /** The attacker of the diff phase: its application's journeys all differ between development and staging. */
  differ: {
    viewerToken: string;
    applicationId: string;
    developmentId: string;
    stagingId: string;
    journeys: number;
    /** Whether the server's diffs go through their queue (`ATTACK_DIFF_QUEUE=bypass`: not). */
    diffQueue: boolean;
  };
  seedSeconds: number;
}

/** What the probe reports beyond the memory and CPU figures. */
export interface AttackCounters extends ProbeCounters {
  /** Lines the server logged at warn level or above, by level name, since it started. */
  logged: Record<string, number>;
  /** The first few of them. */
  loggedSamples: string[];
  /** The event loop's longest delay since the previous reading, ms. */
  loopDelayMaxMs: number;
  /** The longest garbage collection since the previous reading, ms. */
  gcPauseMaxMs: number;
  /** Admission under overload since the start (src/server/admission.ts). */
  admission: App["admission"]["stats"];
}

const liveSubscriptions = countLiveSubscriptions();

const logged: Record<string, number> = {};
const loggedSamples: string[] = [];
const LEVELS: Record<number, string> = { 40: "warn", 50: "error", 60: "fatal" };
const logDestination = {
  write(line: string) {
    let level = "unparsed";
    try {
      level = LEVELS[(JSON.parse(line) as { level: number }).level] ?? "other";
    } catch {
      // counted as unparsed
    }
    logged[level] = (logged[level] ?? 0) + 1;
    if (loggedSamples.length < 5) loggedSamples.push(line.trim().slice(0, 1_000));
  },
};

let bench: BenchDatabase | undefined;
let app: App | undefined;
let stopped: Promise<void> | undefined;
/** Stops the server and drops (or removes) the database, however the process is asked to end. */
async function shutdown(code: number): Promise<never> {
  stopped ??= (async () => {
    try {
      // A server still busy (after a flood, say) may not drain: the database is closed and dropped anyway.
      await Promise.race([app?.stop(), new Promise((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS))]);
    } finally {
      await bench?.close();
    }
  })();
  await stopped.catch((error: unknown) => console.error(error));
  process.exit(code);
}
process.once("SIGTERM", () => void shutdown(0));
// The bench stopped reading (it is gone): nobody is left to stop this server.
process.stdout.on("error", () => void shutdown(1));
exitWithParent();

/** An organization with the default pipeline, a database per environment, an ADMIN and a VIEWER token. */
async function organization(db: Db, name: string) {
  const { organization } = await ensureOrganization(db, `${name} ${new Date().toISOString()} ${randomBytes(3).toString("hex")}`);
  const admin = await issueToken(db, { organizationId: organization.id, name: `${name} admin`, role: "ADMIN" });
  const viewer = await issueToken(db, { organizationId: organization.id, name: `${name} viewer`, role: "VIEWER" });
  const actor: Actor = { organizationId: organization.id, tokenId: admin.apiToken.id, role: "ADMIN", name: `${name} admin` };
  const environments = await listEnvironments(db, organization.id);
  const [development, staging] = environments;
  if (development?.key !== "development" || staging?.key !== "staging") throw new Error("unexpected default pipeline");
  const databases = await Promise.all(
    [development, staging].map((e) => createDatabase(db, actor, { environmentId: e.id, name: `${name.toLowerCase()}-users-${e.key}` })),
  );
  return { organization, admin, viewer, actor, development, staging, databases };
}

/** An application with a client in development, the journeys, then a client in staging (which copies them up: in sync). */
async function application(db: Db, org: Awaited<ReturnType<typeof organization>>, name: string, journeys: number) {
  const { actor, development, staging, databases } = org;
  const application = await createApplication(db, actor, { name });
  const clientIn = (environment: typeof development, index: 0 | 1) =>
    createClient(db, actor, {
      applicationId: application.id,
      environmentId: environment.id,
      databaseId: databases[index].id,
      redirectUris: [`https://${environment.key}.example.com/callback`],
      allowedOrigins: [`https://${environment.key}.example.com`],
    });
  await clientIn(development, 0);
  const created = [];
  for (let n = 0; n < journeys; n++) {
    const template = BENCH_JOURNEYS[n % BENCH_JOURNEYS.length];
    const suffix = journeys > BENCH_JOURNEYS.length ? `-${String(n + 1).padStart(2, "0")}` : "";
    created.push(
      await createJourney(db, actor, {
        ...template,
        applicationId: application.id,
        key: `${template.key}${suffix}`,
        name: `${template.name}${suffix}`,
      }),
    );
  }
  await clientIn(staging, 1);
  return { application, journeys: created };
}

/**
 * The diff attacker's application: clients in development and staging (created before any journey,
 * so nothing is copied), then `DIFF_JOURNEYS` journeys whose development document differs from the
 * staging one in three settings, written through the repositories.
 */
async function differingApplication(db: Db, org: Awaited<ReturnType<typeof organization>>) {
  const { organization, actor, development, staging, databases } = org;
  const application = await createApplication(db, actor, { name: "Differing application" });
  for (const [index, environment] of [development, staging].entries()) {
    await createClient(db, actor, {
      applicationId: application.id,
      environmentId: environment.id,
      databaseId: databases[index].id,
      redirectUris: [`https://${environment.key}.example.com/callback`],
      allowedOrigins: [`https://${environment.key}.example.com`],
    });
  }
  const journeys = [];
  for (let n = 0; n < DIFF_JOURNEYS; n++) {
    journeys.push(
      await insertJourney(db, {
        organizationId: organization.id,
        applicationId: application.id,
        key: `recovery-${String(n + 1).padStart(4, "0")}`,
        name: `Recovery ${n + 1}`,
        type: "PASSWORD_RECOVERY",
      }),
    );
  }
  // Each journey's documents are its own (no two journeys share one): DIFF_STEPS email-code steps,
  // every one of which differs in two settings between development and staging.
  const journeyDocument = (n: number, inDevelopment: boolean): JourneyDocument => {
    const keys = Array.from({ length: DIFF_STEPS }, (_, s) => `code-${s + 1}`);
    return {
      start: keys[0],
      order: keys,
      steps: Object.fromEntries(
        keys.map((key, s) => [
          key,
          {
            type: "EMAIL_OTP",
            name: `Email code ${s + 1} of journey ${n + 1}`,
            enabled: true,
            settings: { codeLength: inDevelopment ? 8 : 6, ttlSeconds: inDevelopment ? 300 + s : 600 },
            transitions: { success: keys[s + 1] ?? "COMPLETE", failure: "DENY" },
          },
        ]),
      ),
    };
  };
  for (const environment of [development, staging]) {
    const entries: NewVersion[] = journeys.map((journey, n) => {
      const document = journeyDocument(n, environment === development);
      return {
        key: { journeyId: journey.id, environmentId: environment.id },
        previousVersion: null,
        document,
        hash: canonicalHash(document),
        origin: "SAVE",
        savedBy: actor.name,
        savedByTokenId: actor.tokenId,
        comment: "Attack bench setup",
      };
    });
    if (!(await appendVersions(db, entries))) throw new Error(`could not store the ${environment.key} versions`);
  }
  return { application, journeys };
}

/** The attacker's history: its journeys going out of sync in staging and back, alternately. */
async function storeHistory(db: Db, org: Awaited<ReturnType<typeof organization>>, applicationId: string, journeyIds: string[]) {
  const { organization, development, staging } = org;
  for (let start = 0; start < HISTORY; start += HISTORY_BATCH) {
    const rows: NewSyncNotification[] = [];
    for (let n = start; n < Math.min(HISTORY, start + HISTORY_BATCH); n++) {
      const status = Math.floor(n / journeyIds.length) % 2 === 0 ? "OUT_OF_SYNC" : "IN_SYNC";
      rows.push({
        organizationId: organization.id,
        applicationId,
        journeyId: journeyIds[n % journeyIds.length],
        environmentId: staging.id,
        sourceEnvironmentId: development.id,
        status,
        message: syncMessage("journey", status, staging),
        changeCount: status === "OUT_OF_SYNC" ? 1 : 0,
      });
    }
    await inTransaction(db, organization.id, async (tx) => {
      atCommit(tx, () => insertNotifications(tx, organization.id, rows));
    });
  }
}

/**
 * `ATTACK_TRACE=/tmp/trace.jsonl`: one line per HTTP request as it finishes (`w`: V victim, A
 * attacker, D the diff attacker; `s`/`e`: start and finish, ms on the server's clock; `a`: the diff
 * attacker's admission; `vq`: the victim's requests waiting for admission when it arrived), and one per turn of the event loop longer than 10 ms (`gap`) with the
 * requests it overlapped. To tell a victim's wait inside the server from one outside it (its own
 * client, the machine).
 */
const TRACE_FILE = process.env.ATTACK_TRACE;

/** A traced request: whose, and when it started and finished on the server's clock. */
type Traced = { who: string; start: number; end?: number; victimWaiting: number };

function traceRequests(
  app: App,
  file: string,
  admitted: string,
  tokens: [token: string, label: string][],
  victimOrganization: string,
): void {
  const labels = new Map(tokens.map(([token, label]) => [`Bearer ${token}`, label]));
  const live: Traced[] = [];
  app.server.prependListener("request", (request, response) => {
    const entry: Traced = {
      who: labels.get(String(request.headers.authorization)) ?? "?",
      start: performance.now(),
      victimWaiting: app.admission.of(victimOrganization).waiting,
    };
    live.push(entry);
    response.on("finish", () => {
      entry.end = performance.now();
      appendFileSync(
        file,
        `${JSON.stringify({ w: entry.who, s: entry.start, e: entry.end, a: app.admission.of(admitted), vq: entry.victimWaiting })}\n`,
      );
    });
  });
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    if (now - last > 10) {
      const overlapping = live.filter((r) => r.start < now && (r.end === undefined || r.end > last));
      const requests = overlapping.map(
        (r) => `${r.who} ${(r.start - last).toFixed(0)}..${r.end === undefined ? "-" : (r.end - last).toFixed(0)}`,
      );
      appendFileSync(file, `${JSON.stringify({ gapStart: last, gap: now - last, requests })}\n`);
    }
    last = now;
    while (live.length > 0 && live[0].end !== undefined && live[0].end < now - 1000) live.shift();
  }, 2).unref();
}

try {
  const started = performance.now();
  bench = await openBenchDatabase(TARGET, "attack");
  const { database } = bench;
  const { db } = database;

  const victim = await organization(db, "Victim");
  const victimApplication = await application(db, victim, "Victim portal", BENCH_JOURNEYS.length);
  const attacker = await organization(db, "Attacker");
  const attackerApplication = await application(db, attacker, "Attacker application", JOURNEYS);
  await storeHistory(
    db,
    attacker,
    attackerApplication.application.id,
    attackerApplication.journeys.map((j) => j.id),
  );
  const differ = await organization(db, "Differ");
  const differApplication = await differingApplication(db, differ);
  // As npm start does after seeding: PGlite has no autovacuum to gather planner statistics. On
  // PostgreSQL, autovacuum would vacuum and analyze the freshly seeded tables within its first
  // minute, in the middle of the first phases (a run on a quiet machine had its first quiet phase's
  // p99 at 45.7 ms and the one after the attacks at 11.6 ms): done now, before anything is measured.
  if (database.kind === "pglite") await database.analyze();
  else await db.execute(sql`vacuum analyze`);

  // ATTACK_ADMISSION='{"sampleMs":100}': admission options other than the defaults, to compare.
  const admission = process.env.ATTACK_ADMISSION ? JSON.parse(process.env.ATTACK_ADMISSION) : undefined;
  const server = createApp({ database, logger: createLogger("warn", logDestination), admission });
  app = server;
  if (BYPASS_DIFF_QUEUE) app.services.diff = (actor, request) => diffs.diff(db, actor, request);
  const url = await app.start(0, "127.0.0.1");
  if (TRACE_FILE) {
    traceRequests(
      server,
      TRACE_FILE,
      differ.organization.id,
      [
        [victim.viewer.token, "V"],
        [attacker.viewer.token, "A"],
        [differ.viewer.token, "D"],
      ],
      victim.organization.id,
    );
  }

  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  // Garbage collections pause the thread too: the longest one since the previous reading.
  let gcPauseMaxMs = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcPauseMaxMs = Math.max(gcPauseMaxMs, entry.duration);
  }).observe({ entryTypes: ["gc"] });
  const probeUrl = await startProbe((): AttackCounters => {
    const counters = {
      subscribers: liveSubscriptions(),
      logged,
      loggedSamples,
      loopDelayMaxMs: loopDelay.max / 1e6,
      gcPauseMaxMs,
      admission: server.admission.stats,
    };
    loopDelay.reset();
    gcPauseMaxMs = 0;
    return counters;
  });
  const info: AttackServerInfo = {
    url: `${url}/graphql`,
    wsUrl: `${url.replace(/^http/, "ws")}/graphql`,
    probeUrl,
    database: bench.label,
    victim: { viewerToken: victim.viewer.token, applicationId: globalId("Application", victimApplication.application.id) },
    attacker: {
      viewerToken: attacker.viewer.token,
      adminToken: attacker.admin.token,
      applicationId: globalId("Application", attackerApplication.application.id),
      developmentId: globalId("Environment", attacker.development.id),
      stagingId: globalId("Environment", attacker.staging.id),
      journeys: attackerApplication.journeys.length,
      history: HISTORY,
    },
    differ: {
      viewerToken: differ.viewer.token,
      applicationId: globalId("Application", differApplication.application.id),
      developmentId: globalId("Environment", differ.development.id),
      stagingId: globalId("Environment", differ.staging.id),
      journeys: differApplication.journeys.length,
      diffQueue: !BYPASS_DIFF_QUEUE,
    },
    seedSeconds: Math.round((performance.now() - started) / 100) / 10,
  };
  announce({ ...info });
} catch (error) {
  console.error(error);
  await shutdown(1);
}

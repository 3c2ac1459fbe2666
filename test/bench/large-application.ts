import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { type Database, migrateDatabase, openDatabase } from "../../src/db/client.js";
import { listEnvironments } from "../../src/db/repositories/environments.js";
import { appendVersions, findHeads, insertJourney, type NewVersion } from "../../src/db/repositories/journeys.js";
import type { EnvironmentRow, JourneyRow } from "../../src/db/repositories/rows.js";
import { canonicalHash } from "../../src/domain/canonical-json.js";
import type { JourneyDocument } from "../../src/domain/journey-document.js";
import { globalId } from "../../src/graphql/ids.js";
import { createApp } from "../../src/server/app.js";
import { createLogger } from "../../src/server/logger.js";
import type { Actor } from "../../src/services/actor.js";
import { createApplication } from "../../src/services/applications.js";
import { createClient } from "../../src/services/clients.js";
import { createDatabase } from "../../src/services/environments.js";
import type { Services } from "../../src/services/index.js";
import { ensureOrganization, issueToken } from "../../src/services/tokens.js";

/**
 * Shared setup of the benchmarks that store one large application (diff-query, propagation): a
 * database (embedded PGlite, or a scratch database on the PostgreSQL server of DATABASE_URL), the
 * application with clients in development and staging and its journeys written straight through
 * the repositories, and the real server to time requests against.
 */

export type DatabaseTarget = "embedded" | "postgres";

/**
 * The databases a bench runs on: always the embedded one (the target), PostgreSQL too when
 * DATABASE_URL is set; `BENCH_TARGETS=postgres` (or `embedded`) keeps only that one.
 */
export function benchTargets(): DatabaseTarget[] {
  const all: DatabaseTarget[] = process.env.DATABASE_URL ? ["embedded", "postgres"] : ["embedded"];
  const only = process.env.BENCH_TARGETS?.split(",").map((t) => t.trim());
  return only ? all.filter((target) => only.includes(target)) : all;
}

export interface BenchDatabase {
  database: Database;
  /** What the figures were taken on, for the printout. */
  label: string;
  /** The SQL statements drizzle ran during `work` (BEGIN/COMMIT of a transaction are not among them). */
  countStatements<T>(work: () => Promise<T>): Promise<{ result: T; statements: string[] }>;
  close(): Promise<void>;
}

/**
 * Embedded: PGlite in a fresh temporary data folder, as the server runs by default. PostgreSQL: a
 * scratch database created on DATABASE_URL's server and dropped on close (or when opening fails), so
 * runs never meet; a pool of `npm start`'s size. `onQuery` sees every statement, as well as
 * `countStatements` does during its work.
 */
export async function openBenchDatabase(
  target: DatabaseTarget,
  name: string,
  options: { onQuery?: (query: string) => void } = {},
): Promise<BenchDatabase> {
  let counted: string[] | null = null;
  const onQuery = (query: string) => {
    counted?.push(query);
    options.onQuery?.(query);
  };
  const countStatements = async <T>(work: () => Promise<T>) => {
    const statements: string[] = [];
    counted = statements;
    try {
      return { result: await work(), statements };
    } finally {
      counted = null;
    }
  };

  /** The database `open` gives, or `remove`d when opening it fails; `remove`d again after it is closed. */
  const opened = async (open: () => Promise<Database>, label: string, remove: () => Promise<void>): Promise<BenchDatabase> => {
    try {
      const database = await open();
      return {
        database,
        label,
        countStatements,
        async close() {
          try {
            await database.close();
          } finally {
            await remove();
          }
        },
      };
    } catch (error) {
      await remove();
      throw error;
    }
  };

  if (target === "embedded") {
    const dataDir = await mkdtemp(join(tmpdir(), `${name}-bench-`));
    return opened(
      async () => {
        const database = await openDatabase({ dataDir, onQuery });
        await migrateDatabase({ database });
        return database;
      },
      `embedded PGlite (data folder ${dataDir})`,
      () => rm(dataDir, { recursive: true, force: true }),
    );
  }

  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) throw new Error("DATABASE_URL is not set");
  const scratch = `jp_bench_${name.replace(/\W/g, "_")}_${randomBytes(4).toString("hex")}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  const drop = async () => {
    try {
      await admin.unsafe(`drop database if exists ${scratch} with (force)`);
    } finally {
      await admin.end({ timeout: 5 });
    }
  };
  await admin.unsafe(`create database ${scratch}`);
  const url = new URL(serverUrl);
  url.pathname = `/${scratch}`;
  return opened(
    async () => {
      await migrateDatabase({ url: url.href });
      return openDatabase({ url: url.href, onQuery });
    },
    `PostgreSQL ${url.host}, scratch database ${scratch}`,
    drop,
  );
}

export interface StoredJourney {
  key: string;
  /** Its document in development (the source of a promotion to staging). */
  development: JourneyDocument;
  /** Its document in staging. */
  staging: JourneyDocument;
}

export interface StoredApplication {
  token: string;
  actor: Actor;
  applicationId: string;
  development: EnvironmentRow;
  staging: EnvironmentRow;
  journeys: JourneyRow[];
  /** Global IDs, as GraphQL clients send them. */
  ids: { application: string; development: string; staging: string };
}

/**
 * An organization with the default pipeline, an ADMIN token, and one application with a database
 * and a client in development and in staging (through the services), then the journeys' rows and
 * their versions in both environments through the repositories, in two statements per
 * environment (storeApplicationIn). The staging client is created before any journey exists, so it
 * copies none; the documents are written as given (the diff and the apply never see how they were
 * stored). Ends with ANALYZE, as `npm start` does.
 */
export async function storeApplication(database: Database, journeys: readonly StoredJourney[]): Promise<StoredApplication> {
  const stored = await storeApplicationIn(database, await createOrganization(database), "Large application", journeys);
  await database.analyze();
  return stored;
}

export interface BenchOrganization {
  token: string;
  actor: Actor;
  development: EnvironmentRow;
  staging: EnvironmentRow;
}

/** An organization with the default pipeline and an ADMIN token, named apart so runs on a shared PostgreSQL database never meet. */
export async function createOrganization(database: Database, label = "Bench"): Promise<BenchOrganization> {
  const { db } = database;
  const { organization } = await ensureOrganization(db, `${label} ${new Date().toISOString()} ${randomBytes(3).toString("hex")}`);
  const { token, apiToken } = await issueToken(db, { organizationId: organization.id, name: "bench-admin", role: "ADMIN" });
  const actor: Actor = { organizationId: organization.id, tokenId: apiToken.id, role: "ADMIN", name: "bench-admin" };
  const [development, staging] = await listEnvironments(db, organization.id);
  if (development?.key !== "development" || staging?.key !== "staging") throw new Error("unexpected default pipeline");
  return { token, actor, development, staging };
}

/** An application with clients in development and staging and its journeys' versions (as storeApplication, into an existing organization). */
export async function storeApplicationIn(
  database: Database,
  org: BenchOrganization,
  name: string,
  journeys: readonly StoredJourney[],
): Promise<StoredApplication> {
  const { db } = database;
  const { actor, development, staging } = org;
  const application = await createApplication(db, actor, { name });
  const slug = name.toLowerCase().replace(/\W+/g, "-");
  for (const environment of [development, staging]) {
    const userStore = await createDatabase(db, actor, { environmentId: environment.id, name: `${slug}-users-${environment.key}` });
    await createClient(db, actor, {
      applicationId: application.id,
      environmentId: environment.id,
      databaseId: userStore.id,
      redirectUris: [`https://${environment.key}.${slug}.example.com/callback`],
      allowedOrigins: [`https://${environment.key}.${slug}.example.com`],
    });
  }
  const rows: JourneyRow[] = [];
  for (const journey of journeys) {
    rows.push(
      await insertJourney(db, {
        organizationId: actor.organizationId,
        applicationId: application.id,
        key: journey.key,
        name: `Journey ${journey.key}`,
        type: "LOGIN",
      }),
    );
  }
  for (const environment of [development, staging]) {
    const entries: NewVersion[] = journeys.map((journey, i) => {
      const document = environment === development ? journey.development : journey.staging;
      return {
        key: { journeyId: rows[i].id, environmentId: environment.id },
        previousVersion: null,
        document,
        hash: canonicalHash(document),
        origin: "SAVE",
        savedBy: actor.name,
        savedByTokenId: actor.tokenId,
        comment: "Bench setup",
      };
    });
    if (!(await appendVersions(db, entries))) throw new Error(`could not store the ${environment.key} versions`);
  }
  return {
    token: org.token,
    actor,
    applicationId: application.id,
    development,
    staging,
    journeys: rows,
    ids: {
      application: globalId("Application", application.id),
      development: globalId("Environment", development.id),
      staging: globalId("Environment", staging.id),
    },
  };
}

/**
 * Writes `documents` (journey key → document) as the next versions in `environment` where the head
 * differs from them, in two statements: how the benches reset a target between runs. Returns how
 * many journeys moved.
 */
export async function writeDocuments(
  database: Database,
  stored: StoredApplication,
  environment: EnvironmentRow,
  documents: ReadonlyMap<string, JourneyDocument>,
): Promise<number> {
  const { db } = database;
  const heads = await findHeads(
    db,
    stored.actor.organizationId,
    stored.journeys.map((j) => ({ journeyId: j.id, environmentId: environment.id })),
  );
  const entries: NewVersion[] = [];
  for (const journey of stored.journeys) {
    const document = documents.get(journey.key);
    if (!document) continue;
    const hash = canonicalHash(document);
    const head = heads.find((h) => h.journeyId === journey.id && h.environmentId === environment.id);
    if (head?.hash === hash) continue;
    entries.push({
      key: { journeyId: journey.id, environmentId: environment.id },
      previousVersion: head?.version ?? null,
      document,
      hash,
      origin: "RESTORE",
      savedBy: stored.actor.name,
      savedByTokenId: stored.actor.tokenId,
      comment: "Bench reset",
    });
  }
  if (!(await appendVersions(db, entries))) throw new Error(`could not reset ${environment.key}`);
  return entries.length;
}

export interface BenchServer {
  /**
   * POSTs one GraphQL request: the body as text, the wall time from sending to the last byte, and
   * the CPU time this process (server, embedded database and client) spent meanwhile, which a busy
   * machine inflates far less than the wall time.
   */
  post(body: string): Promise<{ text: string; ms: number; cpuMs: number }>;
  /** The server's services, to time the same work in-process. */
  services: Services;
  stop(): Promise<void>;
}

/**
 * The real server (createApp, silent logger) on a free port, and a client that keeps its connection
 * alive. Without the response cache: these benches time the work of each request, which a repeated
 * identical query would otherwise skip.
 */
export async function startBenchServer(database: Database, token: string): Promise<BenchServer> {
  const app = createApp({ database, logger: createLogger("silent"), responseCache: false });
  const endpoint = `${await app.start(0, "127.0.0.1")}/graphql`;
  const headers = { "content-type": "application/json", authorization: `Bearer ${token}` };
  return {
    async post(body) {
      const cpu = process.cpuUsage();
      const started = performance.now();
      const response = await fetch(endpoint, { method: "POST", headers, body });
      const text = await response.text();
      const ms = performance.now() - started;
      const { user, system } = process.cpuUsage(cpu);
      if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${text.slice(0, 500)}`);
      return { text, ms, cpuMs: (user + system) / 1000 };
    },
    services: app.services,
    stop: () => app.stop(),
  };
}

export function median(values: readonly number[]): number {
  return percentile(values, 0.5);
}

/** Linear interpolation between the closest ranks. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (sorted.length - 1) * p;
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

/** One line per statement, whitespace collapsed and cut, for the printout. */
export function statementLines(statements: readonly string[], indent = "    ", width = 150): string[] {
  return statements.map((s) => `${indent}${s.replace(/\s+/g, " ").slice(0, width)}`);
}

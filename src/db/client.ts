import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import type { ExtractTablesWithRelations } from "drizzle-orm";
import type { Logger } from "drizzle-orm/logger";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { tunePostgresSession } from "./postgres-session.js";
import { noteStatement } from "./read-tracking.js";
import * as schema from "./schema.js";

export type Schema = typeof schema;
/** A drizzle database or a transaction of one: repositories take either. */
export type Db = PgDatabase<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

export type DatabaseKind = "pglite" | "postgres";

export interface Database {
  kind: DatabaseKind;
  db: Db;
  /** Answers when the database does; throws otherwise. */
  ping(): Promise<void>;
  /**
   * Refreshes the planner's statistics. PGlite has no autovacuum daemon, so without this its plans
   * are made for empty tables forever; on a PostgreSQL server autovacuum does it and this is a no-op.
   */
  analyze(): Promise<void>;
  /** LISTEN on a channel; resolves to a function that stops listening. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** A PostgreSQL URL; without one the embedded PGlite database is used. */
  url?: string;
  /** PGlite data folder; omitted: in memory. */
  dataDir?: string;
  /** Called with every SQL statement drizzle runs (statement counting in tests and benchmarks). */
  onQuery?: QueryListener;
  /** Connections of the postgres.js pool (default 10). */
  poolSize?: number;
}

const migrationsFolder = fileURLToPath(new URL("../../migrations", import.meta.url));
/** How often the embedded database refreshes its planner statistics. */
const ANALYZE_EVERY_MS = 5 * 60_000;
/** Any constant: serializes migrations of instances that start at the same time. */
const MIGRATION_LOCK = 7_202_611;

/** Sees a statement drizzle runs, with its parameters. */
export type QueryListener = (query: string, params: readonly unknown[]) => void;

/** Every statement drizzle runs: to the tables-read tracking (src/db/read-tracking.ts), and to `onQuery`. */
function queryLogger(onQuery?: QueryListener): Logger {
  return {
    logQuery: (query, params) => {
      noteStatement(query);
      onQuery?.(query, params);
    },
  };
}

export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  return options.url ? openPostgres(options.url, options.onQuery, options.poolSize ?? 10) : openPglite(options.dataDir, options.onQuery);
}

async function openPglite(dataDir: string | undefined, onQuery?: QueryListener): Promise<Database> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const client = new PGlite(dataDir);
  await client.waitReady;
  yieldBetweenMessages(client);
  const db = drizzlePglite(client, { schema, logger: queryLogger(onQuery) }) as unknown as Db;
  const analyze = async () => {
    if (!client.closed) await client.exec("analyze");
  };
  const timer = setInterval(() => void analyze().catch(() => {}), ANALYZE_EVERY_MS);
  timer.unref();
  return {
    kind: "pglite",
    db,
    analyze,
    async ping() {
      await client.query("select 1");
    },
    async listen(channel, onPayload) {
      return client.listen(channel, onPayload);
    },
    async close() {
      clearInterval(timer);
      if (!client.closed) await client.close();
    },
  };
}

/**
 * PGlite runs in this thread and answers each protocol message synchronously, so the queries of one
 * use-case (a diff reads five or six) would run back to back in one turn of the event loop, tens of
 * milliseconds during which no other request moves. After each statement (its last protocol
 * message: a query is five or six — parse, describe, bind, describe, execute, sync) this gives the
 * event loop a turn, as a server's socket does: other requests interleave with a long chain of
 * queries. The connection's own order is kept (PGlite's mutexes hold the query and the transaction
 * meanwhile). A turn after every message instead made an uncached dashboard of five statements wait
 * for thirty turns (docs/performance.md, 2026-12-06).
 */
function yieldBetweenMessages(client: PGlite): void {
  const execProtocolStream = client.execProtocolStream.bind(client);
  client.execProtocolStream = async (...args: Parameters<PGlite["execProtocolStream"]>) => {
    const result = await execProtocolStream(...args);
    if (endsStatement(args[0])) await new Promise<void>((resolve) => setImmediate(resolve));
    return result;
  };
}

async function openPostgres(url: string, onQuery: QueryListener | undefined, poolSize: number): Promise<Database> {
  const client = postgres(url, {
    max: poolSize,
    onnotice: () => {},
    connect_timeout: 10,
  });
  const postgresDb = drizzlePostgres(client, { schema, logger: queryLogger(onQuery) });
  tunePostgresSession(postgresDb, client);
  const db = postgresDb as unknown as Db;
  return {
    kind: "postgres",
    db,
    async ping() {
      await client`select 1`;
    },
    async analyze() {},
    async listen(channel, onPayload) {
      const { unlisten } = await client.listen(channel, onPayload);
      return unlisten;
    },
    async close() {
      await client.end({ timeout: 5 });
    },
  };
}

/** Applies the migrations in `migrations/` (idempotent; safe when several instances start at once). */
export async function migrateDatabase(options: Pick<OpenDatabaseOptions, "url" | "dataDir"> & { database?: Database }): Promise<void> {
  if (!options.url) {
    const database = options.database ?? (await openPglite(options.dataDir));
    try {
      await migratePglite(database.db as never, { migrationsFolder });
    } finally {
      if (!options.database) await database.close();
    }
    return;
  }
  // One dedicated connection, so that the advisory lock and the migration share a session.
  const client = postgres(options.url, { max: 1, onnotice: () => {} });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migratePostgres(drizzlePostgres(client), { migrationsFolder });
    await client`select pg_advisory_unlock(${MIGRATION_LOCK})`;
  } finally {
    await client.end({ timeout: 5 });
  }
}

/** The rows of a raw `db.execute` result, whichever driver answered (postgres.js gives an array, PGlite `{ rows }`). */
export function rowsOf<T>(result: unknown): T[] {
  return Array.isArray(result) ? (result as T[]) : (result as { rows: T[] }).rows;
}

/** A statement's last message: Sync ends an extended-protocol statement (parse, bind, execute…), Query is a simple one. */
const endsStatement = (message: Uint8Array): boolean => message[0] === 0x53 || message[0] === 0x51;

import { randomUUID } from "node:crypto";
import { type Database, migrateDatabase, openDatabase, type QueryListener } from "../../src/db/client.js";

/** With DATABASE_URL the suite runs against that PostgreSQL server; otherwise on embedded PGlite. */
export const databaseUrl = process.env.DATABASE_URL || undefined;

/**
 * The `application_name` of this test worker's connections to the PostgreSQL server (one module per
 * worker: the files run with `isolate: false`, one after the other in a worker): the workers share
 * one database, so a test that waits for its own work to be blocked behind a lock it holds counts
 * only the sessions of this name (test/support/locks.ts), not another worker's.
 */
const testSessionName = `jp-test-${randomUUID().slice(0, 8)}`;

/** DATABASE_URL with this worker's session name: for a test that opens a database of its own on the server. */
export const testSessionUrl = databaseUrl && withSessionName(databaseUrl);

function withSessionName(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  // postgres.js sends the URL's other parameters as startup parameters.
  url.searchParams.set("application_name", testSessionName);
  return url.toString();
}

const queryListeners = new Set<QueryListener>();
const toListeners: QueryListener = (query, params) => {
  for (const listener of queryListeners) listener(query, params);
};

let shared: Promise<Database> | undefined;

/**
 * One database per test worker (a PGlite instance takes seconds to start). Tests isolate
 * themselves by tenant: each creates its own organization, so they never see each other's rows.
 */
export function testDatabase(): Promise<Database> {
  shared ??= (async () => {
    if (!databaseUrl) {
      const database = await openDatabase({ onQuery: toListeners });
      await migrateDatabase({ database });
      return database;
    }
    await migrateDatabase({ url: databaseUrl });
    return openDatabase({ url: testSessionUrl, onQuery: toListeners, poolSize: 5 });
  })();
  return shared;
}

/**
 * The event relay's reads of the notifications and promotion-request events a NOTIFY named
 * (src/events/relay.ts): they run whenever PostgreSQL delivers a NOTIFY — of an earlier write, or of
 * another test worker's on the same database — on a loaded machine during the next request.
 */
const RELAY_READ = /^select .* from "(sync_notifications|promotion_request_events)" where "\1"\."id" = any\(/;

/** Collects the SQL statements run while `work` runs (but the event relay's, which belong to no work). */
export async function countQueries<T>(work: () => Promise<T>): Promise<{ result: T; queries: string[] }> {
  const { result, statements } = await statementsOf(work);
  return { result, queries: statements.map((s) => s.query) };
}

/** The SQL statements run while `work` runs, with their parameters (but the event relay's). */
export async function statementsOf<T>(
  work: () => Promise<T>,
): Promise<{ result: T; statements: { query: string; params: readonly unknown[] }[] }> {
  const statements: { query: string; params: readonly unknown[] }[] = [];
  const listener: QueryListener = (query, params) => {
    if (!RELAY_READ.test(query)) statements.push({ query, params });
  };
  queryListeners.add(listener);
  try {
    return { result: await work(), statements };
  } finally {
    queryListeners.delete(listener);
  }
}

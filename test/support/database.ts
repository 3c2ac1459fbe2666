import { type Database, migrateDatabase, openDatabase } from "../../src/db/client.js";

/** With DATABASE_URL the suite runs against that PostgreSQL server; otherwise on embedded PGlite. */
export const databaseUrl = process.env.DATABASE_URL || undefined;

const queryListeners = new Set<(query: string) => void>();

let shared: Promise<Database> | undefined;

/**
 * One database per test worker (a PGlite instance takes seconds to start). Tests isolate
 * themselves by tenant: each creates its own organization, so they never see each other's rows.
 */
export function testDatabase(): Promise<Database> {
  shared ??= (async () => {
    if (!databaseUrl) {
      const database = await openDatabase({
        onQuery: (q) => {
          for (const listener of queryListeners) listener(q);
        },
      });
      await migrateDatabase({ database });
      return database;
    }
    await migrateDatabase({ url: databaseUrl });
    return openDatabase({
      url: databaseUrl,
      onQuery: (q) => {
        for (const listener of queryListeners) listener(q);
      },
      poolSize: 5,
    });
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
  const queries: string[] = [];
  const listener = (q: string) => {
    if (!RELAY_READ.test(q)) queries.push(q);
  };
  queryListeners.add(listener);
  try {
    return { result: await work(), queries };
  } finally {
    queryListeners.delete(listener);
  }
}

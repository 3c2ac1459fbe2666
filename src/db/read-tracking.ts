import { AsyncLocalStorage } from "node:async_hooks";
import { getTableName, is } from "drizzle-orm";
import { PgTable } from "drizzle-orm/pg-core";
import { LRUCache } from "lru-cache";
import * as schema from "./schema.js";

/**
 * Which tables a piece of work read: every statement drizzle runs passes through `noteStatement`
 * (the database's logger, src/db/client.ts), and the statements run inside `trackingTablesRead`
 * add the tables they name to its set. What a statement names is found in its text, so the set is
 * never smaller than what was read: a name in a statement that did not read the table (a column
 * alias, a string) only adds a table. The response cache keeps a response for as long as the tables
 * it read are unchanged (src/server/response-cache.ts).
 */
const tracked = new AsyncLocalStorage<Tracking>();

interface Tracking {
  /** The sets the names go to: the tracking work's, and the work's it runs inside. */
  sets: readonly Set<string>[];
  /** Tables whose statements here read only some partitions: their names, instead of the table's. */
  partitions?: Readonly<Record<string, readonly string[]>>;
}

/**
 * The name under which a partition of a table is revised: `journey_heads@<environment id>` for one
 * environment's rows, `journey_heads@inserted-or-deleted` for which rows exist (migration 0017).
 */
export const partitionName = (table: string, partition: string) => `${table}@${partition}`;

/** The partition revised whenever a row of the table is inserted or deleted, whatever its environment. */
export const ROWS_INSERTED_OR_DELETED = "inserted-or-deleted";

/** Every table of the schema, by its SQL name. */
export const TABLE_NAMES: readonly string[] = (Object.values(schema) as unknown[])
  .filter((value): value is PgTable => is(value, PgTable))
  .map((table) => getTableName(table));

/** A table's name as a word: `journeys` in `"journeys"."id"` or `from journeys`, not in `journey_versions`. */
const tableName = new RegExp(`(?<![A-Za-z0-9_$])(${TABLE_NAMES.join("|")})(?![A-Za-z0-9_$])`, "g");
/** The tables a statement names, by its text: the same few hundred texts come back on every request. */
const namedIn = new LRUCache<string, readonly string[]>({ max: 5_000 });

export function tablesNamedIn(statement: string): readonly string[] {
  let names = namedIn.get(statement);
  if (!names) {
    names = [...new Set(Array.from(statement.matchAll(tableName), (match) => match[1]))];
    namedIn.set(statement, names);
  }
  return names;
}

/**
 * Runs `work` with `tables` collecting the names of the tables its statements name (and the sets of
 * tracking work it runs inside, if any, too).
 */
export function trackingTablesRead<T>(tables: Set<string>, work: () => T): T {
  const outer = tracked.getStore();
  return tracked.run({ sets: [...(outer?.sets ?? []), tables], partitions: outer?.partitions }, work);
}

/**
 * Runs `read`, whose statements read of each table named in `partitions` only the rows of those
 * partitions (migration 0017: `journey_heads` and `journey_versions` by environment, and
 * ROWS_INSERTED_OR_DELETED for a read of which rows exist), so that they count as reads of those
 * partitions instead of the whole table: a write to another environment's rows leaves them exact.
 * Only for statements that read nothing else of those tables.
 */
export function readingPartitions<T>(partitions: Readonly<Record<string, readonly string[]>>, read: () => T): T {
  const outer = tracked.getStore();
  if (!outer) return read();
  const named = Object.fromEntries(
    Object.entries(partitions).map(([table, parts]) => [table, parts.map((part) => partitionName(table, part))]),
  );
  return tracked.run({ sets: outer.sets, partitions: { ...outer.partitions, ...named } }, read);
}

/**
 * Adds tables read elsewhere to the current tracking work's sets: for work that takes the result of
 * a read another caller ran (a shared read, src/services/read-queue.ts), which its statements did
 * not reach.
 */
export function addTablesRead(tables: Iterable<string>): void {
  const sets = tracked.getStore()?.sets;
  if (!sets) return;
  for (const name of tables) for (const set of sets) set.add(name);
}

/**
 * Called with every statement run: adds the tables it names (or the partitions read of them) to the
 * tracking work's sets, if any.
 */
export function noteStatement(statement: string): void {
  const store = tracked.getStore();
  if (!store) return;
  for (const table of tablesNamedIn(statement)) {
    for (const name of store.partitions?.[table] ?? [table]) for (const set of store.sets) set.add(name);
  }
}

/** The revisions a caller authenticated at: its organization's, and per table (and partition) the last committed write's. */
export interface Revisions {
  /** The organization's revision, read with the token. */
  revision: number;
  /** Per table or partition name, the revision of the organization's last committed write to it (absent: never written). */
  tables: Readonly<Record<string, number>>;
}

/** The revision of a table (or partition) in `revisions`; the organizations table (no trigger) has the organization's. */
export const revisionOf = (revisions: Revisions, table: string): number =>
  table === "organizations" ? revisions.revision : (revisions.tables[table] ?? 0);

import type { Db } from "../client.js";

/**
 * A statement built once per database handle and prepared, for the reads every request (or every
 * dashboard) runs: building a query with drizzle costs more CPU than PostgreSQL spends running a small
 * one (docs/performance.md, the request floor and the uncached dashboard). Its parameters are
 * placeholders; lists are passed as one array (`= any($1::uuid[])`), so the text never varies. A
 * transaction's handle gets its own, built on first use.
 */
export function preparedPerDatabase<Q>(build: (db: Db) => Q): (db: Db) => Q {
  const built = new WeakMap<Db, Q>();
  return (db) => {
    let query = built.get(db);
    if (query === undefined) built.set(db, (query = build(db)));
    return query;
  };
}

import type { Db } from "../client.js";

/** What a database handle's session holds that a prepared query runs with (drizzle's postgres-js and PGlite sessions). */
interface HandleSession {
  client: unknown;
  logger: unknown;
  cache: unknown;
}

/**
 * A statement built once and prepared, for the reads every request (or every dashboard) runs and the
 * statements of every write: building a query with drizzle costs more CPU than PostgreSQL spends
 * running a small one (docs/performance.md, the request floor, the uncached dashboard, and a save's
 * statements). Its parameters are placeholders; lists are passed as one array (`= any($1::uuid[])`),
 * so the text never varies. It is built on the first handle of each kind of session; every other
 * handle — a transaction's, another database's — gets a copy bound to its own session's connection,
 * logger and cache, so that a transaction does not build it again.
 */
export function preparedPerDatabase<Q extends object>(build: (db: Db) => Q): (db: Db) => Q {
  const built = new WeakMap<Db, Q>();
  const templates = new Map<unknown, Q>();
  return (db) => {
    let query = built.get(db);
    if (query === undefined) {
      const session = (db as unknown as { session: HandleSession }).session;
      const template = templates.get(session.constructor);
      if (template) query = boundTo(template, session);
      else templates.set(session.constructor, (query = build(db)));
      built.set(db, query);
    }
    return query;
  };
}

/** A copy of a prepared query that runs on `session`'s connection, with its logger (the read tracking) and cache. */
function boundTo<Q extends object>(template: Q, session: HandleSession): Q {
  const own = (value: unknown) => ({ value, writable: true, enumerable: true, configurable: true });
  return Object.create(Object.getPrototypeOf(template), {
    ...Object.getOwnPropertyDescriptors(template),
    client: own(session.client),
    logger: own(session.logger),
    cache: own(session.cache),
  }) as Q;
}

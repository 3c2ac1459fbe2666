import type { TablesRelationalConfig } from "drizzle-orm";
import type { PgTransactionConfig } from "drizzle-orm/pg-core";
import { type PostgresJsDatabase, PostgresJsSession, PostgresJsTransaction } from "drizzle-orm/postgres-js";
import type { Sql, TransactionSql } from "postgres";

/*
 * Round trips to PostgreSQL that carried nothing (measured through a relay that counts the client's
 * writes; docs/performance.md, twelfth session): under load each round trip waits for the server's
 * turn of the event loop and for a core, so a write's latency grows with their number.
 *
 * 1. Statements drizzle did not prepare (every query builder not given `.prepare(name)`) reach
 *    postgres.js as unnamed statements, and postgres.js sends an unnamed statement with parameters
 *    in two round trips, every time: Parse and Describe, then — with the parameter types described —
 *    Bind and Execute. A prepared one is described once per connection and then runs in one. So
 *    every statement of a fixed text is prepared here: its text comes from the code (drizzle puts
 *    every value in a parameter), so there are as many as there are call sites and their options.
 *    Texts whose length follows the data — a list of values (`in ($1, $2, …)`) or of rows
 *    (`values (…), (…)`) — are not: each length would be one more statement kept on every
 *    connection (the connections are replaced within the hour: postgres.js's `max_lifetime`).
 * 2. drizzle's postgres-js transaction sends its options (`inSnapshot`'s repeatable read, read only)
 *    as SET TRANSACTION after BEGIN: a round trip more. Here they go in postgres.js's BEGIN.
 *    (BEGIN itself is still answered before the work's first statement: postgres.js `begin` takes
 *    its connection that way, and races the work against the connection's closing. A connection
 *    reserved with `reserve()` to send BEGIN with the first statements instead is not safe in
 *    postgres.js 3.4.9 when its backend goes away — a transaction reported committed with part of
 *    it lost, connections lost to the pool, waits that never end — docs/performance.md.)
 */

/** A statement's text whose length follows the data: a list of values or of rows. */
const SIZED_BY_DATA = /\bin \(\$\d|\), \(/;

/**
 * Texts prepared at most, per process (the application has a few hundred): should a text vary in a
 * way `SIZED_BY_DATA` does not see, what each connection keeps stays bounded; the texts after these
 * run unprepared, as drizzle would run them.
 */
const MAX_PREPARED_TEXTS = 1_000;

type Session = PostgresJsSession<Sql, Record<string, unknown>, TablesRelationalConfig>;
type Transaction = PostgresJsTransaction<never, never>;

export function tunePostgresSession(db: PostgresJsDatabase<Record<string, unknown>>, client: Sql): void {
  const session = (db as unknown as { session: Session }).session;
  const { dialect, schema, options } = session as unknown as {
    dialect: ConstructorParameters<typeof PostgresJsSession>[1];
    schema: ConstructorParameters<typeof PostgresJsSession>[2];
    options: ConstructorParameters<typeof PostgresJsSession>[3];
  };
  const prepareQuery = session.prepareQuery;
  const preparedTexts = new Set<string>();
  const fixed = (text: string) => {
    if (preparedTexts.has(text)) return true;
    if (preparedTexts.size >= MAX_PREPARED_TEXTS || SIZED_BY_DATA.test(text)) return false;
    preparedTexts.add(text);
    return true;
  };

  /** drizzle prepares a query given a name (postgres.js names its statements itself). */
  function prepareFixedTexts(target: Session): void {
    target.prepareQuery = ((query, fields, name, ...rest) =>
      prepareQuery.call(target, query, fields, name ?? (fixed(query.sql) ? "" : undefined), ...rest)) as Session["prepareQuery"];
  }
  prepareFixedTexts(session);

  /** A transaction on `client` (postgres.js `begin`'s, or a savepoint's inside it) whose statements are prepared too. */
  function transactionOn(client: TransactionSql, depth: number): Transaction {
    const txSession = new PostgresJsSession(client as unknown as Sql, dialect, schema, options) as Session;
    prepareFixedTexts(txSession);
    const tx = new PostgresJsTransaction<never, never>(dialect, txSession as never, schema as never, depth);
    tx.transaction = (nested) => client.savepoint((inner) => nested(transactionOn(inner, depth + 1))) as never;
    return tx;
  }

  session.transaction = <T>(work: (tx: Transaction) => Promise<T>, config?: PgTransactionConfig) =>
    client.begin(modes(config), (txClient) => work(transactionOn(txClient, 0))) as Promise<T>;
}

/** A transaction's modes as BEGIN takes them (those of SET TRANSACTION). */
function modes(config: PgTransactionConfig | undefined): string {
  if (!config) return "";
  const parts: string[] = [];
  if (config.isolationLevel) parts.push(`isolation level ${config.isolationLevel}`);
  if (config.accessMode) parts.push(config.accessMode);
  if (typeof config.deferrable === "boolean") parts.push(config.deferrable ? "deferrable" : "not deferrable");
  return parts.length > 0 ? ` ${parts.join(" ")}` : "";
}

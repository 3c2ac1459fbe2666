import type { TablesRelationalConfig } from "drizzle-orm";
import type { PgTransactionConfig } from "drizzle-orm/pg-core";
import { type PostgresJsDatabase, PostgresJsSession, PostgresJsTransaction } from "drizzle-orm/postgres-js";
import type { Sql } from "postgres";

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
 * 2. A transaction (postgres.js `begin`) waits for BEGIN's answer before the work runs, and one with
 *    options (`inSnapshot`'s repeatable read, read only) then sends SET TRANSACTION and waits again.
 *    Here the transaction's connection is reserved and BEGIN, with the options in it, is written
 *    without waiting: the work's first statements follow it, and PostgreSQL runs them in the order
 *    received, inside the transaction. BEGIN fails only with the connection, and then so does every
 *    statement behind it; its answer is awaited before COMMIT, so a transaction whose BEGIN failed
 *    never commits. On any failure it is rolled back (statements are answered in order: the ROLLBACK
 *    follows the last of them), and the connection goes back to the pool — unless it closed (a
 *    killed backend, a network failure): postgres.js has it among its closed connections then. A
 *    transaction inside one (the tests' rolled-back bodies) is a savepoint, started the same way.
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

  session.transaction = async <T>(work: (tx: Transaction) => Promise<T>, config?: PgTransactionConfig) => {
    const reserved = await client.reserve();
    let answers = true;
    try {
      return await within(reserved, `begin${modes(config)}`, "commit", null, work, 0);
    } catch (error) {
      answers = await reserved.unsafe("rollback").then(
        () => true,
        () => false,
      );
      throw error;
    } finally {
      // A connection that closed is in the pool's closed list already, to be connected again when
      // needed; released, postgres.js would take it back among the open ones and send it queries.
      if (answers) reserved.release();
    }
  };

  /**
   * Runs `work` between `start` (written at once) and `end`, or `undo` if anything failed (the
   * transaction's ROLLBACK is its caller's); a transaction inside it is a savepoint on the same
   * connection, started the same way.
   */
  async function within<T>(
    reserved: Sql,
    start: string,
    end: string,
    undo: string | null,
    work: (tx: Transaction) => Promise<T>,
    depth: number,
  ): Promise<T> {
    const started = reserved.unsafe(start).execute();
    // Awaited below; a rejection before that is the connection's, and every statement behind it fails too.
    started.catch(() => {});
    const txSession = new PostgresJsSession(reserved, dialect, schema, options) as Session;
    prepareFixedTexts(txSession);
    const tx = new PostgresJsTransaction<never, never>(dialect, txSession as never, schema as never, depth);
    const savepoint = `s${depth + 1}`;
    tx.transaction = (nested) =>
      within(reserved, `savepoint ${savepoint}`, `release savepoint ${savepoint}`, `rollback to savepoint ${savepoint}`, nested, depth + 1);
    let result: T;
    try {
      result = await work(tx);
      await started;
    } catch (error) {
      if (undo !== null) await reserved.unsafe(undo).catch(() => {});
      throw error;
    }
    await reserved.unsafe(end);
    return result;
  }
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

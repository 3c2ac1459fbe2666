import { randomUUID } from "node:crypto";
import { inArray, sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, rowsOf } from "../../src/db/client.js";
import { isConnectionLoss } from "../../src/db/errors.js";
import { anyOf } from "../../src/db/repositories/tuples.js";
import { organizations } from "../../src/db/schema.js";
import { inSnapshot } from "../../src/services/transaction.js";
import { databaseUrl, testDatabase } from "../support/database.js";
import { databaseThroughRelay, type relay } from "../support/relay.js";

/**
 * Statements and transactions on PostgreSQL in as few round trips as they need
 * (src/db/postgres-session.ts), counted through a TCP relay (its client's writes).
 */
describe.runIf(databaseUrl)("statements and transactions on PostgreSQL", () => {
  let proxy: ReturnType<typeof relay>;
  let database: Database;

  beforeAll(async () => {
    await testDatabase(); // migrated
    // One connection: a transaction left open on it would show in the next test.
    ({ proxy, database } = await databaseThroughRelay(databaseUrl as string, 1));
    await database.db.execute(sql`create temporary table if not exists transaction_test (n int)`);
  });

  afterAll(async () => {
    await database?.close();
    await proxy?.stop();
  });

  /** The client's writes (round trips) while `work` runs. */
  async function roundTrips(work: () => Promise<unknown>): Promise<number> {
    const before = proxy.writes;
    await work();
    // The relay counts a write when it arrives: the last one (COMMIT) was answered, so it arrived.
    return proxy.writes - before;
  }

  it("sends a snapshot's options in its BEGIN: no SET TRANSACTION, as many round trips as a plain transaction", async () => {
    const { db } = database;
    const plain = await roundTrips(() => db.transaction((tx) => tx.execute(sql`select 1`)));
    expect(plain).toBe(3); // BEGIN, the statement, COMMIT
    expect(await roundTrips(() => inSnapshot(db, (tx) => tx.execute(sql`select 1`)))).toBe(plain);
  });

  it("runs a statement of a fixed text in one round trip once prepared, a list of values in two, a list as an array in one", async () => {
    const { db } = database;
    const ids = [randomUUID(), randomUUID()];
    const fixed = (n: number) => db.execute(sql`select ${n}::int as n`);
    const inList = () => db.select({ id: organizations.id }).from(organizations).where(inArray(organizations.id, ids));
    const asArray = () =>
      db
        .select({ id: organizations.id })
        .from(organizations)
        .where(anyOf(organizations.id, "uuid", ids));
    await fixed(1); // prepared on the one connection
    await asArray();
    expect(await roundTrips(() => fixed(2))).toBe(1);
    expect(await roundTrips(inList)).toBe(2);
    expect(await roundTrips(inList)).toBe(2);
    expect(await roundTrips(asArray)).toBe(1);
  });

  it("runs a snapshot at repeatable read, read only", async () => {
    const { db } = database;
    const isolation = await inSnapshot(
      db,
      async (tx) => rowsOf<{ level: string }>(await tx.execute(sql`select current_setting('transaction_isolation') as level`))[0].level,
    );
    expect(isolation).toBe("repeatable read");
    // read_only_sql_transaction (a temporary table could still be written: use one of the schema's)
    await expect(inSnapshot(db, (tx) => tx.execute(sql`update organizations set name = name where false`))).rejects.toMatchObject({
      cause: { code: "25006" },
    });
  });

  it("commits what succeeded, rolls back what failed, and leaves the connection usable", async () => {
    const { db } = database;
    await db.execute(sql`delete from transaction_test`);
    await db.transaction((tx) => tx.execute(sql`insert into transaction_test values (1)`));
    await expect(
      db.transaction(async (tx) => {
        await tx.execute(sql`insert into transaction_test values (2)`);
        await tx.execute(sql`select 1 / 0`);
      }),
    ).rejects.toThrow(/select 1 \/ 0/);
    await expect(
      db.transaction(async (tx) => {
        await tx.execute(sql`insert into transaction_test values (3)`);
        throw new Error("the work failed");
      }),
    ).rejects.toThrow("the work failed");
    const rows = rowsOf<{ n: number }>(await db.execute(sql`select n from transaction_test order by n`));
    expect(rows.map((r) => r.n)).toEqual([1]);
    // Not inside a transaction any more: the one connection is back in the pool, idle.
    expect(rowsOf<{ open: boolean }>(await db.execute(sql`select now() <> statement_timestamp() as open`))[0].open).toBe(false);
  });

  it("answers a statement whole after one that failed part-way through its rows on the same connection", async () => {
    const { db } = database;
    // Three rows sent, then division by zero: PostgreSQL's ErrorResponse comes after DataRows. The
    // next statement, sent behind it on the one connection, filled its rows from index 3 in
    // postgres.js 3.4.9 (porsager/postgres#1119): [ <3 empty items>, … ] (patched, src/patches).
    const failing = db.execute(sql`select i, 1 / (4 - i) as boom from generate_series(1, 10) as i`);
    const next = db.execute(sql`select x from generate_series(1, 5) as x`);
    await expect(failing).rejects.toThrow(/division by zero|boom/);
    const rows = rowsOf<{ x: number }>(await next);
    expect(rows).toHaveLength(5);
    expect(Object.keys(rows)).toEqual(["0", "1", "2", "3", "4"]);
    expect(rows.map((r) => r.x)).toEqual([1, 2, 3, 4, 5]);
  });

  it("fails a transaction whose backend went away, and serves the next one on its one connection", async () => {
    const { db } = database;
    const admin = postgres(databaseUrl as string, { max: 1, onnotice: () => {} });
    try {
      const lost = db.transaction(async (tx) => {
        const [{ pid }] = rowsOf<{ pid: number }>(await tx.execute(sql`select pg_backend_pid() as pid`));
        await admin`select pg_terminate_backend(${pid})`;
        await new Promise((resolve) => setTimeout(resolve, 100));
        // Another caller's statement meanwhile: the pool connects again (with `reserve()` instead of
        // `begin`, on the very connection this transaction had, whose next statement then ran there
        // outside any transaction, and its COMMIT only warned: "committed").
        await database.db.execute(sql`select 1`);
        await tx.execute(sql`select 1`);
        return "committed";
      });
      await expect(lost).rejects.toSatisfy(isConnectionLoss);
      const next = await db.transaction(async (tx) => rowsOf<{ n: number }>(await tx.execute(sql`select 2 as n`))[0].n);
      expect(next).toBe(2);
    } finally {
      await admin.end();
      // The temporary table went with the killed connection.
      await database.db.execute(sql`create temporary table if not exists transaction_test (n int)`);
    }
  });

  it("runs a transaction inside one as a savepoint", async () => {
    const { db } = database;
    await db.execute(sql`delete from transaction_test`);
    await db.transaction(async (tx) => {
      await tx.execute(sql`insert into transaction_test values (1)`);
      await expect(
        tx.transaction(async (inner) => {
          await inner.execute(sql`insert into transaction_test values (2)`);
          await inner.execute(sql`select 1 / 0`);
        }),
      ).rejects.toThrow(/select 1 \/ 0/);
      await tx.transaction((inner) => inner.execute(sql`insert into transaction_test values (3)`));
    });
    const rows = rowsOf<{ n: number }>(await db.execute(sql`select n from transaction_test order by n`));
    expect(rows.map((r) => r.n)).toEqual([1, 3]);
  });
});

import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { rowsOf } from "../../src/db/client.js";
import { pipelined } from "../../src/db/pipelined.js";
import { lockNames } from "../../src/db/repositories/locks.js";
import { organizations } from "../../src/db/schema.js";
import { ensureOrganization } from "../../src/services/tokens.js";
import { databaseUrl, testDatabase } from "../support/database.js";
import { holdOpen } from "../support/locks.js";

/** Transactions waiting for the one of process `pid`. */
async function waitersOf(pid: number): Promise<number> {
  const { db } = await testDatabase();
  const [{ waiting }] = rowsOf<{ waiting: number }>(
    await db.execute(sql`select count(*)::int as waiting from pg_stat_activity where ${pid}::int = any(pg_blocking_pids(pid))`),
  );
  return waiting;
}

describe("statements sent together (pipelined)", () => {
  it.runIf(databaseUrl)(
    "runs a lock given first before the read given after it: the read sees what the lock's holder committed",
    async () => {
      const { db } = await testDatabase();
      const { organization } = await ensureOrganization(db, `pipelined ${randomUUID()}`);
      const lock = `pipelined-test:${organization.id}`;
      // The holder renames the organization and holds the lock until released.
      const held = await holdOpen(
        sql`with renamed as (update organizations set name = ${`${organization.name} (renamed)`} where id = ${organization.id} returning id)
            select pg_advisory_xact_lock(hashtextextended(${lock}, 0)) from renamed`,
      );
      const read = db.transaction(async (tx) => {
        const [, rows] = await pipelined(
          lockNames(tx, [{ name: lock, shared: false }]),
          tx.select({ name: organizations.name }).from(organizations).where(eq(organizations.id, organization.id)).execute(),
        );
        return rows[0].name;
      });
      await expect.poll(() => waitersOf(held.pid), { timeout: 10_000 }).toBe(1);
      await held.release();
      expect(await read).toBe(`${organization.name} (renamed)`);
    },
  );

  it("answers with each statement's result in the order given, and with the first failure in that order", async () => {
    const { db } = await testDatabase();
    const results = await db.transaction((tx) =>
      pipelined(tx.execute(sql`select 1 as n`).execute(), tx.execute(sql`select 2 as n`).execute(), undefined),
    );
    expect(results.slice(0, 2).map((r) => rowsOf<{ n: number }>(r)[0].n)).toEqual([1, 2]);
    expect(results[2]).toBeUndefined();
    const failing = db.transaction((tx) =>
      pipelined(
        tx.execute(sql`select 1 as n`).execute(),
        tx.execute(sql`select 1 / 0 as n`).execute(),
        tx.execute(sql`select no_such_column from organizations`).execute(),
      ),
    );
    await expect(failing).rejects.toThrow(/select 1 \/ 0/);
  });
});

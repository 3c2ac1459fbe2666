import { randomInt } from "node:crypto";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { openDatabase, rowsOf } from "../../src/db/client.js";
import { isConnectionLoss } from "../../src/db/errors.js";
import { databaseUrl, testDatabase, testSessionUrl } from "../support/database.js";

/*
 * A backend terminated while one of its statements runs (test/api/faults.test.ts kills a propagation
 * waiting on a lock; in service: a failover, a restart, an administrator) sends its FATAL
 * ErrorResponse (57P01) and closes. postgres.js 3.4.9 fails the statement with CONNECTION_CLOSED, but
 * kept the dead session's `query` and `errorResponse`: when the pool later connected that slot again,
 * the new session's first ReadyForQuery (after startup) reported the old 57P01 to the query it
 * connected for — a transaction's BEGIN that never ran — and the API answered DATABASE_UNAVAILABLE;
 * and `end()` waited its whole timeout for the leftover query. Patched (src/patches). In a full suite run, faults.test.ts and reverts.test.ts sometimes run
 * one after the other in the same worker (`isolate: false`, one shared pool of 5): the ten concurrent
 * reverts are the first to need the fifth connection, the one killed minutes before.
 */
describe.runIf(databaseUrl)("a connection whose backend was terminated while a statement ran", () => {
  it("serves the next transaction on a new session, not with the old session's error", async () => {
    await testDatabase(); // migrated
    // One connection, so that the next transaction is the one that connects it again.
    const database = await openDatabase({ url: testSessionUrl!, poolSize: 1 });
    const admin = postgres(databaseUrl!, { max: 1, onnotice: () => {} });
    const key = randomInt(1, 2 ** 47);
    try {
      await admin`select pg_advisory_lock(${key})`;
      let pid: number | undefined;
      const waiting = database.db.transaction(async (tx) => {
        pid = rowsOf<{ pid: number }>(await tx.execute(sql`select pg_backend_pid() as pid`))[0].pid;
        await tx.execute(sql`select pg_advisory_xact_lock(${key})`);
      });
      let blocked = false;
      for (let i = 0; i < 200 && !blocked; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        if (pid === undefined) continue;
        const [row] = await admin<{ blocked: boolean }[]>`
          select count(*) > 0 as blocked from pg_locks where pid = ${pid} and locktype = 'advisory' and not granted`;
        blocked = row.blocked;
      }
      expect(blocked).toBe(true);
      await admin`select pg_terminate_backend(${pid!})`;
      await expect(waiting).rejects.toSatisfy(isConnectionLoss);
      await admin`select pg_advisory_unlock(${key})`;

      // Later, as the revert test's transactions came minutes later: the pool connects again.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const next = await database.db.transaction(
        async (tx) => rowsOf<{ pid: number }>(await tx.execute(sql`select pg_backend_pid() as pid`))[0].pid,
      );
      expect(next).not.toBe(pid);
      // Nothing of the dead session is left to wait for: closing does not take its 5 s timeout.
      const closing = database.close().then(() => "closed");
      const waited = new Promise((resolve) => setTimeout(() => resolve("waited"), 4_000));
      expect(await Promise.race([closing, waited])).toBe("closed");
    } finally {
      await admin`select pg_advisory_unlock_all()`;
      await admin.end();
      await database.close();
    }
  });
});

import { sql } from "drizzle-orm";
import type { Db } from "../client.js";

/**
 * Transaction-scoped advisory locks on names (e.g. an application in an environment). Writers of
 * an environment take it exclusively; propagations reading it as their source take it shared.
 * Callers take them in a fixed order (environment rank), so two transactions cannot deadlock.
 */
export async function lockNames(db: Db, locks: { name: string; shared: boolean }[]): Promise<void> {
  for (const lock of locks) {
    await db.execute(
      lock.shared
        ? sql`select pg_advisory_xact_lock_shared(hashtextextended(${lock.name}, 0))`
        : sql`select pg_advisory_xact_lock(hashtextextended(${lock.name}, 0))`,
    );
  }
}

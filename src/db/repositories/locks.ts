import { sql } from "drizzle-orm";
import type { Db } from "../client.js";

/** A text[] literal: each element quoted, its quotes and backslashes escaped. */
const textArray = (values: readonly string[]) => `{${values.map((v) => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(",")}}`;

/**
 * Transaction-scoped advisory locks on names (e.g. an application in an environment). Writers of
 * an environment take it exclusively; propagations reading it as their source take it shared.
 * Callers take them in a fixed order (environment rank), so two transactions cannot deadlock.
 * One statement for all of them, taken in the order given (a set-returning `unnest` yields its
 * rows in array order): a save with eighty references takes eighty locks in one round trip.
 * Sent when called (`.execute()`, not a builder awaited a turn later), so it can lead `pipelined`.
 */
export async function lockNames(db: Db, locks: { name: string; shared: boolean }[]): Promise<void> {
  if (locks.length === 0) return;
  if (locks.length === 1) {
    const [lock] = locks;
    await db
      .execute(
        lock.shared
          ? sql`select pg_advisory_xact_lock_shared(hashtextextended(${lock.name}, 0))`
          : sql`select pg_advisory_xact_lock(hashtextextended(${lock.name}, 0))`,
      )
      .execute();
    return;
  }
  const names = textArray(locks.map((l) => l.name));
  const shared = `{${locks.map((l) => (l.shared ? "t" : "f")).join(",")}}`;
  await db
    .execute(sql`
    select case when l.shared then pg_advisory_xact_lock_shared(hashtextextended(l.name, 0))::text
                else pg_advisory_xact_lock(hashtextextended(l.name, 0))::text end
    from unnest(${names}::text[], ${shared}::boolean[]) as l(name, shared)`)
    .execute();
}

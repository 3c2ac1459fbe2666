import type { Db } from "../../src/db/client.js";
import { testDatabase } from "./database.js";

/** Thrown at the end of a rolled-back body: the one way to make drizzle roll a transaction back. */
class RollBack extends Error {}

/**
 * Runs `body` in one transaction of the worker's database and rolls it back at the end, whether the
 * body passed or failed. The body sees its own writes (the service functions take a `Db`, and a
 * transaction is one; theirs become savepoints inside it) and leaves no row behind, so a test is
 * isolated without a tenant of its own and starts from an empty organization every time.
 */
export async function rolledBack<T>(body: (tx: Db) => Promise<T>): Promise<T> {
  const { db } = await testDatabase();
  let result: { value: T } | undefined;
  try {
    await db.transaction(async (transaction) => {
      result = { value: await body(transaction as unknown as Db) };
      throw new RollBack();
    });
  } catch (error) {
    if (!(error instanceof RollBack)) throw error;
  }
  return result!.value;
}

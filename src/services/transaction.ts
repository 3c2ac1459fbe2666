import type { Db } from "../db/client.js";
import { AlreadyExistsError } from "../domain/errors.js";

/** Runs one use-case in one transaction: everything it writes commits together or not at all. */
export function inTransaction<T>(db: Db, work: (tx: Db) => Promise<T>): Promise<T> {
  return db.transaction((tx) => work(tx as unknown as Db));
}

/** The SQLSTATE of a driver error (postgres.js and PGlite both expose `code`; drizzle wraps it in `cause`). */
export function sqlState(error: unknown): string | undefined {
  for (let e: unknown = error; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export const UNIQUE_VIOLATION = "23505";
export const SERIALIZATION_FAILURE = "40001";
export const DEADLOCK_DETECTED = "40P01";

/** Turns a unique-constraint violation into the domain's ALREADY_EXISTS; rethrows anything else. */
export async function uniqueAs<T>(work: Promise<T>, message: string): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (sqlState(error) === UNIQUE_VIOLATION) throw new AlreadyExistsError(message);
    throw error;
  }
}

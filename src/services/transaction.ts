import type { Db } from "../db/client.js";
import { raiseOrganizationRevision } from "../db/repositories/organizations.js";
import { AlreadyExistsError } from "../domain/errors.js";

/**
 * Runs one use-case of an organization in one transaction: everything it writes commits together
 * or not at all. Its last statement raises the organization's revision, so a response computed
 * before the commit is never taken for a current one (src/server/response-cache.ts). Last, so the
 * organization's row is locked only while the transaction commits: a writer holding it waits for
 * nothing, and no lock order can deadlock on it.
 *
 * `organization` is the organization's id, or how to read it off the result (null: nothing was written).
 * Every write of the application goes through here.
 */
export function inTransaction<T>(db: Db, organization: string | ((result: T) => string | null), work: (tx: Db) => Promise<T>): Promise<T> {
  return db.transaction(async (transaction) => {
    const tx = transaction as unknown as Db;
    const result = await work(tx);
    const organizationId = typeof organization === "string" ? organization : organization(result);
    if (organizationId !== null) await raiseOrganizationRevision(tx, organizationId);
    return result;
  });
}

/** The SQLSTATE of a driver error (postgres.js and PGlite both expose `code`; drizzle wraps it in `cause`). */
export function sqlState(error: unknown): string | undefined {
  // A few causes deep at most: a chain of causes may loop back on itself.
  let e: unknown = error;
  for (let depth = 0; depth < 8 && e && typeof e === "object"; depth++, e = (e as { cause?: unknown }).cause) {
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

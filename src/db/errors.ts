/** An error and its causes, a few deep at most: a chain of causes may loop back on itself. */
function* errorAndCauses(error: unknown): Generator<object> {
  let e: unknown = error;
  for (let depth = 0; depth < 8 && e && typeof e === "object"; depth++, e = (e as { cause?: unknown }).cause) yield e;
}

/** The SQLSTATE of a driver error (postgres.js and PGlite both expose `code`; drizzle wraps it in `cause`). */
export function sqlState(error: unknown): string | undefined {
  for (const e of errorAndCauses(error)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export const UNIQUE_VIOLATION = "23505";
export const SERIALIZATION_FAILURE = "40001";
export const DEADLOCK_DETECTED = "40P01";

/**
 * Driver codes of a connection that was lost or could not be made (postgres.js's, and Node's socket
 * errors, which postgres.js passes on as they are: a network partition ends in ETIMEDOUT).
 */
const LOST_CONNECTION_CODES = [
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
];

/**
 * Whether a failure is the connection's rather than the statement's (class 08, an administrator's
 * shutdown, or the driver's own codes): the transaction rolled back and a retry may succeed.
 */
export function isConnectionLoss(error: unknown): boolean {
  const state = sqlState(error);
  if (state && (state.startsWith("08") || ["57P01", "57P02", "57P03"].includes(state))) return true;
  // The driver's own code, on the error or (a statement's failure, wrapped by drizzle) its cause.
  for (const e of errorAndCauses(error)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && LOST_CONNECTION_CODES.includes(code)) return true;
  }
  return false;
}

/**
 * The connection was lost after a transaction's work was done, as it committed: the commit may have
 * taken effect (COMMIT sent, its answer lost) or not — nobody here can tell. Raised by
 * `inTransaction` in place of the loss, so that the caller is not told that nothing was applied.
 */
export class CommitOutcomeUnknown extends Error {
  constructor(cause: unknown) {
    super("the database connection was lost as the transaction committed", { cause });
    this.name = "CommitOutcomeUnknown";
  }
}

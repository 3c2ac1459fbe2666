/**
 * Statements of one transaction sent together, the database running them in the order given: each
 * promise must be a call that sends its statement before it first waits — a repository function
 * that calls `.execute()` on its query (a prepared one's `execute`, or a builder's `.execute()`).
 * A drizzle builder that is only awaited sends its statement a turn of the microtask queue later,
 * after the statements of the calls behind it: a lock given first would then be taken after the
 * reads it was to precede (found in a test of two writers). So no round trip separates them —
 * postgres.js pipelines a connection's queries; PGlite runs them one after the other as they were
 * issued — and locks stay in their order: a lock given before a read is held when the read runs.
 * Resolves to their results; if any failed, rejects with the first failure in the order given (the
 * statements after a failed one fail too: the transaction is aborted). `undefined` stands for a
 * statement not sent.
 */
export async function pipelined<T extends readonly unknown[]>(...statements: { [K in keyof T]: Promise<T[K]> | T[K] }): Promise<T> {
  const settled = await Promise.allSettled(statements);
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

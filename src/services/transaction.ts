import type { Db } from "../db/client.js";
import { CommitOutcomeUnknown, isConnectionLoss, sqlState, UNIQUE_VIOLATION } from "../db/errors.js";
import { pipelined } from "../db/pipelined.js";
import { lockOrganization, raiseOrganizationRevision } from "../db/repositories/organizations.js";
import { AlreadyExistsError, type DomainError } from "../domain/errors.js";
import { appendAuditEvent } from "./audit.js";

/**
 * A refusal that still commits what it found out (a promotion request found stale or expired is
 * stored so): the transaction commits, no audit event is written (the mutation did not succeed),
 * and the caller throws `error` after the commit.
 */
export class CommittedRefusal {
  constructor(readonly error: DomainError) {}
}

/**
 * Runs one use-case of an organization in one transaction: everything it writes commits together
 * or not at all. Its last statement raises the organization's revision, and records it for each
 * table the transaction wrote (the tables' triggers noted them), so a response that read one of them
 * before the commit is never taken for a current one (src/server/response-cache.ts). Last, so the
 * organization's row is locked only while the transaction commits: a writer holding it waits for
 * nothing, and no lock order can deadlock on it. Before it, a mutation's transaction appends the
 * mutation's audit event (src/services/audit.ts) — unless it returns a {@link CommittedRefusal} —
 * and then, if the use-case numbered rows (`atCommit`), locks the organization's row and writes them:
 * all of it in one round trip (`pipelined`), in that order.
 *
 * `organization` is the organization's id, or how to read it off the result (null: nothing was written).
 * Every write of the application goes through here.
 */
export async function inTransaction<T>(
  db: Db,
  organization: string | ((result: T) => string | null),
  work: (tx: Db) => Promise<T>,
): Promise<T> {
  let written: string | null = null;
  /** The work and its last statements are done: what fails from here on is the commit. */
  let committing = false;
  try {
    return await db.transaction(async (transaction) => {
      const tx = transaction as unknown as Db;
      const result = await work(tx);
      const organizationId = typeof organization === "string" ? organization : organization(result);
      const numbered = numberedWrites.get(tx) ?? [];
      if (organizationId !== null) {
        const audited = result instanceof CommittedRefusal ? undefined : appendAuditEvent(tx, organizationId);
        // One round trip: the event, the organization's lock before the numbered rows, the revision last.
        const lock = numbered.length > 0 ? lockOrganization(tx, organizationId) : undefined;
        await pipelined(audited, lock, ...numbered.map((write) => write()), raiseOrganizationRevision(tx, organizationId));
        written = organizationId;
      } else if (numbered.length > 0) {
        throw new Error("a transaction that wrote nothing numbered rows of an organization");
      }
      committing = true;
      return result;
    });
  } catch (error) {
    // Lost as it committed: COMMIT may have reached the database and taken effect, its answer lost.
    if (committing && isConnectionLoss(error)) throw new CommitOutcomeUnknown(error);
    throw error;
  } finally {
    // Also when the commit failed: whether it took effect is then not known here.
    if (written !== null) committed(db, [written]);
  }
}

/** Per transaction (`inTransaction`): the writes of rows numbered per organization, in the order given. */
const numberedWrites = new WeakMap<Db, (() => Promise<unknown>)[]>();

/**
 * Defers a write of rows numbered per organization — sync notifications, promotion request events:
 * each the last committed number + 1, gapless, in commit order, so that a stream resuming after a
 * number misses none — to the end of the transaction `tx` (of `inTransaction`), after its audit event:
 * the organization's row is locked first, and held to commit. So only those last statements and the
 * commit of an organization's writers run one at a time; reading the sync states they report and
 * writing configurations run side by side (each application's states under its own lock,
 * `lockSyncStates`). Rows written after the row lock wait for nothing: their foreign keys name rows
 * that writers lock at most FOR NO KEY UPDATE and never update a key column of (applications, whose
 * name is unique through a partial index for this; environments), or this transaction's own.
 * `write` is sent with the end's other statements: it must send its one statement when called
 * (the rule of `pipelined`).
 */
export function atCommit(tx: Db, write: () => Promise<unknown>): void {
  const writes = numberedWrites.get(tx);
  if (writes) writes.push(write);
  else numberedWrites.set(tx, [write]);
}

/**
 * Runs reads in one snapshot — a read-only transaction at REPEATABLE READ — so that they see one
 * committed state whatever commits meanwhile: a promotion writes a target's heads and its client
 * together, and two statements outside a transaction could see one of those writes without the other.
 */
export function inSnapshot<T>(db: Db, read: (tx: Db) => Promise<T>): Promise<T> {
  return db.transaction((transaction) => read(transaction as unknown as Db), {
    isolationLevel: "repeatable read",
    accessMode: "read only",
  });
}

/** Per database handle: what to tell after a transaction of an organization committed (caches of this process). */
const commitListeners = new WeakMap<Db, Set<(organizationId: string) => void>>();

/**
 * Calls `listener` with the organization of each transaction committed on this handle (through
 * `inTransaction` or `committed`), before the transaction's caller goes on. Returns how to stop.
 */
export function onCommitted(db: Db, listener: (organizationId: string) => void): () => void {
  let listeners = commitListeners.get(db);
  if (!listeners) commitListeners.set(db, (listeners = new Set()));
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Tells the handle's listeners that transactions of these organizations committed (a write outside `inTransaction`). */
export function committed(db: Db, organizationIds: Iterable<string>): void {
  const listeners = commitListeners.get(db);
  if (!listeners) return;
  for (const organizationId of organizationIds) for (const listener of listeners) listener(organizationId);
}

export { DEADLOCK_DETECTED, SERIALIZATION_FAILURE, sqlState, UNIQUE_VIOLATION } from "../db/errors.js";

/** Turns a unique-constraint violation into the domain's ALREADY_EXISTS; rethrows anything else. */
export async function uniqueAs<T>(work: Promise<T>, message: string): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (sqlState(error) === UNIQUE_VIOLATION) throw new AlreadyExistsError(message);
    throw error;
  }
}

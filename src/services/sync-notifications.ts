import type { Db } from "../db/client.js";
import { pipelined } from "../db/pipelined.js";
import { trackingTablesRead } from "../db/read-tracking.js";
import { listApplicationIds } from "../db/repositories/applications.js";
import { findClientsByApplicationIds } from "../db/repositories/clients.js";
import { listEnvironments } from "../db/repositories/environments.js";
import { findHeadsByApplicationIds, findHeadVersions } from "../db/repositories/journeys.js";
import type { ClientRow, EnvironmentRow, JourneyHeadRow } from "../db/repositories/rows.js";
import { insertNotifications, lockSyncStates, type NewSyncNotification } from "../db/repositories/sync-notifications.js";
import { clientDiffSide, clientSyncStates, journeyDiffSide, journeySyncStates, syncMessage } from "../domain/sync.js";
import type { Actor } from "./actor.js";
import { memoizedChangeCount, type SyncState } from "./sync.js";
import { atCommit } from "./transaction.js";

/**
 * Runs a write that may change the sync states of some applications, and records a notification
 * for each state it changed, in the same transaction: the states are read before `work` and again
 * after it. Every writer of configurations, clients or environments goes through here, so none can
 * forget the notifications. Call it once the write's configuration locks are held, and once per
 * transaction (`tx`, of `inTransaction`). `"all"`: every application of the organization (a change
 * of the pipeline).
 *
 * The applications' sync states lock (`lockSyncStates`) is taken first and held to commit, so the
 * states read before are those every earlier writer of the application committed: two writers
 * whose changes cancel out (a client's settings changed in two neighbouring environments, a journey
 * retired while the environment between is deleted) each see the other's, and the last notification
 * of a state is its current state. Taken after the configuration locks and every row lock the
 * caller takes first; inside `work` only rows those locks protect are written.
 */
export async function withSyncNotifications<T>(
  tx: Db,
  actor: Actor,
  applications: readonly string[] | "all" | LockedSyncStates,
  work: () => Promise<T>,
): Promise<T> {
  let before: SyncSnapshot;
  if (applications === "all") {
    await lockSyncStates(tx, actor.organizationId, applications);
    before = await syncSnapshot(tx, actor, await listApplicationIds(tx, actor.organizationId));
  } else if (applications instanceof LockedSyncStates) {
    before = applications.before;
  } else {
    before = (await lockedSyncStates(tx, actor, applications)).before;
  }
  const named = new Set<string>();
  const result = await trackingTablesRead(named, work);
  await recordSyncChanges(tx, actor, before, named);
  return result;
}

/** Some applications' sync states locked and read, for {@link withSyncNotifications}. */
export class LockedSyncStates {
  constructor(readonly before: SyncSnapshot) {}
}

/**
 * Locks some applications' sync states and reads them, sending its statements when called (the
 * rule of `pipelined`): so that a writer takes them in the round trip of its other locks, after
 * them, and hands the result to {@link withSyncNotifications}.
 */
export async function lockedSyncStates(tx: Db, actor: Actor, applications: readonly string[]): Promise<LockedSyncStates> {
  // The lock is taken before the snapshot's statements run: sent together, run in order.
  const [, before] = await pipelined(lockSyncStates(tx, actor.organizationId, applications), syncSnapshot(tx, actor, applications));
  return new LockedSyncStates(before);
}

/** The stored facts sync states are computed from, for some applications: three statements, sent at once. */
interface SyncSnapshot {
  applicationIds: readonly string[];
  environments: EnvironmentRow[];
  clients: ClientRow[];
  heads: (JourneyHeadRow & { applicationId: string })[];
  /** Per part, the tables its statement named. */
  read: Record<SnapshotPart, ReadonlySet<string>>;
}

type SnapshotPart = "environments" | "clients" | "heads";

/** A table's name, also for a partition's (`journey_heads@<environment>`, src/db/read-tracking.ts). */
const tableOf = (name: string) => name.split("@", 1)[0];

/**
 * The snapshot, or after a write the snapshot again: with `before` and the tables the write's
 * statements named (`written`, every statement's, reads too), a part whose statement named none of
 * them is `before`'s — nothing it read was written — and only the others are read again (a journey
 * saved: its heads; the environments and clients are those of before). A part that named no table
 * at all (nothing noted its statement) is always read again.
 */
async function syncSnapshot(
  tx: Db,
  actor: Actor,
  applicationIds: readonly string[],
  before?: SyncSnapshot,
  written?: ReadonlySet<string>,
): Promise<SyncSnapshot> {
  const writtenTables = new Set([...(written ?? [])].map(tableOf));
  const part = async <T>(name: SnapshotPart, kept: T | undefined, read: () => Promise<T>): Promise<[T, ReadonlySet<string>]> => {
    const previous = before?.read[name];
    if (kept !== undefined && previous && previous.size > 0 && ![...previous].some((t) => writtenTables.has(tableOf(t)))) {
      return [kept, previous];
    }
    const named = new Set<string>();
    return [await trackingTablesRead(named, read), named];
  };
  // One round trip on PostgreSQL (postgres.js pipelines a connection's queries); PGlite runs them in turn.
  const [[environments, environmentsRead], [clients, clientsRead], [heads, headsRead]] = await Promise.all([
    part("environments", before?.environments, () => listEnvironments(tx, actor.organizationId)),
    part("clients", before?.clients, () => findClientsByApplicationIds(tx, actor.organizationId, applicationIds)),
    part("heads", before?.heads, () => findHeadsByApplicationIds(tx, actor.organizationId, applicationIds)),
  ]);
  return { applicationIds, environments, clients, heads, read: { environments: environmentsRead, clients: clientsRead, heads: headsRead } };
}

type Keyed = SyncState & { applicationId: string; journeyId: string | null };

/**
 * The states of the snapshot's journeys — those with a configuration somewhere, and those of `also`
 * (a journey just retired everywhere has none left, yet its states changed: they are in sync now).
 */
function statesOf(snapshot: SyncSnapshot, also: SyncSnapshot = snapshot): Map<string, Keyed> {
  const states = new Map<string, Keyed>();
  for (const applicationId of snapshot.applicationIds) {
    const clients = snapshot.clients.filter((c) => c.applicationId === applicationId);
    const heads = snapshot.heads.filter((h) => h.applicationId === applicationId);
    const journeyIds = new Set([...heads, ...also.heads.filter((h) => h.applicationId === applicationId)].map((h) => h.journeyId));
    for (const journeyId of journeyIds) {
      const own = heads.filter((h) => h.journeyId === journeyId);
      for (const state of journeySyncStates(snapshot.environments, clients, own)) {
        states.set(`${journeyId}:${state.environment.id}`, { ...state, applicationId, journeyId });
      }
    }
    for (const state of clientSyncStates(snapshot.environments, clients)) {
      states.set(`${applicationId}:client:${state.environment.id}`, { ...state, applicationId, journeyId: null });
    }
  }
  return states;
}

/**
 * Whether a state is unchanged for its watchers: the same status and, when out of sync, the same
 * pair of configurations (so the same changes). In sync, or without a client, content is moot; a
 * journey that just appeared where there is no client yet is no news either.
 */
function same(a: Keyed | undefined, b: Keyed): boolean {
  if (a === undefined) return b.status === "NOT_CREATED";
  if (a.status !== b.status) return false;
  return b.status !== "OUT_OF_SYNC" || (a.sourceHash === b.sourceHash && a.targetHash === b.targetHash);
}

/**
 * Compares the sync states of the snapshot's applications after a write with those before it and
 * records a notification for each state whose status or content changed (an unchanged state
 * notifies nobody), in the write's transaction: numbered and inserted as it commits (`atCommit`).
 * Statements: a constant few, whatever the number of changes or applications.
 */
async function recordSyncChanges(tx: Db, actor: Actor, before: SyncSnapshot, written: ReadonlySet<string>): Promise<void> {
  const after = await syncSnapshot(tx, actor, before.applicationIds, before, written);
  const previous = statesOf(before);
  const changed = [...statesOf(after, before).entries()].filter(([key, state]) => !same(previous.get(key), state)).map(([, s]) => s);
  if (changed.length === 0) return;

  const outOfSyncJourneys = changed.filter((s) => s.journeyId !== null && s.status === "OUT_OF_SYNC");
  const documents = await findHeadVersions(
    tx,
    actor.organizationId,
    outOfSyncJourneys.flatMap((s) => [
      { journeyId: s.journeyId!, environmentId: s.sourceEnvironment.id },
      { journeyId: s.journeyId!, environmentId: s.environment.id },
    ]),
  );
  const journeySide = (journeyId: string, environmentId: string) =>
    journeyDiffSide(documents.find((d) => d.journeyId === journeyId && d.environmentId === environmentId) ?? null);
  const clientSide = (applicationId: string, environmentId: string) =>
    clientDiffSide(after.clients.find((c) => c.applicationId === applicationId && c.environmentId === environmentId)?.settings ?? null);
  const changeCount = (s: Keyed) =>
    memoizedChangeCount(s, () =>
      s.journeyId === null
        ? [clientSide(s.applicationId, s.sourceEnvironment.id), clientSide(s.applicationId, s.environment.id)]
        : [journeySide(s.journeyId, s.sourceEnvironment.id), journeySide(s.journeyId, s.environment.id)],
    );

  const rows: NewSyncNotification[] = changed.map((s) => ({
    organizationId: actor.organizationId,
    applicationId: s.applicationId,
    journeyId: s.journeyId,
    environmentId: s.environment.id,
    sourceEnvironmentId: s.sourceEnvironment.id,
    status: s.status,
    message: syncMessage(s.journeyId === null ? "client" : "journey", s.status, s.environment),
    changeCount: changeCount(s),
  }));
  atCommit(tx, () => insertNotifications(tx, actor.organizationId, rows));
}

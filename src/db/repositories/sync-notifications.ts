import { and, asc, desc, eq, gt, lt, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { syncNotifications } from "../schema.js";
import { lockNames } from "./locks.js";
import { insertAnnounced } from "./numbered.js";
import { anyOf } from "./tuples.js";

export type SyncNotificationRow = typeof syncNotifications.$inferSelect;
/** A notification to record; its `seq` is assigned as it is inserted. */
export type NewSyncNotification = Omit<typeof syncNotifications.$inferInsert, "id" | "seq">;

/** The channel a committed batch of notifications is announced on: `{"organizationId", "ids"}`. */
export const SYNC_CHANNEL = "journey_sync_notifications";
/** The channel a revoked token's id is announced on. */
export const TOKEN_REVOKED_CHANNEL = "journey_token_revoked";
/** Carries the id of an archived application or a deleted environment. */
export const SUBJECT_GONE_CHANNEL = "journey_subject_gone";

/** The lock on the sync states of an application (or, without one, of all the organization's). */
export function syncStatesLock(organizationId: string, applicationId?: string): string {
  return applicationId === undefined ? `sync:${organizationId}` : `sync:${organizationId}:${applicationId}`;
}

/**
 * Serializes, until commit, the transactions that report the sync states of an application: taken
 * before the states they compare are read (before and after their write), so the last report of a
 * state is always its current one (a writer reads the states after every earlier writer of the
 * application committed, and no change it did not see can cancel its own). Writers of
 * one application take the organization's lock shared and the application's exclusively — writers of
 * different applications run side by side; `"all"` (an environment inserted or deleted changes every
 * application's states) takes the organization's exclusively, one lock however many applications.
 * One statement. Numbering what they report is another matter: `atCommit` in src/services/transaction.ts.
 */
export async function lockSyncStates(db: Db, organizationId: string, applicationIds: readonly string[] | "all"): Promise<void> {
  if (applicationIds === "all") {
    await lockNames(db, [{ name: syncStatesLock(organizationId), shared: false }]);
    return;
  }
  await lockNames(db, [
    { name: syncStatesLock(organizationId), shared: true },
    // Sorted: two writers of the same applications take them in the same order.
    ...[...new Set(applicationIds)].sort().map((id) => ({ name: syncStatesLock(organizationId, id), shared: false })),
  ]);
}

/**
 * Inserts notifications numbered after the organization's last one, and announces them (one
 * statement; NOTIFY is delivered only on commit). Only once the organization's row is locked
 * (through `atCommit`), so the number read is the last committed one and the next writer's comes
 * after this one's commit.
 */
export async function insertNotifications(db: Db, organizationId: string, rows: NewSyncNotification[]): Promise<void> {
  if (rows.length === 0) return;
  // Every row's subquery reads the same snapshot: the last number before this statement.
  const last = sql<number>`(select coalesce(max(${syncNotifications.seq}), 0) from ${syncNotifications} where ${syncNotifications.organizationId} = ${organizationId})`;
  const insert = db
    .insert(syncNotifications)
    .values(rows.map((row, i) => ({ ...row, organizationId, seq: sql<number>`${last} + ${i + 1}` })))
    .returning({ id: syncNotifications.id });
  return insertAnnounced(db, SYNC_CHANNEL, organizationId, insert);
}

export async function notifyTokenRevoked(db: Db, tokenId: string): Promise<void> {
  await db.execute(sql`select pg_notify(${TOKEN_REVOKED_CHANNEL}, ${tokenId})`);
}

/** An application archived or an environment deleted: subscriptions filtered on it end, on every instance. */
export async function notifySubjectGone(db: Db, id: string): Promise<void> {
  await db.execute(sql`select pg_notify(${SUBJECT_GONE_CHANNEL}, ${id})`);
}

export async function findNotificationsByIds(db: Db, ids: readonly number[]): Promise<SyncNotificationRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(syncNotifications)
    .where(anyOf(syncNotifications.id, "bigint", [...ids]))
    .orderBy(asc(syncNotifications.id));
}

/** Notifications of an organization by their numbers in it. */
export async function findNotificationsBySeqs(db: Db, organizationId: string, seqs: readonly number[]): Promise<SyncNotificationRow[]> {
  if (seqs.length === 0) return [];
  return db
    .select()
    .from(syncNotifications)
    .where(and(eq(syncNotifications.organizationId, organizationId), anyOf(syncNotifications.seq, "bigint", [...seqs])));
}

export interface NotificationFilter {
  environmentId?: string;
  applicationId?: string;
}

/** Notifications after (or before) a number of the organization, oldest first unless `newestFirst`. */
export async function listNotifications(
  db: Db,
  organizationId: string,
  filter: NotificationFilter,
  page: { after?: number; before?: number; limit: number; newestFirst?: boolean },
): Promise<SyncNotificationRow[]> {
  return db
    .select()
    .from(syncNotifications)
    .where(
      and(
        eq(syncNotifications.organizationId, organizationId),
        filter.environmentId ? eq(syncNotifications.environmentId, filter.environmentId) : undefined,
        filter.applicationId ? eq(syncNotifications.applicationId, filter.applicationId) : undefined,
        page.after === undefined ? undefined : gt(syncNotifications.seq, page.after),
        page.before === undefined ? undefined : lt(syncNotifications.seq, page.before),
      ),
    )
    .orderBy(page.newestFirst ? desc(syncNotifications.seq) : asc(syncNotifications.seq))
    .limit(page.limit);
}

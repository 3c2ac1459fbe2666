import { and, asc, desc, eq, gt, inArray, lt, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { syncNotifications } from "../schema.js";

export type SyncNotificationRow = typeof syncNotifications.$inferSelect;
export type NewSyncNotification = typeof syncNotifications.$inferInsert;

/** The channel a committed batch of notifications is announced on: `{"organizationId", "ids"}`. */
export const SYNC_CHANNEL = "journey_sync_notifications";
/** The channel a revoked token's id is announced on. */
export const TOKEN_REVOKED_CHANNEL = "journey_token_revoked";

/**
 * Serializes, until commit, the transactions of an organization that record notifications: taken
 * before the states they report are read, so commit order is id order and the last notification
 * of a state is always its current one.
 */
export async function lockNotifications(db: Db, organizationId: string): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`notifications:${organizationId}`}, 0))`);
}

/** Inserts notifications (under lockNotifications) and announces them; NOTIFY is delivered only on commit. */
export async function insertNotifications(db: Db, organizationId: string, rows: NewSyncNotification[]): Promise<SyncNotificationRow[]> {
  if (rows.length === 0) return [];
  const inserted = await db.insert(syncNotifications).values(rows).returning();
  await db.execute(sql`select pg_notify(${SYNC_CHANNEL}, ${JSON.stringify({ organizationId, ids: inserted.map((r) => r.id) })})`);
  return inserted;
}

export async function notifyTokenRevoked(db: Db, tokenId: string): Promise<void> {
  await db.execute(sql`select pg_notify(${TOKEN_REVOKED_CHANNEL}, ${tokenId})`);
}

export async function findNotificationsByIds(db: Db, ids: readonly number[]): Promise<SyncNotificationRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(syncNotifications).where(inArray(syncNotifications.id, [...ids])).orderBy(asc(syncNotifications.id));
}

export async function findNotificationsOfOrganization(db: Db, organizationId: string, ids: readonly number[]): Promise<SyncNotificationRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(syncNotifications)
    .where(and(eq(syncNotifications.organizationId, organizationId), inArray(syncNotifications.id, [...ids])));
}

export interface NotificationFilter {
  environmentId?: string;
  applicationId?: string;
}

/** Notifications after a cursor, oldest first. */
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
        page.after === undefined ? undefined : gt(syncNotifications.id, page.after),
        page.before === undefined ? undefined : lt(syncNotifications.id, page.before),
      ),
    )
    .orderBy(page.newestFirst ? desc(syncNotifications.id) : asc(syncNotifications.id))
    .limit(page.limit);
}

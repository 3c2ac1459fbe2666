import { and, asc, desc, eq, inArray, lte, or, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { promotionRequestEvents, promotionRequests, promotionReviews, propagations } from "../schema.js";
import { insertAnnounced } from "./numbered.js";
import type { PropagationRow } from "./propagations.js";
import { anyOf } from "./tuples.js";

export type PromotionRequestRow = typeof promotionRequests.$inferSelect;
export type NewPromotionRequest = typeof promotionRequests.$inferInsert;
export type PromotionReviewRow = typeof promotionReviews.$inferSelect;
export type PromotionRequestEventRow = typeof promotionRequestEvents.$inferSelect;
export type NewPromotionRequestEvent = Omit<typeof promotionRequestEvents.$inferInsert, "id" | "seq">;
export type RequestStatus = PromotionRequestRow["status"];

/** The channel a committed batch of request events is announced on: `{"organizationId", "ids"}`. */
export const REQUEST_EVENTS_CHANNEL = "journey_promotion_request_events";

const OPEN = ["PENDING", "APPROVED"] as const;

export async function insertPromotionRequest(db: Db, values: NewPromotionRequest): Promise<PromotionRequestRow> {
  const [row] = await db.insert(promotionRequests).values(values).returning();
  return row;
}

/** One request of the organization, locked for the rest of the transaction when `forUpdate`. */
export async function findPromotionRequest(
  db: Db,
  organizationId: string,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<PromotionRequestRow | null> {
  const query = db
    .select()
    .from(promotionRequests)
    .where(and(eq(promotionRequests.organizationId, organizationId), eq(promotionRequests.id, id)));
  const [row] = options.forUpdate ? await query.for("update") : await query;
  return row ?? null;
}

export async function findPromotionRequestsByIds(db: Db, organizationId: string, ids: readonly string[]): Promise<PromotionRequestRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(promotionRequests)
    .where(and(eq(promotionRequests.organizationId, organizationId), anyOf(promotionRequests.id, "uuid", [...ids])));
}

export async function setPromotionRequestStatus(db: Db, id: string, status: RequestStatus): Promise<void> {
  await db.update(promotionRequests).set({ status }).where(eq(promotionRequests.id, id));
}

/** Sets an open request's policy (a stricter one the environment's new policy brings). */
export async function setPromotionRequestPolicy(
  db: Db,
  id: string,
  policy: { requiredApprovals: number; allowSelfApproval: boolean; requireComment: boolean },
): Promise<void> {
  await db.update(promotionRequests).set(policy).where(eq(promotionRequests.id, id));
}

/** The open requests into an environment, locked until commit, in id order. */
export async function lockOpenRequestsInto(db: Db, organizationId: string, environmentId: string): Promise<PromotionRequestRow[]> {
  return db
    .select()
    .from(promotionRequests)
    .where(
      and(
        eq(promotionRequests.organizationId, organizationId),
        eq(promotionRequests.toEnvironmentId, environmentId),
        inArray(promotionRequests.status, [...OPEN]),
      ),
    )
    .orderBy(asc(promotionRequests.id))
    .for("update");
}

/** An application's open requests from or into an environment (what a client's deletion waits for). */
export async function findOpenRequestsOf(
  db: Db,
  organizationId: string,
  applicationId: string,
  environmentId: string,
): Promise<PromotionRequestRow[]> {
  return db
    .select()
    .from(promotionRequests)
    .where(
      and(
        eq(promotionRequests.organizationId, organizationId),
        eq(promotionRequests.applicationId, applicationId),
        or(eq(promotionRequests.toEnvironmentId, environmentId), eq(promotionRequests.fromEnvironmentId, environmentId)),
        inArray(promotionRequests.status, [...OPEN]),
      ),
    )
    .orderBy(asc(promotionRequests.id));
}

/** The organization's open requests past their expiry at `now` (ids only): usually none, from an index. */
export async function findDueRequestIds(db: Db, organizationId: string, now: Date): Promise<string[]> {
  const rows = await db
    .select({ id: promotionRequests.id })
    .from(promotionRequests)
    .where(
      and(
        eq(promotionRequests.organizationId, organizationId),
        inArray(promotionRequests.status, [...OPEN]),
        lte(promotionRequests.expiresAt, now),
      ),
    );
  return rows.map((r) => r.id);
}

/**
 * Locks the given requests that are still open and due at `now`, in id order, skipping any a
 * running action holds (that action stores its request's expiry itself); returns their ids.
 */
export async function lockDueRequests(db: Db, organizationId: string, ids: string[], now: Date): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .select({ id: promotionRequests.id })
    .from(promotionRequests)
    .where(
      and(
        eq(promotionRequests.organizationId, organizationId),
        anyOf(promotionRequests.id, "uuid", ids),
        inArray(promotionRequests.status, [...OPEN]),
        lte(promotionRequests.expiresAt, now),
      ),
    )
    .orderBy(asc(promotionRequests.id))
    .for("update", { skipLocked: true });
  return rows.map((r) => r.id);
}

/** Marks the given requests EXPIRED if they are still open and due at `now`; returns those it marked. */
export async function expirePromotionRequests(db: Db, organizationId: string, ids: string[], now: Date): Promise<PromotionRequestRow[]> {
  if (ids.length === 0) return [];
  return db
    .update(promotionRequests)
    .set({ status: "EXPIRED" })
    .where(
      and(
        eq(promotionRequests.organizationId, organizationId),
        anyOf(promotionRequests.id, "uuid", ids),
        inArray(promotionRequests.status, [...OPEN]),
        lte(promotionRequests.expiresAt, now),
      ),
    )
    .returning();
}

export interface RequestFilter {
  status?: RequestStatus;
  environmentId?: string;
  applicationId?: string;
}

export interface RequestPosition {
  createdAt: Date;
  id: string;
}

/** Newest first; `after` continues below a position, `before` above it (read oldest first when `inverted`). */
export async function listPromotionRequests(
  db: Db,
  organizationId: string,
  filter: RequestFilter,
  page: { after?: RequestPosition; before?: RequestPosition; limit: number; inverted?: boolean },
): Promise<PromotionRequestRow[]> {
  const position = sql`(${promotionRequests.createdAt}, ${promotionRequests.id})`;
  return db
    .select()
    .from(promotionRequests)
    .where(
      and(
        eq(promotionRequests.organizationId, organizationId),
        filter.status ? eq(promotionRequests.status, filter.status) : undefined,
        filter.applicationId ? eq(promotionRequests.applicationId, filter.applicationId) : undefined,
        filter.environmentId ? eq(promotionRequests.toEnvironmentId, filter.environmentId) : undefined,
        page.after ? sql`${position} < (${page.after.createdAt.toISOString()}::timestamptz, ${page.after.id}::uuid)` : undefined,
        page.before ? sql`${position} > (${page.before.createdAt.toISOString()}::timestamptz, ${page.before.id}::uuid)` : undefined,
      ),
    )
    .orderBy(
      ...(page.inverted
        ? [promotionRequests.createdAt, promotionRequests.id]
        : [desc(promotionRequests.createdAt), desc(promotionRequests.id)]),
    )
    .limit(page.limit);
}

/** Records a review; null when this reviewer (token) has reviewed the request already. */
export async function insertReview(db: Db, values: typeof promotionReviews.$inferInsert): Promise<PromotionReviewRow | null> {
  const [row] = await db.insert(promotionReviews).values(values).onConflictDoNothing().returning();
  return row ?? null;
}

/** The reviews of the given requests, in the order they were recorded. */
export async function findReviewsByRequestIds(db: Db, organizationId: string, ids: readonly string[]): Promise<PromotionReviewRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(promotionReviews)
    .where(and(eq(promotionReviews.organizationId, organizationId), anyOf(promotionReviews.requestId, "uuid", [...ids])))
    .orderBy(asc(promotionReviews.id));
}

/** The propagations that executed the given requests. */
export async function findPropagationsByRequestIds(db: Db, organizationId: string, ids: readonly string[]): Promise<PropagationRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(propagations)
    .where(and(eq(propagations.organizationId, organizationId), anyOf(propagations.promotionRequestId, "uuid", [...ids])));
}

/**
 * Inserts request events numbered after the organization's last one, and announces them; NOTIFY is
 * delivered only on commit. Only once the organization's row is locked (through `atCommit` in
 * src/services/transaction.ts), as sync notifications are.
 */
export async function insertRequestEvents(db: Db, organizationId: string, rows: NewPromotionRequestEvent[]): Promise<void> {
  if (rows.length === 0) return;
  const last = sql<number>`(select coalesce(max(${promotionRequestEvents.seq}), 0) from ${promotionRequestEvents} where ${promotionRequestEvents.organizationId} = ${organizationId})`;
  const insert = db
    .insert(promotionRequestEvents)
    .values(rows.map((row, i) => ({ ...row, organizationId, seq: sql<number>`${last} + ${i + 1}` })))
    .returning({ id: promotionRequestEvents.id });
  return insertAnnounced(db, REQUEST_EVENTS_CHANNEL, organizationId, insert);
}

export async function findRequestEventsByIds(db: Db, ids: readonly number[]): Promise<PromotionRequestEventRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(promotionRequestEvents)
    .where(anyOf(promotionRequestEvents.id, "bigint", [...ids]))
    .orderBy(asc(promotionRequestEvents.id));
}

export interface RequestEventFilter {
  environmentId?: string;
  applicationId?: string;
}

/** Request events after a number of the organization, oldest first. */
export async function listRequestEvents(
  db: Db,
  organizationId: string,
  filter: RequestEventFilter,
  page: { after: number; limit: number },
): Promise<PromotionRequestEventRow[]> {
  return db
    .select()
    .from(promotionRequestEvents)
    .where(
      and(
        eq(promotionRequestEvents.organizationId, organizationId),
        filter.environmentId ? eq(promotionRequestEvents.environmentId, filter.environmentId) : undefined,
        filter.applicationId ? eq(promotionRequestEvents.applicationId, filter.applicationId) : undefined,
        sql`${promotionRequestEvents.seq} > ${page.after}`,
      ),
    )
    .orderBy(asc(promotionRequestEvents.seq))
    .limit(page.limit);
}

import { and, desc, eq, or, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { propagations } from "../schema.js";
import { anyOf } from "./tuples.js";

export type PropagationRow = typeof propagations.$inferSelect;
export type NewPropagation = typeof propagations.$inferInsert;

export async function insertPropagation(
  db: Db,
  values: NewPropagation & {
    comment: string | null;
    actorTokenId: string | null;
    idempotencyKey: string | null;
    requestHash: string | null;
    revertOfId: string | null;
    promotionRequestId: string | null;
  },
): Promise<PropagationRow> {
  // The items are not read back: the caller has them, and they are the bulk of the bytes.
  const [row] = await db.insert(propagations).values(values).returning({ id: propagations.id, createdAt: propagations.createdAt });
  return { ...values, ...row };
}

export async function findPropagationByIdempotencyKey(db: Db, organizationId: string, key: string): Promise<PropagationRow | null> {
  const [row] = await db
    .select()
    .from(propagations)
    .where(and(eq(propagations.organizationId, organizationId), eq(propagations.idempotencyKey, key)));
  return row ?? null;
}

/** The propagations that revert each of the given ones, oldest first. */
export async function findRevertsOf(db: Db, organizationId: string, ids: readonly string[]): Promise<PropagationRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(propagations)
    .where(and(eq(propagations.organizationId, organizationId), anyOf(propagations.revertOfId, "uuid", ids)))
    .orderBy(propagations.createdAt, propagations.id);
}

export async function findPropagationsByIds(db: Db, organizationId: string, ids: readonly string[]): Promise<PropagationRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(propagations)
    .where(and(eq(propagations.organizationId, organizationId), anyOf(propagations.id, "uuid", ids)));
}

export interface PropagationPosition {
  createdAt: Date;
  id: string;
}

/** Newest first; `after` continues below a position, `before` above it (read oldest first when `inverted`). */
export async function listPropagations(
  db: Db,
  organizationId: string,
  filter: { applicationId?: string; environmentId?: string },
  page: { after?: PropagationPosition; before?: PropagationPosition; limit: number; inverted?: boolean },
): Promise<PropagationRow[]> {
  const position = sql`(${propagations.createdAt}, ${propagations.id})`;
  return db
    .select()
    .from(propagations)
    .where(
      and(
        eq(propagations.organizationId, organizationId),
        filter.applicationId ? eq(propagations.applicationId, filter.applicationId) : undefined,
        filter.environmentId
          ? or(eq(propagations.toEnvironmentId, filter.environmentId), eq(propagations.fromEnvironmentId, filter.environmentId))
          : undefined,
        page.after ? sql`${position} < (${page.after.createdAt.toISOString()}::timestamptz, ${page.after.id}::uuid)` : undefined,
        page.before ? sql`${position} > (${page.before.createdAt.toISOString()}::timestamptz, ${page.before.id}::uuid)` : undefined,
      ),
    )
    .orderBy(...(page.inverted ? [propagations.createdAt, propagations.id] : [desc(propagations.createdAt), desc(propagations.id)]))
    .limit(page.limit);
}

import { and, desc, eq, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { auditEvents } from "../schema.js";
import { anyOf } from "./tuples.js";

export type AuditEventRow = typeof auditEvents.$inferSelect;

/** Records one audit event (DESIGN.md §10); its summary never holds a secret's value. */
export async function insertAuditEvent(db: Db, event: typeof auditEvents.$inferInsert): Promise<void> {
  await db.insert(auditEvents).values(event).execute();
}

export interface AuditFilter {
  action?: string;
  /** A global ID, as events name their subject. */
  subjectId?: string;
  actorTokenId?: string;
}

export interface AuditPosition {
  occurredAt: Date;
  id: string;
}

/** The organization's audit events, newest first (or oldest first when `inverted`), filtered. */
export async function listAuditEvents(
  db: Db,
  organizationId: string,
  filter: AuditFilter,
  page: { after?: AuditPosition; before?: AuditPosition; limit: number; inverted?: boolean },
): Promise<AuditEventRow[]> {
  const position = sql`(${auditEvents.occurredAt}, ${auditEvents.id})`;
  return db
    .select()
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.organizationId, organizationId),
        filter.action === undefined ? undefined : eq(auditEvents.action, filter.action),
        filter.subjectId === undefined ? undefined : eq(auditEvents.subjectId, filter.subjectId),
        filter.actorTokenId === undefined ? undefined : eq(auditEvents.actorTokenId, filter.actorTokenId),
        page.after ? sql`${position} < (${page.after.occurredAt.toISOString()}::timestamptz, ${page.after.id}::uuid)` : undefined,
        page.before ? sql`${position} > (${page.before.occurredAt.toISOString()}::timestamptz, ${page.before.id}::uuid)` : undefined,
      ),
    )
    .orderBy(...(page.inverted ? [auditEvents.occurredAt, auditEvents.id] : [desc(auditEvents.occurredAt), desc(auditEvents.id)]))
    .limit(page.limit);
}

/** Audit events by id, of one organization. */
export async function findAuditEventsByIds(db: Db, organizationId: string, ids: readonly string[]): Promise<AuditEventRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.organizationId, organizationId), anyOf(auditEvents.id, "uuid", [...ids])));
}

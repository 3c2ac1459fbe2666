import type { Db } from "../client.js";
import { auditEvents } from "../schema.js";

export type AuditEventRow = typeof auditEvents.$inferSelect;

/** Records one audit event (DESIGN.md §10); its summary never holds a secret's value. */
export async function insertAuditEvent(db: Db, event: typeof auditEvents.$inferInsert): Promise<void> {
  await db.insert(auditEvents).values(event);
}

import { and, asc, desc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { applications } from "../schema.js";
import type { ApplicationRow } from "./rows.js";

/** The ids of every application of the organization. */
export async function listApplicationIds(db: Db, organizationId: string): Promise<string[]> {
  const rows = await db.select({ id: applications.id }).from(applications).where(eq(applications.organizationId, organizationId));
  return rows.map((r) => r.id);
}

export async function findApplicationsByIds(db: Db, organizationId: string, ids: readonly string[]): Promise<ApplicationRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(applications)
    .where(and(eq(applications.organizationId, organizationId), inArray(applications.id, ids)));
}

/**
 * A page of applications in (name, id) order, strictly after `after` and before `before`;
 * `inverted` reads from the end (for `last`), returning rows in descending order.
 */
export async function listApplications(
  db: Db,
  organizationId: string,
  page: { after?: ApplicationPosition; before?: ApplicationPosition; limit: number; inverted?: boolean },
): Promise<ApplicationRow[]> {
  const position = sql`(${applications.name}, ${applications.id})`;
  return db
    .select()
    .from(applications)
    .where(
      and(
        eq(applications.organizationId, organizationId),
        page.after ? sql`${position} > (${page.after.name}, ${page.after.id}::uuid)` : undefined,
        page.before ? sql`${position} < (${page.before.name}, ${page.before.id}::uuid)` : undefined,
      ),
    )
    .orderBy(...(page.inverted ? [desc(applications.name), desc(applications.id)] : [asc(applications.name), asc(applications.id)]))
    .limit(page.limit);
}

export interface ApplicationPosition {
  name: string;
  id: string;
}

export async function insertApplication(db: Db, values: { organizationId: string; name: string }): Promise<ApplicationRow> {
  const [row] = await db.insert(applications).values(values).returning();
  return row;
}

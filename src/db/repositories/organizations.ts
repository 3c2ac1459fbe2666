import { eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { organizations } from "../schema.js";
import type { OrganizationRow } from "./rows.js";

export async function findOrganizationByName(db: Db, name: string): Promise<OrganizationRow | null> {
  const [row] = await db.select().from(organizations).where(eq(organizations.name, name));
  return row ?? null;
}

export async function insertOrganization(db: Db, name: string): Promise<OrganizationRow> {
  const [row] = await db.insert(organizations).values({ name }).returning();
  return row;
}

/** The transaction-local setting in which the tables' triggers note what it wrote (migration 0015). */
export const TABLES_WRITTEN_SETTING = "journey_promotion.tables_written";

/**
 * One more committed write transaction of the organization (see `inTransaction`): raises its revision
 * and records the new revision for every table the transaction wrote so far, as noted by the tables'
 * triggers (`table_revisions`; the setting holds `,table,table,`).
 */
export async function raiseOrganizationRevision(db: Db, organizationId: string): Promise<void> {
  await db
    .update(organizations)
    .set({
      revision: sql`${organizations.revision} + 1`,
      tableRevisions: sql`${organizations.tableRevisions} || coalesce((
        select jsonb_object_agg(written.name, ${organizations.revision} + 1)
        from unnest(string_to_array(current_setting(${TABLES_WRITTEN_SETTING}, true), ',')) as written(name)
        where written.name <> ''), '{}'::jsonb)`,
    })
    .where(eq(organizations.id, organizationId));
}

export async function findOrganizationsByIds(db: Db, ids: readonly string[]): Promise<OrganizationRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(organizations).where(inArray(organizations.id, ids));
}

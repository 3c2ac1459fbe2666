import { eq, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { organizations } from "../schema.js";
import type { OrganizationRow } from "./rows.js";
import { anyOf } from "./tuples.js";

export async function findOrganizationByName(db: Db, name: string): Promise<OrganizationRow | null> {
  const [row] = await db.select().from(organizations).where(eq(organizations.name, name));
  return row ?? null;
}

export async function insertOrganization(db: Db, name: string): Promise<OrganizationRow> {
  const [row] = await db.insert(organizations).values({ name }).returning();
  return row;
}

/**
 * Locks the organization's row until commit (FOR NO KEY UPDATE: the lock raising its revision takes,
 * taken early), so that the rows numbered per organization written next read the last committed
 * number and commit before any other transaction of the organization numbers its own (see `atCommit`).
 */
export async function lockOrganization(db: Db, organizationId: string): Promise<void> {
  await db.select({ id: organizations.id }).from(organizations).where(eq(organizations.id, organizationId)).for("no key update").execute();
}

/**
 * One more committed write transaction of the organization (see `inTransaction`). The organization's
 * trigger (migration 0016) records the new revision for every table the transaction wrote so far, as
 * the tables' triggers noted them (migration 0015): `table_revisions`.
 */
export async function raiseOrganizationRevision(db: Db, organizationId: string): Promise<void> {
  await db
    .update(organizations)
    .set({ revision: sql`${organizations.revision} + 1` })
    .where(eq(organizations.id, organizationId))
    .execute();
}

export async function findOrganizationsByIds(db: Db, ids: readonly string[]): Promise<OrganizationRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(organizations)
    .where(anyOf(organizations.id, "uuid", ids));
}

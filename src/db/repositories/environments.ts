import { and, asc, eq, gte, inArray, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { databases, environments } from "../schema.js";
import type { DatabaseRow, EnvironmentRow } from "./rows.js";

export async function listEnvironments(db: Db, organizationId: string): Promise<EnvironmentRow[]> {
  return db.select().from(environments).where(eq(environments.organizationId, organizationId)).orderBy(asc(environments.rank));
}

export async function findEnvironmentsByIds(db: Db, organizationId: string, ids: readonly string[]): Promise<EnvironmentRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(environments)
    .where(and(eq(environments.organizationId, organizationId), inArray(environments.id, ids)));
}

/** Inserts an environment at `rank`, moving the environments at or above it one rank up. */
export async function insertEnvironmentAtRank(
  db: Db,
  values: { organizationId: string; key: string; name: string; rank: number; isProduction: boolean; editable: boolean },
): Promise<EnvironmentRow> {
  // The rank constraint is checked at commit (migration 0005): ranks may collide until then.
  await db
    .update(environments)
    .set({ rank: sql`${environments.rank} + 1` })
    .where(and(eq(environments.organizationId, values.organizationId), gte(environments.rank, values.rank)));
  const [row] = await db.insert(environments).values(values).returning();
  return row;
}

export async function insertEnvironments(
  db: Db,
  values: { organizationId: string; key: string; name: string; rank: number; isProduction: boolean; editable: boolean }[],
): Promise<EnvironmentRow[]> {
  return db.insert(environments).values(values).returning();
}

export async function findDatabasesByIds(db: Db, organizationId: string, ids: readonly string[]): Promise<DatabaseRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(databases)
    .where(and(eq(databases.organizationId, organizationId), inArray(databases.id, ids)));
}

export async function findDatabasesByEnvironmentIds(
  db: Db,
  organizationId: string,
  environmentIds: readonly string[],
): Promise<DatabaseRow[]> {
  if (environmentIds.length === 0) return [];
  return db
    .select()
    .from(databases)
    .where(and(eq(databases.organizationId, organizationId), inArray(databases.environmentId, environmentIds)))
    .orderBy(asc(databases.name));
}

export async function insertDatabase(
  db: Db,
  values: { organizationId: string; environmentId: string; name: string },
): Promise<DatabaseRow> {
  const [row] = await db.insert(databases).values(values).returning();
  return row;
}

/**
 * An environment's approval policy, its row locked FOR SHARE until commit: a policy change (an
 * UPDATE of the row) waits for the writes that read the policy before it, and they for it.
 */
export async function lockedApprovalPolicy(db: Db, organizationId: string, id: string) {
  const [row] = await db
    .select({
      requiredApprovals: environments.requiredApprovals,
      allowSelfApproval: environments.allowSelfApproval,
      requireComment: environments.requireComment,
      expiresAfterHours: environments.expiresAfterHours,
    })
    .from(environments)
    .where(and(eq(environments.organizationId, organizationId), eq(environments.id, id)))
    .for("share");
  return row ?? null;
}

/** Sets an environment's approval policy; returns the row as it now is. */
export async function updateApprovalPolicy(
  db: Db,
  organizationId: string,
  id: string,
  policy: { requiredApprovals: number; allowSelfApproval: boolean; requireComment: boolean; expiresAfterHours: number },
) {
  const [row] = await db
    .update(environments)
    .set(policy)
    .where(and(eq(environments.organizationId, organizationId), eq(environments.id, id)))
    .returning();
  return row ?? null;
}

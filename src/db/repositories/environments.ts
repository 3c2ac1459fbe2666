import { and, asc, eq, gt, gte, isNull, sql } from "drizzle-orm";
import { type Db, rowsOf } from "../client.js";
import { databases, environments } from "../schema.js";
import { preparedPerDatabase } from "./prepared.js";
import type { DatabaseRow, EnvironmentRow } from "./rows.js";
import { anyOf } from "./tuples.js";

/** The pipeline: the organization's environments (not deleted), lowest first. */
export async function listEnvironments(db: Db, organizationId: string): Promise<EnvironmentRow[]> {
  return environmentsQuery(db).execute({ organizationId });
}

const environmentsQuery = preparedPerDatabase((db) =>
  db
    .select()
    .from(environments)
    .where(and(eq(environments.organizationId, sql.placeholder("organizationId")), isNull(environments.deletedAt)))
    .orderBy(asc(environments.rank))
    .prepare("environments_of_organization"),
);

/**
 * The pipeline's environments, their rows locked until commit: `share` for a write into one of them
 * (a client, a database, a value), `no key update` for a change of the pipeline (a deletion, which
 * moves ranks). Not FOR UPDATE: that would also block the foreign-key checks of every insert naming
 * an environment (notifications, propagations, versions), and a writer holding its sync states, the
 * organization's row or one environment's row would then wait for the deletion while it waits for them.
 */
export async function lockEnvironments(
  db: Db,
  organizationId: string,
  ids: readonly string[] | "all",
  mode: "share" | "no key update",
): Promise<EnvironmentRow[]> {
  if (ids !== "all" && ids.length === 0) return [];
  return db
    .select()
    .from(environments)
    .where(
      and(
        eq(environments.organizationId, organizationId),
        isNull(environments.deletedAt),
        ids === "all" ? undefined : anyOf(environments.id, "uuid", [...ids]),
      ),
    )
    .orderBy(asc(environments.rank))
    .for(mode);
}

/**
 * Deletes an environment (DESIGN.md §10): its row stays (history names it) with `deleted_at`, above
 * every rank (ranks are unique per organization), and the pipeline closes up: the environments
 * above it move one rank down.
 */
export async function markEnvironmentDeleted(db: Db, environment: EnvironmentRow): Promise<void> {
  // Checked at commit (migration 0005): ranks may collide until then.
  await db
    .update(environments)
    .set({
      deletedAt: new Date(),
      rank: sql`(select greatest(1000000, max(${environments.rank}) + 1) from ${environments} where ${environments.organizationId} = ${environment.organizationId})`,
    })
    .where(eq(environments.id, environment.id));
  await db
    .update(environments)
    .set({ rank: sql`${environments.rank} - 1` })
    .where(
      and(
        eq(environments.organizationId, environment.organizationId),
        isNull(environments.deletedAt),
        gt(environments.rank, environment.rank),
      ),
    );
}

export async function updateEnvironmentName(db: Db, id: string, name: string): Promise<EnvironmentRow> {
  const [row] = await db.update(environments).set({ name }).where(eq(environments.id, id)).returning();
  return row;
}

/** The database, locked until commit: `share` for a client created on it, `update` for its deletion. */
export async function lockDatabase(db: Db, organizationId: string, id: string, mode: "share" | "update"): Promise<DatabaseRow | null> {
  const [row] = await db
    .select()
    .from(databases)
    .where(and(eq(databases.organizationId, organizationId), eq(databases.id, id)))
    .for(mode);
  return row ?? null;
}

export async function deleteDatabaseRow(db: Db, id: string): Promise<void> {
  await db.delete(databases).where(eq(databases.id, id));
}

export async function findEnvironmentsByIds(db: Db, organizationId: string, ids: readonly string[]): Promise<EnvironmentRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(environments)
    .where(and(eq(environments.organizationId, organizationId), anyOf(environments.id, "uuid", ids)));
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
    .where(and(eq(databases.organizationId, organizationId), anyOf(databases.id, "uuid", ids)));
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
    .where(and(eq(databases.organizationId, organizationId), anyOf(databases.environmentId, "uuid", environmentIds)))
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
    .for("share")
    .execute();
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

/**
 * What still depends on an environment, in words (at most 101, in order): its clients, databases,
 * active RUNTIME tokens, variable values, journey configurations and drafts, and open promotion requests.
 */
export async function environmentDependents(db: Db, organizationId: string, environmentId: string): Promise<string[]> {
  // Tokens, values and requests by organization as well: they have no index by environment, and
  // by environment alone every organization's rows are read (docs/performance.md, 2026-12-07).
  const result = await db.execute(sql`
    select what from (
      select 'client "' || c.name || '" of ' || a.name as what
        from clients c join applications a on a.id = c.application_id where c.environment_id = ${environmentId}
      union all
      select 'database "' || d.name || '"' from databases d where d.environment_id = ${environmentId}
      union all
      select 'RUNTIME token "' || t.name || '"' from api_tokens t
        where t.organization_id = ${organizationId} and t.environment_id = ${environmentId} and t.revoked_at is null
      union all
      select 'the value of &{' || v.key || '}'
        from variable_values vv join variables v on v.id = vv.variable_id
        where vv.organization_id = ${organizationId} and vv.environment_id = ${environmentId}
      union all
      select 'the configuration of journey "' || j.key || '" of ' || a.name
        from journey_heads h join journeys j on j.id = h.journey_id join applications a on a.id = j.application_id
        where h.environment_id = ${environmentId}
      union all
      select 'a draft of journey "' || j.key || '" of ' || a.name || ' (save or discard it)'
        from journey_drafts d join journeys j on j.id = d.journey_id join applications a on a.id = j.application_id
        where d.environment_id = ${environmentId}      union all
      select 'open promotion request ' || r.id || ' of ' || a.name
        from promotion_requests r join applications a on a.id = r.application_id
        where r.organization_id = ${organizationId} and r.status in ('PENDING', 'APPROVED')
          and (r.to_environment_id = ${environmentId} or r.from_environment_id = ${environmentId})
    ) dependents
    order by what
    limit 101
  `);
  return rowsOf<{ what: string }>(result).map((r) => r.what);
}

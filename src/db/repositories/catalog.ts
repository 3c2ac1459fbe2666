import { and, asc, desc, eq, getTableColumns, gte, inArray, sql } from "drizzle-orm";
import type { ClientSettings } from "../../domain/journey-document.js";
import type { Db } from "../client.js";
import { applications, clientSettingsVersions, clients, databases, environments } from "../schema.js";
import type { ApplicationRow, ClientRow, ClientSummaryRow, DatabaseRow, EnvironmentRow, VersionOrigin } from "./rows.js";

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

export async function findClientsByIds(db: Db, organizationId: string, ids: readonly string[]): Promise<ClientRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(clients)
    .where(and(eq(clients.organizationId, organizationId), inArray(clients.id, ids)));
}

const { settings: _settings, redirectUris: _redirectUris, allowedOrigins: _allowedOrigins, ...CLIENT_SUMMARY } = getTableColumns(clients);

/** The clients of these applications without their settings and URI lists (see ClientSummaryRow). */
export async function findClientSummariesByApplicationIds(
  db: Db,
  organizationId: string,
  applicationIds: readonly string[],
): Promise<ClientSummaryRow[]> {
  if (applicationIds.length === 0) return [];
  return db
    .select(CLIENT_SUMMARY)
    .from(clients)
    .where(and(eq(clients.organizationId, organizationId), inArray(clients.applicationId, applicationIds)));
}

export async function findClientsByApplicationIds(db: Db, organizationId: string, applicationIds: readonly string[]): Promise<ClientRow[]> {
  if (applicationIds.length === 0) return [];
  return db
    .select()
    .from(clients)
    .where(and(eq(clients.organizationId, organizationId), inArray(clients.applicationId, applicationIds)));
}

export async function insertClient(
  db: Db,
  values: {
    organizationId: string;
    applicationId: string;
    environmentId: string;
    clientId: string;
    name: string;
    databaseId: string;
    redirectUris: string[];
    allowedOrigins: string[];
    settings: ClientSettings;
    settingsHash: string;
  },
  audit: { origin: VersionOrigin; savedBy: string; savedByTokenId: string | null; comment?: string | null },
): Promise<ClientRow> {
  const [row] = await db
    .insert(clients)
    .values({ ...values, settingsVersion: 1 })
    .returning();
  await db.insert(clientSettingsVersions).values({
    clientId: row.id,
    version: 1,
    previousVersion: null,
    settings: values.settings,
    hash: values.settingsHash,
    origin: audit.origin,
    savedBy: audit.savedBy,
    savedByTokenId: audit.savedByTokenId,
    comment: audit.comment ?? null,
  });
  return row;
}

/** Environment-specific fields of a client (never propagated). */
export async function updateClientFields(
  db: Db,
  id: string,
  fields: Partial<Pick<ClientRow, "name" | "databaseId" | "redirectUris" | "allowedOrigins">>,
): Promise<ClientRow> {
  const [row] = await db.update(clients).set(fields).where(eq(clients.id, id)).returning();
  return row;
}

/**
 * Writes the next version of a client's shared settings and moves the client's head, guarded by
 * the head's version: returns null when someone else moved it first.
 */
export async function appendClientSettingsVersion(
  db: Db,
  client: Pick<ClientRow, "id" | "settingsVersion">,
  values: {
    settings: ClientSettings;
    hash: string;
    origin: VersionOrigin;
    savedBy: string;
    savedByTokenId: string | null;
    comment?: string | null;
  },
): Promise<ClientRow | null> {
  const version = client.settingsVersion + 1;
  await db.insert(clientSettingsVersions).values({
    clientId: client.id,
    version,
    previousVersion: client.settingsVersion,
    settings: values.settings,
    hash: values.hash,
    origin: values.origin,
    savedBy: values.savedBy,
    savedByTokenId: values.savedByTokenId,
    comment: values.comment ?? null,
  });
  const [row] = await db
    .update(clients)
    .set({ settings: values.settings, settingsHash: values.hash, settingsVersion: version })
    .where(and(eq(clients.id, client.id), eq(clients.settingsVersion, client.settingsVersion)))
    .returning();
  return row ?? null;
}

export async function lockClient(db: Db, organizationId: string, id: string): Promise<ClientRow | null> {
  const [row] = await db
    .select()
    .from(clients)
    .where(and(eq(clients.organizationId, organizationId), eq(clients.id, id)))
    .for("update");
  return row ?? null;
}

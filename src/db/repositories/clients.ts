import { and, eq, getTableColumns, sql } from "drizzle-orm";
import type { ClientSettings } from "../../domain/journey-document.js";
import type { Db } from "../client.js";
import { clientSettingsVersions, clients } from "../schema.js";
import { preparedPerDatabase } from "./prepared.js";
import type { ClientRow, ClientSummaryRow, VersionOrigin } from "./rows.js";
import { anyOf } from "./tuples.js";

export async function findClientsByIds(db: Db, organizationId: string, ids: readonly string[]): Promise<ClientRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(clients)
    .where(and(eq(clients.organizationId, organizationId), anyOf(clients.id, "uuid", ids)));
}

const { settings: _settings, redirectUris: _redirectUris, allowedOrigins: _allowedOrigins, ...CLIENT_SUMMARY } = getTableColumns(clients);

const clientSummariesQuery = preparedPerDatabase((db) =>
  db
    .select(CLIENT_SUMMARY)
    .from(clients)
    .where(
      and(
        eq(clients.organizationId, sql.placeholder("organizationId")),
        sql`${clients.applicationId} = any(${sql.placeholder("applicationIds")}::uuid[])`,
      ),
    )
    .prepare("client_summaries_by_application_ids"),
);

/** The clients of these applications without their settings and URI lists (see ClientSummaryRow); every list and sync state reads them. */
export async function findClientSummariesByApplicationIds(
  db: Db,
  organizationId: string,
  applicationIds: readonly string[],
): Promise<ClientSummaryRow[]> {
  if (applicationIds.length === 0) return [];
  return clientSummariesQuery(db).execute({ organizationId, applicationIds });
}

export async function findClientsByApplicationIds(db: Db, organizationId: string, applicationIds: readonly string[]): Promise<ClientRow[]> {
  if (applicationIds.length === 0) return [];
  return clientsByApplicationIdsQuery(db).execute({ organizationId, applicationIds });
}

const clientsByApplicationIdsQuery = preparedPerDatabase((db) =>
  db
    .select()
    .from(clients)
    .where(
      and(
        eq(clients.organizationId, sql.placeholder("organizationId")),
        sql`${clients.applicationId} = any(${sql.placeholder("applicationIds")}::uuid[])`,
      ),
    )
    .prepare("clients_by_application_ids"),
);

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

/** The clients using a database (its dependents: the database cannot be deleted while any is left). */
export async function findClientsByDatabaseId(db: Db, databaseId: string): Promise<ClientSummaryRow[]> {
  return db.select(CLIENT_SUMMARY).from(clients).where(eq(clients.databaseId, databaseId));
}

/** The clients in an environment (its dependents). */
export async function findClientsByEnvironmentId(db: Db, environmentId: string): Promise<ClientSummaryRow[]> {
  return db.select(CLIENT_SUMMARY).from(clients).where(eq(clients.environmentId, environmentId));
}

/** Deletes a client and its settings versions (what was promoted stays in the propagations' records). */
export async function deleteClientRow(db: Db, id: string): Promise<void> {
  await db.delete(clientSettingsVersions).where(eq(clientSettingsVersions.clientId, id));
  await db.delete(clients).where(eq(clients.id, id));
}

import { and, eq, isNull, like, or, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { apiTokens, organizations } from "../schema.js";
import { preparedPerDatabase } from "./prepared.js";
import type { ApiTokenRow, OrganizationRow, Role } from "./rows.js";
import { anyOf } from "./tuples.js";

export async function insertApiToken(
  db: Db,
  values: { organizationId: string; name: string; role: Role; tokenHash: string; environmentId?: string },
): Promise<ApiTokenRow> {
  const [row] = await db.insert(apiTokens).values(values).returning();
  return row;
}

/** The names of the organization's active tokens that are `name` or `name (<suffix>)`. */
export async function findActiveTokenNamesLike(db: Db, organizationId: string, name: string): Promise<string[]> {
  const escaped = name.replace(/[\\%_]/g, (c) => `\\${c}`);
  const rows = await db
    .select({ name: apiTokens.name })
    .from(apiTokens)
    .where(
      and(
        eq(apiTokens.organizationId, organizationId),
        isNull(apiTokens.revokedAt),
        or(eq(apiTokens.name, name), like(apiTokens.name, `${escaped} (%)`)),
      ),
    );
  return rows.map((r) => r.name);
}

/** What authenticating a request needs of a live token and its organization: no more columns. */
export interface ActiveToken {
  token: Pick<ApiTokenRow, "id" | "role" | "name" | "environmentId">;
  organization: Pick<OrganizationRow, "id" | "revision" | "tableRevisions">;
}

/**
 * The statement every request runs (authentication), for the tokens of the requests that arrived
 * together: built once per database handle and prepared, since building a query with drizzle costs
 * more than running this one (the request floor, docs/performance.md); `= any($1)`, one statement
 * text whatever their number.
 */
const activeTokensQuery = preparedPerDatabase((db) =>
  db
    .select({
      tokenHash: apiTokens.tokenHash,
      token: { id: apiTokens.id, role: apiTokens.role, name: apiTokens.name, environmentId: apiTokens.environmentId },
      organization: { id: organizations.id, revision: organizations.revision, tableRevisions: organizations.tableRevisions },
    })
    .from(apiTokens)
    .innerJoin(organizations, eq(organizations.id, apiTokens.organizationId))
    .where(and(sql`${apiTokens.tokenHash} = any(${sql.placeholder("tokenHashes")}::text[])`, isNull(apiTokens.revokedAt)))
    .prepare("active_tokens_by_hashes"),
);

/** The live tokens with these hashes (a hash without one: absent), with their organizations' ids and revisions (and tables' revisions). */
export async function findActiveTokensByHashes(db: Db, tokenHashes: readonly string[]): Promise<Map<string, ActiveToken>> {
  const rows = await activeTokensQuery(db).execute({ tokenHashes });
  return new Map(rows.map(({ tokenHash, ...found }) => [tokenHash, found]));
}

export async function findApiTokensByIds(db: Db, organizationId: string, ids: readonly string[]): Promise<ApiTokenRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.organizationId, organizationId), anyOf(apiTokens.id, "uuid", ids)));
}

export async function revokeApiTokenRow(db: Db, organizationId: string, id: string): Promise<ApiTokenRow | null> {
  const [row] = await db
    .update(apiTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiTokens.organizationId, organizationId), eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
    .returning();
  return row ?? null;
}

export async function revokeApiTokenByHash(db: Db, tokenHash: string): Promise<ApiTokenRow | null> {
  const [row] = await db
    .update(apiTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiTokens.tokenHash, tokenHash), isNull(apiTokens.revokedAt)))
    .returning();
  return row ?? null;
}

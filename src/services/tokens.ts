import { createHash, randomBytes } from "node:crypto";
import DataLoader from "dataloader";
import { z } from "zod";
import type { Db } from "../db/client.js";
import { insertEnvironments, lockEnvironments } from "../db/repositories/environments.js";
import { findOrganizationByName, insertOrganization } from "../db/repositories/organizations.js";
import type { ApiTokenRow, OrganizationRow, Role } from "../db/repositories/rows.js";
import { notifyTokenRevoked } from "../db/repositories/sync-notifications.js";
import {
  type ActiveToken,
  findActiveTokenNamesLike,
  findActiveTokensByHashes,
  insertApiToken,
  revokeApiTokenByHash,
  revokeApiTokenRow,
} from "../db/repositories/tokens.js";
import { AlreadyExistsError, NotFoundError } from "../domain/errors.js";
import { isUuid } from "../domain/uuid.js";
import type { Actor } from "./actor.js";
import { ROLES } from "./actor.js";
import { audit } from "./audit.js";
import type { AuthenticationCache } from "./authentication-cache.js";
import { inputs, parseInput } from "./input.js";
import { environmentOf } from "./lookups.js";
import { inTransaction, sqlState, UNIQUE_VIOLATION, uniqueAs } from "./transaction.js";

const TOKEN_PREFIX = "jpt_";

/** Only this hash is stored; the secret is shown once. */
export function hashToken(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

function generateSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

/** The pipeline every new organization starts with: development → staging → production. */
export const DEFAULT_PIPELINE = [
  { key: "development", name: "Development", rank: 0, isProduction: false, editable: true },
  { key: "staging", name: "Staging", rank: 1, isProduction: false, editable: false },
  { key: "production", name: "Production", rank: 2, isProduction: true, editable: false },
] as const;

/** Finds the organization by name or creates it with the default pipeline. */
export async function ensureOrganization(db: Db, name: string): Promise<{ organization: OrganizationRow; created: boolean }> {
  const existing = await findOrganizationByName(db, name);
  if (existing) return { organization: existing, created: false };
  try {
    const organization = await inTransaction(
      db,
      (created: OrganizationRow) => created.id,
      async (tx) => {
        const organization = await insertOrganization(tx, name);
        await insertEnvironments(
          tx,
          DEFAULT_PIPELINE.map((e) => ({ ...e, organizationId: organization.id })),
        );
        return organization;
      },
    );
    return { organization, created: true };
  } catch (error) {
    // Created concurrently by someone else: use theirs.
    if (sqlState(error) !== UNIQUE_VIOLATION) throw error;
    const organization = await findOrganizationByName(db, name);
    if (!organization) throw error;
    return { organization, created: false };
  }
}

/** A new token; ALREADY_EXISTS when an active token of the organization has its name (checked by a unique index). */
export async function issueToken(
  db: Db,
  values: { organizationId: string; name: string; role: Role; environmentId?: string },
): Promise<{ token: string; apiToken: ApiTokenRow }> {
  const token = generateSecret();
  const apiToken = await inTransaction(db, values.organizationId, async (tx) => {
    // A RUNTIME token's environment, locked shared: a deletion of it waits, then sees the token (IN_USE).
    if (values.environmentId !== undefined) {
      const [environment] = await lockEnvironments(tx, values.organizationId, [values.environmentId], "share");
      if (!environment) throw new NotFoundError("environment", values.environmentId);
    }
    const row = await uniqueAs(
      insertApiToken(tx, { ...values, tokenHash: hashToken(token) }),
      `An active token of the organization is already named "${values.name}"`,
    );
    // The token's name and role; its secret is shown once to the caller and never recorded.
    audit({ type: "ApiToken", id: row.id }, { name: row.name, role: row.role });
    return row;
  });
  return { token, apiToken };
}

/**
 * A new token named `name`, or — when an active token has that name — the first free
 * `name (2)`, `name (3)`…: for callers that issue tokens again and again (the CLI, the demo seed).
 */
export async function issueTokenWithFreeName(
  db: Db,
  values: { organizationId: string; name: string; role: Role },
): Promise<{ token: string; apiToken: ApiTokenRow }> {
  for (let attempt = 1; ; attempt++) {
    const taken = new Set(await findActiveTokenNamesLike(db, values.organizationId, values.name));
    let name = values.name;
    for (let n = 2; taken.has(name); n++) name = `${values.name} (${n})`;
    try {
      return await issueToken(db, { ...values, name });
    } catch (error) {
      // Taken in between by a concurrent caller: look again.
      if (!(error instanceof AlreadyExistsError) || attempt >= 5) throw error;
    }
  }
}

/** Who a bearer secret stands for, and its organization's revisions (its own and its tables') as the secret was checked. */
export interface Authentication {
  actor: Actor;
  /** Raised by every committed write of the organization (see `inTransaction`). */
  organizationRevision: number;
  /** Per table, the revision of the organization's last committed write to it (absent: never written). */
  tableRevisions: Readonly<Record<string, number>>;
}

/**
 * Reads live tokens by hash for requests that arrive together — in the same turn of the event loop —
 * in one statement. Each read starts after its request arrived, so it sees every write committed
 * before: as exact as a statement per request, with fewer statements under load.
 */
export function tokenReader(db: Db): (tokenHash: string) => Promise<ActiveToken | null> {
  const loader = new DataLoader<string, ActiveToken | null>(
    async (hashes) => {
      const found = await findActiveTokensByHashes(db, hashes);
      return hashes.map((hash) => found.get(hash) ?? null);
    },
    { cache: false, maxBatchSize: 100, batchScheduleFn: (run) => setImmediate(run) },
  );
  return (tokenHash) => loader.load(tokenHash);
}

/**
 * The caller a bearer secret stands for, or null when it is unknown or revoked. With `cache` (a
 * database only this process writes: the embedded one) a token checked before is not read again
 * until a transaction of its organization commits (src/services/authentication-cache.ts).
 */
export async function authenticate(
  read: (tokenHash: string) => Promise<ActiveToken | null>,
  secret: string,
  cache?: AuthenticationCache,
): Promise<Authentication | null> {
  if (!secret.startsWith(TOKEN_PREFIX) || secret.length > 200) return null;
  const tokenHash = hashToken(secret);
  const found = cache ? await cache.find(tokenHash, read) : await read(tokenHash);
  if (!found) return null;
  return {
    actor: {
      organizationId: found.organization.id,
      tokenId: found.token.id,
      role: found.token.role,
      name: found.token.name,
      ...(found.token.environmentId ? { environmentId: found.token.environmentId } : {}),
    },
    organizationRevision: found.organization.revision,
    tableRevisions: found.organization.tableRevisions,
  };
}

const TOKEN_ROLES = [...ROLES, "RUNTIME"] as const;
const createApiTokenInput = z
  .object({
    name: inputs.name(100),
    role: z.enum(TOKEN_ROLES, { message: `must be one of ${TOKEN_ROLES.join(", ")}` }),
    environmentId: inputs.optional(z.string()),
  })
  .superRefine((input, ctx) => {
    if (input.role === "RUNTIME" && input.environmentId === undefined) {
      ctx.addIssue({ code: "custom", path: ["environmentId"], message: "is required for a RUNTIME token: the environment it reads" });
    }
    if (input.role !== "RUNTIME" && input.environmentId !== undefined) {
      ctx.addIssue({ code: "custom", path: ["environmentId"], message: "is only for a RUNTIME token" });
    }
  });

export type CreateApiTokenInput = z.input<typeof createApiTokenInput>;

/** A new token (ADMIN); a RUNTIME token is bound to one environment of the organization. */
export async function createApiToken(db: Db, actor: Actor, input: CreateApiTokenInput) {
  const { name, role, environmentId } = parseInput(createApiTokenInput, input);
  const environment = environmentId === undefined ? undefined : await environmentOf(db, actor, environmentId);
  return issueToken(db, { organizationId: actor.organizationId, name, role, environmentId: environment?.id });
}

export async function revokeApiToken(db: Db, actor: Actor, apiTokenId: string): Promise<ApiTokenRow> {
  return inTransaction(db, actor.organizationId, async (tx) => {
    const row = isUuid(apiTokenId) ? await revokeApiTokenRow(tx, actor.organizationId, apiTokenId) : null;
    if (!row) throw new NotFoundError("active API token", apiTokenId);
    await notifyTokenRevoked(tx, row.id);
    audit({ type: "ApiToken", id: row.id }, { name: row.name, role: row.role });
    return row;
  });
}

export async function revokeTokenSecret(db: Db, secret: string): Promise<ApiTokenRow | null> {
  return inTransaction(
    db,
    (revoked: ApiTokenRow | null) => revoked?.organizationId ?? null,
    async (tx) => {
      const row = await revokeApiTokenByHash(tx, hashToken(secret));
      if (row) await notifyTokenRevoked(tx, row.id);
      return row;
    },
  );
}

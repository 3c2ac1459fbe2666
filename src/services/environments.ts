import { z } from "zod";
import type { Db } from "../db/client.js";
import { findClientsByDatabaseId } from "../db/repositories/clients.js";
import {
  deleteDatabaseRow,
  environmentDependents,
  findEnvironmentsByIds,
  insertDatabase,
  insertEnvironmentAtRank,
  listEnvironments,
  lockDatabase,
  lockEnvironments,
  markEnvironmentDeleted,
  updateApprovalPolicy,
  updateEnvironmentName,
} from "../db/repositories/environments.js";
import type { DatabaseRow, EnvironmentRow } from "../db/repositories/rows.js";
import { notifySubjectGone } from "../db/repositories/sync-notifications.js";
import { ForbiddenError, InUseError, NotFoundError } from "../domain/errors.js";
import { POLICY_LIMITS } from "../domain/promotion-requests.js";
import { isUuid } from "../domain/uuid.js";
import { type Actor, hasRole } from "./actor.js";
import { audit } from "./audit.js";
import { inputs, parseInput } from "./input.js";
import { lockPipeline } from "./locks.js";
import { environmentForWrite } from "./lookups.js";
import { applyPolicyToOpenRequests } from "./promotion-requests.js";
import { withSyncNotifications } from "./sync-notifications.js";
import { inTransaction, uniqueAs } from "./transaction.js";

const createEnvironmentInput = z.object({
  key: inputs.slug(40),
  name: inputs.name(100),
  rank: z.number().int("must be an integer").min(0, "must be 0 or more").max(1000, "must be at most 1000"),
  isProduction: inputs.withDefault(z.boolean(), false),
  editable: inputs.withDefault(z.boolean(), false),
});

export type CreateEnvironmentInput = z.input<typeof createEnvironmentInput>;

/**
 * Inserts an environment at `rank` (moving the ones at and above it up); a rank past the top appends.
 * Inserted below the top, it becomes what the environment above it is compared with: every
 * application's states there may change, and each change is notified like any other.
 */
export async function createEnvironment(db: Db, actor: Actor, input: CreateEnvironmentInput): Promise<EnvironmentRow> {
  const values = parseInput(createEnvironmentInput, input);
  return inTransaction(db, actor.organizationId, async (tx) => {
    // One insertion at a time: each reads the ranks the one before it left.
    await lockPipeline(tx, actor.organizationId);
    // The rows whose ranks move, before the sync states' lock (as deleteEnvironment): a write into one
    // of them holds its row shared and may be waiting for that lock.
    const existing = await lockEnvironments(tx, actor.organizationId, "all", "no key update");
    const rank = Math.min(values.rank, existing.length);
    const insert = async () => {
      const row = await uniqueAs(
        insertEnvironmentAtRank(tx, { ...values, rank, organizationId: actor.organizationId }),
        `An environment with key "${values.key}" already exists`,
      );
      audit(
        { type: "Environment", id: row.id },
        { key: row.key, name: row.name, rank, isProduction: row.isProduction, editable: row.editable },
      );
      return row;
    };
    // Appended on top, it is compared with nothing yet: no state changes.
    if (rank === existing.length) return insert();
    return withSyncNotifications(tx, actor, "all", insert);
  });
}

const createDatabaseInput = z.object({
  environmentId: z.string(),
  name: inputs.slug(100),
});

export type CreateDatabaseInput = z.input<typeof createDatabaseInput>;

export async function createDatabase(db: Db, actor: Actor, input: CreateDatabaseInput): Promise<DatabaseRow> {
  const values = parseInput(createDatabaseInput, input);
  return inTransaction(db, actor.organizationId, async (tx) => {
    const environment = await environmentForWrite(tx, actor, values.environmentId);
    const row = await uniqueAs(
      insertDatabase(tx, { organizationId: actor.organizationId, environmentId: environment.id, name: values.name }),
      `A database named "${values.name}" already exists`,
    );
    audit({ type: "Database", id: row.id }, { name: row.name, environment: environment.key });
    return row;
  });
}

const approvalPolicyInput = z.object({
  environmentId: z.string(),
  requiredApprovals: z
    .number()
    .int("must be an integer")
    .min(0, "must be 0 or more")
    .max(POLICY_LIMITS.maxApprovals, `must be at most ${POLICY_LIMITS.maxApprovals}`),
  allowSelfApproval: z.boolean(),
  requireComment: z.boolean(),
  expiresAfterHours: z
    .number()
    .int("must be an integer")
    .min(POLICY_LIMITS.minHours, `must be at least ${POLICY_LIMITS.minHours}`)
    .max(POLICY_LIMITS.maxHours, `must be at most ${POLICY_LIMITS.maxHours} (a year)`),
});

export type SetApprovalPolicyInput = z.input<typeof approvalPolicyInput>;

/**
 * Sets an environment's approval policy (ADMIN). Direct promotions into the environment see the
 * new one at once (the row is updated while propagations read it FOR SHARE: one waits for the
 * other); open requests into it keep the stricter of theirs and the new one.
 */
export async function setApprovalPolicy(
  db: Db,
  actor: Actor,
  input: SetApprovalPolicyInput,
  now: () => Date = () => new Date(),
): Promise<EnvironmentRow> {
  const values = parseInput(approvalPolicyInput, input);
  if (!hasRole(actor, "ADMIN")) throw new ForbiddenError("Only an ADMIN may set an approval policy");
  return inTransaction(db, actor.organizationId, async (tx) => {
    const { environmentId, ...policy } = values;
    await environmentForWrite(tx, actor, environmentId, "no key update");
    const row = await updateApprovalPolicy(tx, actor.organizationId, environmentId, policy);
    if (!row) throw new NotFoundError("environment", environmentId);
    // Then the open requests into it: a stricter policy reaches them too.
    await applyPolicyToOpenRequests(tx, actor, environmentId, policy, now);
    audit({ type: "Environment", id: row.id }, { environment: row.key, ...policy });
    return row;
  });
}

const databaseInput = z.object({ databaseId: z.string() });

/**
 * Deletes a database (ADMIN): IN_USE while a client uses it. The row is locked first: a client
 * being created on it (which locks it shared) commits before and is seen, or after and finds none.
 */
export async function deleteDatabase(db: Db, actor: Actor, input: { databaseId: string }): Promise<EnvironmentRow> {
  if (!hasRole(actor, "ADMIN")) throw new ForbiddenError("Only an ADMIN may delete a database");
  const { databaseId } = parseInput(databaseInput, input);
  return inTransaction(db, actor.organizationId, async (tx) => {
    const database = isUuid(databaseId) ? await lockDatabase(tx, actor.organizationId, databaseId, "update") : null;
    if (!database) throw new NotFoundError("database", databaseId);
    const users = await findClientsByDatabaseId(tx, database.id);
    if (users.length > 0) {
      throw new InUseError(
        `Database "${database.name}"`,
        users.map((c) => `client "${c.name}" uses it`),
      );
    }
    await deleteDatabaseRow(tx, database.id);
    const [environment] = await findEnvironmentsByIds(tx, actor.organizationId, [database.environmentId]);
    audit({ type: "Database", id: database.id }, { name: database.name, environment: environment.key });
    return environment;
  });
}

const environmentInput = z.object({ environmentId: z.string() });

/**
 * Deletes an environment (ADMIN, DESIGN.md §10): IN_USE while anything depends on it (clients,
 * databases, RUNTIME tokens, variable values, journey configurations, open requests), and never the
 * last editable one. The pipeline closes up around it — the environment above now compares with the
 * one below, and each state that changes is notified — and subscriptions filtered on it end. Its
 * row stays for the history that names it.
 *
 * Locks: the pipeline, then the rows of every environment FOR NO KEY UPDATE (the ranks move; writes
 * into one hold its row shared and are waited for, foreign-key checks are not), then the lock on
 * every application's sync states.
 */
export async function deleteEnvironment(db: Db, actor: Actor, input: { environmentId: string }): Promise<EnvironmentRow[]> {
  if (!hasRole(actor, "ADMIN")) throw new ForbiddenError("Only an ADMIN may delete an environment");
  const { environmentId } = parseInput(environmentInput, input);
  return inTransaction(db, actor.organizationId, async (tx) => {
    await lockPipeline(tx, actor.organizationId);
    const pipeline = await lockEnvironments(tx, actor.organizationId, "all", "no key update");
    const environment = pipeline.find((e) => e.id === environmentId);
    if (!environment) throw new NotFoundError("environment", environmentId);
    const dependents = await environmentDependents(tx, actor.organizationId, environment.id);
    if (environment.editable && !pipeline.some((e) => e.editable && e.id !== environment.id)) {
      dependents.unshift("the pipeline: it is the last editable environment, where changes start");
    } else if (pipeline[0].id === environment.id && pipeline.length > 1 && !pipeline[1].editable) {
      dependents.unshift(
        `the pipeline: changes start in its lowest environment, and ${pipeline[1].name}, which would be the lowest, is not editable`,
      );
    }
    if (dependents.length > 0) throw new InUseError(environment.name, dependents);
    await withSyncNotifications(tx, actor, "all", () => markEnvironmentDeleted(tx, environment));
    await notifySubjectGone(tx, environment.id);
    audit({ type: "Environment", id: environment.id }, { key: environment.key, name: environment.name, rank: environment.rank });
    return listEnvironments(tx, actor.organizationId);
  });
}

const updateEnvironmentInput = z.object({ environmentId: z.string(), name: inputs.name(100) });

export type UpdateEnvironmentInput = z.input<typeof updateEnvironmentInput>;

/** Renames an environment (ADMIN); its key never changes. */
export async function updateEnvironment(db: Db, actor: Actor, input: UpdateEnvironmentInput): Promise<EnvironmentRow> {
  if (!hasRole(actor, "ADMIN")) throw new ForbiddenError("Only an ADMIN may rename an environment");
  const { environmentId, name } = parseInput(updateEnvironmentInput, input);
  return inTransaction(db, actor.organizationId, async (tx) => {
    const environment = await environmentForWrite(tx, actor, environmentId, "no key update");
    const renamed = await updateEnvironmentName(tx, environment.id, name);
    audit({ type: "Environment", id: environment.id }, { key: environment.key, from: environment.name, to: name });
    return renamed;
  });
}

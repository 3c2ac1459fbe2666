import { z } from "zod";
import type { Db } from "../db/client.js";
import { listApplicationIds } from "../db/repositories/applications.js";
import { insertDatabase, insertEnvironmentAtRank, listEnvironments, updateApprovalPolicy } from "../db/repositories/environments.js";
import type { DatabaseRow, EnvironmentRow } from "../db/repositories/rows.js";
import { ForbiddenError, NotFoundError } from "../domain/errors.js";
import { POLICY_LIMITS } from "../domain/promotion-requests.js";
import { type Actor, hasRole } from "./actor.js";
import { inputs, parseInput } from "./input.js";
import { lockPipeline } from "./locks.js";
import { environmentOf } from "./lookups.js";
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
    const existing = await listEnvironments(tx, actor.organizationId);
    const rank = Math.min(values.rank, existing.length);
    const insert = () =>
      uniqueAs(
        insertEnvironmentAtRank(tx, { ...values, rank, organizationId: actor.organizationId }),
        `An environment with key "${values.key}" already exists`,
      );
    // Appended on top, it is compared with nothing yet: no state changes.
    if (rank === existing.length) return insert();
    return withSyncNotifications(tx, actor, await listApplicationIds(tx, actor.organizationId), insert);
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
    const environment = await environmentOf(tx, actor, values.environmentId);
    return uniqueAs(
      insertDatabase(tx, { organizationId: actor.organizationId, environmentId: environment.id, name: values.name }),
      `A database named "${values.name}" already exists`,
    );
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
    await environmentOf(tx, actor, environmentId);
    const row = await updateApprovalPolicy(tx, actor.organizationId, environmentId, policy);
    if (!row) throw new NotFoundError("environment", environmentId);
    // Then the open requests into it: a stricter policy reaches them too.
    await applyPolicyToOpenRequests(tx, actor, environmentId, policy, now);
    return row;
  });
}

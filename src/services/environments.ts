import { z } from "zod";
import type { Db } from "../db/client.js";
import { listApplicationIds } from "../db/repositories/applications.js";
import { insertDatabase, insertEnvironmentAtRank, listEnvironments } from "../db/repositories/environments.js";
import type { DatabaseRow, EnvironmentRow } from "../db/repositories/rows.js";
import type { Actor } from "./actor.js";
import { inputs, parseInput } from "./input.js";
import { lockPipeline } from "./locks.js";
import { environmentOf } from "./lookups.js";
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

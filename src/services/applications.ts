import { z } from "zod";
import type { Db } from "../db/client.js";
import { insertApplication } from "../db/repositories/applications.js";
import type { ApplicationRow } from "../db/repositories/rows.js";
import type { Actor } from "./actor.js";
import { inputs, parseInput } from "./input.js";
import { inTransaction, uniqueAs } from "./transaction.js";

const createApplicationInput = z.object({ name: inputs.name(100) });

export type CreateApplicationInput = z.input<typeof createApplicationInput>;

export async function createApplication(db: Db, actor: Actor, input: CreateApplicationInput): Promise<ApplicationRow> {
  const { name } = parseInput(createApplicationInput, input);
  return inTransaction(db, actor.organizationId, (tx) =>
    uniqueAs(insertApplication(tx, { organizationId: actor.organizationId, name }), `An application named "${name}" already exists`),
  );
}

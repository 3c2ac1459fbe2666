import type { Db } from "../db/client.js";
import { findApplicationsByIds } from "../db/repositories/applications.js";
import { findEnvironmentsByIds } from "../db/repositories/environments.js";
import { findJourneysByIds } from "../db/repositories/journeys.js";
import { findPropagationsByIds, type PropagationRow } from "../db/repositories/propagations.js";
import type { ApplicationRow, EnvironmentRow, JourneyRow } from "../db/repositories/rows.js";
import { NotFoundError } from "../domain/errors.js";
import { isUuid } from "../domain/uuid.js";
import type { Actor } from "./actor.js";

/*
 * The rows a use-case names by id, read in the caller's organization: NOT_FOUND when the id names
 * nothing there (a row of another organization is not found either). Every area's services use
 * them, so they depend on repositories alone.
 */

export async function environmentOf(db: Db, actor: Actor, id: string): Promise<EnvironmentRow> {
  const [row] = isUuid(id) ? await findEnvironmentsByIds(db, actor.organizationId, [id]) : [];
  if (!row) throw new NotFoundError("environment", id);
  return row;
}

export async function applicationOf(db: Db, actor: Actor, id: string): Promise<ApplicationRow> {
  const [row] = isUuid(id) ? await findApplicationsByIds(db, actor.organizationId, [id]) : [];
  if (!row) throw new NotFoundError("application", id);
  return row;
}

export async function journeyOf(db: Db, actor: Actor, id: string): Promise<JourneyRow> {
  const [row] = isUuid(id) ? await findJourneysByIds(db, actor.organizationId, [id]) : [];
  if (!row) throw new NotFoundError("journey", id);
  return row;
}

export async function propagationOf(db: Db, actor: Actor, id: string): Promise<PropagationRow> {
  const [row] = isUuid(id) ? await findPropagationsByIds(db, actor.organizationId, [id]) : [];
  if (!row) throw new NotFoundError("propagation", id);
  return row;
}

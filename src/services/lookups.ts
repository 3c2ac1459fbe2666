import type { Db } from "../db/client.js";
import { findApplicationsByIds, lockApplication, lockApplicationOfJourney } from "../db/repositories/applications.js";
import { findEnvironmentsByIds, lockEnvironments } from "../db/repositories/environments.js";
import { findJourneysByIds } from "../db/repositories/journeys.js";
import { findPropagationsByIds, type PropagationRow } from "../db/repositories/propagations.js";
import type { ApplicationRow, EnvironmentRow, JourneyRow } from "../db/repositories/rows.js";
import { ArchivedError, NotFoundError } from "../domain/errors.js";
import { isUuid } from "../domain/uuid.js";
import type { Actor } from "./actor.js";

/*
 * The rows a use-case names by id, read in the caller's organization: NOT_FOUND when the id names
 * nothing there (a row of another organization is not found either). Every area's services use
 * them, so they depend on repositories alone.
 */

/** A deleted environment is not found: it is only named by the history. */
export async function environmentOf(db: Db, actor: Actor, id: string): Promise<EnvironmentRow> {
  const [row] = isUuid(id) ? await findEnvironmentsByIds(db, actor.organizationId, [id]) : [];
  if (!row || row.deletedAt !== null) throw new NotFoundError("environment", id);
  return row;
}

/**
 * An environment a write puts something into (a client, a database, a value, a RUNTIME token), its
 * row locked shared until commit: a deletion of the environment waits for the write and then sees
 * what it put there (IN_USE), or commits first and the write finds no environment (NOT_FOUND).
 * `"no key update"` for a write of the row itself (its name, its approval policy): two of those
 * holding it shared would each wait for the other's update (a deadlock, found by an attacking review).
 */
export async function environmentForWrite(
  db: Db,
  actor: Actor,
  id: string,
  mode: "share" | "no key update" = "share",
): Promise<EnvironmentRow> {
  const [row] = isUuid(id) ? await lockEnvironments(db, actor.organizationId, [id], mode) : [];
  if (!row) throw new NotFoundError("environment", id);
  return row;
}

export async function applicationOf(db: Db, actor: Actor, id: string): Promise<ApplicationRow> {
  const [row] = isUuid(id) ? await findApplicationsByIds(db, actor.organizationId, [id]) : [];
  if (!row) throw new NotFoundError("application", id);
  return row;
}

/**
 * The application a write goes to, its row locked shared until commit: ARCHIVED when it is archived,
 * and an archive waits for the write (or the write sees it). Every write to an application's
 * configuration, clients, journeys or requests takes it first.
 */
export async function writableApplication(db: Db, actor: Actor, id: string): Promise<ApplicationRow> {
  const row = isUuid(id) ? await lockApplication(db, actor.organizationId, id, "share") : null;
  if (!row) throw new NotFoundError("application", id);
  if (row.archivedAt !== null) throw new ArchivedError(row.name);
  return row;
}

/**
 * The application of the journey `journeyId` names, as {@link writableApplication} takes it: in one
 * statement, so that it goes in the round trip that reads the journey. A journey not found is not
 * told here: its caller reads the journey too, and says so first.
 */
export async function writableApplicationOfJourney(db: Db, actor: Actor, journeyId: string): Promise<ApplicationRow | null> {
  const row = isUuid(journeyId) ? await lockApplicationOfJourney(db, actor.organizationId, journeyId) : null;
  if (row?.archivedAt != null) throw new ArchivedError(row.name);
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

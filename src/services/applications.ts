import { z } from "zod";
import type { Db } from "../db/client.js";
import { insertApplication, lockApplication, updateApplicationRow } from "../db/repositories/applications.js";
import type { ApplicationRow } from "../db/repositories/rows.js";
import { notifySubjectGone } from "../db/repositories/sync-notifications.js";
import { ArchivedError, ForbiddenError, NotFoundError, ValidationError } from "../domain/errors.js";
import { isUuid } from "../domain/uuid.js";
import { type Actor, hasRole } from "./actor.js";
import { audit } from "./audit.js";
import { inputs, parseInput } from "./input.js";
import { inTransaction, uniqueAs } from "./transaction.js";

const createApplicationInput = z.object({ name: inputs.name(100) });

export type CreateApplicationInput = z.input<typeof createApplicationInput>;

export async function createApplication(db: Db, actor: Actor, input: CreateApplicationInput): Promise<ApplicationRow> {
  const { name } = parseInput(createApplicationInput, input);
  return inTransaction(db, actor.organizationId, async (tx) => {
    const row = await uniqueAs(
      insertApplication(tx, { organizationId: actor.organizationId, name }),
      `An application named "${name}" already exists`,
    );
    audit({ type: "Application", id: row.id }, { name });
    return row;
  });
}

const applicationInput = z.object({ applicationId: z.string() });

/** The application's row locked for a write of the row itself (ADMIN): NOT_FOUND outside the organization. */
async function lockedApplication(tx: Db, actor: Actor, id: string): Promise<ApplicationRow> {
  if (!hasRole(actor, "ADMIN")) throw new ForbiddenError("Only an ADMIN may archive, unarchive or rename an application");
  const row = isUuid(id) ? await lockApplication(tx, actor.organizationId, id, "no key update") : null;
  if (!row) throw new NotFoundError("application", id);
  return row;
}

/**
 * Archives an application (ADMIN, DESIGN.md §10): it leaves `applications` (unless
 * `includeArchived`), every write to it is refused with ARCHIVED, and subscriptions filtered on it
 * end. Its configuration, history and sync states stay as they are. Writes to it hold its row shared
 * (`writableApplication`): the archive waits for them, and those after it see it.
 */
export async function archiveApplication(db: Db, actor: Actor, input: { applicationId: string }): Promise<ApplicationRow> {
  const { applicationId } = parseInput(applicationInput, input);
  return inTransaction(db, actor.organizationId, async (tx) => {
    const application = await lockedApplication(tx, actor, applicationId);
    if (application.archivedAt !== null) throw new ArchivedError(application.name);
    const archived = await updateApplicationRow(tx, application.id, { archivedAt: new Date() });
    await notifySubjectGone(tx, application.id);
    audit({ type: "Application", id: application.id }, { name: application.name });
    return archived;
  });
}

/** Makes an archived application writable and listed again (ADMIN). */
export async function unarchiveApplication(db: Db, actor: Actor, input: { applicationId: string }): Promise<ApplicationRow> {
  const { applicationId } = parseInput(applicationInput, input);
  return inTransaction(db, actor.organizationId, async (tx) => {
    const application = await lockedApplication(tx, actor, applicationId);
    if (application.archivedAt === null) {
      throw new ValidationError([{ path: "applicationId", message: `${application.name} is not archived` }]);
    }
    const restored = await updateApplicationRow(tx, application.id, { archivedAt: null });
    audit({ type: "Application", id: application.id }, { name: application.name });
    return restored;
  });
}

const updateApplicationInput = z.object({ applicationId: z.string(), name: inputs.name(100) });

export type UpdateApplicationInput = z.input<typeof updateApplicationInput>;

/** Renames an application (ADMIN); names are unique in the organization. */
export async function updateApplication(db: Db, actor: Actor, input: UpdateApplicationInput): Promise<ApplicationRow> {
  const { applicationId, name } = parseInput(updateApplicationInput, input);
  return inTransaction(db, actor.organizationId, async (tx) => {
    const application = await lockedApplication(tx, actor, applicationId);
    if (application.archivedAt !== null) throw new ArchivedError(application.name);
    const renamed = await uniqueAs(updateApplicationRow(tx, application.id, { name }), `An application named "${name}" already exists`);
    audit({ type: "Application", id: application.id }, { from: application.name, to: name });
    return renamed;
  });
}

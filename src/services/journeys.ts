import { z } from "zod";
import type { Db } from "../db/client.js";
import { lockDraft } from "../db/repositories/drafts.js";
import { listEnvironments } from "../db/repositories/environments.js";
import {
  appendVersion,
  findHeads,
  findJourneyByKey,
  insertJourney,
  listVersions,
  retireJourneys,
  updateJourneyName,
} from "../db/repositories/journeys.js";
import type { JourneyRow, JourneyVersionRow } from "../db/repositories/rows.js";
import { canonicalHash } from "../domain/canonical-json.js";
import { AlreadyExistsError, DraftConflictError, EnvironmentLockedError, ValidationError } from "../domain/errors.js";
import { JOURNEY_TYPES } from "../domain/journey-document.js";
import { defaultJourneyDocument, validateJourneyDocument } from "../domain/journey-validation.js";
import { type Actor, savedBy } from "./actor.js";
import { audit } from "./audit.js";
import { editTarget, headOf } from "./drafts.js";
import { inputs, parseInput } from "./input.js";
import { lockConfigurations } from "./locks.js";
import { journeyOf, writableApplication } from "./lookups.js";
import { withSyncNotifications } from "./sync-notifications.js";
import { inTransaction, uniqueAs } from "./transaction.js";
import { checkVariablesIn } from "./variables.js";

const createJourneyInput = z.object({
  applicationId: z.string(),
  key: inputs.slug(64),
  name: inputs.name(200),
  type: z.enum(JOURNEY_TYPES, { message: `must be one of ${JOURNEY_TYPES.join(", ")}` }),
  document: inputs.optional(z.unknown()),
});

export type CreateJourneyInput = z.input<typeof createJourneyInput>;

/** A new journey: version 1 of its document in the lowest environment, which must be editable. */
export async function createJourney(db: Db, actor: Actor, input: CreateJourneyInput): Promise<JourneyRow> {
  const values = parseInput(createJourneyInput, input);
  const validated =
    values.document === undefined ? ({ ok: true, value: defaultJourneyDocument() } as const) : validateJourneyDocument(values.document);
  if (!validated.ok) {
    throw new ValidationError(
      validated.problems.map((p) =>
        p.path ? { path: `document.${p.path}`, message: `document.${p.message}` } : { path: "document", message: `document: ${p.message}` },
      ),
    );
  }
  const document = validated.value;
  return inTransaction(db, actor.organizationId, async (tx) => {
    const application = await writableApplication(tx, actor, values.applicationId);
    const [lowest] = await listEnvironments(tx, actor.organizationId);
    if (!lowest.editable) throw new EnvironmentLockedError(lowest.name);
    await lockConfigurations(tx, application.id, { write: lowest.id });
    // Saved as version 1 there: every reference needs a fitting value there, as for a save.
    const variables = await checkVariablesIn(tx, actor.organizationId, lowest, {
      journeys: [{ key: values.key, document, path: "document" }],
    });
    if (variables.problems.length > 0) throw new ValidationError(variables.problems);
    return withSyncNotifications(tx, actor, [application.id], async () => {
      // A retired journey keeps its key: it comes back by a restore, with its history.
      const taken = await findJourneyByKey(tx, application.id, values.key);
      if (taken) {
        const retired = (await findHeads(tx, actor.organizationId, [{ journeyId: taken.id, environmentId: lowest.id }])).length === 0;
        throw new AlreadyExistsError(
          retired
            ? `${application.name} has a retired journey with key "${values.key}": keys are not reused — restore one of its versions (restoreJourneyVersion) instead`
            : `${application.name} already has a journey with key "${values.key}"`,
        );
      }
      const journey = await uniqueAs(
        insertJourney(tx, {
          organizationId: actor.organizationId,
          applicationId: application.id,
          key: values.key,
          name: values.name,
          type: values.type,
        }),
        `${application.name} already has a journey with key "${values.key}"`,
      );
      await appendVersion(tx, { journeyId: journey.id, environmentId: lowest.id }, null, {
        document,
        hash: canonicalHash(document),
        origin: "SAVE",
        ...savedBy(actor),
        comment: "Journey created",
      });
      audit(
        { type: "Journey", id: journey.id },
        { application: application.name, key: journey.key, name: journey.name, type: journey.type },
      );
      return journey;
    });
  });
}

export async function journeyVersions(
  db: Db,
  key: { journeyId: string; environmentId: string },
  page: Parameters<typeof listVersions>[2],
): Promise<JourneyVersionRow[]> {
  return listVersions(db, key, page);
}

const retireInput = z.object({ journeyId: z.string(), environmentId: z.string(), comment: inputs.optional(inputs.comment()) });

export type RetireJourneyInput = z.input<typeof retireInput>;

/**
 * Retires a journey in an editable environment (DESIGN.md §10): a tombstone version ends its
 * history there (origin SAVE, keeping the document it retired) and it has no configuration there
 * any more. Upper environments then differ by one REMOVED change at `/journeys/<key>`, promoted like
 * any change. Refused while the journey has a draft there (its edits would be lost: save or discard
 * them first) and where it is retired already.
 */
export async function retireJourney(db: Db, actor: Actor, input: RetireJourneyInput): Promise<JourneyRow> {
  const values = parseInput(retireInput, input);
  return inTransaction(db, actor.organizationId, async (tx) => {
    const target = await editTarget(tx, actor, values.journeyId, values.environmentId);
    const { journey, environment } = target;
    await lockConfigurations(tx, journey.applicationId, { write: environment.id });
    const draft = await lockDraft(tx, target.key);
    if (draft) {
      throw new DraftConflictError(
        `Journey "${journey.key}" has unsaved edits in ${environment.name} (by ${draft.updatedBy}): save or discard them before retiring it`,
      );
    }
    const head = await headOf(tx, actor, target.key, environment, journey);
    await withSyncNotifications(tx, actor, [journey.applicationId], async () => {
      const retired = await retireJourneys(tx, [
        {
          key: target.key,
          headVersion: head.version,
          document: head.document,
          hash: head.hash,
          origin: "SAVE",
          ...savedBy(actor),
          comment: values.comment ?? "Journey retired",
        },
      ]);
      if (!retired) throw new DraftConflictError("The journey was saved by someone else meanwhile. Review it again.");
    });
    audit({ type: "Journey", id: journey.id }, { journey: journey.key, environment: environment.key, version: head.version + 1 });
    return journey;
  });
}

const updateJourneyInput = z.object({ journeyId: z.string(), name: inputs.name(200) });

export type UpdateJourneyInput = z.input<typeof updateJourneyInput>;

/** Renames a journey (its key never changes): a catalogue edit, the same in every environment. */
export async function updateJourney(db: Db, actor: Actor, input: UpdateJourneyInput): Promise<JourneyRow> {
  const values = parseInput(updateJourneyInput, input);
  return inTransaction(db, actor.organizationId, async (tx) => {
    const journey = await journeyOf(tx, actor, values.journeyId);
    await writableApplication(tx, actor, journey.applicationId);
    const renamed = await updateJourneyName(tx, journey.id, values.name);
    audit({ type: "Journey", id: journey.id }, { journey: journey.key, from: journey.name, to: renamed.name });
    return renamed;
  });
}

import { z } from "zod";
import type { Db } from "../db/client.js";
import { listEnvironments } from "../db/repositories/environments.js";
import { appendVersion, insertJourney, listVersions } from "../db/repositories/journeys.js";
import type { JourneyRow, JourneyVersionRow } from "../db/repositories/rows.js";
import { canonicalHash } from "../domain/canonical-json.js";
import { EnvironmentLockedError, ValidationError } from "../domain/errors.js";
import { JOURNEY_TYPES } from "../domain/journey-document.js";
import { defaultJourneyDocument, validateJourneyDocument } from "../domain/journey-validation.js";
import { type Actor, savedBy } from "./actor.js";
import { inputs, parseInput } from "./input.js";
import { lockConfigurations } from "./locks.js";
import { applicationOf } from "./lookups.js";
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
    const application = await applicationOf(tx, actor, values.applicationId);
    const [lowest] = await listEnvironments(tx, actor.organizationId);
    if (!lowest.editable) throw new EnvironmentLockedError(lowest.name);
    await lockConfigurations(tx, application.id, { write: lowest.id });
    // Saved as version 1 there: every reference needs a fitting value there, as for a save.
    const variables = await checkVariablesIn(tx, actor.organizationId, lowest, {
      journeys: [{ key: values.key, document, path: "document" }],
    });
    if (variables.problems.length > 0) throw new ValidationError(variables.problems);
    return withSyncNotifications(tx, actor, [application.id], async () => {
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

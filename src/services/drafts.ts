import { z } from "zod";
import type { Db } from "../db/client.js";
import { pipelined } from "../db/pipelined.js";
import { deleteDraft, insertDraft, type JourneyDraftRow, lockDraft, startDraft, updateDraft } from "../db/repositories/drafts.js";
import {
  appendVersion,
  findHeadVersions,
  findLastVersions,
  findVersions,
  type JourneyEnvironmentKey,
} from "../db/repositories/journeys.js";
import type { EnvironmentRow, JourneyRow, JourneyVersionRow } from "../db/repositories/rows.js";
import { canonicalHash } from "../domain/canonical-json.js";
import { diffApplication } from "../domain/diff.js";
import { putStep, removeStep, setStart } from "../domain/draft-edits.js";
import { DraftConflictError, EnvironmentLockedError, InvalidConfigurationError, NotFoundError, ValidationError } from "../domain/errors.js";
import type { JourneyDocument, Problem } from "../domain/journey-document.js";
import { journeyProblems, journeyVariableProblems, validateStep } from "../domain/journey-validation.js";
import { PROTOTYPE_KEY, prototypeKeyProblem } from "../domain/prototype-key.js";
import { type Actor, savedBy, updatedBy } from "./actor.js";
import { audit } from "./audit.js";
import { inputs, parseInput } from "./input.js";
import type { Loaders } from "./loaders.js";
import { lockConfigurationForDraft, lockConfigurations } from "./locks.js";
import { environmentOf, journeyOf, writableApplicationOfJourney } from "./lookups.js";
import { lockedSyncStates, withSyncNotifications } from "./sync-notifications.js";
import { inTransaction } from "./transaction.js";
import { checkVariablesIn, variablesInLoaded } from "./variables.js";

export type { JourneyDraftRow };

const stepInput = z.object({
  key: z.string(),
  type: z.string(),
  name: z.string(),
  enabled: z.boolean().default(true),
  settings: inputs.optional(z.unknown()),
  transitions: z.array(z.object({ outcome: z.string(), to: z.string() })).max(20, "must have at most 20 entries"),
});

const saveStepInput = z.object({
  journeyId: z.string(),
  environmentId: z.string(),
  step: stepInput,
  position: inputs.optional(z.number().int("must be an integer").min(0, "must be 0 or more")),
});

const stepRefInput = z.object({ journeyId: z.string(), environmentId: z.string(), stepKey: z.string().max(200) });
const draftRefInput = z.object({ journeyId: z.string(), environmentId: z.string() });
const saveJourneyInput = z.object({
  journeyId: z.string(),
  environmentId: z.string(),
  draftRevision: z.number().int("must be an integer").min(0, "must be 0 or more"),
  comment: inputs.optional(inputs.comment()),
});

export type SaveJourneyStepInput = z.input<typeof saveStepInput>;
export type StepRefInput = z.input<typeof stepRefInput>;
export type DraftRefInput = z.input<typeof draftRefInput>;
export type SaveJourneyInput = z.input<typeof saveJourneyInput>;

const restoreInput = z.object({
  journeyId: z.string(),
  environmentId: z.string(),
  version: z.number().int("must be an integer").min(1, "must be 1 or more"),
});

export type RestoreJourneyVersionInput = z.input<typeof restoreInput>;

/**
 * The journey and the editable environment an edit targets, checked in this order: ids, the
 * application (not archived; its row locked shared), then the environment's lock.
 */
export async function editTarget(tx: Db, actor: Actor, journeyId: string, environmentId: string) {
  // One round trip: the journey, the environment, and the journey's application locked.
  const [journey, environment, application] = await pipelined(
    journeyOf(tx, actor, journeyId),
    environmentOf(tx, actor, environmentId),
    writableApplicationOfJourney(tx, actor, journeyId),
  );
  if (!application) throw new NotFoundError("application", journey.applicationId);
  if (!environment.editable) throw new EnvironmentLockedError(environment.name);
  return { journey, environment, key: { journeyId: journey.id, environmentId: environment.id } };
}

/**
 * The target of a draft edit, its configuration locked shared (see lockConfigurationForDraft), and its
 * draft locked (null: none yet) — the draft read once the lock is held, in the same round trip.
 */
async function draftTarget(tx: Db, actor: Actor, journeyId: string, environmentId: string) {
  const target = await editTarget(tx, actor, journeyId, environmentId);
  const [, draft] = await pipelined(
    lockConfigurationForDraft(tx, target.journey.applicationId, target.environment.id),
    lockDraft(tx, target.key),
  );
  return { ...target, draft };
}

/** The head version; a retired journey has none, and says how to bring it back. */
export async function headOf(tx: Db, actor: Actor, key: JourneyEnvironmentKey, environment: EnvironmentRow, journey: JourneyRow) {
  const current = await currentOf(tx, actor, key, environment, journey);
  if (current.retired) throw retiredError(journey, environment);
  return current;
}

export const retiredError = (journey: JourneyRow, environment: EnvironmentRow) =>
  new ValidationError([
    {
      path: "journeyId",
      message: `Journey "${journey.key}" is retired in ${environment.name}: restore one of its versions (restoreJourneyVersion) to edit it again`,
    },
  ]);

/**
 * What a journey is now in an environment: its head version, or — where it is retired — its
 * tombstone (the last version, `retired`). NOT_FOUND where it never was.
 */
async function currentOf(
  tx: Db,
  actor: Actor,
  key: JourneyEnvironmentKey,
  environment: EnvironmentRow,
  journey: JourneyRow,
  heads?: readonly JourneyVersionRow[],
) {
  const [head] = heads ?? (await findHeadVersions(tx, actor.organizationId, [key]));
  if (head) return head;
  const [last] = await findLastVersions(tx, actor.organizationId, [key]);
  if (!last?.retired) throw new NotFoundError(`version of journey "${journey.key}" in ${environment.name}`);
  return last;
}

/** An edit of a journey in an environment, for the audit log: the journey is its subject. */
function auditDraft(target: Awaited<ReturnType<typeof editTarget>>, details: Record<string, unknown>): void {
  audit({ type: "Journey", id: target.journey.id }, { journey: target.journey.key, environment: target.environment.key, ...details });
}

/**
 * Makes `edit` the draft's next revision (the draft locked by draftTarget). Without a draft, it is
 * started from the head version with the edit made, as revision 1 — what starting it at 0 and
 * editing it gave, in one statement; if a concurrent first edit started it meanwhile, that draft is
 * locked and edited instead.
 */
async function editDraft(
  tx: Db,
  actor: Actor,
  target: Awaited<ReturnType<typeof draftTarget>>,
  edit: (document: JourneyDocument) => JourneyDocument,
): Promise<JourneyDraftRow> {
  let draft = target.draft;
  if (!draft) {
    const head = await headOf(tx, actor, target.key, target.environment, target.journey);
    const started = await insertDraft(tx, {
      ...target.key,
      organizationId: actor.organizationId,
      baseVersion: head.version,
      document: edit(head.document),
      revision: 1,
      ...updatedBy(actor),
    });
    if (started) return started;
    draft = (await lockDraft(tx, target.key))!;
  }
  return updateDraft(tx, target.key, edit(draft.document), updatedBy(actor));
}

/** "Save changes" on one step: inserts or replaces the whole step in the draft. */
export async function saveJourneyStep(db: Db, actor: Actor, input: SaveJourneyStepInput): Promise<JourneyDraftRow> {
  const values = parseInput(saveStepInput, input);
  const { step } = values;
  const problems: Problem[] = [];
  const transitions: Record<string, string> = {};
  for (const [index, { outcome, to }] of step.transitions.entries()) {
    // Outcomes become keys: a "__proto__" one would vanish in the assignment below.
    if (outcome === PROTOTYPE_KEY) problems.push(prototypeKeyProblem(`step.transitions.${index}.outcome`, "an outcome"));
    else if (Object.hasOwn(transitions, outcome))
      problems.push({
        path: `step.transitions.${index}.outcome`,
        message: `step.transitions.${index}.outcome "${outcome.slice(0, 64)}" appears twice`,
      });
    transitions[outcome] = to;
  }
  const validated = validateStep(step.key, {
    type: step.type,
    name: step.name,
    enabled: step.enabled,
    settings: step.settings ?? {},
    transitions,
  });
  if (!validated.ok || problems.length > 0) throw new ValidationError([...problems, ...(validated.ok ? [] : validated.problems)]);
  const definition = validated.value;

  return inTransaction(db, actor.organizationId, async (tx) => {
    const target = await draftTarget(tx, actor, values.journeyId, values.environmentId);
    auditDraft(target, { step: step.key });
    return editDraft(tx, actor, target, (document) => putStep(document, step.key, definition, values.position));
  });
}

/** Applies a pure edit naming one step to the draft of a journey in an environment, in one transaction. */
function editStep(db: Db, actor: Actor, input: StepRefInput, edit: typeof removeStep): Promise<JourneyDraftRow> {
  const values = parseInput(stepRefInput, input);
  return inTransaction(db, actor.organizationId, async (tx) => {
    const target = await draftTarget(tx, actor, values.journeyId, values.environmentId);
    auditDraft(target, { step: values.stepKey });
    return editDraft(tx, actor, target, (document) => edit(document, values.stepKey));
  });
}

/** Removes a step from the draft. What pointed at it becomes a problem of the draft, to fix before saving. */
export function removeJourneyStep(db: Db, actor: Actor, input: StepRefInput): Promise<JourneyDraftRow> {
  return editStep(db, actor, input, removeStep);
}

export function setJourneyStart(db: Db, actor: Actor, input: StepRefInput): Promise<JourneyDraftRow> {
  return editStep(db, actor, input, setStart);
}

/**
 * The draft becomes an earlier version's document, on the current head: reviewed like any draft
 * (its changes against the head, its problems), saved with saveJourney as a version of origin
 * RESTORE — unless it is edited further, which makes it an ordinary draft again.
 */
export async function restoreJourneyVersion(db: Db, actor: Actor, input: RestoreJourneyVersionInput): Promise<JourneyDraftRow> {
  const values = parseInput(restoreInput, input);
  return inTransaction(db, actor.organizationId, async (tx) => {
    const target = await draftTarget(tx, actor, values.journeyId, values.environmentId);
    const [version] = await findVersions(tx, actor.organizationId, [{ ...target.key, version: values.version }]);
    if (!version) throw new NotFoundError(`version ${values.version} of journey "${target.journey.key}" in ${target.environment.name}`);
    const current = await currentOf(tx, actor, target.key, target.environment, target.journey);
    if (!target.draft) {
      await startDraft(tx, {
        ...target.key,
        organizationId: actor.organizationId,
        baseVersion: current.version,
        document: current.document,
        ...updatedBy(actor),
      });
    }
    // A retired journey comes back whole, whatever version: it has no configuration to equal.
    if (!current.retired && version.hash === current.hash) {
      throw new ValidationError([
        {
          path: "version",
          message: `Version ${values.version} is what journey "${target.journey.key}" holds now (version ${current.version}): nothing to restore`,
        },
      ]);
    }
    auditDraft(target, { version: version.version });
    return updateDraft(tx, target.key, version.document, updatedBy(actor), {
      baseVersion: current.version,
      restoredFromVersion: version.version,
    });
  });
}

/** Drops the draft (if any); the head version stays as it was. */
export async function discardJourneyDraft(db: Db, actor: Actor, input: DraftRefInput): Promise<JourneyRow> {
  const values = parseInput(draftRefInput, input);
  return inTransaction(db, actor.organizationId, async (tx) => {
    const target = await draftTarget(tx, actor, values.journeyId, values.environmentId);
    await deleteDraft(tx, target.key);
    auditDraft(target, {});
    return target.journey;
  });
}

/**
 * "Save in development": the reviewed draft becomes the next version. The draft must still be the
 * revision the person reviewed and be based on the current head; otherwise DRAFT_CONFLICT and
 * nothing is saved.
 */
export async function saveJourney(db: Db, actor: Actor, input: SaveJourneyInput): Promise<JourneyVersionRow> {
  const values = parseInput(saveJourneyInput, input);
  return inTransaction(db, actor.organizationId, async (tx) => {
    const target = await editTarget(tx, actor, values.journeyId, values.environmentId);
    // In one round trip, in this order: the configuration's lock, then the draft and the head under
    // it, then the application's sync states (locked after the configuration, withSyncNotifications).
    const [, draft, heads, syncStates] = await pipelined(
      lockConfigurations(tx, target.journey.applicationId, { write: target.environment.id }),
      lockDraft(tx, target.key),
      findHeadVersions(tx, actor.organizationId, [target.key]),
      lockedSyncStates(tx, actor, [target.journey.applicationId]),
    );
    if (!draft) throw new DraftConflictError("There is no draft to save: it was saved or discarded meanwhile. Review the journey again.");
    if (draft.revision !== values.draftRevision) {
      throw new DraftConflictError(
        `The draft is at revision ${draft.revision}, not ${values.draftRevision}: it changed after your review. Review it again.`,
      );
    }
    const head = await currentOf(tx, actor, target.key, target.environment, target.journey, heads);
    if (head.version !== draft.baseVersion) {
      throw new DraftConflictError(`The draft was started from version ${draft.baseVersion}, but version ${head.version} is current.`);
    }
    const problems = journeyProblems(draft.document);
    if (problems.length > 0) throw new InvalidConfigurationError(problems);
    // Every reference must have a value here that fits (DESIGN.md §6).
    const variables = await checkVariablesIn(tx, actor.organizationId, target.environment, {
      journeys: [{ key: target.journey.key, document: draft.document, path: "" }],
    });
    if (variables.problems.length > 0) throw new InvalidConfigurationError(variables.problems);
    const hash = canonicalHash(draft.document);
    if (!head.retired && hash === head.hash) {
      throw new ValidationError([{ path: "draftRevision", message: "Nothing to save: the draft does not change the journey" }]);
    }
    const restored = draft.restoredFromVersion;
    return withSyncNotifications(tx, actor, syncStates, async () => {
      // In one round trip: the version, the head moved to it, the draft dropped (all rolled back
      // when someone moved the head first).
      const [version] = await pipelined(
        appendVersion(tx, target.key, head.version, {
          document: draft.document,
          hash,
          origin: restored === null ? "SAVE" : "RESTORE",
          ...savedBy(actor),
          comment: values.comment ?? (restored === null ? null : `Restored version ${restored}`),
        }),
        deleteDraft(tx, target.key),
      );
      if (!version) throw new DraftConflictError("The journey was saved by someone else meanwhile. Review it again.");
      auditDraft(target, { version: version.version, origin: version.origin });
      return version;
    });
  });
}

/** The draft's changes against the saved version: the same shape, ids and summaries as the `diff` query. */
export async function draftChanges(loaders: Loaders, draft: JourneyDraftRow) {
  const [journey, head] = await Promise.all([
    loaders.journey.load(draft.journeyId),
    loaders.headVersion.load({ journeyId: draft.journeyId, environmentId: draft.environmentId }),
  ]);
  if (!journey) return [];
  const side = (document: JourneyDocument | undefined, hash: string) => ({
    client: null,
    journeys: document ? { [journey.key]: { document, hash } } : {},
  });
  const result = diffApplication(side(draft.document, canonicalHash(draft.document)), side(head?.document, head?.hash ?? ""), {
    includeClient: false,
  });
  return result.changes.map((change) => ({ ...change, journeyId: journey.id }));
}

/**
 * What the draft breaks now — whole-journey rules, and references without a fitting value in its
 * environment; saving is refused while any remain.
 */
export async function draftProblems(loaders: Loaders, draft: JourneyDraftRow): Promise<Problem[]> {
  const problems = journeyProblems(draft.document);
  if (!JSON.stringify(draft.document).includes("&{")) return problems;
  const [lookup, environment] = await Promise.all([
    variablesInLoaded(loaders, draft.environmentId),
    loaders.environment.load(draft.environmentId),
  ]);
  return [...problems, ...journeyVariableProblems(draft.document, lookup, environment?.name ?? "this environment").problems];
}

import { draftChanges, draftProblems, type JourneyDraftRow, type JourneyRow, type JourneyVersionRow } from "../../services/index.js";
import { builder } from "../builder.js";
import type { GraphQLContext } from "../context.js";
import { LIST_SIZES, listCost } from "../cost.js";
import { environmentIdOf, journeyEnvironmentLocalId, localId, parseJourneyEnvironmentLocalId } from "../ids.js";
import { ConfigChangeRef } from "./diff.js";
import { Errors, mutationErrors, ProblemRef } from "./errors.js";
import { JourneyStepRef, stepsInOrder } from "./journeys.js";
import { ApiTokenRef, JourneyRef, JourneyVersionRef } from "./refs.js";

export const JourneyDraftRef = builder.objectRef<JourneyDraftRow>("JourneyDraft");

builder.node(JourneyDraftRef, {
  description:
    "Pending edits of a journey in an editable environment, to review and then save as the next version. One per journey and environment: its id stays the same while it exists (and if it is discarded and started again).",
  id: { resolve: journeyEnvironmentLocalId },
  loadOne: (id, { loaders }) => {
    const key = parseJourneyEnvironmentLocalId(id);
    return key ? loaders.draft.load(key) : null;
  },
  fields: (t) => ({
    journey: t.field({
      type: JourneyRef,
      description: "The journey.",
      resolve: async (d, _args, { loaders }) => (await loaders.journey.load(d.journeyId))!,
    }),
    baseVersion: t.exposeInt("baseVersion", { description: "The version the draft was started from." }),
    restoredFromVersion: t.exposeInt("restoredFromVersion", {
      nullable: true,
      description:
        "The version restoreJourneyVersion made this draft from (saving writes a version of origin RESTORE); null for a draft edited otherwise.",
    }),
    revision: t.exposeInt("revision", { description: "Number of edits so far; pass it to saveJourney to save exactly what was reviewed." }),
    steps: t.field({
      type: [JourneyStepRef],
      complexity: listCost(LIST_SIZES.steps),
      description: "The steps in display order.",
      resolve: (d) => stepsInOrder(d.document),
    }),
    document: t.field({ type: "JSON", description: "The whole draft document (start, order, steps).", resolve: (d) => d.document }),
    changes: t.field({
      type: [ConfigChangeRef],
      complexity: listCost(LIST_SIZES.changes),
      description: "What saving would change against the saved version: same shape, ids and summaries as the `diff` query.",
      resolve: (d, _args, { loaders }) => draftChanges(loaders, d),
    }),
    problems: t.field({
      type: [ProblemRef],
      complexity: listCost(LIST_SIZES.problems),
      description:
        "What the draft breaks now — whole-journey rules (e.g. a transition to a removed step) and variable references without a fitting value in its environment; saving is refused while any remain.",
      resolve: (d, _args, { loaders }) => draftProblems(loaders, d),
    }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "When it was last edited." }),
    updatedBy: t.exposeString("updatedBy", { description: "Who edited it last (the token's name)." }),
    updatedByApiToken: t.field({
      type: ApiTokenRef,
      nullable: true,
      description:
        "The token that edited it last (revoked or not): names repeat once a token is revoked, the token does not. Null for drafts last edited before audit records kept the token.",
      resolve: (d, _args, { loaders }) => (d.updatedByTokenId ? loaders.apiToken.load(d.updatedByTokenId) : null),
    }),
  }),
});

builder.objectFields(JourneyRef, (t) => ({
  draft: t.field({
    type: JourneyDraftRef,
    nullable: true,
    description: "The pending draft in an environment; null when there is none.",
    args: { environmentId: t.arg.id({ description: "Global ID of the environment." }) },
    resolve: async (j, { environmentId }, { loaders }) =>
      loaders.draft.load({ journeyId: j.id, environmentId: await environmentIdOf(loaders, environmentId) }),
  }),
}));

const StepTransitionInput = builder.inputType("StepTransitionInput", {
  description: "Where a step leads on one outcome.",
  fields: (t) => ({
    outcome: t.string({ description: "Outcome slug, e.g. `success`." }),
    to: t.string({ description: "Key of an existing step of the draft (or this step), or `COMPLETE` / `DENY`." }),
  }),
});

const JourneyStepInput = builder.inputType("JourneyStepInput", {
  description: 'A whole step, as "Save changes" sends it.',
  fields: (t) => ({
    key: t.string({ description: "Slug, unique in the journey; an existing key replaces that step." }),
    type: t.string({ description: "Step type from the catalogue, e.g. `EMAIL_OTP`." }),
    name: t.string({ description: "Display name." }),
    enabled: t.boolean({ description: "Whether the step runs." }),
    settings: t.field({ type: "JSON", description: "Type-specific settings; omitted ones take their defaults." }),
    transitions: t.field({ type: [StepTransitionInput], description: "Outcome → next step; each outcome once." }),
  }),
});

const SaveJourneyStepInput = builder.inputType("SaveJourneyStepInput", {
  description: "Inserts or replaces one step in the draft (started from the saved version on the first edit).",
  fields: (t) => ({
    journeyId: t.id({ description: "Global ID of the journey." }),
    environmentId: t.id({ description: "Global ID of an editable environment." }),
    step: t.field({ type: JourneyStepInput, description: "The whole step." }),
    position: t.int({ required: false, description: "Index in the display order; default: keep the step's place, or append a new one." }),
  }),
});

const StepRefFields = (what: string) =>
  builder.inputType(`${what}Input`, {
    description: what === "RemoveJourneyStep" ? "The step to remove from the draft." : "The step to start the journey with.",
    fields: (t) => ({
      journeyId: t.id({ description: "Global ID of the journey." }),
      environmentId: t.id({ description: "Global ID of an editable environment." }),
      stepKey: t.string({ description: "Key of a step of the draft." }),
    }),
  });

const RestoreJourneyVersionInput = builder.inputType("RestoreJourneyVersionInput", {
  description: "The version to restore into the draft.",
  fields: (t) => ({
    journeyId: t.id({ description: "Global ID of the journey." }),
    environmentId: t.id({ description: "Global ID of an editable environment." }),
    version: t.int({ description: "A version number of the journey in that environment (its `versions`)." }),
  }),
});

const RemoveJourneyStepInput = StepRefFields("RemoveJourneyStep");
const SetJourneyStartInput = StepRefFields("SetJourneyStart");

const DiscardJourneyDraftInput = builder.inputType("DiscardJourneyDraftInput", {
  description: "The draft to drop.",
  fields: (t) => ({
    journeyId: t.id({ description: "Global ID of the journey." }),
    environmentId: t.id({ description: "Global ID of an editable environment." }),
  }),
});

const SaveJourneyInput = builder.inputType("SaveJourneyInput", {
  description: '"Save in development": the reviewed draft becomes the next version.',
  fields: (t) => ({
    journeyId: t.id({ description: "Global ID of the journey." }),
    environmentId: t.id({ description: "Global ID of an editable environment." }),
    draftRevision: t.int({ description: "The draft revision that was reviewed; DRAFT_CONFLICT if the draft changed since." }),
    comment: t.string({ required: false, description: "Why, for the history (at most 10,000 characters)." }),
  }),
});

/**
 * The journey a mutation changed, read after the change: a normalizing cache updates its draft,
 * configuration and sync states from it (the mutation's loaders start empty once it has run).
 */
const journeyOf = async (row: { journeyId: string }, { loaders }: GraphQLContext) => (await loaders.journey.load(row.journeyId))!;

const draftSuccess = (name: string, description: string) =>
  builder.objectRef<{ draft: JourneyDraftRow }>(name).implement({
    description,
    fields: (t) => ({
      draft: t.field({ type: JourneyDraftRef, description: "The draft after the edit.", resolve: (r) => r.draft }),
      journey: t.field({
        type: JourneyRef,
        description: "The journey after the edit (its `draft` in this environment is the one above).",
        resolve: (r, _args, context) => journeyOf(r.draft, context),
      }),
    }),
  });

const SaveJourneyStepSuccess = draftSuccess("SaveJourneyStepSuccess", "The step is in the draft.");
const RemoveJourneyStepSuccess = draftSuccess("RemoveJourneyStepSuccess", "The step is gone from the draft.");
const SetJourneyStartSuccess = draftSuccess("SetJourneyStartSuccess", "The draft starts with the step.");
const RestoreJourneyVersionSuccess = draftSuccess(
  "RestoreJourneyVersionSuccess",
  "The draft is the restored version's document: review its `changes` and `problems`, then saveJourney writes it as a version of origin RESTORE.",
);

const DiscardJourneyDraftSuccess = builder.objectRef<{ journey: JourneyRow }>("DiscardJourneyDraftSuccess").implement({
  description: "The draft is gone; the saved version is unchanged.",
  fields: (t) => ({ journey: t.field({ type: JourneyRef, description: "The journey.", resolve: (r) => r.journey }) }),
});

const SaveJourneySuccess = builder.objectRef<{ version: JourneyVersionRow }>("SaveJourneySuccess").implement({
  description: "The draft is saved as the next version.",
  fields: (t) => ({
    version: t.field({ type: JourneyVersionRef, description: "The new version.", resolve: (r) => r.version }),
    journey: t.field({
      type: JourneyRef,
      description: "The journey after the save: its `configuration` is the new version, its `draft` is gone, its `syncStates` are current.",
      resolve: (r, _args, context) => journeyOf(r.version, context),
    }),
  }),
});

const editIds = (input: { journeyId: string; environmentId: string }) => ({
  journeyId: localId(input.journeyId, "Journey"),
  environmentId: localId(input.environmentId, "Environment"),
});

builder.mutationFields((t) => ({
  saveJourneyStep: t.field({
    type: SaveJourneyStepSuccess,
    description: '"Save changes" on one step: inserts or replaces it in the draft (EDITOR, editable environments).',
    authScopes: { editor: true },
    errors: mutationErrors("saveJourneyStep", [Errors.EnvironmentLocked]),
    args: { input: t.arg({ type: SaveJourneyStepInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({
      draft: await services.saveJourneyStep(actor, { ...input, ...editIds(input) }),
    }),
  }),
  removeJourneyStep: t.field({
    type: RemoveJourneyStepSuccess,
    description: "Removes a step from the draft (EDITOR, editable environments). The start step cannot be removed.",
    authScopes: { editor: true },
    errors: mutationErrors("removeJourneyStep", [Errors.EnvironmentLocked]),
    args: { input: t.arg({ type: RemoveJourneyStepInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({
      draft: await services.removeJourneyStep(actor, { ...input, ...editIds(input) }),
    }),
  }),
  setJourneyStart: t.field({
    type: SetJourneyStartSuccess,
    description: "Makes a step of the draft the start (EDITOR, editable environments).",
    authScopes: { editor: true },
    errors: mutationErrors("setJourneyStart", [Errors.EnvironmentLocked]),
    args: { input: t.arg({ type: SetJourneyStartInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({
      draft: await services.setJourneyStart(actor, { ...input, ...editIds(input) }),
    }),
  }),
  restoreJourneyVersion: t.field({
    type: RestoreJourneyVersionSuccess,
    description:
      "Makes the draft an earlier version's document, on the current version (EDITOR, editable environments); saving it writes a version of origin RESTORE with the exact hash of the version restored.",
    authScopes: { editor: true },
    errors: mutationErrors("restoreJourneyVersion", [Errors.EnvironmentLocked]),
    args: { input: t.arg({ type: RestoreJourneyVersionInput, description: "What to restore." }) },
    resolve: async (_root, { input }, { services, actor }) => ({
      draft: await services.restoreJourneyVersion(actor, { ...input, ...editIds(input) }),
    }),
  }),
  discardJourneyDraft: t.field({
    type: DiscardJourneyDraftSuccess,
    description: "Drops the draft (EDITOR, editable environments).",
    authScopes: { editor: true },
    errors: mutationErrors("discardJourneyDraft", [Errors.EnvironmentLocked]),
    args: { input: t.arg({ type: DiscardJourneyDraftInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({
      journey: await services.discardJourneyDraft(actor, editIds(input)),
    }),
  }),
  saveJourney: t.field({
    type: SaveJourneySuccess,
    description: '"Save in development": validates the reviewed draft and writes it as the next version (EDITOR, editable environments).',
    authScopes: { editor: true },
    errors: mutationErrors("saveJourney", [Errors.EnvironmentLocked, Errors.DraftConflict, Errors.InvalidConfiguration]),
    args: { input: t.arg({ type: SaveJourneyInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({
      version: await services.saveJourney(actor, { ...input, ...editIds(input) }),
    }),
  }),
}));

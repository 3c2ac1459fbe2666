import type { RevertConflict } from "../../domain/revert.js";
import type { PropagationResult, RevertPreview } from "../../services/index.js";
import { builder } from "../builder.js";
import { LIST_SIZES, listCost } from "../cost.js";
import { localId } from "../ids.js";
import { ChangeBundleRef, ConfigChangeRef, MissingVariableRef } from "./diff.js";
import { Errors, mutationErrors } from "./errors.js";
import { PropagationRef } from "./propagations.js";
import { ApplicationRef } from "./refs.js";

/* Restore's mutation lives with the drafts (it edits one); the revert of propagations lives here. */

builder.objectFields(PropagationRef, (t) => ({
  revertOf: t.field({
    type: PropagationRef,
    nullable: true,
    description: "The propagation this one reverts (mode REVERT); null for other propagations.",
    resolve: (p, _args, { loaders }) => (p.revertOfId ? loaders.propagation.load(p.revertOfId) : null),
  }),
  revertedBy: t.field({
    type: [PropagationRef],
    complexity: listCost(LIST_SIZES.environments),
    description: "The reverts of this propagation, oldest first (each may revert a part of it).",
    resolve: (p, _args, { loaders }) => loaders.revertsOf.load(p.id),
  }),
}));

const RevertConflictRef = builder.objectRef<RevertConflict>("RevertConflict").implement({
  description:
    "An item of the propagation that a revert does not touch: the target's value there is no longer what the propagation wrote (a later change owns it), or reverting it would break what a later change points at.",
  fields: (t) => ({
    path: t.exposeString("path", { description: "The item's JSON Pointer into the promotable document." }),
    propagatedValue: t.field({
      type: "JSON",
      nullable: true,
      description: "The value the propagation wrote there (null: it removed the value).",
      resolve: (c) => c.propagatedValue,
    }),
    currentValue: t.field({
      type: "JSON",
      nullable: true,
      description: "The target's value there now (null: there is none).",
      resolve: (c) => c.currentValue,
    }),
    message: t.exposeString("message", { description: "Why it is not reverted, in a sentence." }),
  }),
});

const RevertPreviewRef = builder.objectRef<RevertPreview>("RevertPreview").implement({
  description:
    "What reverting a propagation would change in its target now (a diff of the target: current → reverted), and what it cannot revert.",
  fields: (t) => ({
    propagation: t.field({ type: PropagationRef, description: "The propagation to revert.", resolve: (r) => r.propagation }),
    changes: t.field({
      type: [ConfigChangeRef],
      complexity: listCost(LIST_SIZES.changes),
      description:
        "The revert's changes, with ids, `requires` and bundles like the `diff` query's: select any closed part of them for revertPropagation. `oldValue` is the target's value now, `newValue` the value before the propagation.",
      resolve: (r) => r.changes,
    }),
    bundles: t.field({
      type: [ChangeBundleRef],
      complexity: listCost(LIST_SIZES.bundles),
      description: "The changes grouped by what they undo together.",
      resolve: (r) => r.bundles,
    }),
    conflicts: t.field({
      type: [RevertConflictRef],
      complexity: listCost(LIST_SIZES.changes),
      description: "Items a later change owns: shown, never applied.",
      resolve: (r) => r.conflicts,
    }),
    missingVariables: t.field({
      type: [MissingVariableRef],
      complexity: listCost(LIST_SIZES.problems),
      description:
        "Variables the reverted values reference that the target has no value for: the revert of those changes is refused with MISSING_VARIABLES until they are set there.",
      resolve: (r) => r.missingVariables,
    }),
  }),
});

builder.queryField("revertPreview", (t) =>
  t.field({
    type: RevertPreviewRef,
    description:
      "What reverting a past propagation would do now, three-way: each item the target still holds as propagated goes back to its value before; items changed since are conflicts.",
    args: { propagationId: t.arg.id({ description: "Global ID of the propagation to revert." }) },
    resolve: (_root, args, { services, actor, loaders }) => {
      const propagationId = localId(args.propagationId, "Propagation");
      return loaders.memo(`revertPreview:${propagationId}`, () => services.revertPreview(actor, propagationId));
    },
  }),
);

const RevertPropagationInput = builder.inputType("RevertPropagationInput", {
  description: "The part of a past propagation to revert: ids from revertPreview, or all of them.",
  fields: (t) => ({
    propagationId: t.id({ description: "Global ID of the propagation to revert." }),
    changeIds: t.idList({
      required: false,
      description:
        "Ids from the revert preview that was reviewed (at most 5,000, each once). STALE_SELECTION if any is no longer in the preview.",
    }),
    selectAll: t.boolean({ required: false, description: "Every change of the current revert preview, instead of changeIds." }),
    includeRequired: t.boolean({
      required: false,
      description:
        "Add the changes the selection requires instead of failing with INCOMPLETE_SELECTION; they are reported in addedChangeIds.",
    }),
    comment: t.string({ required: false, description: "Why, for the audit history (at most 10,000 characters)." }),
    idempotencyKey: t.string({
      required: false,
      description:
        "Retry key (per organization): once a call with it has applied, the same key returns that propagation and applies nothing again; a refused call does not use the key up.",
    }),
  }),
});

const RevertPropagationSuccess = builder.objectRef<PropagationResult>("RevertPropagationSuccess").implement({
  description: "The selection was reverted.",
  fields: (t) => ({
    propagation: t.field({
      type: PropagationRef,
      description: "The revert's audit record: a propagation of mode REVERT whose `revertOf` is the propagation reverted.",
      resolve: (r) => r.propagation,
    }),
    application: t.field({
      type: ApplicationRef,
      description:
        "The application after the revert: its journeys' `syncStates`, configurations and its clients' `syncStatus` are current, for a normalizing cache in one round trip.",
      resolve: async (r, _args, { loaders }) => (await loaders.application.load(r.propagation.applicationId))!,
    }),
    addedChangeIds: t.field({
      type: ["ID"],
      description: "Changes added because the selection required them (includeRequired).",
      resolve: (r) => r.addedChangeIds,
    }),
  }),
});

builder.mutationField("revertPropagation", (t) =>
  t.field({
    type: RevertPropagationSuccess,
    description:
      "Reverts a past propagation, whole or in part, atomically, as a propagation of mode REVERT with an audit record (PROMOTER; ADMIN when its target is production). Never overwrites a later change: those items are conflicts.",
    authScopes: { promoter: true },
    errors: mutationErrors("revertPropagation", [
      Errors.TargetMissing,
      Errors.StaleSelection,
      Errors.IncompleteSelection,
      Errors.InvalidConfiguration,
      Errors.NothingToPropagate,
      Errors.DraftConflict,
      Errors.MissingVariables,
      Errors.ApprovalRequired,
    ]),
    args: { input: t.arg({ type: RevertPropagationInput, description: "What to revert." }) },
    resolve: (_root, { input }, { services, actor }) =>
      services.revertPropagation(actor, { ...input, propagationId: localId(input.propagationId, "Propagation") }),
  }),
);

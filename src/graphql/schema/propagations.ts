import { type ResolveCursorConnectionArgs, resolveCursorConnection } from "@pothos/plugin-relay";
import { NotFoundError } from "../../domain/errors.js";
import type { PropagationResult, PropagationRow } from "../../services/index.js";
import { builder } from "../builder.js";
import { LIST_SIZES, listCost, pageCost } from "../cost.js";
import { MAX_PAGE_SIZE, pagePositions, propagationCursor } from "../cursors.js";
import { environmentIdOf, localId } from "../ids.js";
import { ConfigChangeRef } from "./diff.js";
import { Errors, mutationErrors } from "./errors.js";
import { ApiTokenRef, ApplicationRef, EnvironmentRef } from "./refs.js";

const PropagationModeEnum = builder.enumType("PropagationMode", {
  description: "How the changes were chosen.",
  values: {
    PROMOTE_NOW: { description: '"Promote now": every change of the diff.' },
    REVIEWED: { description: '"Review and promote": a reviewed selection of changes.' },
    REVERT: { description: "A revert of a past propagation (`revertOf`), whole or in part." },
    APPROVED_REQUEST: {
      description: "An approved promotion request, executed exactly as planned (`request`; `revertOf` when it reverted a propagation).",
    },
  } as const,
});

export const PropagationRef = builder.objectRef<PropagationRow>("Propagation");

builder.node(PropagationRef, {
  description: "The audit record of a propagation: what was applied from a lower environment to a higher one, by whom, when and why.",
  id: { resolve: (p) => p.id },
  loadOne: (id, { loaders }) => loaders.propagation.load(id),
  fields: (t) => ({
    application: t.field({
      type: ApplicationRef,
      description: "The application.",
      resolve: async (p, _args, { loaders }) => (await loaders.application.load(p.applicationId))!,
    }),
    from: t.field({
      type: EnvironmentRef,
      description: "The source environment.",
      resolve: async (p, _args, { loaders }) => (await loaders.environment.load(p.fromEnvironmentId))!,
    }),
    to: t.field({
      type: EnvironmentRef,
      description: "The target environment.",
      resolve: async (p, _args, { loaders }) => (await loaders.environment.load(p.toEnvironmentId))!,
    }),
    mode: t.field({
      type: PropagationModeEnum,
      description: "How the changes were chosen: promote now, a reviewed selection, a revert, an approved request.",
      resolve: (p) => p.mode,
    }),
    items: t.field({
      type: [ConfigChangeRef],
      complexity: listCost(LIST_SIZES.changes),
      description: "Every change applied, exactly as it was reviewed: path, old value, new value.",
      resolve: (p) => p.items.map((item) => ({ ...item, oldValue: item.oldValue as never, newValue: item.newValue as never })),
    }),
    comment: t.exposeString("comment", { nullable: true, description: "The promoter's comment." }),
    actor: t.exposeString("actor", { description: "Who promoted (the token's name)." }),
    actorApiToken: t.field({
      type: ApiTokenRef,
      nullable: true,
      description:
        "The token that promoted (revoked or not): names repeat once a token is revoked, the token does not. Null for propagations recorded before audit records kept the token.",
      resolve: (p, _args, { loaders }) => (p.actorTokenId ? loaders.apiToken.load(p.actorTokenId) : null),
    }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was applied." }),
  }),
});

builder.queryField("propagations", (t) =>
  t.connection(
    {
      type: PropagationRef,
      complexity: pageCost(20),
      description: "The propagation history, newest first: of an application, and/or from or into an environment.",
      args: {
        applicationId: t.arg.id({ required: false, description: "Only propagations of this application." }),
        environmentId: t.arg.id({ required: false, description: "Only propagations from or into this environment." }),
      },
      resolve: async (_root, args, { services, actor, loaders }) => {
        const positions = pagePositions(propagationCursor, args);
        const applicationId = args.applicationId == null ? undefined : localId(args.applicationId, "Application");
        if (applicationId && !(await loaders.application.load(applicationId))) throw new NotFoundError("application", args.applicationId!);
        const environmentId = args.environmentId == null ? undefined : await environmentIdOf(loaders, args.environmentId);
        return resolveCursorConnection(
          { args, toCursor: propagationCursor.encode, maxSize: MAX_PAGE_SIZE, defaultSize: 20 },
          ({ limit, inverted }: ResolveCursorConnectionArgs) =>
            services.listPropagations(actor, { applicationId, environmentId }, { ...positions, limit, inverted }),
        );
      },
    },
    { name: "PropagationConnection", description: "A page of propagations." },
    { name: "PropagationEdge", description: "A propagation and its cursor." },
  ),
);

const commonFields = (t: PothosInputFieldBuilder) => ({
  applicationId: t.id({ description: "Global ID of the application." }),
  fromEnvironmentId: t.id({ description: "The source environment (ranked below the target)." }),
  toEnvironmentId: t.id({ description: "The target environment; production needs an ADMIN." }),
  journeyId: t.id({ required: false, description: "Limit to this journey (client settings are then left out)." }),
  comment: t.string({ required: false, description: "Why, for the audit history (at most 10,000 characters)." }),
  idempotencyKey: t.string({
    required: false,
    description:
      "Retry key (per organization): once a call with it has applied, the same key returns that propagation and applies nothing again; a refused call does not use the key up.",
  }),
});

type PothosInputFieldBuilder = Parameters<Parameters<typeof builder.inputType>[1]["fields"]>[0];

const PromoteNowInput = builder.inputType("PromoteNowInput", {
  description: '"Promote now": every change of the diff.',
  fields: (t) => commonFields(t),
});

const PropagateChangesInput = builder.inputType("PropagateChangesInput", {
  description: '"Review and promote": the reviewed changes, by id, or all of them.',
  fields: (t) => ({
    ...commonFields(t),
    changeIds: t.idList({
      required: false,
      description: "Ids from the diff that was reviewed (at most 5,000, each once). STALE_SELECTION if any is no longer in the diff.",
    }),
    selectAll: t.boolean({ required: false, description: "Every change of the current diff, instead of changeIds." }),
    includeRequired: t.boolean({
      required: false,
      description:
        "Add the changes the selection requires instead of failing with INCOMPLETE_SELECTION; they are reported in addedChangeIds.",
    }),
  }),
});

const PromoteNowSuccess = builder.objectRef<PropagationResult>("PromoteNowSuccess").implement({
  description: "Every change was applied.",
  fields: (t) => ({
    propagation: t.field({ type: PropagationRef, description: "The audit record.", resolve: (r) => r.propagation }),
    application: t.field({
      type: ApplicationRef,
      description:
        "The application after the propagation: its journeys' `syncStates`, configurations and its clients' `syncStatus` are current, for a normalizing cache in one round trip.",
      resolve: async (r, _args, { loaders }) => (await loaders.application.load(r.propagation.applicationId))!,
    }),
  }),
});

const PropagateChangesSuccess = builder.objectRef<PropagationResult>("PropagateChangesSuccess").implement({
  description: "The selection was applied.",
  fields: (t) => ({
    propagation: t.field({ type: PropagationRef, description: "The audit record.", resolve: (r) => r.propagation }),
    application: t.field({
      type: ApplicationRef,
      description:
        "The application after the propagation: its journeys' `syncStates`, configurations and its clients' `syncStatus` are current, for a normalizing cache in one round trip.",
      resolve: async (r, _args, { loaders }) => (await loaders.application.load(r.propagation.applicationId))!,
    }),
    addedChangeIds: t.field({
      type: ["ID"],
      description: "Changes added because the selection required them (includeRequired).",
      resolve: (r) => r.addedChangeIds,
    }),
  }),
});

const propagationErrors = [
  Errors.InvalidDirection,
  Errors.TargetMissing,
  Errors.StaleSelection,
  Errors.IncompleteSelection,
  Errors.InvalidConfiguration,
  Errors.NothingToPropagate,
  Errors.DraftConflict,
  Errors.MissingVariables,
  Errors.ApprovalRequired,
];

const ids = (input: { applicationId: string; fromEnvironmentId: string; toEnvironmentId: string; journeyId?: string | null }) => ({
  applicationId: localId(input.applicationId, "Application"),
  fromEnvironmentId: localId(input.fromEnvironmentId, "Environment"),
  toEnvironmentId: localId(input.toEnvironmentId, "Environment"),
  journeyId: input.journeyId == null ? null : localId(input.journeyId, "Journey"),
});

builder.mutationFields((t) => ({
  promoteNow: t.field({
    type: PromoteNowSuccess,
    description: "Applies every change of the diff to the target, atomically, with an audit record (PROMOTER; ADMIN into production).",
    authScopes: { promoter: true },
    errors: mutationErrors("promoteNow", propagationErrors),
    args: { input: t.arg({ type: PromoteNowInput, description: "What to do." }) },
    resolve: (_root, { input }, { services, actor }) => services.promoteNow(actor, { ...input, ...ids(input) }),
  }),
  propagateChanges: t.field({
    type: PropagateChangesSuccess,
    description:
      "Applies a reviewed selection of the diff to the target, atomically, with an audit record (PROMOTER; ADMIN into production).",
    authScopes: { promoter: true },
    errors: mutationErrors("propagateChanges", propagationErrors),
    args: { input: t.arg({ type: PropagateChangesInput, description: "What to do." }) },
    resolve: (_root, { input }, { services, actor }) => services.propagateChanges(actor, { ...input, ...ids(input) }),
  }),
}));

import { type ResolveCursorConnectionArgs, resolveCursorConnection } from "@pothos/plugin-relay";
import type { JourneyStepDefinition } from "../../domain/journey-document.js";
import {
  type JourneyRow,
  type JourneyVersionRow,
  resolveJourneyDocument,
  syncStatesOfJourney,
  variablesInLoaded,
} from "../../services/index.js";
import { builder } from "../builder.js";
import type { GraphQLContext } from "../context.js";
import { LIST_SIZES, listCost, pageCost } from "../cost.js";
import { MAX_PAGE_SIZE, pagePositions, versionCursor } from "../cursors.js";
import { environmentIdOf, journeyVersionLocalId, localId, parseJourneyVersionLocalId } from "../ids.js";
import { Errors, mutationErrors } from "./errors.js";
import {
  ApiTokenRef,
  ApplicationRef,
  JourneyRef,
  JourneyTypeEnum,
  JourneyVersionRef,
  type JourneyVersionView,
  VersionOriginEnum,
} from "./refs.js";
import { JourneySyncStateRef } from "./sync.js";

type StepView = JourneyStepDefinition & { key: string };

export const StepTransitionRef = builder.objectRef<{ outcome: string; to: string }>("StepTransition").implement({
  description: "Where a step leads on one outcome.",
  fields: (t) => ({
    outcome: t.exposeString("outcome", { description: "Outcome slug, e.g. `success`, `failure`, `high-risk`." }),
    to: t.exposeString("to", { description: "Key of the next step, or the terminal `COMPLETE` / `DENY`." }),
  }),
});

export const JourneyStepRef = builder.objectRef<StepView>("JourneyStep").implement({
  description: "One node of a journey.",
  fields: (t) => ({
    key: t.exposeString("key", { description: "Stable key (slug), unique in the journey." }),
    type: t.exposeString("type", { description: "Step type from the catalogue, e.g. `EMAIL_OTP`." }),
    name: t.exposeString("name", { description: "Display name." }),
    enabled: t.exposeBoolean("enabled", { description: "Whether the step runs." }),
    settings: t.field({ type: "JSON", description: "Type-specific settings, defaults applied.", resolve: (s) => s.settings }),
    transitions: t.field({
      type: [StepTransitionRef],
      complexity: listCost(LIST_SIZES.transitions),
      description: "Outcome → next step, by outcome.",
      resolve: (s) =>
        Object.keys(s.transitions)
          .sort()
          .map((outcome) => ({ outcome, to: s.transitions[outcome] })),
    }),
  }),
});

/** The steps of a document in its display order. */
export function stepsInOrder(document: { order: string[]; steps: Record<string, JourneyStepDefinition> }): StepView[] {
  return document.order.filter((key) => document.steps[key]).map((key) => ({ key, ...document.steps[key] }));
}

/** The whole version row of a view: a head's row is loaded (batched) only when a field needs it. */
async function row(v: JourneyVersionView, { loaders }: GraphQLContext): Promise<JourneyVersionRow> {
  if ("document" in v) return v;
  const loaded = await loaders.version.load({ journeyId: v.journeyId, environmentId: v.environmentId, version: v.version });
  if (!loaded) throw new Error(`version ${v.version} of journey ${v.journeyId} is missing`);
  return loaded;
}

builder.node(JourneyVersionRef, {
  description: "An immutable version of a journey's configuration in one environment.",
  id: { resolve: journeyVersionLocalId },
  loadOne: (id, { loaders }) => {
    const key = parseJourneyVersionLocalId(id);
    return key ? loaders.version.load(key) : null;
  },
  fields: (t) => ({
    version: t.exposeInt("version", { description: "Number, gapless per journey and environment, starting at 1." }),
    hash: t.exposeString("hash", { description: "SHA-256 of the canonical JSON of the document: equal hashes mean equal configurations." }),
    start: t.string({ description: "Key of the first step.", resolve: async (v, _a, c) => (await row(v, c)).document.start }),
    steps: t.field({
      type: [JourneyStepRef],
      complexity: listCost(LIST_SIZES.steps),
      description: "The steps in display order.",
      resolve: async (v, _a, c) => stepsInOrder((await row(v, c)).document),
    }),
    document: t.field({
      type: "JSON",
      description: "The whole configuration document (start, order, steps).",
      resolve: async (v, _a, c) => (await row(v, c)).document,
    }),
    resolvedDocument: t.field({
      type: "JSON",
      description:
        "The document as its environment runs it: each variable reference replaced by that environment's value; secret settings keep their reference (only the runtime's configuration has their values).",
      resolve: async (v, _a, c) => {
        const [version, lookup] = await Promise.all([row(v, c), variablesInLoaded(c.loaders, v.environmentId)]);
        return resolveJourneyDocument(version.document, lookup, "reference");
      },
    }),
    origin: t.field({
      type: VersionOriginEnum,
      description: "How this version came to be.",
      resolve: async (v, _a, c) => (await row(v, c)).origin,
    }),
    savedAt: t.field({ type: "DateTime", description: "When it was written.", resolve: async (v, _a, c) => (await row(v, c)).savedAt }),
    savedBy: t.string({ description: "Who wrote it (the token's name).", resolve: async (v, _a, c) => (await row(v, c)).savedBy }),
    savedByApiToken: t.field({
      type: ApiTokenRef,
      nullable: true,
      description:
        "The token that wrote it (revoked or not): names repeat once a token is revoked, the token does not. Null for versions written before audit records kept the token.",
      resolve: async (v, _a, c) => {
        const tokenId = (await row(v, c)).savedByTokenId;
        return tokenId ? c.loaders.apiToken.load(tokenId) : null;
      },
    }),
    comment: t.string({ nullable: true, description: "The author's comment.", resolve: async (v, _a, c) => (await row(v, c)).comment }),
    retired: t.boolean({
      description:
        "A tombstone: the journey was retired in this environment with this version (which keeps the document it retired). Where it is the last version, the journey has no configuration; restoreJourneyVersion brings one back.",
      resolve: async (v, _a, c) => (await row(v, c)).retired,
    }),
  }),
});

async function clientExists({ loaders }: GraphQLContext, journey: JourneyRow, environmentId: string) {
  return (await loaders.clientsByApplication.load(journey.applicationId)).some((c) => c.environmentId === environmentId);
}

builder.node(JourneyRef, {
  description: "A workflow of an application (login, registration…). Its configuration lives per environment as immutable versions.",
  id: { resolve: (j) => j.id },
  loadOne: (id, { loaders }) => loaders.journey.load(id),
  fields: (t) => ({
    application: t.field({
      type: ApplicationRef,
      description: "The application.",
      resolve: async (j, _args, { loaders }) => (await loaders.application.load(j.applicationId))!,
    }),
    key: t.exposeString("key", { description: "Stable slug, unique in the application, e.g. `login`." }),
    name: t.exposeString("name", { description: "Display name." }),
    type: t.field({ type: JourneyTypeEnum, description: "What the journey is for.", resolve: (j) => j.type }),
    syncStates: t.field({
      type: [JourneySyncStateRef],
      complexity: listCost(LIST_SIZES.environments),
      description: "Its state in every environment that has a lower one, against that lower environment (compared by hashes).",
      resolve: (j, _args, { loaders }) => syncStatesOfJourney(loaders, j),
    }),
    configuration: t.field({
      type: JourneyVersionRef,
      nullable: true,
      description:
        "The current version in an environment; null where the application has no client, the journey does not exist yet, or it is retired.",
      args: { environmentId: t.arg.id({ description: "Global ID of the environment." }) },
      resolve: async (j, { environmentId }, context) => {
        const id = await environmentIdOf(context.loaders, environmentId);
        if (!(await clientExists(context, j, id))) return null;
        return context.loaders.head.load({ journeyId: j.id, environmentId: id });
      },
    }),
    versions: t.connection(
      {
        type: JourneyVersionRef,
        description: "The history in an environment, newest first.",
        complexity: pageCost(20),
        args: { environmentId: t.arg.id({ description: "Global ID of the environment." }) },
        resolve: async (j, args, { services, actor, loaders }) => {
          const { after, before } = pagePositions(versionCursor, args);
          const environmentId = await environmentIdOf(loaders, args.environmentId);
          return resolveCursorConnection(
            { args, toCursor: (v) => versionCursor.encode(v.version), maxSize: MAX_PAGE_SIZE, defaultSize: 20 },
            ({ limit, inverted }: ResolveCursorConnectionArgs) =>
              services.journeyVersions(
                actor,
                { journeyId: j.id, environmentId },
                { below: after, above: before, limit, oldestFirst: inverted },
              ),
          );
        },
      },
      { name: "JourneyVersionConnection", description: "A page of a journey's versions in one environment." },
      { name: "JourneyVersionEdge", description: "A version and its cursor." },
    ),
  }),
});

const CreateJourneyInput = builder.inputType("CreateJourneyInput", {
  description: "A new journey of an application; version 1 is written in the lowest environment.",
  fields: (t) => ({
    applicationId: t.id({ description: "Global ID of the application." }),
    key: t.string({ description: "Slug, unique in the application (e.g. `login`)." }),
    name: t.string({ description: "Display name (1–200 characters)." }),
    type: t.field({ type: JourneyTypeEnum, description: "What the journey is for." }),
    document: t.field({
      type: "JSON",
      required: false,
      description: "The configuration `{ start, order, steps }` (transitions as an object); default: one IDENTIFIER step.",
    }),
  }),
});

const CreateJourneySuccess = builder.objectRef<{ journey: JourneyRow }>("CreateJourneySuccess").implement({
  description: "The journey was created.",
  fields: (t) => ({ journey: t.field({ type: JourneyRef, description: "The new journey.", resolve: (r) => r.journey }) }),
});

builder.mutationFields((t) => ({
  createJourney: t.field({
    type: CreateJourneySuccess,
    description: "Creates a journey with version 1 in the lowest environment (EDITOR).",
    authScopes: { editor: true },
    errors: mutationErrors("createJourney", [Errors.AlreadyExists, Errors.EnvironmentLocked]),
    args: { input: t.arg({ type: CreateJourneyInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({
      journey: await services.createJourney(actor, { ...input, applicationId: localId(input.applicationId, "Application") }),
    }),
  }),
}));

export type { JourneyVersionRow };

const RetireJourneyInput = builder.inputType("RetireJourneyInput", {
  description: "The journey to retire, and where (an editable environment).",
  fields: (t) => ({
    journeyId: t.id({ description: "Global ID of the journey." }),
    environmentId: t.id({ description: "Global ID of an editable environment where the journey has a configuration." }),
    comment: t.string({ required: false, description: "Why, for the history (at most 10,000 characters)." }),
  }),
});

const UpdateJourneyInput = builder.inputType("UpdateJourneyInput", {
  description: "A new name for a journey (its key never changes).",
  fields: (t) => ({
    journeyId: t.id({ description: "Global ID of the journey." }),
    name: t.string({ description: "Display name (1–200 characters)." }),
  }),
});

const journeySuccess = (name: string, description: string) =>
  builder.objectRef<{ journey: JourneyRow }>(name).implement({
    description,
    fields: (t) => ({ journey: t.field({ type: JourneyRef, description: "The journey as it is now.", resolve: (r) => r.journey }) }),
  });

builder.mutationFields((t) => ({
  retireJourney: t.field({
    type: journeySuccess("RetireJourneySuccess", "The journey is retired in the environment: a tombstone version ends its history there."),
    description:
      "Retires a journey in an editable environment (EDITOR): a tombstone version (`retired`), no configuration there any more. Upper environments then differ by one REMOVED change at `/journeys/<key>`, promoted like any change. Refused with DRAFT_CONFLICT while it has a draft there.",
    authScopes: { editor: true },
    errors: mutationErrors("retireJourney", [Errors.EnvironmentLocked, Errors.DraftConflict]),
    args: { input: t.arg({ type: RetireJourneyInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({
      journey: await services.retireJourney(actor, {
        ...input,
        journeyId: localId(input.journeyId, "Journey"),
        environmentId: localId(input.environmentId, "Environment"),
      }),
    }),
  }),
  updateJourney: t.field({
    type: journeySuccess("UpdateJourneySuccess", "The journey is renamed."),
    description: "Renames a journey (EDITOR); its key never changes.",
    authScopes: { editor: true },
    errors: mutationErrors("updateJourney"),
    args: { input: t.arg({ type: UpdateJourneyInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({
      journey: await services.updateJourney(actor, { ...input, journeyId: localId(input.journeyId, "Journey") }),
    }),
  }),
}));

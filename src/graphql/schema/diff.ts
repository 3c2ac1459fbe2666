import type { ChangeBundle } from "../../domain/change.js";
import type { ChangeView, ConfigurationDiff } from "../../services/index.js";
import { builder } from "../builder.js";
import { LIST_SIZES, listCost } from "../cost.js";
import { localId } from "../ids.js";
import { EnvironmentRef, JourneyRef } from "./refs.js";
import { SyncStatusEnum } from "./sync.js";

const ChangeKindEnum = builder.enumType("ChangeKind", {
  description: "What a change does to the target environment.",
  values: {
    ADDED: { description: "Adds what the target lacks (old value null)." },
    REMOVED: { description: "Removes what only the target has (new value null)." },
    MODIFIED: { description: "Replaces the target's value." },
  } as const,
});

export const ConfigChangeRef = builder.objectRef<ChangeView>("ConfigChange").implement({
  description: "One difference between two environments, at a JSON Pointer path, with the target's old value and the source's new value.",
  fields: (t) => ({
    id: t.exposeID("id", {
      description: "Content-addressed id: the same difference always has the same id; once either side moves it disappears.",
    }),
    path: t.exposeString("path", {
      description: "JSON Pointer into the application's promotable document, e.g. `/journeys/login/steps/email-otp/settings/codeLength`.",
    }),
    kind: t.field({ type: ChangeKindEnum, description: "Added, removed or modified in the target.", resolve: (c) => c.kind }),
    summary: t.exposeString("summary", { description: 'One line for people, e.g. "Email code · code length: 6 → 8".' }),
    journey: t.field({
      type: JourneyRef,
      nullable: true,
      description: "The journey it belongs to; null for client settings.",
      resolve: (c, _args, { loaders }) => (c.journeyId ? loaders.journey.load(c.journeyId) : null),
    }),
    stepKey: t.exposeString("stepKey", { nullable: true, description: "The step it belongs to, if any." }),
    oldValue: t.field({
      type: "JSON",
      nullable: true,
      description: "The value in the target now (null when added).",
      resolve: (c) => c.oldValue,
    }),
    newValue: t.field({
      type: "JSON",
      nullable: true,
      description: "The value it would get from the source (null when removed).",
      resolve: (c) => c.newValue,
    }),
    requires: t.field({
      type: ["ID"],
      description: "Ids of the changes this one cannot be applied without.",
      resolve: (c) => c.requires,
    }),
    bundleId: t.exposeID("bundleId", { description: "The bundle (connected group of requires) it belongs to." }),
  }),
});

export const ChangeBundleRef = builder.objectRef<ChangeBundle>("ChangeBundle").implement({
  description: "Changes that belong together (a connected group of `requires`): promote all of them or none.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "Content-addressed from its change ids." }),
    label: t.exposeString("label", { description: 'What the bundle enables, e.g. "Add step Email code".' }),
    changeIds: t.field({ type: ["ID"], description: "Its changes, in diff order.", resolve: (b) => b.changeIds }),
  }),
});

export const MissingVariableRef = builder.objectRef<ConfigurationDiff["missingVariables"][number]>("MissingVariable").implement({
  description: "A variable the changes reference that the target environment has no value for.",
  fields: (t) => ({
    key: t.exposeString("key", { description: "Its key, e.g. `webhook.host`: set its value in the target first." }),
    changeIds: t.field({ type: ["ID"], description: "The changes that reference it.", resolve: (m) => m.changeIds }),
  }),
});

const ConfigurationDiffRef = builder.objectRef<ConfigurationDiff>("ConfigurationDiff").implement({
  description: "What promoting from one environment to a higher one would change.",
  fields: (t) => ({
    from: t.field({ type: EnvironmentRef, description: "The source (lower) environment.", resolve: (d) => d.from }),
    to: t.field({ type: EnvironmentRef, description: "The target (higher) environment.", resolve: (d) => d.to }),
    status: t.field({
      type: SyncStatusEnum,
      description: "IN_SYNC, OUT_OF_SYNC, or NOT_CREATED when the target has no client.",
      resolve: (d) => d.status,
    }),
    message: t.exposeString("message", { description: '"Journey Configuration out of Sync" when out of sync.' }),
    changes: t.field({
      type: [ConfigChangeRef],
      complexity: listCost(LIST_SIZES.changes),
      description: "Every difference, in a stable order.",
      resolve: (d) => d.changes,
    }),
    bundles: t.field({
      type: [ChangeBundleRef],
      complexity: listCost(LIST_SIZES.bundles),
      description: "The changes grouped by what they enable together.",
      resolve: (d) => d.bundles,
    }),
    missingVariables: t.field({
      type: [MissingVariableRef],
      complexity: listCost(LIST_SIZES.problems),
      description:
        "Variables the changes reference that the target has no value for: promoting those changes is refused with MISSING_VARIABLES until they are set there. Values themselves are never compared.",
      resolve: (d) => d.missingVariables,
    }),
  }),
});

builder.queryField("diff", (t) =>
  t.field({
    type: ConfigurationDiffRef,
    description:
      "What promoting an application from one environment to a higher one would change: the client's shared settings and every journey, or one journey.",
    args: {
      applicationId: t.arg.id({ description: "Global ID of the application." }),
      fromEnvironmentId: t.arg.id({ description: "The source environment; must be ranked below the target." }),
      toEnvironmentId: t.arg.id({ description: "The target environment." }),
      journeyId: t.arg.id({ required: false, description: "Limit the diff to this journey (client settings are then left out)." }),
    },
    resolve: (_root, args, { services, actor, loaders, organizationRevision, tableRevisions }) => {
      const request = {
        applicationId: localId(args.applicationId, "Application"),
        fromEnvironmentId: localId(args.fromEnvironmentId, "Environment"),
        toEnvironmentId: localId(args.toEnvironmentId, "Environment"),
        journeyId: args.journeyId == null ? null : localId(args.journeyId, "Journey"),
      };
      // Aliases of the same diff in one operation are computed once.
      // Across requests, kept while what it read is unchanged (an HTTP request's revisions say so).
      const revisions =
        organizationRevision === undefined || tableRevisions === undefined
          ? undefined
          : { revision: organizationRevision, tables: tableRevisions };
      return loaders.memo(`diff:${JSON.stringify(request)}`, () => services.diff(actor, request, revisions));
    },
  }),
);

import { ValidationError } from "../../domain/errors.js";
import type { VARIABLE_KINDS } from "../../domain/variables.js";
import type { VariableRow, VariableValueChangeRow, VariableValueRow } from "../../services/index.js";
import { builder } from "../builder.js";
import { LIST_SIZES, listCost, pageCost } from "../cost.js";
import { checkPageSize, pagePositions, variableChangeCursor } from "../cursors.js";
import { environmentIdOf, localId } from "../ids.js";
import { Errors, mutationErrors } from "./errors.js";
import { ApiTokenRef, ApplicationRef, EnvironmentRef, JourneyRef, VariableReferenceRef } from "./refs.js";

/*
 * Variables (DESIGN.md §6): a key and a kind, one value per environment. Values are read by every
 * role; a SECRET's value is never returned — its fingerprint and version stand for it.
 */

export const VariableKindEnum = builder.enumType("VariableKind", {
  description: "What a variable's values are; each value must fit it.",
  values: {
    STRING: { description: "Text (at most 4,096 characters); may be part of a text setting." },
    NUMBER: { description: "A finite number; a whole-value reference takes it as a number." },
    BOOLEAN: { description: "true or false." },
    URL: { description: "An absolute http(s) URL; may be part of a text setting." },
    JSON: { description: "Any JSON value (at most 64 KiB)." },
    SECRET: {
      description:
        "Write-only text: accepted by setVariableValue, never returned (a fingerprint stands for it). Only secret settings may reference it.",
    },
  } satisfies Record<(typeof VARIABLE_KINDS)[number], { description: string }>,
});

export const VariableRef = builder.objectRef<VariableRow>("Variable");

const isSecret = (variable: { kind: string }) => variable.kind === "SECRET";

const VariableValueRef = builder.objectRef<VariableValueRow & { kind: VariableRow["kind"] }>("VariableValue").implement({
  description: "A variable's value in one environment.",
  fields: (t) => ({
    environment: t.field({
      type: EnvironmentRef,
      description: "The environment.",
      resolve: async (v, _args, { loaders }) => (await loaders.environment.load(v.environmentId))!,
    }),
    value: t.field({
      type: "JSON",
      nullable: true,
      description: "The value; always null for a SECRET (see fingerprint).",
      resolve: (v) => (isSecret(v) ? null : (v.value as unknown)),
    }),
    fingerprint: t.string({
      nullable: true,
      description:
        "For a SECRET: 12 hex characters of an HMAC-SHA-256 of the variable and the value under the server's key: equal fingerprints of one variable, equal secrets (compare environments); another variable's differ for the same value; they change when the key rotates. Null for other kinds.",
      resolve: (v) => (isSecret(v) ? v.fingerprint : null),
    }),
    version: t.exposeInt("version", { description: "Number of this value: 1, 2, 3… per variable and environment, across removals." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "When it was set." }),
    updatedBy: t.exposeString("updatedBy", { description: "Who set it (the token's name)." }),
    updatedByApiToken: t.field({
      type: ApiTokenRef,
      nullable: true,
      description: "The token that set it.",
      resolve: (v, _args, { loaders }) => (v.updatedByTokenId ? loaders.apiToken.load(v.updatedByTokenId) : null),
    }),
  }),
});

type ValueChangeView = VariableValueChangeRow & { kind: VariableRow["kind"] };
const VariableValueChangeRef = builder.objectRef<ValueChangeView>("VariableValueChange");

builder.node(VariableValueChangeRef, {
  description: "One change of a variable's value in an environment: set (a new version) or removed.",
  id: { resolve: (c) => `${c.variableId}/${c.environmentId}/${c.version}` },
  loadOne: async (id, { loaders }) => {
    const match = /^([0-9a-f-]{36})\/([0-9a-f-]{36})\/([1-9]\d{0,9})$/.exec(id);
    if (!match || Number(match[3]) > 2 ** 31 - 1) return null;
    const change = await loaders.variableValueChange.load({ variableId: match[1], environmentId: match[2], version: Number(match[3]) });
    // A deleted variable's changes stay, but are not read by ID: the variable itself no longer is.
    const variable = change && (await loaders.variable.load(change.variableId));
    return change && variable ? { ...change, kind: variable.kind } : null;
  },
  fields: (t) => ({
    environment: t.field({
      type: EnvironmentRef,
      description: "The environment.",
      resolve: async (c, _args, { loaders }) => (await loaders.environment.load(c.environmentId))!,
    }),
    version: t.exposeInt("version", { description: "The change's number per variable and environment." }),
    value: t.field({
      type: "JSON",
      nullable: true,
      description: "The value set; null for a removal and for a SECRET.",
      resolve: (c) => (isSecret(c) || c.removed ? null : (c.value as unknown)),
    }),
    fingerprint: t.string({
      nullable: true,
      description: "A SECRET's fingerprint as it was set; null otherwise.",
      resolve: (c) => c.fingerprint,
    }),
    removed: t.exposeBoolean("removed", { description: "The value was removed (or the variable deleted)." }),
    actor: t.exposeString("actor", { description: "Who changed it (the token's name)." }),
    occurredAt: t.expose("occurredAt", { type: "DateTime", description: "When." }),
  }),
});

VariableReferenceRef.implement({
  description: "Where a configuration references a variable: a saved journey version or draft, or client settings, in one environment.",
  fields: (t) => ({
    application: t.field({
      type: ApplicationRef,
      description: "The application.",
      resolve: async (r, _args, { loaders }) => (await loaders.application.load(r.applicationId))!,
    }),
    journey: t.field({
      type: JourneyRef,
      nullable: true,
      description: "The journey; null for the client's settings.",
      resolve: (r, _args, { loaders }) => (r.journeyId ? loaders.journey.load(r.journeyId) : null),
    }),
    environment: t.field({
      type: EnvironmentRef,
      description: "The environment.",
      resolve: async (r, _args, { loaders }) => (await loaders.environment.load(r.environmentId))!,
    }),
    path: t.exposeString("path", { description: "Where in the configuration, e.g. `steps.webhook.settings.url`." }),
    draft: t.exposeBoolean("draft", { description: "In a draft (not yet saved)." }),
  }),
});

builder.node(VariableRef, {
  description: "An organization-wide variable: a key configurations reference as `&{key}`, with one value per environment.",
  id: { resolve: (v) => v.id },
  loadOne: (id, { loaders }) => loaders.variable.load(id),
  fields: (t) => ({
    key: t.exposeString("key", { description: "The key references name, e.g. `webhook.host` in `&{webhook.host}`." }),
    kind: t.field({ type: VariableKindEnum, description: "What its values are.", resolve: (v) => v.kind }),
    description: t.exposeString("description", { nullable: true, description: "What it is for." }),
    values: t.field({
      type: [VariableValueRef],
      complexity: listCost(LIST_SIZES.environments),
      description: "Its value in every environment that has one, lowest environment first.",
      resolve: async (v, _args, { loaders }) => {
        const [values, environments] = await Promise.all([loaders.valuesByVariable.load(v.id), loaders.environments()]);
        const rank = new Map(environments.map((e) => [e.id, e.rank]));
        return values
          .filter((value) => rank.has(value.environmentId))
          .sort((a, b) => rank.get(a.environmentId)! - rank.get(b.environmentId)!)
          .map((value) => ({ ...value, kind: v.kind }));
      },
    }),
    value: t.field({
      type: VariableValueRef,
      nullable: true,
      description: "Its value in one environment; null when it has none there.",
      args: { environmentId: t.arg.id({ description: "Global ID of the environment." }) },
      resolve: async (v, args, { loaders }) => {
        const environmentId = await environmentIdOf(loaders, args.environmentId);
        const value = (await loaders.valuesByVariable.load(v.id)).find((value) => value.environmentId === environmentId);
        return value ? { ...value, kind: v.kind } : null;
      },
    }),
    references: t.field({
      type: [VariableReferenceRef],
      complexity: listCost(LIST_SIZES.changes),
      description: "Saved configurations and drafts that reference it, in every environment.",
      resolve: (v, _args, { loaders }) => loaders.variableReferences.load(v.key),
    }),
    history: t.connection(
      {
        type: VariableValueChangeRef,
        description: "Every change of its values, newest first: in one environment, or in all.",
        complexity: pageCost(20),
        args: { environmentId: t.arg.id({ required: false, description: "Only this environment's changes." }) },
        resolve: async (v, args, { services, actor, loaders }) => {
          checkPageSize(args);
          if (args.last != null || args.before != null) {
            throw new ValidationError([{ path: "last", message: "history pages forward only: pass first and after" }]);
          }
          const { after } = pagePositions(variableChangeCursor, args);
          const environmentId = args.environmentId == null ? undefined : await environmentIdOf(loaders, args.environmentId);
          const limit = args.first ?? 20;
          // A first page of every environment's changes — what a list of variables shows — is read for all the
          // variables of the request at once; other pages, one by one.
          const rows =
            after === undefined && environmentId === undefined
              ? await loaders.variableHistoryHead.load({ variableId: v.id, limit: limit + 1 })
              : await services.variableHistory(actor, { variableId: v.id, environmentId }, { after, limit: limit + 1 });
          const page = rows.slice(0, limit);
          const cursorOf = (row: VariableValueChangeRow) => variableChangeCursor.encode(row);
          return {
            edges: page.map((row) => ({ node: { ...row, kind: v.kind }, cursor: cursorOf(row) })),
            pageInfo: {
              hasNextPage: rows.length > limit,
              hasPreviousPage: after !== undefined,
              startCursor: page.length > 0 ? cursorOf(page[0]) : null,
              endCursor: page.length > 0 ? cursorOf(page[page.length - 1]) : null,
            },
          };
        },
      },
      { name: "VariableValueChangeConnection", description: "A page of a variable's value changes, newest first." },
      { name: "VariableValueChangeEdge", description: "A change and its cursor." },
    ),
  }),
});

builder.queryFields((t) => ({
  variables: t.field({
    type: [VariableRef],
    complexity: listCost(LIST_SIZES.variables),
    description: "The organization's variables, by key.",
    resolve: (_root, _args, { loaders }) => loaders.variables(),
  }),
  variable: t.field({
    type: VariableRef,
    nullable: true,
    description: "The variable with this key; null when there is none.",
    args: { key: t.arg.string({ description: "Its key, e.g. `webhook.host`." }) },
    resolve: async (_root, { key }, { loaders }) => (await loaders.variables()).find((v) => v.key === key) ?? null,
  }),
}));

const CreateVariableInput = builder.inputType("CreateVariableInput", {
  description: "A new variable of the organization; it has no value anywhere yet.",
  fields: (t) => ({
    key: t.string({
      description: 'Lower-case letters and digits in parts joined by "." or "-" (e.g. `webhook.host`), unique in the organization.',
    }),
    kind: t.field({ type: VariableKindEnum, description: "What its values are." }),
    description: t.string({ required: false, description: "What it is for (at most 1,000 characters)." }),
  }),
});

const SetVariableValueInput = builder.inputType("SetVariableValueInput", {
  description: "A variable's new value in one environment.",
  fields: (t) => ({
    variableId: t.id({ description: "Global ID of the variable." }),
    environmentId: t.id({ description: "Global ID of the environment." }),
    value: t.field({ type: "JSON", description: "The value; it must fit the variable's kind. A SECRET's is never shown again." }),
  }),
});

const VariableEnvironmentInput = builder.inputType("RemoveVariableValueInput", {
  description: "The value to remove.",
  fields: (t) => ({
    variableId: t.id({ description: "Global ID of the variable." }),
    environmentId: t.id({ description: "Global ID of the environment." }),
  }),
});

const DeleteVariableInput = builder.inputType("DeleteVariableInput", {
  description: "The variable to delete.",
  fields: (t) => ({ variableId: t.id({ description: "Global ID of the variable." }) }),
});

const variableSuccess = (name: string, description: string) =>
  builder.objectRef<{ variable: VariableRow }>(name).implement({
    description,
    fields: (t) => ({
      variable: t.field({ type: VariableRef, description: "The variable after the change.", resolve: (r) => r.variable }),
    }),
  });

const CreateVariableSuccess = variableSuccess("CreateVariableSuccess", "The variable was created.");
const SetVariableValueSuccess = variableSuccess("SetVariableValueSuccess", "The value was set: a new version in that environment.");
const RemoveVariableValueSuccess = variableSuccess("RemoveVariableValueSuccess", "The value was removed from that environment.");
const DeleteVariableSuccess = variableSuccess(
  "DeleteVariableSuccess",
  "The variable was deleted with its values (its key may be used again, its history is kept); `variable` is what it was, and no longer resolves by its ID.",
);

const variableId = (id: string) => localId(id, "Variable");

builder.mutationFields((t) => ({
  createVariable: t.field({
    type: CreateVariableSuccess,
    description: "Creates a variable of the organization (EDITOR).",
    authScopes: { editor: true },
    errors: mutationErrors("createVariable", [Errors.AlreadyExists]),
    args: { input: t.arg({ type: CreateVariableInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({ variable: await services.createVariable(actor, input) }),
  }),
  setVariableValue: t.field({
    type: SetVariableValueSuccess,
    description:
      "Sets a variable's value in an environment (EDITOR in editable environments, ADMIN anywhere). Never propagated, never a diff.",
    authScopes: { editor: true },
    errors: mutationErrors("setVariableValue"),
    args: { input: t.arg({ type: SetVariableValueInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({
      variable: await services.setVariableValue(actor, {
        variableId: variableId(input.variableId),
        environmentId: localId(input.environmentId, "Environment"),
        value: input.value,
      }),
    }),
  }),
  removeVariableValue: t.field({
    type: RemoveVariableValueSuccess,
    description: "Removes a variable's value from an environment (EDITOR in editable environments, ADMIN anywhere).",
    authScopes: { editor: true },
    errors: mutationErrors("removeVariableValue", [Errors.VariableInUse]),
    args: { input: t.arg({ type: VariableEnvironmentInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({
      variable: await services.removeVariableValue(actor, {
        variableId: variableId(input.variableId),
        environmentId: localId(input.environmentId, "Environment"),
      }),
    }),
  }),
  deleteVariable: t.field({
    type: DeleteVariableSuccess,
    description: "Deletes a variable and its values (ADMIN).",
    authScopes: { admin: true },
    errors: mutationErrors("deleteVariable", [Errors.VariableInUse]),
    args: { input: t.arg({ type: DeleteVariableInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({
      variable: await services.deleteVariable(actor, { variableId: variableId(input.variableId) }),
    }),
  }),
}));

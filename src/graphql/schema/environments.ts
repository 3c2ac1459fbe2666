import type { DatabaseRow, EnvironmentRow } from "../../services/index.js";
import { builder } from "../builder.js";
import { LIST_SIZES, listCost } from "../cost.js";
import { localId } from "../ids.js";
import { Errors, mutationErrors } from "./errors.js";
import { DatabaseRef, EnvironmentRef } from "./refs.js";

builder.node(EnvironmentRef, {
  description: "An ordered stage of the pipeline (development → staging → production). Each is promoted from its lower neighbour.",
  id: { resolve: (e) => e.id },
  loadOne: (id, { loaders }) => loaders.environment.load(id),
  fields: (t) => ({
    key: t.exposeString("key", { description: "Stable slug, e.g. `production`." }),
    name: t.exposeString("name", { description: "Display name." }),
    rank: t.exposeInt("rank", { description: "Position in the pipeline; 0 is the lowest (a deleted environment's is past every other)." }),
    deletedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When deleteEnvironment removed it from the pipeline; null while it is in it. The history still names it.",
      resolve: (e) => e.deletedAt,
    }),
    isProduction: t.exposeBoolean("isProduction", { description: "Whether end users see this environment's configuration." }),
    editable: t.exposeBoolean("editable", { description: "Whether it accepts direct edits; others change only by propagation." }),
    lower: t.field({
      type: EnvironmentRef,
      nullable: true,
      description: "The environment this one is promoted from; null for the lowest.",
      resolve: async (e, _args, { loaders }) => neighbour(await loaders.environments(), e, -1),
    }),
    upper: t.field({
      type: EnvironmentRef,
      nullable: true,
      description: "The environment this one is promoted to; null for the highest.",
      resolve: async (e, _args, { loaders }) => neighbour(await loaders.environments(), e, +1),
    }),
    databases: t.field({
      type: [DatabaseRef],
      complexity: listCost(LIST_SIZES.databases),
      description: "The user stores of this environment, by name.",
      resolve: (e, _args, { loaders }) => loaders.databasesByEnvironment.load(e.id),
    }),
  }),
});

function neighbour(all: EnvironmentRow[], environment: EnvironmentRow, step: -1 | 1): EnvironmentRow | null {
  const index = all.findIndex((e) => e.id === environment.id);
  // A deleted environment is no longer in the pipeline: it has no neighbours.
  return index < 0 ? null : (all[index + step] ?? null);
}

builder.node(DatabaseRef, {
  description: "An environment-scoped user store (`acme-users-prod`). Never propagated.",
  id: { resolve: (d) => d.id },
  loadOne: (id, { loaders }) => loaders.database.load(id),
  fields: (t) => ({
    name: t.exposeString("name", { description: "Unique name within the organization." }),
    environment: t.field({
      type: EnvironmentRef,
      description: "The environment it belongs to.",
      resolve: async (d, _args, { loaders }) => (await loaders.environment.load(d.environmentId))!,
    }),
  }),
});

builder.queryField("environments", (t) =>
  t.field({
    type: [EnvironmentRef],
    complexity: listCost(LIST_SIZES.environments),
    description: "The organization's environments, lowest first.",
    resolve: (_root, _args, { loaders }) => loaders.environments(),
  }),
);

const CreateEnvironmentInput = builder.inputType("CreateEnvironmentInput", {
  description: "A new environment of the pipeline.",
  fields: (t) => ({
    key: t.string({ description: "Slug, unique in the organization (e.g. `qa`)." }),
    name: t.string({ description: "Display name (1–100 characters)." }),
    rank: t.int({ description: "Where to insert it: environments at this rank and above move up one. Past the top: appended." }),
    isProduction: t.boolean({ required: false, description: "Whether end users see it (default false)." }),
    editable: t.boolean({ required: false, description: "Whether it accepts direct edits (default false)." }),
  }),
});

const CreateEnvironmentSuccess = builder.objectRef<{ environment: EnvironmentRow }>("CreateEnvironmentSuccess").implement({
  description: "The environment was created.",
  fields: (t) => ({
    environment: t.field({ type: EnvironmentRef, description: "The new environment.", resolve: (r) => r.environment }),
  }),
});

const CreateDatabaseInput = builder.inputType("CreateDatabaseInput", {
  description: "A new user store in an environment.",
  fields: (t) => ({
    environmentId: t.id({ description: "Global ID of the environment." }),
    name: t.string({ description: "Slug, unique in the organization (e.g. `acme-users-prod`)." }),
  }),
});

const CreateDatabaseSuccess = builder.objectRef<{ database: DatabaseRow }>("CreateDatabaseSuccess").implement({
  description: "The database was created.",
  fields: (t) => ({
    database: t.field({ type: DatabaseRef, description: "The new database.", resolve: (r) => r.database }),
  }),
});

builder.mutationFields((t) => ({
  createEnvironment: t.field({
    type: CreateEnvironmentSuccess,
    description: "Inserts an environment into the pipeline at a rank (ADMIN).",
    authScopes: { admin: true },
    errors: mutationErrors("createEnvironment", [Errors.AlreadyExists]),
    args: { input: t.arg({ type: CreateEnvironmentInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({
      environment: await services.createEnvironment(actor, input),
    }),
  }),
  createDatabase: t.field({
    type: CreateDatabaseSuccess,
    description: "Creates a user store in an environment (ADMIN).",
    authScopes: { admin: true },
    errors: mutationErrors("createDatabase", [Errors.AlreadyExists]),
    args: { input: t.arg({ type: CreateDatabaseInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({
      database: await services.createDatabase(actor, { ...input, environmentId: localId(input.environmentId, "Environment") }),
    }),
  }),
}));

const DeleteDatabaseInput = builder.inputType("DeleteDatabaseInput", {
  description: "The database to delete.",
  fields: (t) => ({ databaseId: t.id({ description: "Global ID of the database." }) }),
});

const DeleteEnvironmentInput = builder.inputType("DeleteEnvironmentInput", {
  description: "The environment to delete.",
  fields: (t) => ({ environmentId: t.id({ description: "Global ID of the environment." }) }),
});

const UpdateEnvironmentInput = builder.inputType("UpdateEnvironmentInput", {
  description: "A new name for an environment (its key never changes).",
  fields: (t) => ({
    environmentId: t.id({ description: "Global ID of the environment." }),
    name: t.string({ description: "Display name (1–100 characters)." }),
  }),
});

const environmentSuccess = (name: string, description: string) =>
  builder.objectRef<{ environment: EnvironmentRow }>(name).implement({
    description,
    fields: (t) => ({
      environment: t.field({ type: EnvironmentRef, description: "The environment as it is now.", resolve: (r) => r.environment }),
    }),
  });

const DeleteEnvironmentSuccess = builder.objectRef<{ environments: EnvironmentRow[] }>("DeleteEnvironmentSuccess").implement({
  description: "The environment is deleted and the pipeline closed up around it.",
  fields: (t) => ({
    environments: t.field({
      type: [EnvironmentRef],
      complexity: listCost(LIST_SIZES.environments),
      description: "The pipeline now, lowest first.",
      resolve: (r) => r.environments,
    }),
  }),
});

builder.mutationFields((t) => ({
  deleteDatabase: t.field({
    type: environmentSuccess("DeleteDatabaseSuccess", "The database is deleted."),
    description: "Deletes a database (ADMIN); IN_USE while a client uses it. Answers with its environment.",
    authScopes: { admin: true },
    errors: mutationErrors("deleteDatabase", [Errors.InUse]),
    args: { input: t.arg({ type: DeleteDatabaseInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({
      environment: await services.deleteDatabase(actor, { databaseId: localId(input.databaseId, "Database") }),
    }),
  }),
  deleteEnvironment: t.field({
    type: DeleteEnvironmentSuccess,
    description:
      "Deletes an environment (ADMIN): IN_USE while it holds clients, databases, RUNTIME tokens, variable values or open requests, and for the last editable one. The pipeline closes up; subscriptions filtered on it end; the history keeps its name.",
    authScopes: { admin: true },
    errors: mutationErrors("deleteEnvironment", [Errors.InUse]),
    args: { input: t.arg({ type: DeleteEnvironmentInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({
      environments: await services.deleteEnvironment(actor, { environmentId: localId(input.environmentId, "Environment") }),
    }),
  }),
  updateEnvironment: t.field({
    type: environmentSuccess("UpdateEnvironmentSuccess", "The environment is renamed."),
    description: "Renames an environment (ADMIN); its key never changes.",
    authScopes: { admin: true },
    errors: mutationErrors("updateEnvironment"),
    args: { input: t.arg({ type: UpdateEnvironmentInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({
      environment: await services.updateEnvironment(actor, { ...input, environmentId: localId(input.environmentId, "Environment") }),
    }),
  }),
}));

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
    rank: t.exposeInt("rank", { description: "Position in the pipeline; 0 is the lowest." }),
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
  return all[index + step] ?? null;
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

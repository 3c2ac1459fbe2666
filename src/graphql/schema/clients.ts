import type { ApplicationRow, ClientCreationPlan, ClientRow, ClientSummaryRow, Loaders } from "../../services/index.js";
import { syncStatusOfClient } from "../../services/index.js";
import { builder } from "../builder.js";
import { LIST_SIZES, listCost } from "../cost.js";
import { localId } from "../ids.js";
import { Errors, mutationErrors } from "./errors.js";
import { ApplicationRef, ClientRef, DatabaseRef, EnvironmentRef } from "./refs.js";
import { SyncStatusEnum } from "./sync.js";

/** The whole row of a client that may be a summary (from `Application.clients`): one batch by id. */
async function fullClient(loaders: Loaders, client: ClientSummaryRow): Promise<ClientRow> {
  if ("settings" in client) return client as ClientRow;
  return (await loaders.client.load(client.id))!;
}

builder.node(ClientRef, {
  description:
    "An application's presence in one environment: its OAuth client, environment-specific fields (never propagated) and shared settings (propagated).",
  id: { resolve: (c) => c.id },
  loadOne: (id, { loaders }) => loaders.client.load(id),
  fields: (t) => ({
    application: t.field({
      type: ApplicationRef,
      description: "The application.",
      resolve: async (c, _args, { loaders }) => (await loaders.application.load(c.applicationId))!,
    }),
    environment: t.field({
      type: EnvironmentRef,
      description: "The environment.",
      resolve: async (c, _args, { loaders }) => (await loaders.environment.load(c.environmentId))!,
    }),
    clientId: t.exposeString("clientId", { description: "The generated OAuth `client_id`." }),
    name: t.exposeString("name", { description: "Display name." }),
    database: t.field({
      type: DatabaseRef,
      description: "The user store it authenticates against (environment-specific).",
      resolve: async (c, _args, { loaders }) => (await loaders.database.load(c.databaseId))!,
    }),
    redirectUris: t.stringList({
      description: "Allowed OAuth redirect URIs (environment-specific).",
      resolve: async (c, _args, { loaders }) => (await fullClient(loaders, c)).redirectUris,
    }),
    allowedOrigins: t.stringList({
      description: "Allowed CORS origins (environment-specific).",
      resolve: async (c, _args, { loaders }) => (await fullClient(loaders, c)).allowedOrigins,
    }),
    syncStatus: t.field({
      type: SyncStatusEnum,
      description: "Its shared settings against the lower environment's client (IN_SYNC in the lowest environment).",
      resolve: (c, _args, { loaders }) => syncStatusOfClient(loaders, c),
    }),
    settings: t.field({
      type: "JSON",
      description: "Shared settings, propagated between environments: token lifetimes, grant types, PKCE, refresh token rotation.",
      resolve: async (c, _args, { loaders }) => (await fullClient(loaders, c)).settings,
    }),
  }),
});

const MappingNoteRef = builder.objectRef<{ field: string; note: string }>("MappingNote").implement({
  description: "How one field of a new client is filled, and why.",
  fields: (t) => ({
    field: t.exposeString("field", { description: "The field, e.g. `databaseId`." }),
    note: t.exposeString("note", { description: "Copied from where, or why it is not copied." }),
  }),
});

const ClientCreationPlanRef = builder.objectRef<ClientCreationPlan>("ClientCreationPlan").implement({
  description: 'What "Create Client in <environment>" will copy, and what it needs from you.',
  fields: (t) => ({
    sourceEnvironment: t.field({
      type: EnvironmentRef,
      nullable: true,
      description: "The nearest lower environment with a client, copied from; null when there is none.",
      resolve: (p) => p.sourceEnvironment,
    }),
    requiredFields: t.stringList({
      description: "Fields createClient needs because they are never copied.",
      resolve: (p) => p.requiredFields,
    }),
    mappingNotes: t.field({
      type: [MappingNoteRef],
      complexity: listCost(LIST_SIZES.mappingNotes),
      description: "Each field: copied from where, or why not.",
      resolve: (p) => p.mappingNotes,
    }),
  }),
});

builder.queryField("clientCreationPlan", (t) =>
  t.field({
    type: ClientCreationPlanRef,
    description: "What creating the application's client in an environment would copy and need. ALREADY_EXISTS when it has one.",
    args: {
      applicationId: t.arg.id({ description: "Global ID of the application." }),
      environmentId: t.arg.id({ description: "Global ID of the environment." }),
    },
    resolve: (_root, args, { services, actor }) =>
      services.clientCreationPlan(actor, {
        applicationId: localId(args.applicationId, "Application"),
        environmentId: localId(args.environmentId, "Environment"),
      }),
  }),
);

const CreateClientInput = builder.inputType("CreateClientInput", {
  description:
    'The application\'s client in an environment. In an upper environment ("Create Client in Production") the shared settings and every journey are copied from the nearest lower environment with a client; the environment-specific fields come from here.',
  fields: (t) => ({
    applicationId: t.id({ description: "Global ID of the application." }),
    environmentId: t.id({ description: "Global ID of the environment." }),
    databaseId: t.id({ description: "Global ID of a database of that environment." }),
    redirectUris: t.stringList({ description: "Allowed redirect URIs: https, or http on localhost (at most 100)." }),
    allowedOrigins: t.stringList({ description: "Allowed CORS origins (at most 100)." }),
    name: t.string({ required: false, description: 'Display name; default: "<application> (<environment>)".' }),
  }),
});

const CreateClientSuccess = builder.objectRef<{ client: ClientRow }>("CreateClientSuccess").implement({
  description: "The client was created.",
  fields: (t) => ({
    client: t.field({ type: ClientRef, description: "The new client.", resolve: (r) => r.client }),
    application: t.field({
      type: ApplicationRef,
      description:
        "The application after the creation: its `clients`, and its journeys' configurations and `syncStates` in the new environment.",
      resolve: async (r, _args, { loaders }) => (await loaders.application.load(r.client.applicationId))!,
    }),
  }),
});

const UpdateClientInput = builder.inputType("UpdateClientInput", {
  description:
    "Changes a client. Name, database, redirect URIs and origins (environment-specific; ADMIN) in any environment; shared settings only in an editable environment.",
  fields: (t) => ({
    clientId: t.id({ description: "Global ID of the client." }),
    name: t.string({ required: false, description: "Display name." }),
    databaseId: t.id({ required: false, description: "A database of the client's environment." }),
    redirectUris: t.stringList({ required: false, description: "Replaces the redirect URIs." }),
    allowedOrigins: t.stringList({ required: false, description: "Replaces the allowed origins." }),
    settings: t.field({
      type: "JSON",
      required: false,
      description:
        "Shared settings to change (merged into the current ones; null resets a setting to its default). Versioned and propagated.",
    }),
    comment: t.string({ required: false, description: "Why, for the settings history." }),
  }),
});

const UpdateClientSuccess = builder.objectRef<{ client: ClientRow }>("UpdateClientSuccess").implement({
  description: "The client was changed.",
  fields: (t) => ({ client: t.field({ type: ClientRef, description: "The client after the change.", resolve: (r) => r.client }) }),
});

builder.mutationFields((t) => ({
  createClient: t.field({
    type: CreateClientSuccess,
    description: "Creates the application's client in an environment (ADMIN); see CreateClientInput.",
    authScopes: { admin: true },
    errors: mutationErrors("createClient", [
      Errors.AlreadyExists,
      Errors.MissingVariables,
      Errors.InvalidConfiguration,
      Errors.ApprovalRequired,
    ]),
    args: { input: t.arg({ type: CreateClientInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({
      client: await services.createClient(actor, {
        ...input,
        applicationId: localId(input.applicationId, "Application"),
        environmentId: localId(input.environmentId, "Environment"),
        databaseId: localId(input.databaseId, "Database"),
      }),
    }),
  }),
  updateClient: t.field({
    type: UpdateClientSuccess,
    description: "Changes a client: environment-specific fields (ADMIN) or shared settings (EDITOR, editable environments).",
    authScopes: { editor: true },
    errors: mutationErrors("updateClient", [Errors.EnvironmentLocked]),
    args: { input: t.arg({ type: UpdateClientInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({
      client: await services.updateClient(actor, {
        ...input,
        clientId: localId(input.clientId, "Client"),
        databaseId: input.databaseId == null ? null : localId(input.databaseId, "Database"),
      }),
    }),
  }),
}));

const DeleteClientInput = builder.inputType("DeleteClientInput", {
  description: "The client to delete.",
  fields: (t) => ({ clientId: t.id({ description: "Global ID of the client." }) }),
});

const DeleteClientSuccess = builder.objectRef<{ application: ApplicationRow }>("DeleteClientSuccess").implement({
  description: "The client is deleted: the application has left its environment.",
  fields: (t) => ({
    application: t.field({ type: ApplicationRef, description: "The application as it is now.", resolve: (r) => r.application }),
  }),
});

builder.mutationFields((t) => ({
  deleteClient: t.field({
    type: DeleteClientSuccess,
    description:
      "Deletes a client (ADMIN), from the top down: IN_USE while an environment above has a client of the application or an open request goes from or into its environment. Its journeys' configurations there go with it (their versions stay as history); what was promoted stays in the propagations' records and the audit log.",
    authScopes: { admin: true },
    errors: mutationErrors("deleteClient", [Errors.InUse]),
    args: { input: t.arg({ type: DeleteClientInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({
      application: await services.deleteClient(actor, { clientId: localId(input.clientId, "Client") }),
    }),
  }),
}));

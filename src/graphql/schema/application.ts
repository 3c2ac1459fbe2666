import { type ResolveCursorConnectionArgs, resolveCursorConnection } from "@pothos/plugin-relay";
import { type ApplicationRow, type ClientRow, type ClientSummaryRow, type Loaders, syncStatusOfClient } from "../../services/index.js";
import { builder } from "../builder.js";
import { LIST_SIZES, listCost, pageCost } from "../cost.js";
import { applicationCursor, pagePositions } from "../cursors.js";
import { environmentIdOf, localId } from "../ids.js";
import { SyncStatusEnum } from "./diff.js";
import { Errors, mutationErrors } from "./errors.js";
import { ApplicationRef, ClientRef, DatabaseRef, EnvironmentRef, JourneyRef } from "./refs.js";

builder.node(ApplicationRef, {
  description: 'A logical application ("Customer Portal"). It has a client in each environment where it exists, and journeys.',
  id: { resolve: (a) => a.id },
  fields: (t) => ({
    name: t.exposeString("name", { description: "Unique name within the organization." }),
    clients: t.field({
      type: [ClientRef],
      complexity: listCost(LIST_SIZES.environments),
      description: "Its clients, one per environment where it exists, lowest environment first.",
      resolve: async (a, _args, { loaders }) => {
        const [clients, environments] = await Promise.all([loaders.clientsByApplication.load(a.id), loaders.environments()]);
        const rank = new Map(environments.map((e) => [e.id, e.rank]));
        return [...clients].sort((x, y) => (rank.get(x.environmentId) ?? 0) - (rank.get(y.environmentId) ?? 0));
      },
    }),
    client: t.field({
      type: ClientRef,
      nullable: true,
      description: "Its client in an environment; null where it has none.",
      args: { environmentId: t.arg.id({ description: "Global ID of the environment." }) },
      resolve: async (a, { environmentId }, { loaders }) => {
        const id = await environmentIdOf(loaders, environmentId);
        return (await loaders.clientsByApplication.load(a.id)).find((c) => c.environmentId === id) ?? null;
      },
    }),
    journeys: t.field({
      type: [JourneyRef],
      complexity: listCost(LIST_SIZES.journeys),
      description: "Its journeys, by key.",
      resolve: (a, _args, { loaders }) => loaders.journeysByApplication.load(a.id),
    }),
    journey: t.field({
      type: JourneyRef,
      nullable: true,
      description: "Its journey with this key; null when it has none.",
      args: { key: t.arg.string({ description: "The journey's key, e.g. `login`." }) },
      resolve: async (a, { key }, { loaders }) => (await loaders.journeysByApplication.load(a.id)).find((j) => j.key === key) ?? null,
    }),
  }),
});

/** The whole row of a client that may be a summary (from `Application.clients`): one batch by id. */
async function fullClient(loaders: Loaders, client: ClientSummaryRow): Promise<ClientRow> {
  if ("settings" in client) return client as ClientRow;
  return (await loaders.client.load(client.id))!;
}

builder.node(ClientRef, {
  description:
    "An application's presence in one environment: its OAuth client, environment-specific fields (never propagated) and shared settings (propagated).",
  id: { resolve: (c) => c.id },
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

const PAGE_MAX = 100;

builder.queryField("applications", (t) =>
  t.connection(
    {
      type: ApplicationRef,
      description: "The organization's applications, by name.",
      complexity: pageCost(20),
      resolve: (_root, args, { services, actor }) => {
        const positions = pagePositions(applicationCursor, args);
        return resolveCursorConnection(
          { args, toCursor: applicationCursor.encode, maxSize: PAGE_MAX, defaultSize: 20 },
          ({ limit, inverted }: ResolveCursorConnectionArgs) => services.listApplications(actor, { ...positions, limit, inverted }),
        );
      },
    },
    { name: "ApplicationConnection", description: "A page of applications." },
    { name: "ApplicationEdge", description: "An application and its cursor." },
  ),
);

const CreateApplicationInput = builder.inputType("CreateApplicationInput", {
  description: "A new application.",
  fields: (t) => ({ name: t.string({ description: "Unique name (1–100 characters)." }) }),
});

const CreateApplicationSuccess = builder.objectRef<{ application: ApplicationRow }>("CreateApplicationSuccess").implement({
  description: "The application was created.",
  fields: (t) => ({
    application: t.field({ type: ApplicationRef, description: "The new application.", resolve: (r) => r.application }),
  }),
});

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
  fields: (t) => ({ client: t.field({ type: ClientRef, description: "The new client.", resolve: (r) => r.client }) }),
});

builder.mutationFields((t) => ({
  createApplication: t.field({
    type: CreateApplicationSuccess,
    description: "Creates an application (ADMIN).",
    authScopes: { admin: true },
    errors: mutationErrors("createApplication", [Errors.AlreadyExists]),
    args: { input: t.arg({ type: CreateApplicationInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({ application: await services.createApplication(actor, input) }),
  }),
  createClient: t.field({
    type: CreateClientSuccess,
    description: "Creates the application's client in an environment (ADMIN); see CreateClientInput.",
    authScopes: { admin: true },
    errors: mutationErrors("createClient", [Errors.AlreadyExists]),
    args: { input: t.arg({ type: CreateClientInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({
      client: await services.createClient(actor, {
        ...input,
        name: input.name ?? undefined,
        applicationId: localId(input.applicationId, "Application"),
        environmentId: localId(input.environmentId, "Environment"),
        databaseId: localId(input.databaseId, "Database"),
      }),
    }),
  }),
}));

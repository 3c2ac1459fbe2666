import { type ResolveCursorConnectionArgs, resolveCursorConnection } from "@pothos/plugin-relay";
import type { ApplicationRow } from "../../services/index.js";
import { builder } from "../builder.js";
import { LIST_SIZES, listCost, pageCost } from "../cost.js";
import { applicationCursor, MAX_PAGE_SIZE, pagePositions } from "../cursors.js";
import { environmentIdOf } from "../ids.js";
import { Errors, mutationErrors } from "./errors.js";
import { ApplicationRef, ClientRef, JourneyRef } from "./refs.js";

builder.node(ApplicationRef, {
  description: 'A logical application ("Customer Portal"). It has a client in each environment where it exists, and journeys.',
  id: { resolve: (a) => a.id },
  loadOne: (id, { loaders }) => loaders.application.load(id),
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

builder.queryField("applications", (t) =>
  t.connection(
    {
      type: ApplicationRef,
      description: "The organization's applications, by name.",
      complexity: pageCost(20),
      resolve: (_root, args, { services, actor }) => {
        const positions = pagePositions(applicationCursor, args);
        return resolveCursorConnection(
          { args, toCursor: applicationCursor.encode, maxSize: MAX_PAGE_SIZE, defaultSize: 20 },
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

builder.mutationFields((t) => ({
  createApplication: t.field({
    type: CreateApplicationSuccess,
    description: "Creates an application (ADMIN).",
    authScopes: { admin: true },
    errors: mutationErrors("createApplication", [Errors.AlreadyExists]),
    args: { input: t.arg({ type: CreateApplicationInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({ application: await services.createApplication(actor, input) }),
  }),
}));

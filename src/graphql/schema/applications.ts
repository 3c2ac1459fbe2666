import { type ResolveCursorConnectionArgs, resolveCursorConnection } from "@pothos/plugin-relay";
import type { ApplicationRow } from "../../services/index.js";
import { builder } from "../builder.js";
import { LIST_SIZES, listCost, pageCost } from "../cost.js";
import { applicationCursor, MAX_PAGE_SIZE, pagePositions } from "../cursors.js";
import { environmentIdOf, localId } from "../ids.js";
import { Errors, mutationErrors } from "./errors.js";
import { ApplicationRef, ClientRef, JourneyRef } from "./refs.js";

builder.node(ApplicationRef, {
  description: 'A logical application ("Customer Portal"). It has a client in each environment where it exists, and journeys.',
  id: { resolve: (a) => a.id },
  loadOne: (id, { loaders }) => loaders.application.load(id),
  fields: (t) => ({
    name: t.exposeString("name", { description: "Unique name within the organization." }),
    archived: t.boolean({
      description: "Archived (archiveApplication): hidden from `applications`, read-only (writes answer ARCHIVED) until unarchived.",
      resolve: (a) => a.archivedAt !== null,
    }),
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
      description:
        "Its journeys, by key: those with a configuration in some environment; with `includeRetired`, also those retired in every environment.",
      args: {
        includeRetired: t.arg.boolean({
          required: false,
          defaultValue: false,
          description: "Also the journeys retired everywhere (retireJourney); `restoreJourneyVersion` brings one back.",
        }),
      },
      resolve: async (a, { includeRetired }, { loaders }) => {
        const journeys = await loaders.journeysByApplication.load(a.id);
        return includeRetired ? journeys : journeys.filter((j) => j.configured);
      },
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
      description: "The organization's applications, by name (not the archived ones, unless `includeArchived`).",
      complexity: pageCost(20),
      args: {
        includeArchived: t.arg.boolean({ required: false, defaultValue: false, description: "Also the archived applications." }),
      },
      resolve: (_root, args, { services, actor }) => {
        const positions = pagePositions(applicationCursor, args);
        return resolveCursorConnection(
          { args, toCursor: applicationCursor.encode, maxSize: MAX_PAGE_SIZE, defaultSize: 20 },
          ({ limit, inverted }: ResolveCursorConnectionArgs) =>
            services.listApplications(actor, { ...positions, limit, inverted }, { includeArchived: args.includeArchived === true }),
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

const ApplicationRefInput = (name: string, description: string) =>
  builder.inputType(name, {
    description,
    fields: (t) => ({ applicationId: t.id({ description: "Global ID of the application." }) }),
  });

/** A mutation's success that answers with the application as it is now. */
const applicationSuccess = (name: string, description: string) =>
  builder.objectRef<{ application: ApplicationRow }>(name).implement({
    description,
    fields: (t) => ({
      application: t.field({ type: ApplicationRef, description: "The application as it is now.", resolve: (r) => r.application }),
    }),
  });

const ArchiveApplicationInput = ApplicationRefInput("ArchiveApplicationInput", "The application to archive.");
const UnarchiveApplicationInput = ApplicationRefInput("UnarchiveApplicationInput", "The archived application to make writable again.");
const UpdateApplicationInput = builder.inputType("UpdateApplicationInput", {
  description: "A new name for an application.",
  fields: (t) => ({
    applicationId: t.id({ description: "Global ID of the application." }),
    name: t.string({ description: "Unique name (1–100 characters)." }),
  }),
});

builder.mutationFields((t) => ({
  archiveApplication: t.field({
    type: applicationSuccess("ArchiveApplicationSuccess", "The application is archived."),
    description:
      "Archives an application (ADMIN): hidden from `applications`, every write to it refused with ARCHIVED, subscriptions filtered on it end. Its configuration and history stay.",
    authScopes: { admin: true },
    errors: mutationErrors("archiveApplication"),
    args: { input: t.arg({ type: ArchiveApplicationInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({
      application: await services.archiveApplication(actor, { applicationId: localId(input.applicationId, "Application") }),
    }),
  }),
  unarchiveApplication: t.field({
    type: applicationSuccess("UnarchiveApplicationSuccess", "The application is listed and writable again."),
    description: "Undoes archiveApplication (ADMIN).",
    authScopes: { admin: true },
    errors: mutationErrors("unarchiveApplication"),
    args: { input: t.arg({ type: UnarchiveApplicationInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({
      application: await services.unarchiveApplication(actor, { applicationId: localId(input.applicationId, "Application") }),
    }),
  }),
  updateApplication: t.field({
    type: applicationSuccess("UpdateApplicationSuccess", "The application is renamed."),
    description: "Renames an application (ADMIN).",
    authScopes: { admin: true },
    errors: mutationErrors("updateApplication", [Errors.AlreadyExists]),
    args: { input: t.arg({ type: UpdateApplicationInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({
      application: await services.updateApplication(actor, { ...input, applicationId: localId(input.applicationId, "Application") }),
    }),
  }),
}));

import type { RuntimeConfiguration } from "../../services/index.js";
import { builder } from "../builder.js";
import { globalId, localId } from "../ids.js";
import { ApplicationRef, EnvironmentRef } from "./refs.js";

/*
 * The identity runtime's read (DESIGN.md §6): an application's configuration in the RUNTIME token's
 * environment, every reference resolved, secrets included. Each read is audited. The response cache
 * never keeps it (src/server/graphql-handler.ts), and a RUNTIME token may ask for nothing else.
 */

const RuntimeConfigurationRef = builder.objectRef<RuntimeConfiguration>("RuntimeConfiguration").implement({
  description:
    "An application's configuration as the identity runtime of one environment executes it: every variable resolved, secrets included.",
  fields: (t) => ({
    environment: t.field({ type: EnvironmentRef, description: "The RUNTIME token's environment.", resolve: (r) => r.environment }),
    application: t.field({ type: ApplicationRef, description: "The application.", resolve: (r) => r.application }),
    client: t.field({
      type: "JSON",
      nullable: true,
      description:
        "The client there: `clientId`, `name`, `database`, `redirectUris`, `allowedOrigins` and its resolved shared `settings`; null where the application has no client.",
      resolve: (r) => r.client,
    }),
    journeys: t.field({
      type: "JSON",
      description: "Journey key → its current document there, each reference replaced by the environment's value (secret settings too).",
      resolve: (r) => r.journeys,
    }),
    resolvedAt: t.expose("resolvedAt", { type: "DateTime", description: "When it was read (the audit event's time)." }),
  }),
});

builder.queryField("runtimeConfiguration", (t) =>
  t.field({
    type: RuntimeConfigurationRef,
    description:
      "The resolved configuration of an application in the caller's environment: RUNTIME tokens only (FORBIDDEN otherwise); every read is audited.",
    args: { applicationId: t.arg.id({ description: "Global ID of the application." }) },
    resolve: (_root, { applicationId }, { services, actor }) => {
      const id = localId(applicationId, "Application");
      // The audit event names the application by its ID as the API spells it, whatever spelling came in.
      return services.runtimeConfiguration(actor, id, globalId("Application", id));
    },
  }),
);

import { ArchivedError, NotFoundError, ValidationError } from "../../domain/errors.js";
import { changeCountOf, type JourneySyncState, type Loaders, type SyncNotificationRow, syncMessage } from "../../services/index.js";
import { builder } from "../builder.js";
import { pageCost } from "../cost.js";
import { checkPageSize } from "../cursors.js";
import { environmentIdOf, localId, notificationLocalId, parseNotificationLocalId } from "../ids.js";
import { ApplicationRef, EnvironmentRef, JourneyRef } from "./refs.js";

export const SyncStatusEnum = builder.enumType("SyncStatus", {
  description: "How an environment's configuration compares with its lower neighbour's.",
  values: {
    IN_SYNC: { description: "Identical to the lower environment." },
    OUT_OF_SYNC: { description: 'Differs from the lower environment: "Journey Configuration out of Sync".' },
    NOT_CREATED: { description: "The application has no client in this environment yet." },
  } as const,
});

export const JourneySyncStateRef = builder.objectRef<JourneySyncState>("JourneySyncState").implement({
  description: "A journey's state in one environment against the environment it is promoted from.",
  fields: (t) => ({
    environment: t.field({ type: EnvironmentRef, description: "The environment.", resolve: (s) => s.environment }),
    sourceEnvironment: t.field({ type: EnvironmentRef, description: "Its lower neighbour.", resolve: (s) => s.sourceEnvironment }),
    status: t.field({ type: SyncStatusEnum, description: "Compared by stored hashes.", resolve: (s) => s.status }),
    message: t.string({
      description: '"Journey Configuration out of Sync" when out of sync.',
      resolve: (s) => syncMessage("journey", s.status, s.environment),
    }),
    changeCount: t.int({
      description: "How many changes promoting from the source would make (0 unless OUT_OF_SYNC).",
      resolve: (s, _args, { loaders }) => changeCountOf(loaders, s),
    }),
  }),
});

/** A stored notification; a delivered one carries the rows it names, read once for all its subscribers. */

export const SyncNotificationRef = builder.objectRef<SyncNotificationRow>("SyncNotification");

builder.node(SyncNotificationRef, {
  description:
    "A persisted event: the sync status (or its content) of a journey — or of the client settings — in an environment changed. Ordered by cursor.",
  id: { resolve: notificationLocalId },
  // Numbers repeat across organizations: the id's organization must be the caller's.
  loadOne: (id, { loaders, actor }) => {
    const notification = parseNotificationLocalId(id);
    return notification?.organizationId === actor.organizationId ? loaders.syncNotification.load(notification.seq) : null;
  },
  fields: (t) => ({
    cursor: t.string({
      description: "Its number in the organization (1, 2, 3…, without gaps): pass it as `after` to get everything that followed.",
      resolve: (n) => String(n.seq),
    }),
    application: t.field({
      type: ApplicationRef,
      description: "The application.",
      resolve: (n, _args, { loaders }) => loaders.application.load(n.applicationId).then((a) => a!),
    }),
    journey: t.field({
      type: JourneyRef,
      nullable: true,
      description: "The journey; null for the client settings.",
      resolve: (n, _args, { loaders }) => (n.journeyId ? loaders.journey.load(n.journeyId) : null),
    }),
    environment: t.field({
      type: EnvironmentRef,
      description: "The environment whose state changed.",
      resolve: (n, _args, { loaders }) => loaders.environment.load(n.environmentId).then((e) => e!),
    }),
    sourceEnvironment: t.field({
      type: EnvironmentRef,
      description: "The lower environment it is compared with.",
      resolve: (n, _args, { loaders }) => loaders.environment.load(n.sourceEnvironmentId).then((e) => e!),
    }),
    status: t.field({ type: SyncStatusEnum, description: "The new status.", resolve: (n) => n.status }),
    message: t.exposeString("message", { description: '"Journey Configuration out of Sync" / "Journey Configuration in Sync".' }),
    changeCount: t.exposeInt("changeCount", { description: "How many changes promoting from the source would make." }),
    occurredAt: t.expose("occurredAt", { type: "DateTime", description: "When the change was committed." }),
  }),
});

/** A notification cursor is its number in the organization. */
function cursorOf(value: string | null | undefined, arg: string): number | undefined {
  if (value == null) return undefined;
  if (!/^\d{1,15}$/.test(value)) throw new ValidationError([{ path: arg, message: `${arg} is not a notification cursor` }]);
  return Number(value);
}

/**
 * The environment and application a list or subscription of events is filtered on, checked in the
 * caller's organization. A list may name a deleted environment or an archived application (their
 * history stays); a subscription (`live`) may not: nothing more will happen there.
 */
export async function filterOf(
  loaders: Loaders,
  args: { environmentId?: string | null; applicationId?: string | null },
  options: { live?: boolean } = {},
) {
  const environmentId = args.environmentId == null ? undefined : await environmentIdOf(loaders, args.environmentId);
  if (options.live && environmentId !== undefined && (await loaders.environment.load(environmentId))?.deletedAt) {
    throw new NotFoundError("environment", args.environmentId!);
  }
  let applicationId: string | undefined;
  if (args.applicationId != null) {
    applicationId = localId(args.applicationId, "Application");
    const application = await loaders.application.load(applicationId);
    if (!application) throw new NotFoundError("application", args.applicationId);
    if (options.live && application.archivedAt !== null) throw new ArchivedError(application.name);
  }
  return { environmentId, applicationId };
}

builder.queryField("syncNotifications", (t) =>
  t.connection(
    {
      type: SyncNotificationRef,
      complexity: pageCost(50),
      description:
        "Sync notifications, oldest first: `first`/`after` page forward from a cursor (the history a dashboard resumes from), `last`/`before` back from the newest.",
      args: {
        environmentId: t.arg.id({ required: false, description: "Only this environment's." }),
        applicationId: t.arg.id({ required: false, description: "Only this application's." }),
      },
      resolve: async (_root, args, context) => {
        const filter = await filterOf(context.loaders, args);
        checkPageSize(args);
        const after = cursorOf(args.after, "after");
        const before = cursorOf(args.before, "before");
        // Forward (first, default 50) from the oldest after `after`; backward (last) from the newest before `before`.
        const backward = args.last != null;
        const limit = (backward ? args.last : args.first) ?? 50;
        const rows = await context.services.listSyncNotifications(context.actor, filter, {
          after,
          before,
          limit: limit + 1,
          newestFirst: backward,
        });
        const more = rows.length > limit;
        const page = backward ? rows.slice(0, limit).reverse() : rows.slice(0, limit);
        return {
          edges: page.map((node) => ({ node, cursor: String(node.seq) })),
          pageInfo: {
            hasNextPage: backward ? before !== undefined : more,
            hasPreviousPage: backward ? more : after !== undefined,
            startCursor: page.length > 0 ? String(page[0].seq) : null,
            // An empty page keeps the cursor it was asked from, so a dashboard can poll with it.
            endCursor: page.length > 0 ? String(page[page.length - 1].seq) : backward ? null : (args.after ?? null),
          },
        };
      },
    },
    { name: "SyncNotificationConnection", description: "A page of sync notifications, oldest first." },
    { name: "SyncNotificationEdge", description: "A notification and its cursor." },
  ),
);

builder.subscriptionType({ description: "Live events, over graphql-ws (WebSocket) or server-sent events." });

builder.subscriptionField("syncStatusChanged", (t) =>
  t.field({
    type: SyncNotificationRef,
    description:
      "Sync status changes of the organization as they commit, on any instance. With `after`, first every stored notification after that cursor, then live ones: no gap, no duplicate. Ends when the token is revoked, or when the environment or application filtered on is deleted or archived, or when the subscriber has over 2,000 notifications waiting that it has not read (resume with `after` the last cursor it saw).",
    args: {
      environmentId: t.arg.id({ required: false, description: "Only this environment's." }),
      applicationId: t.arg.id({ required: false, description: "Only this application's." }),
      after: t.arg.string({ required: false, description: "Resume after this cursor (the last notification seen)." }),
    },
    subscribe: async (_root, args, context) => {
      // Loaders only for checking the filter's IDs, released once it is checked.
      const filter = await filterOf(context.services.loaders(context.actor), args, { live: true });
      return context.services.syncNotificationStream(context.actor, filter, cursorOf(args.after, "after"));
    },
    // Each event executes with loaders of its own, shared by every subscriber it is executed for
    // (src/server/shared-events.ts): one batch of reads per event, not per subscriber.
    resolve: (notification) => notification,
  }),
);

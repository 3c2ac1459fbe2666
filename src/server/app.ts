import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { useGraphQlJit } from "@envelop/graphql-jit";
import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import { type DocumentNode, Kind } from "graphql";
import { createYoga, useReadinessCheck } from "graphql-yoga";
import type { Database } from "../db/client.js";
import { EventHub } from "../events/hub.js";
import { startEventRelay } from "../events/relay.js";
import type { GraphQLContext } from "../graphql/context.js";
import { schema } from "../graphql/schema/index.js";
import { type Actor, createServices, type Services } from "../services/index.js";
import { useAuthentication } from "./authentication.js";
import { errorMask } from "./error-mask.js";
import { useExecutionBudget } from "./execution-budget.js";
import { disableIntrospection, MAX_WS_MESSAGE_BYTES, OPERATION_LIMITS, operationLimits } from "./limits.js";
import type { Logger } from "./logger.js";
import { useOperationCost } from "./operation-cost.js";
import { refusalThrottle } from "./refusal-throttle.js";
import { refuseUnboundedBody, useBoundedRequestJson } from "./request-body.js";
import { useRequestLogging } from "./request-logging.js";
import { useResponseCache } from "./response-cache.js";
import { useSharedEventExecution } from "./shared-events.js";
import { SUBSCRIPTION_LIMITS, useSubscriptionLimits } from "./subscription-limits.js";
import { useNoSuggestions } from "./suggestions.js";
import { startWebSocketServer } from "./websocket.js";

export interface AppOptions {
  database: Database;
  logger: Logger;
  /** Answer introspection queries and serve GraphiQL (default true). */
  introspection?: boolean;
  /** Cache query responses per audience (organization and role) and organization revision (default true). */
  responseCache?: boolean;
  /** Open subscriptions allowed per connection and per token (default SUBSCRIPTION_LIMITS). */
  subscriptionLimits?: { perConnection: number; perToken: number };
  /** Time a query may run before it is stopped with OPERATION_TIMEOUT (default OPERATION_LIMITS.queryTimeMs). */
  queryTimeMs?: number;
}

export interface App {
  server: Server;
  services: Services;
  /** Listens; resolves to the base URL (`http://host:port`). */
  start(port: number, host?: string): Promise<string>;
  /** Closes WebSockets, drains HTTP; the caller closes the database. */
  stop(): Promise<void>;
}

const GRAPHQL_PATH = "/graphql";
const KEEP_ALIVE_MS = 65_000;

const isSubscription = (document: DocumentNode) =>
  document.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION && d.operation === "subscription");

/**
 * Whom a response is for, as far as responses can differ: the organization and the role. Nothing in
 * the schema depends on the token itself, so two tokens of one audience share responses and events.
 */
const audienceOf = (context: unknown) => {
  const { actor } = context as { actor: Actor };
  return `${actor.organizationId}:${actor.role}`;
};

/** The HTTP and WebSocket server: yoga with our plugins, in the order they must run. */
export function createApp({
  database,
  logger,
  introspection = true,
  responseCache = true,
  subscriptionLimits = SUBSCRIPTION_LIMITS,
  queryTimeMs = OPERATION_LIMITS.queryTimeMs,
}: AppOptions): App {
  const hub = new EventHub();
  const services = createServices(database.db, hub);
  const authentication = useAuthentication(services);
  const throttle = refusalThrottle();
  const subscriptionCaps = useSubscriptionLimits({
    ...subscriptionLimits,
    connectionOf: (context) => (context as { socket?: object; request: object }).socket ?? (context as { request: object }).request,
    tokenOf: (context) => (context as GraphQLContext).actor.tokenId,
  });
  let stopRelay: (() => Promise<void>) | undefined;

  const yoga = createYoga<{ actor?: Actor }, GraphQLContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    // Without introspection, no GraphiQL either: it is how a schema is read.
    graphiql: introspection && { title: "Journey promotion API", headers: JSON.stringify({ Authorization: "Bearer <token>" }) },
    landingPage: false,
    multipart: false,
    logging: {
      debug: (...args) => logger.debug(args.map(String).join(" ")),
      info: (...args) => logger.info(args.map(String).join(" ")),
      warn: (...args) => logger.warn(args.map(String).join(" ")),
      error: (...args) => logger.error(args.map(String).join(" ")),
    },
    maskedErrors: { maskError: errorMask(logger) },
    plugins: [
      useRequestLogging(logger),
      // A browser sends a "simple" request (GET, form or text/plain body) cross-site without a CORS
      // preflight; ours must carry a header such a request cannot have. Authorization is one.
      useCSRFPrevention({ requestHeaders: ["authorization", "x-graphql-yoga-csrf"] }),
      throttle.plugin,
      authentication.plugin,
      useBoundedRequestJson(),
      useNoSuggestions(),
      operationLimits(),
      ...(introspection ? [] : [disableIntrospection()]),
      useOperationCost({ maxCost: OPERATION_LIMITS.cost }),
      subscriptionCaps,
      // A live event resolves once per audience, document and variables, not once per subscriber.
      // syncStatusChanged's arguments (filters, the resume cursor) only choose which events arrive.
      useSharedEventExecution({ audienceOf, filterOnlyFields: new Set(["syncStatusChanged"]) }),
      ...(responseCache
        ? [
            useResponseCache({
              scopeOf: (context) => {
                const { actor, organizationRevision } = context as GraphQLContext;
                if (organizationRevision === undefined) return null;
                return { organization: actor.organizationId, audience: audienceOf(context), revision: organizationRevision };
              },
            }),
          ]
        : []),
      useExecutionBudget({ schema, ms: queryTimeMs }),
      // Queries and mutations run as compiled functions (graphql-jit); subscriptions keep graphql-js's executor.
      useGraphQlJit({}, { enableIf: ({ document }) => !isSubscription(document) }),
      useReadinessCheck({
        endpoint: "/ready",
        check: () =>
          database.ping().then(
            () => true,
            () => false,
          ),
      }),
    ],
    context: (initial) => {
      // A WebSocket's operations come with the actor their connection authenticated (again) for them.
      if (initial.actor) return { actor: initial.actor, services, loaders: services.loaders(initial.actor) };
      const { actor, organizationRevision } = authentication.of(initial.request);
      return { actor, organizationRevision, services, loaders: services.loaders(actor) };
    },
  });

  const server = createServer((request, response) => refuseUnboundedBody(request, response) || yoga(request, response));
  // An idle keep-alive connection is closed by the client or the proxy in front, not by us: a
  // server that closes first races a request the client is already sending on it (ECONNRESET).
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 1_000;
  const webSockets = startWebSocketServer({
    server,
    path: GRAPHQL_PATH,
    maxPayload: MAX_WS_MESSAGE_BYTES,
    yoga,
    services,
    hub,
    logger,
    subscriptionsOpenOn: subscriptionCaps.openOn,
    throttle,
    maxSubscriptionsPerConnection: subscriptionLimits.perConnection,
  });

  return {
    server,
    services,
    start: async (port, host = "0.0.0.0") => {
      // LISTEN starts with the server: an instance relays what every instance commits.
      stopRelay = await startEventRelay(database, hub, (error) => logger.error({ err: error }, "event relay failed"));
      return new Promise<string>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          const address = server.address() as AddressInfo;
          resolve(`http://${host === "0.0.0.0" || host === "::" ? "localhost" : host}:${address.port}`);
        });
      });
    },
    stop: async () => {
      await stopRelay?.();
      await webSockets.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      });
    },
  };
}

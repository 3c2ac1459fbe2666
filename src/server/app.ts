import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { PothosValidationError } from "@pothos/core";
import { useGraphQlJit } from "@envelop/graphql-jit";
import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import { type DocumentNode, GraphQLError, Kind } from "graphql";
import { createYoga, type Plugin, useReadinessCheck } from "graphql-yoga";
import { CloseCode } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import type { Database } from "../db/client.js";
import { DomainError } from "../domain/errors.js";
import type { GraphQLContext } from "../graphql/context.js";
import { schema } from "../graphql/schema/index.js";
import { type Actor, createServices, type Services } from "../services/index.js";
import { sqlState } from "../services/transaction.js";
import type { Logger } from "./logger.js";
import { disableIntrospection, MAX_BODY_BYTES, MAX_WS_MESSAGE_BYTES, operationLimits } from "./limits.js";
import { EventHub } from "../events/hub.js";
import { startEventRelay } from "../events/relay.js";
import { useResponseCache } from "./response-cache.js";
import { useSharedEventExecution } from "./shared-events.js";

export interface AppOptions {
  database: Database;
  logger: Logger;
  /** Answer introspection queries (default true). */
  introspection?: boolean;
  /** Cache query responses per audience (organization and role) and organization revision (default true). */
  responseCache?: boolean;
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

function unauthenticated(message: string) {
  return new GraphQLError(message, { extensions: { code: "UNAUTHENTICATED", http: { status: 401 } } });
}

function isSubscription(document: DocumentNode): boolean {
  return document.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION && d.operation === "subscription");
}

/** Failures of the connection rather than of the statement: the transaction rolled back, a retry may succeed. */
function isConnectionLoss(error: unknown): boolean {
  const state = sqlState(error);
  if (state && (state.startsWith("08") || ["57P01", "57P02", "57P03"].includes(state))) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && ["CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT", "ECONNREFUSED", "ECONNRESET"].includes(code);
}

/**
 * Whom a response is for, as far as responses can differ: the organization (all data is its own)
 * and the role (scopes decide what is answered). Nothing in the schema depends on the token itself
 * (`viewer` is the organization and the role), so two tokens of one audience can share responses.
 */
function audienceOf(actor: Actor): string {
  return `${actor.organizationId}:${actor.role}`;
}

function bearer(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const match = /^Bearer\s+(\S+)$/i.exec(value.trim());
  return match ? match[1] : null;
}

/** A request id per operation: taken from `x-request-id` when sent, echoed in the response, on every log line. */
function useRequestLogging(logger: Logger): Plugin<{ requestId?: string }> {
  const ids = new WeakMap<Request, string>();
  return {
    onRequest({ request }) {
      const incoming = request.headers.get("x-request-id");
      ids.set(request, incoming && /^[\w.-]{1,100}$/.test(incoming) ? incoming : randomUUID());
    },
    onResponse({ request, response }) {
      const id = ids.get(request);
      if (id) response.headers.set("x-request-id", id);
    },
    onExecute({ args }) {
      const started = performance.now();
      const request = (args.contextValue as { request?: Request }).request;
      const requestId = (request && ids.get(request)) ?? randomUUID();
      return {
        onExecuteDone({ result }) {
          const errors = "errors" in result && result.errors ? result.errors.length : 0;
          logger.info(
            {
              requestId,
              operationName: args.operationName ?? null,
              durationMs: Math.round((performance.now() - started) * 10) / 10,
              errors,
            },
            "operation",
          );
        },
      };
    },
  };
}

/**
 * Bodies are bounded before yoga reads them: a declared length over the limit is refused at once
 * (413), and a body without a declared length (chunked) is refused too (411), since its size is
 * only known once it has been read. GraphQL clients and browsers always declare the length.
 */
function refuseBody(response: ServerResponse, status: 411 | 413) {
  const message = status === 413 ? `Request body larger than ${MAX_BODY_BYTES} bytes` : "Send a Content-Length with the request body";
  response.writeHead(status, { "content-type": "application/json", connection: "close" });
  response.end(JSON.stringify({ errors: [{ message, extensions: { code: status === 413 ? "PAYLOAD_TOO_LARGE" : "LENGTH_REQUIRED" } }] }));
}

/**
 * A subscription's context lives as long as the subscription; each event resolves with the loaders
 * it shares with the event's other subscribers. Once its result is out, the context lets them go,
 * or thousands of idle subscribers would each keep the last event's loaders and what they cached.
 */
function useReleaseEventLoaders(): Plugin {
  return {
    onSubscribe() {
      return {
        onSubscribeResult({ args }) {
          const context = args.contextValue as unknown as GraphQLContext;
          return {
            onNext() {
              context.loaders = context.services.loaders(context.actor);
            },
          };
        },
      };
    },
  };
}

export function createApp({ database, logger, introspection = true, responseCache = true }: AppOptions): App {
  const hub = new EventHub();
  const services = createServices(database.db, hub);
  // LISTEN starts with the server: an instance relays what every instance commits.
  let stopRelay: (() => Promise<void>) | undefined;

  const yoga = createYoga<{ actor?: Actor; req?: IncomingMessage }, GraphQLContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    graphiql: { title: "Journey promotion API", headers: JSON.stringify({ Authorization: "Bearer <token>" }) },
    landingPage: false,
    logging: {
      debug: (...args) => logger.debug(args.map(String).join(" ")),
      info: (...args) => logger.info(args.map(String).join(" ")),
      warn: (...args) => logger.warn(args.map(String).join(" ")),
      error: (...args) => logger.error(args.map(String).join(" ")),
    },
    maskedErrors: {
      maskError(error, message) {
        const original = error instanceof GraphQLError ? error.originalError : error;
        if (original instanceof DomainError) {
          const graphqlError = error as GraphQLError;
          return new GraphQLError(original.message, {
            nodes: graphqlError.nodes,
            path: graphqlError.path,
            extensions: { code: original.code },
          });
        }
        if (original instanceof PothosValidationError) {
          // Argument checks of the schema's plugins (e.g. a negative `first`): the caller's mistake.
          return new GraphQLError(original.message, {
            nodes: (error as GraphQLError).nodes,
            path: (error as GraphQLError).path,
            extensions: { code: "VALIDATION_FAILED" },
          });
        }
        if (original instanceof GraphQLError) return original;
        if (error instanceof GraphQLError && !error.originalError) return error;
        if (isConnectionLoss(original)) {
          logger.warn({ err: original }, "database connection lost");
          return new GraphQLError("The database connection was lost; nothing was applied. Retry the request.", {
            nodes: (error as GraphQLError).nodes,
            path: (error as GraphQLError).path,
            extensions: { code: "DATABASE_UNAVAILABLE" },
          });
        }
        logger.error({ err: original }, "unexpected error");
        return new GraphQLError(message, {
          nodes: (error as GraphQLError).nodes,
          path: (error as GraphQLError).path,
          extensions: { code: "INTERNAL_SERVER_ERROR" },
        });
      },
    },
    plugins: [
      useRequestLogging(logger),
      useReleaseEventLoaders(),
      // A live event resolves once per audience, document and variables, not once per subscriber.
      // syncStatusChanged's arguments (filters, the resume cursor) only choose which events arrive.
      useSharedEventExecution({
        audienceOf: (context) => audienceOf((context as GraphQLContext).actor),
        filterOnlyFields: new Set(["syncStatusChanged"]),
      }),
      // A browser sends a "simple" request (GET, form or text/plain body) cross-site without a CORS
      // preflight; ours must carry a header such a request cannot have. Authorization is one.
      useCSRFPrevention({ requestHeaders: ["authorization", "x-graphql-yoga-csrf"] }),
      operationLimits(),
      ...(responseCache
        ? [
            useResponseCache({
              scopeOf: (context) => {
                const { actor, organizationRevision } = context as GraphQLContext;
                if (organizationRevision === undefined) return null;
                return { organization: actor.organizationId, audience: audienceOf(actor), revision: organizationRevision };
              },
            }),
          ]
        : []),
      // Queries and mutations run as compiled functions (graphql-jit): the dashboard resolves over a
      // thousand fields per request. Subscriptions keep graphql-js's executor.
      useGraphQlJit({}, { enableIf: ({ document }) => !isSubscription(document) }),
      ...(introspection ? [] : [disableIntrospection()]),
      useReadinessCheck({
        endpoint: "/ready",
        check: async () => {
          try {
            await database.ping();
            return true;
          } catch {
            return false;
          }
        },
      }),
    ],
    context: async (initial) => {
      // A WebSocket's operations come with the actor its connection authenticated.
      if (initial.actor) return { actor: initial.actor, services, loaders: services.loaders(initial.actor) };
      const secret = bearer(initial.request.headers.get("authorization"));
      if (!secret) throw unauthenticated("Authentication required: send Authorization: Bearer <token>");
      const authentication = await services.authenticate(secret);
      if (!authentication) throw unauthenticated("Invalid or revoked token");
      const { actor, organizationRevision } = authentication;
      return { actor, organizationRevision, services, loaders: services.loaders(actor) };
    },
  });

  const server = createServer((request, response) => {
    if (Number(request.headers["content-length"] ?? 0) > MAX_BODY_BYTES) return refuseBody(response, 413);
    if (request.headers["transfer-encoding"] && request.headers["content-length"] === undefined) return refuseBody(response, 411);
    return yoga(request, response);
  });
  // An idle keep-alive connection is closed by the client or the proxy in front, not by us: a
  // server that closes first races a request the client is already sending on it (ECONNRESET).
  // Longer than common load balancers' idle timeouts (60 s); stop() still closes idle ones at once.
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 1_000;
  const wsServer = new WebSocketServer({ server, path: GRAPHQL_PATH, maxPayload: MAX_WS_MESSAGE_BYTES });

  useServer<Record<string, unknown> | undefined, { actor?: Actor }>(
    {
      connectionInitWaitTimeout: 10_000,
      execute: (args) => (args.rootValue as { execute: typeof import("graphql").execute }).execute(args),
      subscribe: (args) => (args.rootValue as { subscribe: typeof import("graphql").subscribe }).subscribe(args),
      onConnect: async (ctx) => {
        const secret = bearer(ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization);
        const authentication = secret ? await services.authenticate(secret) : null;
        if (!authentication) {
          ctx.extra.socket.close(CloseCode.Unauthorized, "Unauthorized");
          return false;
        }
        ctx.extra.actor = authentication.actor;
        return true;
      },
      onSubscribe: async (ctx, _id, params) => {
        const { schema: envelopedSchema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          actor: ctx.extra.actor,
        });
        const document = parse(params.query);
        const errors = validate(envelopedSchema, document);
        if (errors.length > 0) return errors;
        return {
          schema: envelopedSchema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
      },
    },
    wsServer,
  );

  return {
    server,
    services,
    start: async (port, host = "0.0.0.0") => {
      stopRelay = await startEventRelay(database, hub, (error) => logger.error({ err: error }, "event relay failed"));
      return new Promise<string>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          const address = server.address() as AddressInfo;
          const shown = host === "0.0.0.0" || host === "::" ? "localhost" : host;
          resolve(`http://${shown}:${address.port}`);
        });
      });
    },
    stop: async () => {
      await stopRelay?.();
      for (const client of wsServer.clients) client.close(1001, "Server shutting down");
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      });
    },
  };
}

import type { IncomingMessage, Server } from "node:http";
import { type DocumentNode, GraphQLError } from "graphql";
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from "graphql-ws";
import type { YogaServerInstance } from "graphql-yoga";
import { WebSocket, WebSocketServer } from "ws";
import type { EventHub } from "../events/hub.js";
import type { Actor, Services } from "../services/index.js";
import { bearer, INVALID_TOKEN } from "./authentication.js";
import { loggableError } from "./error-log.js";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "./json-depth.js";
import type { Logger } from "./logger.js";
import { withoutSuggestions } from "./suggestions.js";

/** What a connection carries: its socket, and once authenticated, its secret and caller. */
interface Extra {
  socket: WebSocket;
  request: IncomingMessage;
  secret?: string;
  actor?: Actor;
  stopWatchingRevocation?: () => void;
}

export interface WebSocketOptions {
  server: Server;
  path: string;
  maxPayload: number;
  // biome-ignore lint/suspicious/noExplicitAny: the server context type is yoga's own
  yoga: YogaServerInstance<any, any>;
  services: Services;
  hub: EventHub;
  logger: Logger;
}

const KEEP_ALIVE_MS = 12_000;

/** The error with `code` unless it has one (a limit's own code stays), as HTTP answers it. */
function withCode(error: GraphQLError, code: string): GraphQLError {
  if (error.extensions.code !== undefined) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code },
  });
}

function closeUnauthorized(socket: WebSocket, reason: string) {
  if (socket.readyState === WebSocket.OPEN) socket.close(CloseCode.Unauthorized, reason);
}

/**
 * GraphQL over WebSocket (graphql-transport-ws), sharing yoga's plugins, context and limits.
 *
 * - A connection authenticates in `connection_init`, and every operation it sends authenticates
 *   again before it runs: a revoked token's operation is refused, never executed. A revocation
 *   (from any instance) also closes the token's sockets with 4401 at once.
 * - A syntax or validation error is an `error` message for that operation; the socket stays open.
 * - A message that nests deeper than {@link MAX_JSON_DEPTH} closes the socket with 4400 before it
 *   is parsed. Failures are logged as one JSON line each, never printed.
 */
export function startWebSocketServer({ server, path, maxPayload, yoga, services, hub, logger }: WebSocketOptions) {
  const wsServer = new WebSocketServer({ server, path, maxPayload, handleProtocols });

  const options: ServerOptions<Record<string, unknown> | undefined, Extra> = {
    connectionInitWaitTimeout: 10_000,
    execute: (args) => (args.rootValue as { execute: typeof import("graphql").execute }).execute(args),
    subscribe: (args) => (args.rootValue as { subscribe: typeof import("graphql").subscribe }).subscribe(args),
    onConnect: async (ctx) => {
      const secret = bearer(ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization);
      const authentication = secret ? await services.authenticate(secret) : null;
      if (!secret || !authentication) {
        closeUnauthorized(ctx.extra.socket, "Unauthorized");
        return false;
      }
      ctx.extra.secret = secret;
      ctx.extra.actor = authentication.actor;
      ctx.extra.stopWatchingRevocation = hub.listen(`revoked:${authentication.actor.tokenId}`, () =>
        closeUnauthorized(ctx.extra.socket, "Token revoked"),
      );
      return true;
    },
    onClose: (ctx) => ctx.extra.stopWatchingRevocation?.(),
    onSubscribe: async (ctx, _id, params) => {
      const authentication = ctx.extra.secret ? await services.authenticate(ctx.extra.secret) : null;
      if (!authentication) {
        closeUnauthorized(ctx.extra.socket, "Token revoked");
        return [new GraphQLError(INVALID_TOKEN, { extensions: { code: "UNAUTHENTICATED" } })];
      }
      const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
        ...ctx,
        req: ctx.extra.request,
        socket: ctx.extra.socket,
        params,
        actor: authentication.actor,
      });
      let document: DocumentNode;
      try {
        document = parse(params.query);
      } catch (error) {
        if (error instanceof GraphQLError) return [withCode(withoutSuggestions(error), "GRAPHQL_PARSE_FAILED")];
        throw error;
      }
      const errors = validate(schema, document);
      if (errors.length > 0) return errors.map((error: GraphQLError) => withCode(withoutSuggestions(error), "GRAPHQL_VALIDATION_FAILED"));
      return {
        schema,
        operationName: params.operationName,
        document,
        variableValues: params.variables,
        contextValue: await contextFactory(),
        rootValue: { execute, subscribe },
      };
    },
    onNext: (_ctx, _id, _payload, _args, result) => {
      result.errors?.forEach(withoutSuggestions);
    },
    onError: (_ctx, _id, _payload, errors) => {
      errors.forEach(withoutSuggestions);
    },
  };
  const graphqlWs = makeServer(options);

  wsServer.on("connection", (socket, request) => {
    socket.once("error", (error) => {
      logger.warn({ err: loggableError(error) }, "websocket error");
      socket.terminate();
    });
    let pongWait: NodeJS.Timeout | undefined;
    const ping = setInterval(() => {
      if (socket.readyState !== WebSocket.OPEN) return;
      pongWait = setTimeout(() => socket.terminate(), KEEP_ALIVE_MS);
      socket.once("pong", () => clearTimeout(pongWait));
      socket.ping();
    }, KEEP_ALIVE_MS);
    const closed = graphqlWs.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== WebSocket.OPEN) return resolve();
            socket.send(data, (error) => (error ? reject(error) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on("message", async (data) => {
            const text = String(data);
            if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
              socket.close(CloseCode.BadRequest, `Message nests deeper than ${MAX_JSON_DEPTH} levels`);
              return;
            }
            try {
              await handle(text);
            } catch (error) {
              logger.error({ err: loggableError(error) }, "websocket message failed");
              socket.close(CloseCode.InternalServerError, "Internal server error");
            }
          }),
      },
      { socket, request },
    );
    socket.once("close", (code, reason) => {
      clearInterval(ping);
      clearTimeout(pongWait);
      void closed(code, String(reason));
    });
  });

  return {
    /** Closes every socket (1001) and the server. */
    async stop() {
      for (const client of wsServer.clients) client.close(1001, "Server shutting down");
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}

import type { IncomingMessage, Server } from "node:http";
import { type DocumentNode, type ExecutionArgs, GraphQLError, type GraphQLFormattedError, getOperationAST } from "graphql";
import { CloseCode, handleProtocols, makeServer, type ServerOptions, type SubscribePayload } from "graphql-ws";
import type { YogaServerInstance } from "graphql-yoga";
import { WebSocket, WebSocketServer } from "ws";
import type { EventHub } from "../events/hub.js";
import type { Actor, Services } from "../services/index.js";
import type { Admission } from "./admission.js";
import { bearer, FAILED_AUTHENTICATION_PAUSE_MS, INVALID_TOKEN } from "./authentication.js";
import { loggableError } from "./error-log.js";
import { JsonDepthScanner, MAX_JSON_DEPTH } from "./json-depth.js";
import { MAX_WS_BYTES_BEFORE_ACK } from "./limits.js";
import type { Logger } from "./logger.js";
import type { refusalThrottle } from "./refusal-throttle.js";
import { SEND_DIRECTLY, type SendDirectly } from "./shared-events.js";
import { tooManySubscriptions } from "./subscription-limits.js";
import { withoutSuggestions } from "./suggestions.js";

/** What a connection carries: its socket, and once authenticated, its secret and caller. */
interface Extra {
  socket: WebSocket;
  request: IncomingMessage;
  secret?: string;
  actor?: Actor;
  stopWatchingRevocation?: () => void;
  /** The setup of the operation sent last: the next one waits for it. */
  setup: Promise<unknown>;
  /** Aborted when the socket closes: its operations waiting for admission give up. */
  closed: AbortController;
  /**
   * Ids of the operations not yet run or set up. graphql-ws forgets an id completed during its setup,
   * and would take a new operation with that id while the first still sets up: the first would then
   * stream on, out of reach of `complete` and of the socket's close.
   */
  settingUp: Set<string>;
  /** Called once its `connection_init` is accepted: from then on its messages may be as large as any. */
  acknowledged?: () => void;
  /** Operations admitted and not yet run (a query or mutation) or set up (a subscription). */
  running: number;
  /** Wakes the setup waiting for room on this socket (`room`), if one is. */
  roomChanged?: () => void;
}

/** What an operation's root value carries: yoga's executors, and how the operation leaves admission. */
interface Root {
  execute: typeof import("graphql").execute;
  subscribe: typeof import("graphql").subscribe;
  /** Called once the operation has run (a query or mutation) or set up its stream (a subscription). */
  leave: () => void;
  /** Sends a `next` message of the operation straight to the socket (live events: src/server/shared-events.ts). */
  [SEND_DIRECTLY]: SendDirectly;
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
  /** Subscriptions open on a socket now (counted by the subscription limits). */
  subscriptionsOpenOn: (socket: WebSocket) => number;
  maxSubscriptionsPerConnection: number;
  /** Slows down a token that keeps meeting the limits, as over HTTP. */
  throttle: Pick<ReturnType<typeof refusalThrottle>, "refusalFor" | "charge">;
  /** The document text to run for an operation's payload (`query`, or a persisted document's id), or its refusal. */
  documentToRun: (params: Record<string, unknown>) => string | GraphQLError;
  /** Fairness under overload, shared with HTTP: every operation is admitted as a request is. */
  admission: Pick<Admission, "enter" | "leave">;
}

const KEEP_ALIVE_MS = 12_000;
/** A socket's unsent bytes below which a message is sent without waiting for the write. */
export const SEND_WITHOUT_WAITING_BYTES = 16 * 1024;

/**
 * How graphql-ws sends on a socket. While the socket's outgoing buffer holds less than
 * `withoutWaitingBytes`, a message is handed to it and the next may follow at once: a live event
 * goes to hundreds of sockets, and waiting for each write (a promise, a callback and a turn of the
 * event loop per message) cost about 14% of a delivery's CPU (docs/performance.md). Past that, the
 * socket's next message waits until the kernel has taken this one and the event loop has turned.
 * A client that does not read holds back its own streams (a live one ends after BEHIND_AT_MOST
 * events, src/services/sync-stream.ts), never anyone else's; each of its streams keeps at most one
 * message beyond `withoutWaitingBytes` waiting here, and no new operation of it runs until its socket
 * drains (`room`). Streams of many messages take turns of their own (history in slices, live events
 * in DeliveryTurns). A write that fails because the client is gone ends the wait quietly.
 */
export function sendTo(socket: WebSocket, withoutWaitingBytes = SEND_WITHOUT_WAITING_BYTES): (data: string) => Promise<void> | undefined {
  return (data) => {
    if (socket.readyState !== WebSocket.OPEN) return;
    if (socket.bufferedAmount < withoutWaitingBytes) {
      socket.send(data);
      return;
    }
    return new Promise<void>((resolve, reject) => {
      socket.send(data, (error) => {
        if (!error) setImmediate(resolve);
        // The client is gone (reset, or closed while this waited): nothing more goes to it, and
        // that is no fault of the server's.
        else if (PEER_GONE.has((error as NodeJS.ErrnoException).code ?? "") || socket.readyState !== WebSocket.OPEN) resolve();
        else reject(error);
      });
    });
  };
}

/**
 * A `next` message of operation `id` written as graphql-ws writes one (`{"id","type","payload"}`),
 * from its payload's JSON: only while the socket is open and its unsent bytes are below
 * `withoutWaitingBytes` (`sendTo`'s rule for not waiting); false otherwise, and nothing is sent.
 */
export function sendNextTo(socket: WebSocket, id: string, withoutWaitingBytes = SEND_WITHOUT_WAITING_BYTES): SendDirectly {
  return (resultJson) => {
    if (socket.readyState !== WebSocket.OPEN || socket.bufferedAmount >= withoutWaitingBytes) return false;
    socket.send(`{"id":${JSON.stringify(id)},"type":"next","payload":${resultJson}}`);
    return true;
  };
}

/** Write errors that mean the client's connection is gone. */
const PEER_GONE = new Set(["ECONNRESET", "EPIPE", "ERR_STREAM_DESTROYED", "ERR_STREAM_WRITE_AFTER_END"]);

/**
 * Operations of one socket running at once: the next waits in the socket's setup chain. With the
 * send bound, what this process holds for a client that does not read is at most this many results
 * plus its TCP socket's high-water mark, however many operations it sends.
 */
export const MAX_RUNNING_OPERATIONS_PER_SOCKET = 4;

/** Messages a socket may send at once (a dashboard opening its subscriptions), and then per second. */
const MESSAGES_AT_ONCE = 1_000;
const MESSAGES_PER_SECOND = 200;

/** A token bucket per socket, kept on the socket itself (gone with it). */
class SocketRate {
  private readonly buckets = new WeakMap<object, { tokens: number; at: number }>();
  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
  ) {}
  /** Takes `amount` from the socket's bucket; returns what is left (below zero: over the rate). */
  charge(socket: object, amount: number): number {
    const now = performance.now();
    const bucket = this.buckets.get(socket) ?? { tokens: this.capacity, at: now };
    bucket.tokens = Math.min(this.capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond) - amount;
    bucket.at = now;
    this.buckets.set(socket, bucket);
    return bucket.tokens;
  }
}

/** A turn of the event loop: I/O and timers waiting run before what follows. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Room for another operation on a socket: fewer than MAX_RUNNING_OPERATIONS_PER_SOCKET running, and
 * its TCP socket not waiting to drain (a write found its buffer at the high-water mark, 16 KiB on
 * Node 20: it emits `drain` once the client has read it all).
 */
const hasRoom = (extra: Extra) => extra.running < MAX_RUNNING_OPERATIONS_PER_SOCKET && !extra.request.socket.writableNeedDrain;

/**
 * Waits until the socket has room for another operation (`hasRoom`): a client that does not read
 * gets nothing more run for it. Ends at once when the socket closes. Setups are one at a time per
 * socket, so one waits here at most.
 */
async function room(extra: Extra): Promise<void> {
  const tcp = extra.request.socket;
  while (!hasRoom(extra) && !extra.closed.signal.aborted) {
    await new Promise<void>((resolve) => {
      const wake = () => {
        tcp.off("drain", wake);
        extra.closed.signal.removeEventListener("abort", wake);
        extra.roomChanged = undefined;
        resolve();
      };
      tcp.on("drain", wake);
      extra.closed.signal.addEventListener("abort", wake);
      extra.roomChanged = wake;
    });
  }
}

function isSubscription(document: DocumentNode, operationName: string | null | undefined): boolean {
  return getOperationAST(document, operationName)?.operation === "subscription";
}

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

/**
 * An error as a WebSocket client gets it: without the HTTP status yoga's errors carry for an HTTP
 * response (`extensions.http`), which a message on a socket has none of.
 */
function formatted(error: GraphQLError): GraphQLFormattedError {
  const json = error.toJSON();
  if (!json.extensions || !("http" in json.extensions)) return json;
  const { http: _http, ...extensions } = json.extensions;
  return { ...json, extensions };
}

const hasHttpStatus = (errors: readonly GraphQLError[]) => errors.some((error) => error.extensions?.http !== undefined);

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
 *   is parsed; so does sending more than {@link MAX_WS_BYTES_BEFORE_ACK} bytes before the
 *   `connection_init` is accepted, and nothing more of it is read. Failures are logged as one JSON
 *   line each, never printed.
 */
export function startWebSocketServer({
  server,
  path,
  maxPayload,
  yoga,
  services,
  hub,
  logger,
  subscriptionsOpenOn,
  maxSubscriptionsPerConnection,
  throttle,
  documentToRun,
  admission,
}: WebSocketOptions) {
  const wsServer = new WebSocketServer({ server, path, maxPayload, handleProtocols });

  /** Authenticates an operation again, parses, validates and builds its context; errors are the operation's. */
  async function prepare(
    extra: Extra,
    id: string,
    params: SubscribePayload,
    leave: () => void,
  ): Promise<ExecutionArgs | readonly GraphQLError[]> {
    // Operations still queued when their socket closed are dropped unread.
    if (extra.socket.readyState !== WebSocket.OPEN)
      return [new GraphQLError("The connection closed", { extensions: { code: "CONNECTION_CLOSED" } })];
    // Held first (the socket's next operations wait behind it), as over HTTP.
    const throttled = extra.secret ? await throttle.refusalFor(extra.secret) : null;
    if (throttled) return [throttled];
    // A persisted document's id (`documentId` or `extensions.persistedQuery`, with an empty query),
    // or a text — refused when only persisted documents run.
    const query = documentToRun(params as unknown as Record<string, unknown>);
    if (query instanceof GraphQLError) return [query];
    const enveloped = yoga.getEnveloped({ req: extra.request, socket: extra.socket, params });
    let document: DocumentNode;
    try {
      document = enveloped.parse(query);
    } catch (error) {
      if (error instanceof GraphQLError) return [withCode(withoutSuggestions(error), "GRAPHQL_PARSE_FAILED")];
      throw error;
    }
    // Over the cap already: refused before the database is asked anything.
    if (isSubscription(document, params.operationName) && subscriptionsOpenOn(extra.socket) >= maxSubscriptionsPerConnection) {
      return [tooManySubscriptions(maxSubscriptionsPerConnection, "per connection")];
    }
    const authentication = extra.secret ? await services.authenticate(extra.secret) : null;
    if (!authentication) {
      closeUnauthorized(extra.socket, "Token revoked");
      return [new GraphQLError(INVALID_TOKEN, { extensions: { code: "UNAUTHENTICATED" } })];
    }
    let errors: readonly GraphQLError[];
    try {
      errors = enveloped.validate(enveloped.schema, document);
    } catch (error) {
      // A limit may throw its refusal instead of reporting it (graphql-armor's depth limit does).
      if (error instanceof GraphQLError) errors = [error];
      else throw error;
    }
    if (errors.length > 0) return errors.map((error: GraphQLError) => withCode(withoutSuggestions(error), "GRAPHQL_VALIDATION_FAILED"));
    // Several operations and none named (or a name none has): refused as yoga refuses it over HTTP.
    if (!getOperationAST(document, params.operationName)) {
      return [new GraphQLError("Could not determine what operation to execute.", { extensions: { code: "OPERATION_RESOLUTION_FAILURE" } })];
    }
    return {
      schema: enveloped.schema,
      operationName: params.operationName,
      document,
      variableValues: params.variables,
      contextValue: await enveloped.contextFactory({ actor: authentication.actor }),
      rootValue: {
        execute: enveloped.execute,
        subscribe: enveloped.subscribe,
        leave,
        [SEND_DIRECTLY]: sendNextTo(extra.socket, id),
      } satisfies Root,
    };
  }

  /**
   * Admits the operation as HTTP admits a request (src/server/admission.ts: a held organization's
   * operations wait their turn, on every socket, before they are parsed), then prepares it. It leaves
   * admission once it has run or set up its stream — or at once when it is refused before that.
   */
  async function admitted(extra: Extra, id: string, params: SubscribePayload): Promise<ExecutionArgs | readonly GraphQLError[]> {
    const organizationId = extra.actor?.organizationId;
    const wait = organizationId === undefined ? undefined : admission.enter(organizationId, extra.closed.signal);
    if (wait) await wait;
    const at = performance.now();
    extra.running++;
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      extra.running--;
      extra.roomChanged?.();
      extra.settingUp.delete(id);
      if (organizationId !== undefined) admission.leave(organizationId, performance.now() - at);
    };
    try {
      const prepared = await prepare(extra, id, params, leave);
      if (Array.isArray(prepared)) leave();
      return prepared;
    } catch (error) {
      leave();
      throw error;
    }
  }

  /** Runs the operation with yoga's executor, leaving admission when it is done. */
  async function run<T>(args: ExecutionArgs, how: (root: Root) => T): Promise<Awaited<T>> {
    const root = args.rootValue as Root;
    try {
      return await how(root);
    } finally {
      root.leave();
    }
  }

  const options: ServerOptions<Record<string, unknown> | undefined, Extra> = {
    connectionInitWaitTimeout: 10_000,
    execute: (args) => run(args, (root) => root.execute(args)),
    subscribe: (args) => run(args, (root) => root.subscribe(args)),
    onConnect: async (ctx) => {
      const secret = bearer(ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization);
      const authentication = secret ? await services.authenticate(secret) : null;
      if (!secret || !authentication) {
        await new Promise((resolve) => setTimeout(resolve, FAILED_AUTHENTICATION_PAUSE_MS));
        closeUnauthorized(ctx.extra.socket, "Unauthorized");
        return false;
      }
      // Closed while authenticating: nothing to watch (onClose has run already).
      if (ctx.extra.socket.readyState !== WebSocket.OPEN) return false;
      ctx.extra.secret = secret;
      ctx.extra.actor = authentication.actor;
      ctx.extra.acknowledged?.();
      ctx.extra.stopWatchingRevocation = hub.listen(`revoked:${authentication.actor.tokenId}`, () =>
        closeUnauthorized(ctx.extra.socket, "Token revoked"),
      );
      return true;
    },
    onClose: (ctx) => ctx.extra.stopWatchingRevocation?.(),
    // A socket's operations are set up one at a time, each after a turn of the event loop: a flood
    // of messages on one socket waits its turn instead of holding the server (and the database) for
    // everyone else. Only the setup is serial; the operations then run side by side.
    onSubscribe: (ctx, id, params) => {
      // The id of an operation still setting up (completed meanwhile): a duplicate, closed as graphql-ws closes one.
      if (ctx.extra.settingUp.has(id)) {
        ctx.extra.socket.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
        return [new GraphQLError(`Subscriber for ${id} already exists`, { extensions: { code: "BAD_REQUEST" } })];
      }
      ctx.extra.settingUp.add(id);
      const setup = ctx.extra.setup
        .then(turn)
        .then(() => room(ctx.extra))
        .then(() => admitted(ctx.extra, id, params));
      ctx.extra.setup = setup.catch(() => {});
      return setup;
    },
    onNext: (ctx, _id, _payload, _args, result) => {
      if (!result.errors) return;
      result.errors.forEach(withoutSuggestions);
      if (ctx.extra.secret && ctx.extra.actor) throttle.charge(ctx.extra.secret, ctx.extra.actor.organizationId, result.errors);
      if (hasHttpStatus(result.errors)) return { ...result, errors: result.errors.map(formatted) } as unknown as typeof result;
    },
    onError: (ctx, _id, _payload, errors) => {
      errors.forEach(withoutSuggestions);
      if (ctx.extra.secret && ctx.extra.actor) throttle.charge(ctx.extra.secret, ctx.extra.actor.organizationId, errors);
      // graphql-ws sends what a failing stream threw as it is: anything not ours is masked and logged.
      if (errors.every((error) => error.extensions?.code !== undefined) && !hasHttpStatus(errors)) return;
      return errors.map((error) => {
        if (error.extensions?.code !== undefined) return formatted(error);
        logger.error({ err: loggableError(error.originalError ?? error) }, "unexpected error");
        return { message: "Unexpected error.", extensions: { code: "INTERNAL_SERVER_ERROR" } };
      });
    },
  };
  const graphqlWs = makeServer(options);
  const messageRate = new SocketRate(MESSAGES_AT_ONCE, MESSAGES_PER_SECOND);

  wsServer.on("connection", (socket, request) => {
    socket.once("error", (error) => {
      logger.warn({ err: loggableError(error) }, "websocket error");
      socket.terminate();
    });
    let pongWait: NodeJS.Timeout | undefined;
    let refused = false;
    const ping = setInterval(() => {
      if (socket.readyState !== WebSocket.OPEN) return;
      pongWait = setTimeout(() => socket.terminate(), KEEP_ALIVE_MS);
      socket.once("pong", () => clearTimeout(pongWait));
      socket.ping();
    }, KEEP_ALIVE_MS);
    const extra: Extra = { socket, request, setup: Promise.resolve(), closed: new AbortController(), settingUp: new Set(), running: 0 };
    const tcp = request.socket;
    /**
     * Refuses the socket: nothing more is read of it (its TCP socket paused: ws resumes a paused
     * socket only for permessage-deflate, which is off), it is closed with 4400 (after `closeAfterMs`)
     * and ended a pause later — its close frame would come after the rest of what it sent, never read.
     * Every refusal goes this way: one that left the socket read (until the client's close frame, or
     * ws's 30 s) would let a tiny refused message open the way to megabytes read and assembled after it.
     */
    const refuse = (reason: string, closeAfterMs = 0) => {
      if (refused) return;
      refused = true;
      tcp.off("data", countUnacknowledged);
      tcp.pause();
      const close = () => {
        socket.close(CloseCode.BadRequest, reason);
        setTimeout(() => socket.terminate(), FAILED_AUTHENTICATION_PAUSE_MS).unref();
      };
      if (closeAfterMs > 0) setTimeout(close, closeAfterMs).unref();
      else close();
    };
    // Until its connection_init is accepted, a socket is read up to MAX_WS_BYTES_BEFORE_ACK: past
    // that it is refused (ws would read a whole message of up to `maxPayload` first; megabytes of
    // init cost the server far more than they cost the sender). The bytes are counted as they arrive
    // on the TCP socket, before ws assembles a message: the bound is that plus what one or two reads
    // bring (~192 KiB).
    let unacknowledgedBytes = 0;
    const countUnacknowledged = (chunk: Buffer) => {
      unacknowledgedBytes += chunk.length;
      if (unacknowledgedBytes > MAX_WS_BYTES_BEFORE_ACK) refuse(`More than ${MAX_WS_BYTES_BEFORE_ACK} bytes before connection_ack`);
    };
    tcp.on("data", countUnacknowledged);
    extra.acknowledged = () => tcp.off("data", countUnacknowledged);
    const closed = graphqlWs.opened(
      {
        protocol: socket.protocol,
        send: sendTo(socket),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on("message", async (data) => {
            if (refused) return;
            // A socket sending faster than any client does (pings included, before connection_init
            // too) is closed: its messages would cost everyone else.
            if (messageRate.charge(socket, 1) < 0) return refuse("Too many messages");
            // Checked on the received bytes: a refused message is never decoded into a string.
            const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(new Uint8Array(data));
            if (new JsonDepthScanner(MAX_JSON_DEPTH).deeperAfterBytes(bytes)) {
              // Closed after a pause: reconnecting to try again is slow.
              return refuse(`Message nests deeper than ${MAX_JSON_DEPTH} levels`, FAILED_AUTHENTICATION_PAUSE_MS);
            }
            try {
              await handle(bytes.toString("utf8"));
            } catch (error) {
              logger.error({ err: loggableError(error) }, "websocket message failed");
              socket.close(CloseCode.InternalServerError, "Internal server error");
            }
          }),
      },
      extra,
    );
    socket.once("close", (code, reason) => {
      clearInterval(ping);
      clearTimeout(pongWait);
      extra.closed.abort();
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

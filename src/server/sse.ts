import { randomUUID } from "node:crypto";
import { useGraphQLSSE } from "@graphql-yoga/plugin-graphql-sse";
import { type DocumentNode, GraphQLError, type GraphQLFormattedError, getOperationAST } from "graphql";
import type { Plugin, YogaServerInstance } from "graphql-yoga";
import type { EventHub } from "../events/hub.js";
import type { Actor } from "../services/index.js";
import { bearer } from "./authentication.js";
import { parseJsonBody } from "./request-body.js";
import { withoutSuggestions } from "./suggestions.js";

/** graphql-sse's names for a reserved stream's token (the header, or the query parameter). */
const TOKEN_HEADER = "x-graphql-event-stream-token";
const TOKEN_PARAM = "token";
/** A stream reserved and not opened within this time is forgotten. */
export const RESERVATION_MS = 30_000;
/** Streams (reserved or open) one API token, and one organization, may hold at once. */
export const MAX_STREAMS = { perToken: 100, perOrganization: 1_000 } as const;

/** A stream of graphql-sse's single connection mode, as reserved by a PUT. */
interface EventStream {
  /** The API token that reserved it: only that token may open it and send operations on it. */
  tokenId: string;
  organizationId: string;
  /** What the subscription caps count as the operations' connection (a WebSocket's counterpart). */
  connection: object;
  opened: boolean;
  /** Aborting it ends the event stream and completes its operations. */
  controller: AbortController;
  stopWatchingRevocation: () => void;
  expiry: NodeJS.Timeout;
}

export interface SingleConnectionSseOptions {
  /** The GraphQL endpoint; the streams share it. */
  path: string;
  hub: EventHub;
  /** The caller of a request that passed the authentication plugin. */
  actorOf: (request: Request) => Actor;
  /** The document text to run for a request's parameters, or its refusal (persisted documents). */
  documentToRun: (params: Record<string, unknown>) => string | GraphQLError;
  /** Counts the limit refusals among a streamed result's errors against the token. */
  charge: (secret: string, organizationId: string, errors: readonly GraphQLError[]) => void;
}

const refused = (message: string, code: string, status: number, headers?: Record<string, string>) =>
  new GraphQLError(message, { extensions: { code, http: { status, ...(headers ? { headers } : {}) } } });

/** Refusals of a document, answered 400 with a code as over HTTP (graphql-sse answers them 400 too). */
function documentErrors(errors: readonly GraphQLError[], code: string): AggregateError {
  return new AggregateError(
    errors.map((error) => {
      withoutSuggestions(error);
      return new GraphQLError(error.message, {
        nodes: error.nodes,
        source: error.source,
        positions: error.positions,
        extensions: { code, ...error.extensions, http: { status: 400 } },
      });
    }),
  );
}

function withoutHttpStatus(error: GraphQLError): GraphQLFormattedError {
  const { http: _http, ...extensions } = error.extensions ?? {};
  return { ...error.toJSON(), extensions };
}

function streamTokenOf(request: Request): string | null {
  return request.headers.get(TOKEN_HEADER) ?? new URL(request.url, "http://localhost").searchParams.get(TOKEN_PARAM);
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === "object" && value !== null && Symbol.asyncIterator in value;

/**
 * GraphQL over SSE in graphql-sse's single connection mode, on the GraphQL endpoint itself (yoga
 * serves the distinct connections mode there already: a POST that accepts `text/event-stream`).
 * yoga's graphql-sse plugin is wrapped rather than installed: installed on `/graphql` it would take
 * every request of the endpoint, and it runs before yoga reads a request — before the refusal
 * throttle and authentication. Here it gets only graphql-sse's own requests (a PUT that reserves a
 * stream, and the requests that name one with `x-graphql-event-stream-token`), once they passed
 * those, and:
 *
 * - a stream belongs to the API token that reserved it: another token's requests find nothing (404);
 * - an operation's body is read with the JSON depth bound, its document resolved (persisted
 *   documents), parsed and validated with yoga's plugins before the stream sees it: refusals are
 *   400 with a code, as over HTTP; then it runs through yoga's plugins (cost, caps, time budget…);
 * - the stream is the "connection" of its operations for the subscription caps;
 * - revoking the token ends the stream; a stream reserved and not opened in {@link RESERVATION_MS}
 *   is dropped.
 */
export function useSingleConnectionSse({ path, hub, actorOf, documentToRun, charge }: SingleConnectionSseOptions) {
  const streams = new Map<string, EventStream>();
  /** How many streams each API token and each organization holds. */
  const held = new Map<string, number>();
  const count = (key: string, by: number) => {
    const n = (held.get(key) ?? 0) + by;
    if (n > 0) held.set(key, n);
    else held.delete(key);
  };
  /** The stream of an operation's request (the request graphql-sse executes it with). */
  const streamOfRequest = new WeakMap<Request, EventStream>();
  // biome-ignore lint/suspicious/noExplicitAny: the server context type is yoga's own
  let yoga: YogaServerInstance<any, any>;

  const sse = useGraphQLSSE({
    endpoint: path,
    // A reservation gets a random UUID (graphql-sse's default is made with Math.random); every other
    // request names its stream, which the plugin below has checked.
    authenticate: (req) => (req.method === "PUT" ? randomUUID() : (streamTokenOf(req.raw) ?? undefined)),
    onNext: (_context, req, result) => {
      const secret = bearer(req.raw.headers.get("authorization"));
      const stream = streamOfRequest.get(req.raw);
      if (secret && stream && result.errors?.length) charge(secret, stream.organizationId, result.errors);
      // An event carries no HTTP status: errors go without the one yoga's errors keep for a response.
      if (result.errors?.some((error) => error.extensions?.http !== undefined)) {
        return { ...result, errors: result.errors.map(withoutHttpStatus) as unknown as GraphQLError[] };
      }
    },
  });

  /** What the wrapped plugin answers to `request`, with the caller for the context. */
  async function forward(request: Request, serverContext: object, actor: Actor | undefined): Promise<Response> {
    let response: Response | undefined;
    await sse.onRequest?.({
      request,
      serverContext: { ...serverContext, actor },
      endResponse: (r: Response) => {
        response = r;
      },
    } as never);
    if (!response) throw new Error("graphql-sse did not answer");
    return response;
  }

  function end(token: string) {
    const stream = streams.get(token);
    if (!stream) return;
    streams.delete(token);
    count(`token:${stream.tokenId}`, -1);
    count(`organization:${stream.organizationId}`, -1);
    clearTimeout(stream.expiry);
    stream.stopWatchingRevocation();
    if (stream.opened) {
      stream.controller.abort();
      return;
    }
    // graphql-sse forgets a stream when its event stream ends: it is opened here already ended.
    const request = new Request(`http://localhost${path}`, {
      headers: { accept: "text/event-stream", [TOKEN_HEADER]: token },
      signal: AbortSignal.abort(),
    });
    void forward(request, {}, undefined)
      .then((response) => response.body?.cancel())
      .catch(() => {});
  }

  async function reserve(request: Request, serverContext: object, actor: Actor): Promise<Response> {
    // Each stream holds memory, a timer and a listener until it ends: a bounded number per token and organization.
    if ((held.get(`token:${actor.tokenId}`) ?? 0) >= MAX_STREAMS.perToken) {
      throw refused(`A token holds at most ${MAX_STREAMS.perToken} event streams: end one (DELETE) first`, "TOO_MANY_SUBSCRIPTIONS", 429);
    }
    if ((held.get(`organization:${actor.organizationId}`) ?? 0) >= MAX_STREAMS.perOrganization) {
      throw refused(`An organization holds at most ${MAX_STREAMS.perOrganization} event streams`, "TOO_MANY_SUBSCRIPTIONS", 429);
    }
    const response = await forward(request, serverContext, actor);
    if (response.status !== 201) return response;
    const token = await response.text();
    const stream: EventStream = {
      tokenId: actor.tokenId,
      organizationId: actor.organizationId,
      connection: {},
      opened: false,
      controller: new AbortController(),
      stopWatchingRevocation: hub.listen(`revoked:${actor.tokenId}`, () => end(token)),
      expiry: setTimeout(() => end(token), RESERVATION_MS).unref(),
    };
    streams.set(token, stream);
    count(`token:${actor.tokenId}`, 1);
    count(`organization:${actor.organizationId}`, 1);
    return new yoga.fetchAPI.Response(token, { status: 201, headers: response.headers });
  }

  async function open(token: string, stream: EventStream, request: Request, serverContext: object, actor: Actor) {
    // Already open: graphql-sse answers 409.
    if (stream.opened) return forward(request, serverContext, actor);
    const streamRequest = new Request(request.url, { method: "GET", headers: request.headers, signal: stream.controller.signal });
    const response = await forward(streamRequest, serverContext, actor);
    if (response.status === 200) {
      stream.opened = true;
      clearTimeout(stream.expiry);
      // The client went away: the stream ends with it.
      if (request.signal.aborted) end(token);
      else request.signal.addEventListener("abort", () => end(token), { once: true });
    }
    return response;
  }

  async function operate(stream: EventStream, request: Request, serverContext: object, actor: Actor): Promise<Response> {
    if (request.method !== "POST") {
      throw refused("Operations on an event stream are POSTed", "BAD_REQUEST", 405, { allow: "POST, PUT, DELETE" });
    }
    const params = await parseJsonBody(request);
    if (Array.isArray(params)) throw refused("One operation per request on an event stream", "BAD_REQUEST", 400);
    const operationId = (params.extensions as { operationId?: unknown } | undefined)?.operationId;
    if (typeof operationId !== "string" || operationId === "") {
      throw refused("extensions.operationId is missing", "BAD_REQUEST", 400);
    }
    const { variables, operationName } = params;
    if (variables != null && (typeof variables !== "object" || Array.isArray(variables))) {
      throw refused("variables must be an object", "BAD_REQUEST", 400);
    }
    if (operationName != null && typeof operationName !== "string") throw refused("operationName must be a string", "BAD_REQUEST", 400);
    const query = documentToRun(params);
    if (query instanceof GraphQLError) throw documentErrors([query], "BAD_REQUEST");

    // Parsed and validated (document limits included) with yoga's plugins and caches before the stream sees it.
    const enveloped = yoga.getEnveloped({ ...serverContext, actor, request, params });
    let document: DocumentNode;
    try {
      document = enveloped.parse(query);
    } catch (error) {
      if (error instanceof GraphQLError) throw documentErrors([error], "GRAPHQL_PARSE_FAILED");
      throw error;
    }
    const errors = enveloped.validate(enveloped.schema, document);
    if (errors.length > 0) throw documentErrors(errors, "GRAPHQL_VALIDATION_FAILED");
    if (!getOperationAST(document, operationName as string | undefined)) {
      throw refused("Name the operation to run (operationName)", "BAD_REQUEST", 400);
    }

    const headers = new Headers(request.headers);
    headers.delete("content-length");
    const operationRequest = new Request(request.url, {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables, operationName, extensions: params.extensions }),
    });
    streamOfRequest.set(operationRequest, stream);
    return forward(operationRequest, serverContext, actor);
  }

  /** graphql-sse sends a result without `data` (a refusal) as an operation's arguments: it needs the key. */
  const withDataKey = ({ result, setResult }: { result: unknown; setResult: (result: never) => void }) => {
    if (!isAsyncIterable(result) && !("data" in (result as object))) setResult({ ...(result as object), data: undefined } as never);
  };
  const onStream = (context: unknown) => {
    const request = (context as { request?: Request }).request;
    return request !== undefined && streamOfRequest.has(request);
  };

  const plugin: Plugin = {
    onYogaInit(payload) {
      yoga = payload.yoga as typeof yoga;
      sse.onYogaInit?.(payload);
    },
    async onRequestParse({ request, serverContext, endResponse }) {
      const token = streamTokenOf(request);
      // Not single connection mode: yoga serves it (and the distinct connections mode).
      if (request.method !== "PUT" && token === null) return;
      const actor = actorOf(request);
      if (request.method === "PUT") return endResponse(await reserve(request, serverContext, actor));
      const stream = token === null ? undefined : streams.get(token);
      if (token === null || !stream || stream.tokenId !== actor.tokenId) {
        throw refused("No such event stream: reserve one with PUT", "NOT_FOUND", 404);
      }
      if (request.headers.get("accept") === "text/event-stream") {
        return endResponse(await open(token, stream, request, serverContext, actor));
      }
      if (request.method === "DELETE") return endResponse(await forward(request, serverContext, actor));
      endResponse(await operate(stream, request, serverContext, actor));
    },
    onExecute({ args }) {
      if (onStream(args.contextValue)) return { onExecuteDone: withDataKey };
    },
    onSubscribe({ args }) {
      if (onStream(args.contextValue)) return { onSubscribeResult: withDataKey };
    },
  };

  return {
    plugin,
    /** The stream an operation runs on, for the subscription caps; undefined off single connection mode. */
    connectionOf: (request: Request | undefined) => (request ? streamOfRequest.get(request)?.connection : undefined),
    /** Ends every stream (the server is stopping). */
    closeAll() {
      for (const token of [...streams.keys()]) end(token);
    },
  };
}

import { type IncomingMessage, ServerResponse } from "node:http";
import { GraphQLError } from "graphql";
import type { GraphQLParams, Plugin } from "graphql-yoga";
import { JsonDepthScanner, MAX_JSON_DEPTH, nestsDeeperThan } from "./json-depth.js";
import { MAX_BODY_BYTES } from "./limits.js";

function badRequest(message: string, code: string) {
  return new GraphQLError(message, { extensions: { code, http: { status: 400 } } });
}

/** Parses JSON text that was checked for depth first: nothing recursive sees deeper input. */
function boundedJson(text: string, what: string): unknown {
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw badRequest(`${what} nests deeper than ${MAX_JSON_DEPTH} levels`, "JSON_TOO_DEEP");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest(`${what} is not valid JSON`, "BAD_REQUEST");
  }
}

function isContentType(request: Request, type: string): boolean {
  const header = request.headers.get("content-type")?.split(",")[0]?.trim() ?? "";
  return header === type || header.startsWith(`${type};`);
}

/** The GraphQL parameters of a query string or form body (`variables` and `extensions` are JSON). */
function paramsOf(search: URLSearchParams): GraphQLParams {
  const variables = search.get("variables");
  const extensions = search.get("extensions");
  return {
    operationName: search.get("operationName") || undefined,
    query: search.get("query") || undefined,
    // A persisted document's id (src/server/persisted-documents.ts), sent instead of the query.
    ...(search.get("documentId") ? { documentId: search.get("documentId") } : {}),
    // Shapes are checked by yoga next, as for any request.
    variables: variables ? (boundedJson(variables, "variables") as GraphQLParams["variables"]) : undefined,
    extensions: extensions ? (boundedJson(extensions, "extensions") as GraphQLParams["extensions"]) : undefined,
  };
}

/**
 * The body's text, read as it arrives and refused as soon as it nests too deep or grows past
 * {@link MAX_BODY_BYTES}: a hostile body is turned away after its first few dozen bytes, and the
 * connection closed rather than drained. (This server refuses a body over the limit, or of no
 * declared length, before yoga sees it — `refuseUnboundedBody` —, so yoga's own limit, which copies
 * every request through a stream pipeline, is off; the count here holds wherever the handler runs.)
 */
export async function boundedBodyText(request: Request): Promise<string> {
  if (!request.body) return "";
  const reader = request.body.getReader();
  const decoder = new TextDecoder();
  const scanner = new JsonDepthScanner(MAX_JSON_DEPTH);
  let text = "";
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    bytes += value?.byteLength ?? 0;
    if (bytes > MAX_BODY_BYTES) {
      void reader.cancel().catch(() => {});
      throw new GraphQLError(`Request body larger than ${MAX_BODY_BYTES} bytes`, {
        extensions: { code: "PAYLOAD_TOO_LARGE", http: { status: 413, headers: { connection: "close" } } },
      });
    }
    const piece = done ? decoder.decode() : decoder.decode(value, { stream: true });
    if (scanner.deeperAfter(piece)) {
      void reader.cancel().catch(() => {});
      throw new GraphQLError(`The request body nests deeper than ${MAX_JSON_DEPTH} levels`, {
        extensions: { code: "JSON_TOO_DEEP", http: { status: 400, headers: { connection: "close" } } },
      });
    }
    text += piece;
    if (done) return text;
  }
}

/** A JSON body read with {@link boundedBodyText}: an object, or an array (a batch). */
export async function parseJsonBody(request: Request) {
  let body: unknown;
  try {
    body = JSON.parse(await boundedBodyText(request));
  } catch (error) {
    if (error instanceof GraphQLError) throw error;
    throw badRequest("The request body is not valid JSON", "BAD_REQUEST");
  }
  if (body === null || typeof body !== "object") throw badRequest("The request body must be a JSON object or a batch", "BAD_REQUEST");
  return body as Record<string, unknown>;
}

/**
 * Request bodies and parameters are read with a bound on their nesting ({@link MAX_JSON_DEPTH}):
 * deeper JSON is refused with 400 and code JSON_TOO_DEEP after one linear scan, before it is parsed,
 * so no parser, validator, cache key or serializer ever recurses over an attacker's depth.
 * (Multipart bodies are off: nothing here uploads files.)
 */
export function useBoundedRequestJson(): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser }) {
      if (!requestParser) return;
      if (request.method === "GET") {
        setRequestParser((r) => paramsOf(new URL(r.url, "http://localhost").searchParams));
      } else if (
        request.method === "POST" &&
        (isContentType(request, "application/json") || isContentType(request, "application/graphql+json"))
      ) {
        setRequestParser(parseJsonBody);
      } else if (request.method === "POST" && isContentType(request, "application/x-www-form-urlencoded")) {
        setRequestParser(async (r) => paramsOf(new URLSearchParams(await r.text())));
      }
    },
  };
}

/**
 * Bodies are bounded before yoga reads them: a declared length over the limit is refused at once
 * (413), and a body without a declared length (chunked) is refused too (411), since its size is
 * only known once it has been read. GraphQL clients and browsers always declare the length.
 * Returns true when it answered.
 */
export function refuseUnboundedBody(request: IncomingMessage, response: ServerResponse): boolean {
  const tooLarge = Number(request.headers["content-length"] ?? 0) > MAX_BODY_BYTES;
  const unknownLength = request.headers["transfer-encoding"] !== undefined && request.headers["content-length"] === undefined;
  if (!tooLarge && !unknownLength) return false;
  const [status, code, message] = tooLarge
    ? [413, "PAYLOAD_TOO_LARGE", `Request body larger than ${MAX_BODY_BYTES} bytes`]
    : [411, "LENGTH_REQUIRED", "Send a Content-Length with the request body"];
  response.writeHead(status, { "content-type": "application/json", connection: "close" });
  response.end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
  return true;
}

/**
 * A response to a request whose body has not all arrived closes the connection instead of keeping
 * it alive. To keep a connection alive, Node reads the rest of an unread body before the next
 * request: an answer given before the body is read (401, 429 TOO_MANY_REQUESTS, a depth refusal)
 * would cost reading up to {@link MAX_BODY_BYTES} of a hostile body, and let its sender send the
 * next one at once. With `Connection: close` Node ends the connection as soon as the answer is
 * written, reading only what had arrived by then; the client gets the answer and reconnects. A body
 * that arrived whole (read or not) keeps the connection alive. Used as the server's
 * `ServerResponse` (`createServer({ ServerResponse: ClosingResponse }, …)`).
 */
export class ClosingResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  override writeHead(...args: unknown[]): this {
    // `req.complete`: the parser has seen the end of the body (whether or not anyone read it).
    if (!this.req.complete) this.shouldKeepAlive = false;
    return super.writeHead(...(args as Parameters<ServerResponse["writeHead"]>));
  }
}

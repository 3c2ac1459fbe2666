import { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Services } from "../services/index.js";
import type { Authentication } from "../services/tokens.js";

export const MISSING_TOKEN = "Authentication required: send Authorization: Bearer <token>";
export const INVALID_TOKEN = "Invalid or revoked token";
/** How long a failed authentication waits before its 401 (HTTP) or 4401 (WebSocket). */
export const FAILED_AUTHENTICATION_PAUSE_MS = 100;

/** The secret of an `Authorization: Bearer <secret>` value, or null. */
export function bearer(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const match = /^Bearer\s+(\S+)$/i.exec(value.trim());
  return match ? match[1] : null;
}

export function unauthenticated(message: string) {
  return new GraphQLError(message, { extensions: { code: "UNAUTHENTICATED", http: { status: 401 } } });
}

/** A 401; a request with a body unread gets its connection closed instead of the body drained. */
function unauthorizedResponse(message: string, hasBody: boolean): Response {
  return new Response(JSON.stringify({ errors: [{ message, extensions: { code: "UNAUTHENTICATED" } }] }), {
    status: 401,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "www-authenticate": 'Bearer realm="graphql"',
      ...(hasBody ? { connection: "close" } : {}),
    },
  });
}

/**
 * Every GraphQL request over HTTP authenticates before its body is read: without a valid token the
 * answer is the same 401 whatever the request holds — no parsing, no validation, so neither the
 * cost of a hostile body nor a validation message ("Cannot query field …") reaches an anonymous
 * caller. The authentication is kept for the request's context.
 */
export function useAuthentication(services: Services) {
  const authenticated = new WeakMap<Request, Authentication>();
  const plugin: Plugin = {
    async onRequestParse({ request, endResponse }) {
      const secret = bearer(request.headers.get("authorization"));
      const authentication = secret ? await services.authenticate(secret) : null;
      if (!authentication) {
        // A failed authentication is answered after a pause: guessing tokens, or flooding the
        // server with anonymous requests, goes at a few requests a second per connection.
        await new Promise((resolve) => setTimeout(resolve, FAILED_AUTHENTICATION_PAUSE_MS));
        const hasBody = Number(request.headers.get("content-length") ?? 0) > 0;
        return endResponse(unauthorizedResponse(secret ? INVALID_TOKEN : MISSING_TOKEN, hasBody));
      }
      authenticated.set(request, authentication);
    },
  };
  return {
    plugin,
    /** The authentication of a request that passed the plugin. */
    of(request: Request): Authentication {
      const authentication = authenticated.get(request);
      if (!authentication) throw unauthenticated(MISSING_TOKEN);
      return authentication;
    },
    /** The authentication of a request, if it passed the plugin. */
    find: (request: Request): Authentication | undefined => authenticated.get(request),
  };
}

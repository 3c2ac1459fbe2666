import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import type { CORSOptions, Plugin } from "graphql-yoga";

/** What a browser page may send: the bearer token, JSON, a request id, graphql-sse's stream token. */
const ALLOWED_HEADERS = ["authorization", "content-type", "accept", "x-request-id", "x-graphql-event-stream-token"];

/**
 * CORS for the allow-list of origins (CORS_ORIGINS): a listed origin gets its own origin back, and
 * may send the bearer token and read `x-request-id`; any other origin (and, with an empty list,
 * every origin) gets no CORS header at all, so a browser keeps the response from the page. Never
 * `access-control-allow-credentials`: a bearer token needs no cookies, and no page should send them.
 * (A preflight is answered 204 either way; only a listed origin's carries the permissions.)
 */
export function corsFor(origins: readonly string[]) {
  const allowed = new Set(origins);
  return (request: Request): CORSOptions | false => {
    const origin = request.headers.get("origin");
    if (origin === null || !allowed.has(origin)) return false;
    return {
      origin,
      credentials: false,
      methods: ["GET", "POST", "PUT", "DELETE"],
      allowedHeaders: ALLOWED_HEADERS,
      // A browser reads only the headers exposed: the request id, and why a request was unauthorized.
      exposedHeaders: ["x-request-id", "www-authenticate"],
      maxAge: 600,
    };
  };
}

/** Responses differ by `Origin` once some origins are allowed: caches must keep them apart. */
export function useVaryByOrigin(origins: readonly string[]): Plugin {
  if (origins.length === 0) return {};
  return {
    onResponse({ response }) {
      const vary = response.headers.get("vary");
      if (
        !vary
          ?.toLowerCase()
          .split(/\s*,\s*/)
          .includes("origin")
      )
        response.headers.set("vary", vary ? `${vary}, Origin` : "Origin");
    },
  };
}

/**
 * A browser sends a "simple" request (GET or POST with a form or text/plain body) cross-site without
 * a CORS preflight; ours must carry a header such a request cannot have. Authorization is one. A
 * PUT or DELETE (graphql-sse's stream reservation and operation ends) is never simple: a browser
 * always asks first, so it goes on to authentication (a 401 without a token, like every request).
 */
export function useCSRFPreventionForSimpleRequests(): Plugin {
  const csrf = useCSRFPrevention({ requestHeaders: ["authorization", "x-graphql-yoga-csrf"] });
  return {
    onRequestParse(payload) {
      if (payload.request.method === "GET" || payload.request.method === "POST") return csrf.onRequestParse?.(payload);
    },
  };
}

import { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";
import { TokenBuckets } from "../services/rate.js";
import { bearer } from "./authentication.js";

/** The refusals of a request that asked for more than the server gives: they cost it work each time. */
const LIMIT_CODES = new Set([
  "QUERY_TOO_COMPLEX",
  "QUERY_TOO_DEEP",
  "TOO_MANY_ALIASES",
  "TOO_MANY_TOKENS",
  "TOO_MANY_DIRECTIVES",
  "JSON_TOO_DEEP",
  "OPERATION_TIMEOUT",
  "TOO_MANY_SUBSCRIPTIONS",
]);

/** How many limit refusals a token may meet at once, and then per second. */
export const REFUSAL_ALLOWANCE = { burst: 100, perSecond: 10 } as const;

function codesOf(result: unknown): string[] {
  return (Array.isArray(result) ? result : [result]).flatMap((one) =>
    ((one as { errors?: readonly { extensions?: { code?: unknown } }[] } | null)?.errors ?? []).flatMap((e) =>
      typeof e.extensions?.code === "string" ? [e.extensions.code] : [],
    ),
  );
}

/** Waits `seconds`, a second at most. */
export const pause = (seconds: number) => new Promise((resolve) => setTimeout(resolve, Math.min(seconds, 1) * 1000));

function tooManyRequests(wait: number): Response {
  const seconds = Math.max(1, Math.ceil(wait));
  return new Response(
    JSON.stringify({
      errors: [
        { message: `Too many refused requests; retry in ${seconds} s`, extensions: { code: "TOO_MANY_REQUESTS", retryAfter: seconds } },
      ],
    }),
    { status: 429, headers: { "content-type": "application/json; charset=utf-8", "retry-after": String(seconds) } },
  );
}

/**
 * A token whose requests keep meeting the server's limits (cost, depth, nesting, time…) is slowed
 * down: each such refusal takes one from the token's allowance ({@link REFUSAL_ALLOWANCE}), and
 * while it is spent the token's requests are held until it is back (a second at most) and answered
 * 429 TOO_MANY_REQUESTS with Retry-After — before the database, the body or the document are
 * looked at. Clients that stay within the limits
 * never meet it; one that runs a hostile document in a loop costs the server next to nothing.
 */
export function refusalThrottle({ burst, perSecond }: { burst: number; perSecond: number } = REFUSAL_ALLOWANCE) {
  const allowance = new TokenBuckets(burst, perSecond);
  const charge = (secret: string, codes: readonly string[]) => {
    const refused = codes.filter((code) => LIMIT_CODES.has(code)).length;
    if (refused > 0) allowance.charge(secret, refused);
  };
  const plugin: Plugin = {
    async onRequestParse({ request, endResponse }) {
      const secret = bearer(request.headers.get("authorization"));
      const wait = secret ? allowance.wait(secret) : 0;
      if (wait === 0) return;
      // Held until the allowance is back (a second at most): a client looping on refusals waits
      // instead of costing the server a request a millisecond.
      await pause(wait);
      endResponse(tooManyRequests(wait));
    },
    onResultProcess({ request, result }) {
      const secret = bearer(request.headers.get("authorization"));
      if (secret && !(Symbol.asyncIterator in (result as object))) charge(secret, codesOf(result));
    },
  };
  return {
    plugin,
    /** For the WebSocket server: the refusal of an operation while the secret's allowance is spent, or null. */
    async refusalFor(secret: string): Promise<GraphQLError | null> {
      const wait = allowance.wait(secret);
      if (wait === 0) return null;
      await pause(wait);
      const seconds = Math.max(1, Math.ceil(wait));
      return new GraphQLError(`Too many refused requests; retry in ${seconds} s`, {
        extensions: { code: "TOO_MANY_REQUESTS", retryAfter: seconds },
      });
    },
    /** For the WebSocket server: counts the limit refusals among an operation's errors. */
    charge: (secret: string, errors: readonly GraphQLError[]) => charge(secret, codesOf({ errors })),
  };
}

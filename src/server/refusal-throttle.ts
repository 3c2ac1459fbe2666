import { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";
import { LRUCache } from "lru-cache";
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
  "TOO_MANY_OPERATIONS",
]);

/** How many limit refusals a token may meet at once, and then per second. */
export const REFUSAL_ALLOWANCE = { burst: 100, perSecond: 10 } as const;
/**
 * How many all tokens of one organization together may meet: minting tokens does not multiply the
 * allowance (an ADMIN can mint as many as it likes).
 */
export const ORGANIZATION_REFUSAL_ALLOWANCE = { burst: 300, perSecond: 30 } as const;
/** Tokens whose organization the throttle remembers (the most recently seen). */
const REMEMBERED_TOKENS = 10_000;

type Allowance = { burst: number; perSecond: number };

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
 * down: each such refusal takes one from the token's allowance ({@link REFUSAL_ALLOWANCE}) and one
 * from its organization's ({@link ORGANIZATION_REFUSAL_ALLOWANCE}); while either is spent the
 * token's requests are held until it is back (a second at most) and answered 429
 * TOO_MANY_REQUESTS with Retry-After — before the database, the body or the document are looked at.
 * The check runs before authentication, on the bearer secret: the throttle remembers the
 * organization of each token it has seen answered. Clients that stay within the limits never meet
 * it; one that runs a hostile document in a loop, with one token or many, costs the server next to
 * nothing.
 */
export function refusalThrottle({
  token = REFUSAL_ALLOWANCE,
  organization = ORGANIZATION_REFUSAL_ALLOWANCE,
  organizationOf,
}: {
  token?: Allowance;
  organization?: Allowance;
  /** The organization a request that was answered authenticated for. */
  organizationOf: (request: Request) => string | undefined;
}) {
  const perToken = new TokenBuckets(token.burst, token.perSecond);
  const perOrganization = new TokenBuckets(organization.burst, organization.perSecond);
  const organizations = new LRUCache<string, string>({ max: REMEMBERED_TOKENS });
  const wait = (secret: string) => {
    const org = organizations.get(secret);
    return Math.max(perToken.wait(secret), org === undefined ? 0 : perOrganization.wait(org));
  };
  const charge = (secret: string, org: string | undefined, codes: readonly string[]) => {
    if (org !== undefined) organizations.set(secret, org);
    const refused = codes.filter((code) => LIMIT_CODES.has(code)).length;
    if (refused === 0) return;
    perToken.charge(secret, refused);
    if (org !== undefined) perOrganization.charge(org, refused);
  };
  const plugin: Plugin = {
    async onRequestParse({ request, endResponse }) {
      const secret = bearer(request.headers.get("authorization"));
      const seconds = secret ? wait(secret) : 0;
      if (seconds === 0) return;
      // Held until the allowance is back (a second at most): a client looping on refusals waits
      // instead of costing the server a request a millisecond.
      await pause(seconds);
      endResponse(tooManyRequests(seconds));
    },
    onResultProcess({ request, result }) {
      const secret = bearer(request.headers.get("authorization"));
      if (secret && !(Symbol.asyncIterator in (result as object))) charge(secret, organizationOf(request), codesOf(result));
    },
  };
  return {
    plugin,
    /** For the WebSocket server: the refusal of an operation while the secret's allowance is spent, or null. */
    async refusalFor(secret: string): Promise<GraphQLError | null> {
      const seconds = wait(secret);
      if (seconds === 0) return null;
      await pause(seconds);
      const retryAfter = Math.max(1, Math.ceil(seconds));
      return new GraphQLError(`Too many refused requests; retry in ${retryAfter} s`, {
        extensions: { code: "TOO_MANY_REQUESTS", retryAfter },
      });
    },
    /** For the WebSocket server: counts the limit refusals among an operation's errors. */
    charge: (secret: string, organizationId: string, errors: readonly GraphQLError[]) =>
      charge(secret, organizationId, codesOf({ errors })),
  };
}

import { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";

/** How many subscriptions may be open at once on one instance. */
export const SUBSCRIPTION_LIMITS = {
  /** On one WebSocket (an SSE request is one subscription). */
  perConnection: 100,
  /** By one token, over all its connections. */
  perToken: 1_000,
  /** By one organization, over all its tokens (an ADMIN can mint tokens: the token cap alone would multiply). */
  perOrganization: 10_000,
} as const;

export interface SubscriptionLimitOptions {
  perConnection: number;
  perToken: number;
  perOrganization: number;
  /** The connection a subscription comes on (the socket, or the HTTP request for SSE). */
  connectionOf: (context: unknown) => object;
  /** The token it is made with. */
  tokenOf: (context: unknown) => string;
  /** The organization of that token. */
  organizationOf: (context: unknown) => string;
}

/** Counts by key, forgetting a key at zero. */
class Counts {
  private readonly counts = new Map<string, number>();
  get = (key: string) => this.counts.get(key) ?? 0;
  add(key: string, delta: number) {
    const count = this.get(key) + delta;
    if (count > 0) this.counts.set(key, count);
    else this.counts.delete(key);
  }
}

export function tooManySubscriptions(limit: number, per: string) {
  return new GraphQLError(`Too many open subscriptions: at most ${limit} ${per}; complete some first`, {
    extensions: { code: "TOO_MANY_SUBSCRIPTIONS", limit },
  });
}

/**
 * Caps the subscriptions open at once per connection, per token and per organization: the one over a cap is refused
 * with TOO_MANY_SUBSCRIPTIONS (an `error`/`next` with the error over graphql-ws, an error event
 * over SSE) before it subscribes, reads history or holds anything. A subscription counts from the
 * moment it asks until its stream ends, however it ends.
 */
export function useSubscriptionLimits({
  perConnection,
  perToken,
  perOrganization,
  connectionOf,
  tokenOf,
  organizationOf,
}: SubscriptionLimitOptions): Plugin & { openOn: (connection: object) => number } {
  const byConnection = new WeakMap<object, number>();
  const byToken = new Counts();
  const byOrganization = new Counts();

  return {
    /** Subscriptions counted on a connection now. */
    openOn: (connection) => byConnection.get(connection) ?? 0,
    onSubscribe({ args, setResultAndStopExecution }) {
      const connection = connectionOf(args.contextValue);
      const token = tokenOf(args.contextValue);
      const organization = organizationOf(args.contextValue);
      const onConnection = byConnection.get(connection) ?? 0;
      const over =
        onConnection >= perConnection
          ? tooManySubscriptions(perConnection, "per connection")
          : byToken.get(token) >= perToken
            ? tooManySubscriptions(perToken, "per token")
            : byOrganization.get(organization) >= perOrganization
              ? tooManySubscriptions(perOrganization, "per organization")
              : null;
      if (over) {
        setResultAndStopExecution({ errors: [over] });
        return;
      }
      byConnection.set(connection, onConnection + 1);
      byToken.add(token, 1);
      byOrganization.add(organization, 1);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        byConnection.set(connection, (byConnection.get(connection) ?? 1) - 1);
        byToken.add(token, -1);
        byOrganization.add(organization, -1);
      };
      return {
        // A stream ends (done, or the subscriber left: envelop's onEnd) or fails (onSubscribeError,
        // which envelop also calls for an error thrown by the stream). No layer of our own per event.
        onSubscribeResult({ result }) {
          if (!(Symbol.asyncIterator in result)) return release();
          return { onEnd: release };
        },
        onSubscribeError: release,
      };
    },
  };
}

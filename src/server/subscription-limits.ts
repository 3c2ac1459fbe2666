import { mapAsyncIterator } from "@whatwg-node/promise-helpers";
import { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";

/** How many subscriptions may be open at once on one instance. */
export const SUBSCRIPTION_LIMITS = {
  /** On one WebSocket (an SSE request is one subscription). */
  perConnection: 100,
  /** By one token, over all its connections. */
  perToken: 1_000,
} as const;

export interface SubscriptionLimitOptions {
  perConnection: number;
  perToken: number;
  /** The connection a subscription comes on (the socket, or the HTTP request for SSE). */
  connectionOf: (context: unknown) => object;
  /** The token it is made with. */
  tokenOf: (context: unknown) => string;
}

export function tooManySubscriptions(limit: number, per: string) {
  return new GraphQLError(`Too many open subscriptions: at most ${limit} ${per}; complete some first`, {
    extensions: { code: "TOO_MANY_SUBSCRIPTIONS", limit },
  });
}

/**
 * Caps the subscriptions open at once per connection and per token: the one over a cap is refused
 * with TOO_MANY_SUBSCRIPTIONS (an `error`/`next` with the error over graphql-ws, an error event
 * over SSE) before it subscribes, reads history or holds anything. A subscription counts from the
 * moment it asks until its stream ends, however it ends.
 */
export function useSubscriptionLimits({
  perConnection,
  perToken,
  connectionOf,
  tokenOf,
}: SubscriptionLimitOptions): Plugin & { openOn: (connection: object) => number } {
  const byConnection = new WeakMap<object, number>();
  const byToken = new Map<string, number>();

  return {
    /** Subscriptions counted on a connection now. */
    openOn: (connection) => byConnection.get(connection) ?? 0,
    onSubscribe({ args, setResultAndStopExecution }) {
      const connection = connectionOf(args.contextValue);
      const token = tokenOf(args.contextValue);
      const onConnection = byConnection.get(connection) ?? 0;
      const ofToken = byToken.get(token) ?? 0;
      if (onConnection >= perConnection || ofToken >= perToken) {
        const error =
          onConnection >= perConnection
            ? tooManySubscriptions(perConnection, "per connection")
            : tooManySubscriptions(perToken, "per token");
        setResultAndStopExecution({ errors: [error] });
        return;
      }
      byConnection.set(connection, onConnection + 1);
      byToken.set(token, ofToken + 1);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        byConnection.set(connection, (byConnection.get(connection) ?? 1) - 1);
        const left = (byToken.get(token) ?? 1) - 1;
        if (left > 0) byToken.set(token, left);
        else byToken.delete(token);
      };
      return {
        onSubscribeResult({ result, setResult }) {
          if (!(Symbol.asyncIterator in result)) return release();
          setResult(
            mapAsyncIterator(
              result,
              (value) => value,
              (error: unknown) => {
                release();
                throw error;
              },
              release,
            ),
          );
        },
        onSubscribeError: release,
      };
    },
  };
}

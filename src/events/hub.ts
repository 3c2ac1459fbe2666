import type { PromotionRequestEventRow } from "../db/repositories/promotion-requests.js";
import type { SyncNotificationRow } from "../db/repositories/sync-notifications.js";

/** The events of one process, by topic. */
export interface Topics {
  /** Committed sync notifications of an organization, in id order. */
  [topic: `sync:${string}`]: SyncNotificationRow;
  /** Committed promotion request events of an organization, in id order. */
  [topic: `requests:${string}`]: PromotionRequestEventRow;
  /** A token was revoked: its subscriptions end. */
  [topic: `revoked:${string}`]: true;
  /** An application was archived or an environment deleted: subscriptions filtered on it end. */
  [topic: `gone:${string}`]: true;
}

type Handler = (payload: never) => void;

/**
 * Typed in-process pub/sub. A listener is registered synchronously, so a subscriber can start
 * listening before it reads history and miss nothing in between. Listeners are kept in a Set per
 * topic: thousands of dashboards on one organization's topic join and leave in constant time
 * (an EventTarget scans its listener list on every add).
 */
export class EventHub {
  private readonly topics = new Map<string, Set<Handler>>();

  /**
   * `onError`: what a listener threw (it is a fault; default: thrown again once every listener has
   * had the event). A failing listener never keeps the event from the others.
   */
  constructor(private readonly onError?: (error: unknown, topic: string) => void) {}

  publish<T extends keyof Topics>(topic: T, payload: Topics[T]): void {
    let failed: { error: unknown } | undefined;
    for (const handler of [...(this.topics.get(topic) ?? [])]) {
      try {
        (handler as (payload: Topics[T]) => void)(payload);
      } catch (error) {
        if (this.onError) this.onError(error, topic);
        else failed ??= { error };
      }
    }
    if (failed) throw failed.error;
  }

  /** Returns the function that stops listening. */
  listen<T extends keyof Topics>(topic: T, handler: (payload: Topics[T]) => void): () => void {
    let handlers = this.topics.get(topic);
    if (!handlers) this.topics.set(topic, (handlers = new Set()));
    const own = ((payload: Topics[T]) => handler(payload)) as Handler;
    handlers.add(own);
    return () => {
      handlers.delete(own);
      if (handlers.size === 0 && this.topics.get(topic) === handlers) this.topics.delete(topic);
    };
  }
}

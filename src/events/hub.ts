import { setMaxListeners } from "node:events";
import type { SyncNotificationRow } from "../db/repositories/notifications.js";

/** The events of one process, by topic. */
export interface Topics {
  /** Committed sync notifications of an organization, in id order. */
  [topic: `sync:${string}`]: SyncNotificationRow;
  /** A token was revoked: its subscriptions end. */
  [topic: `revoked:${string}`]: true;
}

/**
 * Typed in-process pub/sub on an EventTarget. A listener is registered synchronously, so a
 * subscriber can start listening before it reads history and miss nothing in between.
 */
export class EventHub {
  private readonly target = new EventTarget();

  constructor() {
    // Thousands of dashboards listen to one organization's topic.
    setMaxListeners(0, this.target);
  }

  publish<T extends keyof Topics>(topic: T, payload: Topics[T]): void {
    this.target.dispatchEvent(new CustomEvent(topic, { detail: payload }));
  }

  /** Returns the function that stops listening. */
  listen<T extends keyof Topics>(topic: T, handler: (payload: Topics[T]) => void): () => void {
    const listener = (event: Event) => handler((event as CustomEvent<Topics[T]>).detail);
    this.target.addEventListener(topic, listener);
    return () => this.target.removeEventListener(topic, listener);
  }
}

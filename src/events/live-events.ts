/**
 * How a subscription stream's live events can bypass its iterator: src/services/sync-stream.ts
 * offers it, src/server/shared-events.ts uses it to write one serialized result straight to many
 * sockets (a delivery through the iterator — the stream's buffer, graphql-js's mapping, envelop,
 * graphql-ws — cost ~5× a socket write; docs/performance.md).
 *
 * Once a sink is attached, every live event the subscriber asked for goes to `take`, in order, and
 * never to the iterator directly. The sink either sends an event itself — only while the iterator is
 * `idle`, so nothing it holds is overtaken — or gives it back with `fallback`, in order: the iterator
 * then delivers it after everything it holds. Before the stream ends for a reason of its own (the
 * token revoked, what it filters on gone), `ending` is called: what the sink still holds goes back
 * by `fallback` then, so it is delivered before the stream completes.
 */
export const LIVE_EVENTS = Symbol("live events");

export interface LiveSink<E> {
  /** A live event the subscriber asked for, in order. */
  take(event: E): void;
  /** The stream is about to end: give back what is held (`fallback`), and take nothing more. */
  ending(): void;
}

export interface LiveEvents<E> {
  /** Whether the iterator has handed over everything it was given and its consumer waits for the next. */
  readonly idle: boolean;
  /** An event for the iterator to deliver, after everything it holds. */
  fallback(event: E): void;
}

/** A stream that can hand its live events to a sink: attaching returns the stream's side. */
export interface WithLiveEvents<E> {
  [LIVE_EVENTS](sink: LiveSink<E>): LiveEvents<E>;
}

export function hasLiveEvents(value: object): value is WithLiveEvents<unknown> {
  return LIVE_EVENTS in value;
}

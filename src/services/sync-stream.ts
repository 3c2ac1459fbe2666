import { FixedBuffer, Repeater } from "@repeaterjs/repeater";
import type { Db } from "../db/client.js";
import { listRequestEvents, type PromotionRequestEventRow, type RequestEventFilter } from "../db/repositories/promotion-requests.js";
import { listNotifications, type NotificationFilter, type SyncNotificationRow } from "../db/repositories/sync-notifications.js";
import type { EventHub } from "../events/hub.js";
import { LIVE_EVENTS, type LiveEvents, type LiveSink, type WithLiveEvents } from "../events/live-events.js";
import type { Actor } from "./actor.js";
import type { TokenBuckets } from "./rate.js";
import type { ReadQueue } from "./read-queue.js";

/**
 * History events read at once: on the embedded database a read runs in this thread, and a page of
 * 500 held it for tens of milliseconds (a flood of resumes then raised another tenant's p99 3.7×; 1.4× at 100).
 */
const CATCH_UP_PAGE = 100;
/**
 * Events a subscriber may have waiting for it (buffered, then pushes pending) before its stream
 * ends; Repeater refuses a push past 1,024 pending ones.
 */
const BUFFERED = 1_000;
export const BEHIND_AT_MOST = BUFFERED + 1_024;
/**
 * Live events kept at most while a resumed subscriber's history catches up. Past it they are let go
 * and read again from history (every live event is stored before it is published), so a subscriber
 * whose catch-up waits long for the history rate holds a bounded number of them.
 */
export const EARLY_AT_MOST = 1_000;
/** History events delivered between two turns of the event loop. */
const DELIVERY_SLICE = 50;

/** A persisted event: numbered per organization (`seq`), gapless, in commit order. */
export interface NumberedEvent {
  seq: number;
}

/** Where one kind of event comes from: its live topic and its stored history. */
export interface EventSource<E extends NumberedEvent> {
  /** The hub topic its committed events are published on. */
  topic: `sync:${string}` | `requests:${string}`;
  /** Stored events after a number, oldest first, at most `limit`. */
  history: (after: number, limit: number) => Promise<E[]>;
  /** Whether an event is one the subscriber asked for. */
  matches: (event: E) => boolean;
  /** Identifies reads that subscribers resuming alike can share (the filter's values). */
  readKey: string;
  /** Ids the subscriber filtered on: when one goes (an application archived, an environment deleted), the stream ends. */
  filteredOn: string[];
}

/**
 * An event stream's iterator (a Repeater, below) with its live events' other way out
 * (src/events/live-events.ts). One per subscriber, so its methods are the class's, not closures.
 */
class LiveEventStream<E> implements AsyncIterableIterator<E>, WithLiveEvents<E>, LiveEvents<E> {
  repeater!: Repeater<E>;
  /** Where live events go once attached. */
  sink: LiveSink<E> | undefined;
  /** Events given to the repeater, and its values asked for (`next` calls). */
  given = 0;
  private asked = 0;
  /** Gives an event to the repeater (set once the repeater runs: live events come only after that). */
  give: (event: E) => void = ignore;

  next(): Promise<IteratorResult<E>> {
    this.asked++;
    return this.repeater.next();
  }

  return(value?: unknown): Promise<IteratorResult<E>> {
    return this.repeater.return(value);
  }

  throw(error?: unknown): Promise<IteratorResult<E>> {
    return this.repeater.throw(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  [LIVE_EVENTS](sink: LiveSink<E>): LiveEvents<E> {
    this.sink = sink;
    return this;
  }

  /**
   * Asked for more than it was given: every event given has been handed over, and its consumer
   * asked again — which it does only once it has sent the last one.
   */
  get idle(): boolean {
    return this.asked > this.given;
  }

  fallback(event: E): void {
    this.give(event);
  }
}

const ignore = () => {};

/**
 * The subscription stream of one kind of event: with `after` (a number of the organization), every
 * stored event after it in order, then live ones — no gap and no duplicate at the seam, because the
 * live listener is registered before history is read and anything at or below the last delivered
 * number is skipped. Ends when the caller's token is revoked, when what it is filtered on goes
 * (an archived application, a deleted environment: after the events of that write), or when the
 * subscriber leaves.
 */
export function eventStream<E extends NumberedEvent>(
  hub: EventHub,
  historyReads: ReadQueue,
  historyRate: TokenBuckets,
  actor: Actor,
  source: EventSource<E>,
  after: number | undefined,
  /** Called with each page of history before its events are delivered. */
  onHistoryPage: (page: readonly E[]) => void = () => {},
  earlyAtMost = EARLY_AT_MOST,
): AsyncIterableIterator<E> & WithLiveEvents<E> {
  const stream = new LiveEventStream<E>();
  stream.repeater = new Repeater<E>(async (push, stop) => {
    let last = after ?? 0;
    let caughtUp = false;
    // Live events that came while history was read: delivered after it, or, once there were too
    // many of them, let go and read from history instead (`missed`).
    let early: E[] = [];
    let missed = false;
    const keepEarly = (event: E) => {
      // One history has delivered already, or one not asked for: nothing to keep.
      if (event.seq <= last || !source.matches(event)) return;
      if (early.length < earlyAtMost) early.push(event);
      else {
        early = [];
        missed = true;
      }
    };
    stream.give = (event: E) => {
      stream.given++;
      try {
        void push(event);
      } catch {
        // The subscriber has not taken its last BEHIND_AT_MOST events (its socket is not read): its
        // stream ends after what it holds, and it resumes with `after` the last cursor it saw. Its
        // organization's other subscribers are not held up by it.
        stop();
      }
    };
    const deliver = (event: E) => {
      if (event.seq <= last) return;
      last = event.seq;
      if (!source.matches(event)) return;
      if (stream.sink) stream.sink.take(event);
      else stream.give(event);
    };
    // Ends after the events published before the reason to end: a sink gives back what it holds first.
    const end = () => {
      stream.sink?.ending();
      stop();
    };
    const stopLive = hub.listen(source.topic, (event) => (caughtUp ? deliver(event as unknown as E) : keepEarly(event as unknown as E)));
    const stopRevoked = hub.listen(`revoked:${actor.tokenId}`, end);
    const stopGone = source.filteredOn.map((id) => hub.listen(`gone:${id}`, end));
    // The subscriber left: its waits for history and for the rate end, and give back their place.
    const left = new AbortController();
    let stopped = false;
    void stop.then(() => {
      stopped = true;
      left.abort();
    });
    try {
      if (after !== undefined) {
        // Page by page, queued with the organization's other history reads; a subscriber that
        // left stops its catch-up at once.
        for (let page: E[] = []; !stopped; ) {
          // Subscribers resuming alike share one read, and so the same rows: each event then
          // executes once for all of them (src/server/shared-events.ts).
          const after = last;
          const read = await historyReads
            .run(
              actor.organizationId,
              () => source.history(after, CATCH_UP_PAGE),
              JSON.stringify([source.topic, source.readKey, after]),
              left.signal,
            )
            .catch((error: unknown) => {
              if (left.signal.aborted) return null;
              throw error;
            });
          if (!read || stopped) break;
          page = read;
          onHistoryPage(page);
          // Delivered at the organization's history rate, a slice at a time with a turn of the
          // event loop between slices: a flood of resumes is served, slowly, and a page's
          // deliveries never hold the thread for long.
          for (let start = 0; start < page.length && !stopped; start += DELIVERY_SLICE) {
            const slice = page.slice(start, start + DELIVERY_SLICE);
            await historyRate.take(actor.organizationId, slice.length, left.signal);
            if (stopped) break;
            for (const event of slice) {
              last = event.seq;
              stream.given++;
              await push(event);
            }
            await new Promise<void>((resolve) => setImmediate(resolve));
          }
          if (page.length < CATCH_UP_PAGE) {
            // The live events let go are stored: read on until history has them all.
            if (!missed) break;
            missed = false;
          }
        }
      }
      caughtUp = true;
      early.forEach(deliver);
      await stop;
    } finally {
      stopLive();
      stopRevoked();
      for (const stopListening of stopGone) stopListening();
    }
  }, new FixedBuffer(BUFFERED));
  return stream;
}

/** Both kinds of event are filtered by environment and application alike. */
function filtered(filter: { environmentId?: string; applicationId?: string }) {
  return {
    matches: (event: { environmentId: string; applicationId: string }) =>
      (!filter.environmentId || event.environmentId === filter.environmentId) &&
      (!filter.applicationId || event.applicationId === filter.applicationId),
    readKey: JSON.stringify([filter.environmentId ?? null, filter.applicationId ?? null]),
    filteredOn: [filter.environmentId, filter.applicationId].filter((id): id is string => id !== undefined),
  };
}

/** The sync notifications of the caller's organization (`syncStatusChanged`). */
export function syncNotificationStream(
  db: Db,
  hub: EventHub,
  historyReads: ReadQueue,
  historyRate: TokenBuckets,
  actor: Actor,
  filter: NotificationFilter,
  after: number | undefined,
  onHistoryPage: (page: readonly SyncNotificationRow[]) => void = () => {},
): AsyncIterableIterator<SyncNotificationRow> {
  return eventStream(
    hub,
    historyReads,
    historyRate,
    actor,
    {
      topic: `sync:${actor.organizationId}`,
      history: (after, limit) => listNotifications(db, actor.organizationId, filter, { after, limit }),
      ...filtered(filter),
    },
    after,
    onHistoryPage,
  );
}

/** The promotion request events of the caller's organization (`promotionRequestChanged`). */
export function requestEventStream(
  db: Db,
  hub: EventHub,
  historyReads: ReadQueue,
  historyRate: TokenBuckets,
  actor: Actor,
  filter: RequestEventFilter,
  after: number | undefined,
  onHistoryPage: (page: readonly PromotionRequestEventRow[]) => void = () => {},
): AsyncIterableIterator<PromotionRequestEventRow> {
  return eventStream(
    hub,
    historyReads,
    historyRate,
    actor,
    {
      topic: `requests:${actor.organizationId}`,
      history: (after, limit) => listRequestEvents(db, actor.organizationId, filter, { after, limit }),
      ...filtered(filter),
    },
    after,
    onHistoryPage,
  );
}

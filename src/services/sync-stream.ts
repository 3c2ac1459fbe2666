import { FixedBuffer, Repeater } from "@repeaterjs/repeater";
import type { Db } from "../db/client.js";
import { listNotifications, type NotificationFilter, type SyncNotificationRow } from "../db/repositories/sync-notifications.js";
import type { EventHub } from "../events/hub.js";
import type { Actor } from "./actor.js";
import type { TokenBuckets } from "./rate.js";
import type { ReadQueue } from "./read-queue.js";

const CATCH_UP_PAGE = 500;

/**
 * The subscription stream: with `after` (a number of the organization), every stored notification
 * after it in order, then live ones — no gap and no duplicate at the seam, because the live listener
 * is registered before history is read and anything at or below the last delivered number is
 * skipped. Ends when the caller's token is revoked, or when the subscriber leaves.
 */
export function syncNotificationStream(
  db: Db,
  hub: EventHub,
  historyReads: ReadQueue,
  historyRate: TokenBuckets,
  actor: Actor,
  filter: NotificationFilter,
  after: number | undefined,
  /** Called with each page of history before its rows are delivered. */
  onHistoryPage: (page: readonly SyncNotificationRow[]) => void = () => {},
): AsyncIterableIterator<SyncNotificationRow> {
  const matches = (row: SyncNotificationRow) =>
    (!filter.environmentId || row.environmentId === filter.environmentId) &&
    (!filter.applicationId || row.applicationId === filter.applicationId);
  return new Repeater<SyncNotificationRow>(async (push, stop) => {
    let last = after ?? 0;
    let caughtUp = false;
    const early: SyncNotificationRow[] = [];
    const deliver = (row: SyncNotificationRow) => {
      if (row.seq <= last) return;
      last = row.seq;
      if (matches(row)) void push(row);
    };
    const stopLive = hub.listen(`sync:${actor.organizationId}`, (row) => (caughtUp ? deliver(row) : early.push(row)));
    const stopRevoked = hub.listen(`revoked:${actor.tokenId}`, () => stop());
    let stopped = false;
    void stop.then(() => (stopped = true));
    try {
      if (after !== undefined) {
        // Page by page, queued with the organization's other history reads; a subscriber that
        // left stops its catch-up at the next page.
        for (let page: SyncNotificationRow[] = []; !stopped; ) {
          // Subscribers resuming alike share one read, and so the same rows: each event then
          // executes once for all of them (src/server/shared-events.ts).
          const after = last;
          page = await historyReads.run(
            actor.organizationId,
            () => listNotifications(db, actor.organizationId, filter, { after, limit: CATCH_UP_PAGE }),
            JSON.stringify([filter.environmentId ?? null, filter.applicationId ?? null, after]),
          );
          // Delivered at the organization's history rate: a flood of resumes is served, slowly.
          await historyRate.take(actor.organizationId, page.length);
          if (stopped) break;
          onHistoryPage(page);
          for (const row of page) {
            last = row.seq;
            await push(row);
          }
          if (page.length < CATCH_UP_PAGE) break;
        }
      }
      caughtUp = true;
      early.forEach(deliver);
      await stop;
    } finally {
      stopLive();
      stopRevoked();
    }
  }, new FixedBuffer(1_000));
}

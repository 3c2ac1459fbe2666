import type { Database } from "../db/client.js";
import { findRequestEventsByIds, REQUEST_EVENTS_CHANNEL } from "../db/repositories/promotion-requests.js";
import {
  findNotificationsByIds,
  SUBJECT_GONE_CHANNEL,
  SYNC_CHANNEL,
  TOKEN_REVOKED_CHANNEL,
} from "../db/repositories/sync-notifications.js";
import type { EventHub } from "./hub.js";

/**
 * LISTENs for what any instance committed and publishes it to this process's subscribers:
 * notifications are read back by id (NOTIFY carries only ids) and published in id order.
 * Returns the function that stops listening.
 */
export async function startEventRelay(database: Database, hub: EventHub, onError: (error: unknown) => void): Promise<() => Promise<void>> {
  // One delivery at a time, so notifications reach subscribers in commit order.
  let chain = Promise.resolve();
  const stopSync = await database.listen(SYNC_CHANNEL, (payload) => {
    chain = chain
      .then(async () => {
        const { ids } = JSON.parse(payload) as { organizationId: string; ids: number[] };
        for (const row of await findNotificationsByIds(database.db, ids)) hub.publish(`sync:${row.organizationId}`, row);
      })
      .catch(onError);
  });
  const stopRequests = await database.listen(REQUEST_EVENTS_CHANNEL, (payload) => {
    chain = chain
      .then(async () => {
        const { ids } = JSON.parse(payload) as { organizationId: string; ids: number[] };
        for (const row of await findRequestEventsByIds(database.db, ids)) hub.publish(`requests:${row.organizationId}`, row);
      })
      .catch(onError);
  });
  const stopRevoked = await database.listen(TOKEN_REVOKED_CHANNEL, (tokenId) => hub.publish(`revoked:${tokenId}`, true));
  // In the delivery chain: the events the same write committed before it reach subscribers first.
  const stopGone = await database.listen(SUBJECT_GONE_CHANNEL, (id) => {
    chain = chain.then(() => hub.publish(`gone:${id}`, true)).catch(onError);
  });
  return async () => {
    await stopSync();
    await stopRequests();
    await stopRevoked();
    await stopGone();
  };
}

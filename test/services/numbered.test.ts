import { asc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { IDS_PER_ANNOUNCEMENT } from "../../src/db/repositories/numbered.js";
import { insertNotifications, type NewSyncNotification, SYNC_CHANNEL } from "../../src/db/repositories/sync-notifications.js";
import { syncNotifications } from "../../src/db/schema.js";
import { atCommit, inTransaction } from "../../src/services/transaction.js";
import { testDatabase } from "../support/database.js";
import { createServiceCatalogue } from "../support/service-catalogue.js";

/**
 * Rows numbered per organization are announced with `pg_notify`, whose payload must stay under
 * 8,000 bytes: a write that changes thousands of sync states (an environment inserted below a large
 * pipeline) announces them in batches, in order, every id once — and still commits.
 */
describe("announcing numbered rows", () => {
  it("announces 2,000 notifications of one transaction in batches under pg_notify's limit, in id order, each once", {
    timeout: 30_000,
  }, async () => {
    const database = await testDatabase();
    const catalogue = await createServiceCatalogue(database.db);
    const organizationId = catalogue.actor.organizationId;
    const payloads: string[] = [];
    const stop = await database.listen(SYNC_CHANNEL, (payload) => {
      if (payload.includes(organizationId)) payloads.push(payload);
    });
    try {
      const rows: NewSyncNotification[] = Array.from({ length: 2_000 }, (_, i) => ({
        organizationId,
        applicationId: catalogue.applicationId,
        journeyId: catalogue.loginId,
        environmentId: catalogue.environments.staging,
        sourceEnvironmentId: catalogue.environments.development,
        status: i % 2 === 0 ? "OUT_OF_SYNC" : "IN_SYNC",
        message: `state ${i}`,
        changeCount: i % 2,
      }));
      await inTransaction(database.db, organizationId, async (tx) => {
        atCommit(tx, () => insertNotifications(tx, organizationId, rows));
      });
      const stored = await database.db
        .select({ id: syncNotifications.id, seq: syncNotifications.seq })
        .from(syncNotifications)
        .where(eq(syncNotifications.organizationId, organizationId))
        .orderBy(asc(syncNotifications.seq));
      expect(stored.map((r) => r.seq)).toEqual(stored.map((_, i) => i + 1));
      const batches = Math.ceil(stored.length / IDS_PER_ANNOUNCEMENT);
      await expect.poll(() => payloads.length, { timeout: 10_000 }).toBe(batches);
      for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThan(8_000);
      const announced = payloads.map((p) => JSON.parse(p) as { organizationId: string; ids: number[] });
      expect(announced.every((a) => a.organizationId === organizationId)).toBe(true);
      expect(announced.flatMap((a) => a.ids)).toEqual(stored.map((r) => r.id));
    } finally {
      await stop();
    }
  });
});

import type { Db } from "../db/client.js";
import { findConfigurationsMentioning } from "../db/repositories/variables.js";
import type { VariableUse } from "../domain/errors.js";
import type { JsonValue } from "../domain/journey-document.js";
import { settingReferencesIn } from "../domain/variables.js";
import { ReadQueue } from "./read-queue.js";
import { inSnapshot } from "./transaction.js";

/**
 * Reference scans for readers read every configuration of an organization: one at a time per
 * organization, four in all, each in a snapshot of its own. Scans inside a write's transaction are
 * not queued: on the embedded database a queued reader would wait for the connection that
 * transaction holds.
 */
const referenceScans = new ReadQueue(1, 4);

/**
 * Every place a configuration references each of `keys`: current journey versions, client settings
 * and (unless `drafts: false`) drafts, in every environment or one — in one scan for all the keys.
 */
export async function referencesToKeys(
  db: Db,
  organizationId: string,
  keys: readonly string[],
  filter: { environmentId?: string; drafts?: boolean } = {},
  { queued = false }: { queued?: boolean } = {},
): Promise<Map<string, VariableUse[]>> {
  const wanted = new Set(keys);
  const byKey = new Map<string, VariableUse[]>(keys.map((key) => [key, []]));
  if (keys.length === 0) return byKey;
  const scan = (on: Db) =>
    findConfigurationsMentioning(
      on,
      organizationId,
      keys.map((key) => `&{${key}}`),
      filter,
    );
  // A reader's scan (queued) reads the heads, drafts and clients in one snapshot: a save committed
  // between its read of the heads and of the drafts would hide a reference that is in the draft
  // before and in the head after. A write's scan runs in its transaction, under its locks.
  const mentions = queued ? await referenceScans.run(organizationId, () => inSnapshot(db, scan)) : await scan(db);
  for (const mention of mentions) {
    const base = mention.journeyId === null ? "client.settings" : "";
    for (const use of settingReferencesIn(mention.content as JsonValue, base)) {
      if (!wanted.has(use.key)) continue;
      byKey.get(use.key)!.push({
        applicationId: mention.applicationId,
        journeyId: mention.journeyId,
        environmentId: mention.environmentId,
        path: use.path,
        draft: mention.draft,
      });
    }
  }
  return byKey;
}

/** {@link referencesToKeys} of one key. */
export async function referencesTo(
  db: Db,
  organizationId: string,
  key: string,
  filter: { environmentId?: string; drafts?: boolean } = {},
): Promise<VariableUse[]> {
  return (await referencesToKeys(db, organizationId, [key], filter)).get(key)!;
}

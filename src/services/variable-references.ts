import type { Db } from "../db/client.js";
import { findConfigurationsMentioning } from "../db/repositories/variables.js";
import type { VariableUse } from "../domain/errors.js";
import type { JsonValue } from "../domain/journey-document.js";
import { settingReferencesIn } from "../domain/variables.js";
import { ReadQueue } from "./read-queue.js";

/**
 * Reference scans for readers read every configuration of an organization: one at a time per
 * organization, four in all. Scans inside a write's transaction are not queued: on the embedded
 * database a queued reader would wait for the connection that transaction holds.
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
  const scan = () =>
    findConfigurationsMentioning(
      db,
      organizationId,
      keys.map((key) => `&{${key}}`),
      filter,
    );
  const mentions = queued ? await referenceScans.run(organizationId, scan) : await scan();
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

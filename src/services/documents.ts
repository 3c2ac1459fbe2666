import { LRUCache } from "lru-cache";
import type { Db } from "../db/client.js";
import { findVersions, type JourneyEnvironmentKey } from "../db/repositories/journeys.js";
import type { JourneyDocument } from "../domain/journey-document.js";

/**
 * Parsed journey documents by content hash. Versions are immutable and a hash names one content,
 * so an entry can never be stale; reading a large application's documents from the database (and
 * parsing them) is most of a diff's cost. Entries are shared and must be treated as read-only,
 * which the diff and apply code does. Bounded; the least recently used entry goes first.
 */
const cache = new LRUCache<string, JourneyDocument>({ max: 2_000 });

/** The documents of the given versions, by hash: from the cache, the rest in one statement. */
export async function documentsOf(
  db: Db,
  organizationId: string,
  versions: (JourneyEnvironmentKey & { version: number; hash: string })[],
): Promise<Map<string, JourneyDocument>> {
  const found = new Map<string, JourneyDocument>();
  const missing: typeof versions = [];
  for (const v of versions) {
    const document = cache.get(v.hash);
    if (document) found.set(v.hash, document);
    else if (!found.has(v.hash)) missing.push(v);
  }
  for (const row of await findVersions(db, organizationId, missing)) {
    cache.set(row.hash, row.document);
    found.set(row.hash, row.document);
  }
  return found;
}

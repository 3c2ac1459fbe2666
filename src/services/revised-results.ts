import { LRUCache } from "lru-cache";
import { addTablesRead, type Revisions, revisionOf, trackingTablesRead } from "../db/read-tracking.js";

interface Entry<T> {
  value: T;
  /** The organization's revision its caller authenticated at: an older caller's result does not replace it. */
  revision: number;
  /** Each table (or partition) the computation read, with its revision as its caller authenticated. */
  read: [table: string, revision: number][];
}

/**
 * Results of reads kept for as long as what they read is unchanged — the response cache's rule
 * (src/server/response-cache.ts) for one use-case's result instead of a whole response: the
 * computation's statements are tracked (src/db/read-tracking.ts), and the result is exact for every
 * caller that authenticated while the tables and partitions they named had the revisions they had
 * when the one that computed it authenticated. Its reads happen after that caller authenticated, so
 * the result is never older than those revisions. A hit adds the tables to the caller's own
 * tracking, so a response built from it is kept for as long as the result is exact. Results are
 * shared: callers treat them as read-only.
 */
export class RevisedResults<T extends object> {
  private readonly cache: LRUCache<string, Entry<T>>;

  constructor(options: { max: number; maxSize?: number; sizeOf?: (value: T) => number }) {
    this.cache = new LRUCache<string, Entry<T>>({
      max: options.max,
      ...(options.maxSize === undefined
        ? {}
        : { maxSize: options.maxSize, sizeCalculation: (entry) => options.sizeOf?.(entry.value) ?? 1 }),
    });
  }

  /** The result kept under `key` if it is exact at `revisions` (its tables then count as read), else undefined. */
  get(key: string, revisions: Revisions): T | undefined {
    const entry = this.cache.get(key);
    if (!entry?.read.every(([table, revision]) => revisionOf(revisions, table) === revision)) return undefined;
    addTablesRead(entry.read.map(([table]) => table));
    return entry.value;
  }

  /**
   * The result kept under `key`, when what changed since it was kept are tables (or partitions) that
   * `revisable` names and `unchanged` — run with its reads tracked — finds that what the result was
   * computed from is still what they hold: it is then kept again as exact at `revisions` (its tables
   * and the check's count as read). Otherwise undefined. For a result whose tables are revised by
   * writes that leave it as it was (a diff of one application, the heads of its environments
   * revised by a save in another application).
   */
  async revalidate(
    key: string,
    revisions: Revisions,
    revisable: (table: string) => boolean,
    unchanged: (value: T) => Promise<boolean>,
  ): Promise<T | undefined> {
    const entry = this.cache.peek(key);
    if (!entry) return undefined;
    const stale = entry.read.filter(([table, revision]) => revisionOf(revisions, table) !== revision);
    if (!stale.every(([table]) => revisable(table))) return undefined;
    const checked = new Set<string>();
    if (stale.length > 0 && !(await trackingTablesRead(checked, () => unchanged(entry.value)))) return undefined;
    const read = new Map(entry.read);
    for (const table of [...stale.map(([table]) => table), ...checked]) read.set(table, revisionOf(revisions, table));
    const kept = this.cache.peek(key);
    if (!kept || kept.revision <= revisions.revision)
      this.cache.set(key, { value: entry.value, revision: revisions.revision, read: [...read] });
    addTablesRead(read.keys());
    return entry.value;
  }

  /** Runs `compute` with its reads tracked and keeps its result under `key`, exact at `revisions`. */
  async compute(key: string, revisions: Revisions, compute: () => Promise<T>): Promise<T> {
    const tables = new Set<string>();
    const value = await trackingTablesRead(tables, compute);
    const kept = this.cache.peek(key);
    if (!kept || kept.revision <= revisions.revision) {
      this.cache.set(key, { value, revision: revisions.revision, read: [...tables].map((table) => [table, revisionOf(revisions, table)]) });
    }
    return value;
  }

  /** How many results are kept (for tests and diagnostics). */
  get size(): number {
    return this.cache.size;
  }
}

import { LRUCache } from "lru-cache";
import type { Db } from "../db/client.js";
import type { ActiveToken } from "../db/repositories/tokens.js";
import { onCommitted } from "./transaction.js";

/** Live tokens kept: more than any deployment of the embedded database has. */
const MAX_TOKENS = 10_000;

/**
 * The live tokens this process has checked, with their organizations' revisions: what every request
 * reads first (the request floor, docs/performance.md). Only for a database no other process
 * writes — the embedded one, which one process owns — because it is exact only there: every
 * committed transaction of an organization (`inTransaction`, a revocation included) drops that
 * organization's tokens here before the transaction's caller goes on, so the next request reads the
 * token and the new revision again, and a revoked token is refused at once. A token not found is
 * never kept (a new one is found at its first request).
 *
 * One per database handle: two servers on one handle (the tests' "two instances" on the embedded
 * database) see each other's commits here as they do in the database.
 */
export class AuthenticationCache {
  private readonly tokens = new LRUCache<string, { found: ActiveToken; generation: number }>({ max: MAX_TOKENS });
  /** Per organization, how many of its transactions committed in this process (absent: none). */
  private readonly generations = new Map<string, number>();
  /** Commits of any organization: a read that overlapped one is not kept. */
  private commits = 0;

  /** Records a committed transaction of the organization: its tokens are read again. */
  committed(organizationId: string): void {
    this.commits++;
    this.generations.set(organizationId, (this.generations.get(organizationId) ?? 0) + 1);
  }

  /** The live token with this hash: kept, or read with `read` (and kept when no commit overlapped the read). */
  async find(tokenHash: string, read: (tokenHash: string) => Promise<ActiveToken | null>): Promise<ActiveToken | null> {
    const kept = this.tokens.get(tokenHash);
    if (kept && kept.generation === (this.generations.get(kept.found.organization.id) ?? 0)) return kept.found;
    const commitsBefore = this.commits;
    const found = await read(tokenHash);
    // A commit while the token was read may have raised the revision (or revoked the token) after
    // the read saw it: then what was read answers this request only.
    if (found && this.commits === commitsBefore) {
      this.tokens.set(tokenHash, { found, generation: this.generations.get(found.organization.id) ?? 0 });
    } else {
      this.tokens.delete(tokenHash);
    }
    return found;
  }
}

const caches = new WeakMap<Db, AuthenticationCache>();

/** The cache of this database handle, made (and told of its commits) on first use. */
export function authenticationCacheOf(db: Db): AuthenticationCache {
  let cache = caches.get(db);
  if (!cache) {
    const made = new AuthenticationCache();
    onCommitted(db, (organizationId) => made.committed(organizationId));
    caches.set(db, (cache = made));
  }
  return cache;
}

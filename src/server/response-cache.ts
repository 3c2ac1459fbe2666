import { type ExecutionResult, getOperationAST } from "graphql";
import type { Plugin } from "graphql-yoga";
import { LRUCache } from "lru-cache";
import { documentNumber } from "./document-number.js";

/** What a cached response is exact for: whom it is for and the state of its organization's data. */
export interface CacheScope {
  /** The organization whose data the response shows. */
  organization: string;
  /** Whom it is for: callers of one audience get the same response to the same request. */
  audience: string;
  /** The organization's revision read as the caller was authenticated, in the same statement. */
  revision: number;
}

export interface ResponseCacheOptions {
  /** The scope of a request, or null when it must not be cached. */
  scopeOf: (context: unknown) => CacheScope | null;
  /**
   * Whether a result may be kept, asked once it is computed: false for one that depends on the
   * time as well as on the data (an open promotion request's status), which no revision tracks.
   */
  keepable?: (context: unknown) => boolean;
  /** Most responses kept (default 1,000). */
  maxEntries?: number;
  /** Most bytes of JSON kept (default 64 MiB). */
  maxBytes?: number;
}

export type ResponseCachePlugin = Plugin & {
  /** How many responses are kept (for tests and diagnostics). */
  entries(): number;
  /** How many organizations have responses kept (for tests and diagnostics). */
  organizations(): number;
};

interface Entry {
  result: ExecutionResult;
  organization: string;
}

/**
 * Query responses, cached per audience and organization revision. Every write transaction raises
 * the organization's revision as it commits (`inTransaction`), on whichever instance it runs, and
 * every request reads the revision with its token. So a response cached at revision n answers only
 * requests that authenticated while the revision was n: the data cannot have changed in between,
 * and there is nothing to invalidate, across instances or otherwise.
 *
 * Only the organization's latest revision seen is kept: the first request that brings a newer one
 * drops the older responses, and a request still running at an older revision is answered but not
 * kept. Memory follows the distinct queries of the current state, not the number of writes.
 *
 * An in-memory cache invalidated by the entities a mutation returns (as @envelop/response-cache
 * does by default) cannot see writes made by another instance; the revision can, with no shared
 * store. Writes made around the application (SQL by hand, a restored backup) do not raise it:
 * restart the instances after one, or run with RESPONSE_CACHE=false. Only queries over HTTP are
 * cached, only results without errors (an error may be passing, like a lost connection), and
 * results are shared, never changed.
 */
export function useResponseCache({
  scopeOf,
  keepable = () => true,
  maxEntries = 1_000,
  maxBytes = 64 * 1024 * 1024,
}: ResponseCacheOptions): ResponseCachePlugin {
  /** Per organization: the latest revision seen and the keys of its responses kept. */
  const latest = new Map<string, { revision: number; keys: Set<string> }>();
  const cache = new LRUCache<string, Entry>({
    max: maxEntries,
    maxSize: maxBytes,
    sizeCalculation: (entry) => Math.max(1, JSON.stringify(entry.result).length),
    dispose: (entry, key, reason) => {
      if (reason === "set") return; // replaced by a response to the same key: still kept
      const kept = latest.get(entry.organization);
      if (!kept?.keys.delete(key) || kept.keys.size > 0) return;
      latest.delete(entry.organization);
    },
  });
  /** The organization's kept responses if `scope` is of its latest revision; null for an older one. */
  function keptAt(scope: CacheScope) {
    let kept = latest.get(scope.organization);
    if (kept && scope.revision < kept.revision) return null;
    if (!kept || scope.revision > kept.revision) {
      for (const key of kept ? [...kept.keys] : []) cache.delete(key);
      latest.set(scope.organization, (kept = { revision: scope.revision, keys: new Set() }));
    }
    return kept;
  }

  return {
    entries: () => cache.size,
    organizations: () => latest.size,
    onExecute({ args, setResultAndStopExecution }) {
      const scope = scopeOf(args.contextValue);
      const operation = getOperationAST(args.document, args.operationName);
      if (!scope || operation?.operation !== "query") return;
      if (!keptAt(scope)) return;
      // Only the variables the operation declares can change its result: others are not in the key.
      const variables = (operation.variableDefinitions ?? []).map((d) => args.variableValues?.[d.variable.name.value] ?? null);
      const key = [scope.audience, scope.revision, documentNumber(args.document), args.operationName ?? "", JSON.stringify(variables)].join(
        "\u0000",
      );
      const cached = cache.get(key);
      if (cached) {
        setResultAndStopExecution(cached.result);
        return;
      }
      return {
        onExecuteDone({ result }) {
          if (Symbol.asyncIterator in result || result.errors?.length || !keepable(args.contextValue)) return;
          // A write may have been seen while this request ran: keep only a response of the latest revision.
          const kept = keptAt(scope);
          if (!kept || kept.revision !== scope.revision) return;
          // Counted before it is stored: storing may evict the organization's other responses, and
          // an organization without any would be forgotten, this one with it.
          kept.keys.add(key);
          cache.set(key, { result, organization: scope.organization });
          if (cache.has(key)) return;
          kept.keys.delete(key); // too large to keep
          if (kept.keys.size === 0 && latest.get(scope.organization) === kept) latest.delete(scope.organization);
        },
      };
    },
  };
}

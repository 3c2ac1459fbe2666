import { type ExecutionResult, getOperationAST } from "graphql";
import type { Plugin } from "graphql-yoga";
import { LRUCache } from "lru-cache";
import { revisionOf, trackingTablesRead } from "../db/read-tracking.js";
import { documentNumber, variablesKey } from "./document-number.js";

/** What a cached response is exact for: whom it is for and the state of its organization's data. */
export interface CacheScope {
  /** Whom it is for (the organization and role): callers of one audience get the same response to the same request. */
  audience: string;
  /** The organization's revision read as the caller was authenticated, in the same statement. */
  revision: number;
  /**
   * Per table, the revision of the organization's last committed write to it (absent: never
   * written), read in the same statement.
   */
  tables: Readonly<Record<string, number>>;
}

export interface ResponseCacheOptions {
  /** The scope of a request, or null when it must not be cached. */
  scopeOf: (context: unknown) => CacheScope | null;
  /**
   * Whether a result may be kept, asked once it is computed: false for one that depends on the
   * time as well as on the data (an open promotion request's status), which no revision tracks.
   */
  keepable?: (context: unknown) => boolean;
  /**
   * Tables written outside the transactions that raise revisions: a response that read one is never
   * kept (default none).
   */
  neverKept?: readonly string[];
  /**
   * Called with the context of a request that waited for an identical execution whose result was
   * not one to keep, as it executes after all (the execution budget starts its clock again).
   */
  executesAfterWaiting?: (context: unknown) => void;
  /** Most responses kept (default 1,000). */
  maxEntries?: number;
  /** Most bytes of JSON kept (default 64 MiB): the texts; the results' objects take about twice as much again. */
  maxBytes?: number;
}

export type ResponseCachePlugin = Plugin & {
  /**
   * Runs each execution the cache would keep with the tables it reads tracked: goes after every
   * plugin that replaces the execute function (compiled execution), so that it runs the one that
   * executes. Without it nothing is kept.
   */
  tracking: Plugin;
  /** How many responses are kept (for tests and diagnostics). */
  entries(): number;
};

interface Entry {
  result: ExecutionResult;
  /** The organization's revision its request authenticated at: an older request's response does not replace it. */
  revision: number;
  /** Each table the execution read, with its revision as its request authenticated. */
  read: [table: string, revision: number][];
}

/** The JSON text of each kept result: written once, when it is kept. */
const texts = new WeakMap<object, string>();

/**
 * A kept result's JSON text, written the first time it is asked for; from then on the result
 * carries it. yoga writes a result's body with the result's own `stringify` when it has one (its
 * `jsonStringifyResultWithoutInternals`): a response served from the cache, and the one that kept
 * it, send this text instead of writing the same JSON again (about 0.14 ms for a dashboard of 50
 * applications, each time it was served). A copy of the result (`{ ...result, … }`) may carry the
 * function — graphql-jit's results have an enumerable `stringify` of their own, which this one
 * replaces — but `stringifyKept` writes anything but the kept object itself (such a copy, or
 * yoga's copy without internals of a result with errors or `extensions.http`) afresh. Kept results
 * are never changed in place (above; a plugin after this one that changed one would see its change
 * left out of the body), so the text stays theirs.
 */
function keptText(result: ExecutionResult): string {
  let text = texts.get(result);
  if (text === undefined) {
    text = JSON.stringify(result);
    texts.set(result, text);
    Object.defineProperty(result, "stringify", { value: stringifyKept });
  }
  return text;
}

function stringifyKept(value: unknown): string {
  return (typeof value === "object" && value !== null && texts.get(value)) || JSON.stringify(value);
}

/** Longest variables (as JSON) and operation name of a request whose response is kept. */
const KEYED_VARIABLES_AT_MOST = 4_096;
const KEYED_NAME_AT_MOST = 256;

/**
 * Query responses, cached per audience and kept for as long as the tables each one read are
 * unchanged. Every write transaction records, as it commits, the organization's new revision for
 * each table it wrote (`inTransaction`; the tables' triggers note what it wrote and the organization's
 * records it, migrations 0015 and 0016), on
 * whichever instance it runs, and every request reads those revisions with its token. Executing a
 * query records which tables its statements read (src/db/read-tracking.ts). A response is then
 * exact for every request that authenticated while those tables had the revisions they had as the
 * response's own request authenticated: each of its reads came after that, so a write to one of them
 * since would have raised that table's revision. A draft saved or a variable set leaves a dashboard
 * that reads neither in the cache. Journey heads and versions are revised per environment as well
 * (migration 0017), and the reads of some environments' rows record those only: a journey saved in
 * development leaves a dashboard of production's configurations in the cache; a promotion into
 * production does not.
 *
 * A response holds no older data than its request's revisions: a write committed while it ran may
 * show in it, which is as new as any later request may see. So a response replaces an older one of
 * the same request, never a newer one. Memory follows the distinct queries, not the number of
 * writes: a request has one entry, replaced when it is computed again.
 *
 * Identical requests (same audience, document and variables) that authenticated at the same
 * organization revision while one of them executes wait for it and take its result, if it is one
 * the cache keeps: it is exact for them by the same rule (its reads came after their revision was
 * current), and a dashboard many ask right after a write executes once. A request at another
 * revision (one after a write) never waits for an execution of an older one; a result the cache
 * would not keep (an error) is not shared: each waiting request then executes.
 *
 * An in-memory cache invalidated by the entities a mutation returns (as @envelop/response-cache
 * does by default) cannot see writes made by another instance; the revisions can, with no shared
 * store. Writes made around the application (SQL by hand, a restored backup) do not raise them:
 * restart the instances after one, or run with RESPONSE_CACHE=false. Only queries over HTTP are
 * cached, only results without errors (an error may be passing, like a lost connection), and
 * results are shared, never changed.
 */
export function useResponseCache({
  scopeOf,
  keepable = () => true,
  neverKept = [],
  executesAfterWaiting = () => {},
  maxEntries = 1_000,
  maxBytes = 64 * 1024 * 1024,
}: ResponseCacheOptions): ResponseCachePlugin {
  const cache = new LRUCache<string, Entry>({
    max: maxEntries,
    maxSize: maxBytes,
    sizeCalculation: (entry) => Math.max(1, keptText(entry.result).length),
  });
  /** Per execution context: the set its statements' tables go to, until the tracking plugin takes it. */
  const toTrack = new WeakMap<object, { tables: Set<string>; key: string; revision: number }>();
  /** The sets the tracking plugin ran an execution with: an untracked execution's set says nothing. */
  const tracked = new WeakSet<Set<string>>();
  /**
   * Executions under way by key, each with the organization's revision its request authenticated at:
   * an identical request at that revision waits for it and takes its result if it is one to keep,
   * instead of running the same reads again (a dashboard asked by many right after a write).
   */
  const running = new Map<string, { revision: number; tables: Set<string>; context: unknown; result: Promise<unknown> }>();
  const keeps = (result: unknown, tables: Set<string>, context: unknown): result is ExecutionResult =>
    typeof result === "object" &&
    result !== null &&
    !(Symbol.asyncIterator in result) &&
    !(result as ExecutionResult).errors?.length &&
    !neverKept.some((table) => tables.has(table)) &&
    keepable(context);

  return {
    entries: () => cache.size,
    tracking: {
      onExecute({ args, executeFn, setExecuteFn }) {
        const tracking = toTrack.get(args.contextValue as object);
        if (!tracking) return;
        toTrack.delete(args.contextValue as object);
        const { tables, key, revision } = tracking;
        tracked.add(tables);
        setExecuteFn(async (executeArgs) => {
          const leader = running.get(key);
          if (leader && leader.revision === revision) {
            const result = await leader.result.catch(() => undefined);
            if (keeps(result, leader.tables, leader.context)) {
              for (const table of leader.tables) tables.add(table);
              return result;
            }
            executesAfterWaiting(executeArgs.contextValue);
          }
          const result = trackingTablesRead(tables, () => executeFn(executeArgs));
          // Leads the identical requests at its revision that come while it runs (not those of an older one).
          const current = running.get(key);
          if (!current || current.revision < revision) {
            const entry = { revision, tables, context: executeArgs.contextValue, result: Promise.resolve(result) };
            running.set(key, entry);
            void entry.result
              .catch(() => {})
              .finally(() => {
                if (running.get(key) === entry) running.delete(key);
              });
          }
          return result;
        });
      },
    },
    onExecute({ args, setResultAndStopExecution }) {
      const scope = scopeOf(args.contextValue);
      const operation = getOperationAST(args.document, args.operationName);
      if (!scope || operation?.operation !== "query") return;
      // Only the variables the operation declares can change its result: others are not in the key.
      // One left out (its default applies) is not one given as null.
      const given = args.variableValues ?? {};
      const variables = Object.fromEntries(
        (operation.variableDefinitions ?? [])
          .map((d) => d.variable.name.value)
          .filter((name) => Object.hasOwn(given, name))
          .map((name) => [name, given[name]]),
      );
      // Variables JSON cannot tell apart (a number too large for a double) are never kept or served;
      // nor a request whose key would be long (an operation name may be a megabyte long, and
      // `maxBytes` counts results, not keys): a thousand keys stay a few megabytes.
      const variablesText = variablesKey(variables);
      if (
        variablesText === null ||
        variablesText.length > KEYED_VARIABLES_AT_MOST ||
        (args.operationName?.length ?? 0) > KEYED_NAME_AT_MOST
      ) {
        return;
      }
      const key = [scope.audience, documentNumber(args.document), args.operationName ?? "", variablesText].join("\u0000");
      const cached = cache.get(key);
      if (cached?.read.every(([table, revision]) => revisionOf(scope, table) === revision)) {
        setResultAndStopExecution(cached.result);
        return;
      }
      const tables = new Set<string>();
      toTrack.set(args.contextValue as object, { tables, key, revision: scope.revision });
      return {
        onExecuteDone({ result }) {
          toTrack.delete(args.contextValue as object);
          if (!tracked.has(tables) || !keeps(result, tables, args.contextValue)) return;
          // A request that authenticated before another one's write does not replace that one's response.
          const kept = cache.peek(key);
          if (kept && kept.revision > scope.revision) return;
          cache.set(key, { result, revision: scope.revision, read: [...tables].map((table) => [table, revisionOf(scope, table)]) });
        },
      };
    },
  };
}

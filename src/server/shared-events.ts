import { createSourceEventStream, type DocumentNode, execute, type ExecutionArgs, type ExecutionResult } from "graphql";
import type { Plugin } from "graphql-yoga";
import { mapAsyncIterator } from "@whatwg-node/promise-helpers";

/**
 * Who a subscriber's results are for, as far as they can differ: two subscribers with the same
 * audience, document and variables get the same result for the same event. null: never shared.
 */
export type AudienceOf = (context: unknown) => string | null;

/**
 * One event, thousands of subscribers: an organization's dashboards subscribe with the same
 * document and variables, and what an event resolves to depends only on the event, the document,
 * the variables and the subscriber's audience (organization and role). So a live event is executed
 * once per such key and its result handed to every subscriber of that key, instead of one
 * execution per subscriber.
 *
 * Subscribing stays per subscriber (graphql-js's `createSourceEventStream`: arguments, scopes and
 * NOT_FOUND are checked for each). Only events that are the same object for several subscribers
 * share — a live event published once to all; history read for one subscriber's `after` is its own
 * and executes as before. Results are shared, never changed: later hooks (error masking) make new
 * ones. A result is kept as long as its event object lives, so nothing outlives the event.
 */
export function useSharedEventExecution(audienceOf: AudienceOf): Plugin {
  const results = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 0;

  function documentId(document: DocumentNode): number {
    let id = documentIds.get(document);
    if (id === undefined) documentIds.set(document, (id = nextDocumentId++));
    return id;
  }

  function executeShared(args: ExecutionArgs, key: string | null, event: unknown): Promise<ExecutionResult> {
    const run = async () => (await execute({ ...args, rootValue: event })) as ExecutionResult;
    if (key === null || typeof event !== "object" || event === null) return run();
    let byKey = results.get(event);
    if (!byKey) results.set(event, (byKey = new Map()));
    let result = byKey.get(key);
    if (!result) byKey.set(key, (result = run()));
    return result;
  }

  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args) => {
        const stream = await createSourceEventStream(args);
        if (!(Symbol.asyncIterator in stream)) return stream;
        const audience = audienceOf(args.contextValue);
        // The parser cache hands every subscriber of one query text the same document object.
        const key =
          audience === null
            ? null
            : `${audience}\u0000${documentId(args.document)}\u0000${args.operationName ?? ""}\u0000${JSON.stringify(args.variableValues ?? {})}`;
        return mapAsyncIterator(stream, (event) => executeShared(args, key, event));
      });
    },
  };
}

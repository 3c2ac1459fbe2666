import { GraphQLError, getOperationAST, Kind } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { GraphQLContext } from "../graphql/context.js";

/** What a RUNTIME token may select at the root of a query. */
const RUNTIME_FIELDS = new Set(["runtimeConfiguration", "__typename"]);

const forbidden = () =>
  new GraphQLError("A RUNTIME token reads runtimeConfiguration and nothing else", { extensions: { code: "FORBIDDEN" } });

/**
 * A RUNTIME token (DESIGN.md §6) reads `runtimeConfiguration` and nothing else: any other root
 * field, any mutation and any subscription is refused with FORBIDDEN before anything resolves —
 * over HTTP, WebSocket and SSE alike (they all execute through here).
 */
export function useRuntimeScope(): Plugin {
  const refused = (args: { contextValue: unknown; document: Parameters<typeof getOperationAST>[0]; operationName?: string | null }) => {
    const { actor } = args.contextValue as Partial<GraphQLContext>;
    if (actor?.role !== "RUNTIME") return false;
    const operation = getOperationAST(args.document, args.operationName);
    return !(
      operation?.operation === "query" &&
      operation.selectionSet.selections.every((selection) => selection.kind === Kind.FIELD && RUNTIME_FIELDS.has(selection.name.value))
    );
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      if (refused(args)) setResultAndStopExecution({ errors: [forbidden()] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      if (refused(args)) setResultAndStopExecution({ errors: [forbidden()] });
    },
  };
}

import {
  BREAK,
  type DocumentNode,
  GraphQLError,
  type GraphQLSchema,
  getNamedType,
  getOperationAST,
  isLeafType,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
} from "graphql";
import type { Plugin } from "graphql-yoga";
import type { GraphQLContext } from "../graphql/context.js";

/** What a RUNTIME token may select at the root of a query. */
const RUNTIME_FIELDS = new Set(["runtimeConfiguration", "__typename"]);
/** Types a RUNTIME token may select plain values of (their own fields, never what they lead to). */
const LEAVES_ONLY = new Set(["Environment", "Application"]);

const forbidden = () =>
  new GraphQLError("A RUNTIME token reads runtimeConfiguration and nothing else", { extensions: { code: "FORBIDDEN" } });

/**
 * Whether a RUNTIME token may run the operation: a query whose root selects only
 * `runtimeConfiguration` (no fragments there), and below it only the configuration itself and the
 * plain values (`key`, `name`…) of its environment and application — never the fields that lead
 * on from them (other environments, clients, journeys, tokens).
 */
function runtimeMayRun(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): boolean {
  const operation = getOperationAST(document, operationName);
  if (operation?.operation !== "query") return false;
  if (!operation.selectionSet.selections.every((s) => s.kind === Kind.FIELD && RUNTIME_FIELDS.has(s.name.value))) return false;
  const executed: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [operation, ...document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION)],
  };
  const typeInfo = new TypeInfo(schema);
  let allowed = true;
  visit(
    executed,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        if (node.name.value === "__typename") return undefined;
        const parent = typeInfo.getParentType()?.name;
        const type = typeInfo.getType();
        const fine =
          (parent === schema.getQueryType()?.name && RUNTIME_FIELDS.has(node.name.value)) ||
          parent === "RuntimeConfiguration" ||
          (parent !== undefined && LEAVES_ONLY.has(parent) && type !== null && isLeafType(getNamedType(type)));
        if (fine) return undefined;
        allowed = false;
        return BREAK;
      },
    }),
  );
  return allowed;
}

/**
 * A RUNTIME token (DESIGN.md §6) reads `runtimeConfiguration` and nothing else: any other field,
 * any mutation and any subscription is refused with FORBIDDEN before anything resolves — over HTTP,
 * WebSocket and SSE alike (they all execute through here).
 */
export function useRuntimeScope(): Plugin {
  const refused = (args: { schema: GraphQLSchema; contextValue: unknown; document: DocumentNode; operationName?: string | null }) => {
    const { actor } = args.contextValue as Partial<GraphQLContext>;
    return actor?.role === "RUNTIME" && !runtimeMayRun(args.schema, args.document, args.operationName);
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

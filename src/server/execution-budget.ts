import {
  type ExecutionResult,
  GraphQLError,
  type GraphQLFieldResolver,
  type GraphQLSchema,
  getNamedType,
  getOperationAST,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
} from "graphql";
import type { Plugin } from "graphql-yoga";

const DEADLINE = Symbol("execution deadline");
const EXCEEDED = Symbol("execution budget exceeded");

type Budgeted = { [DEADLINE]?: number; [EXCEEDED]?: boolean };

/** Thrown by each field past the deadline; the whole result is replaced by one error afterwards. */
const OUT_OF_TIME = () => new GraphQLError("Out of the time budget", { extensions: { code: "OPERATION_TIMEOUT" } });

const wrapped = new WeakSet<GraphQLSchema>();

/**
 * Makes every field that leads to more work (objects and lists) check its operation's deadline
 * before it resolves. Scalars resolve as before. Done once per schema.
 */
function checkDeadlines(schema: GraphQLSchema) {
  if (wrapped.has(schema)) return;
  wrapped.add(schema);
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    for (const field of Object.values(type.getFields())) {
      const output = isNonNullType(field.type) ? field.type.ofType : field.type;
      if (isLeafType(getNamedType(field.type)) && !isListType(output)) continue;
      const resolve: GraphQLFieldResolver<unknown, unknown> | undefined = field.resolve;
      if (!resolve) continue;
      field.resolve = (source, args, context, info) => {
        const deadline = (context as Budgeted | null)?.[DEADLINE];
        if (deadline !== undefined && performance.now() > deadline) {
          (context as Budgeted)[EXCEEDED] = true;
          throw OUT_OF_TIME();
        }
        return resolve(source, args, context, info);
      };
    }
  }
}

function budgetExceeded(ms: number) {
  return new GraphQLError(`The query ran out of its time budget of ${ms} ms; ask for less at once`, {
    extensions: { code: "OPERATION_TIMEOUT", budgetMs: ms },
  });
}

/**
 * The last line behind the cost limit: a query that still runs longer than `ms` stops resolving
 * (every object or list field checks the deadline) and is answered with OPERATION_TIMEOUT alone.
 * Mutations are not cut short: a write that committed must be reported as such.
 */
export function useExecutionBudget({ schema, ms }: { schema: GraphQLSchema; ms: number }): Plugin {
  checkDeadlines(schema);
  return {
    onExecute({ args }) {
      if (getOperationAST(args.document, args.operationName)?.operation !== "query") return;
      const context = args.contextValue as Budgeted;
      context[DEADLINE] = performance.now() + ms;
      return {
        onExecuteDone({ result, setResult }) {
          delete context[DEADLINE];
          if (!context[EXCEEDED] || Symbol.asyncIterator in result) return;
          delete context[EXCEEDED];
          setResult({ data: null, errors: [budgetExceeded(ms)] } as ExecutionResult);
        },
      };
    },
  };
}

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

const BUDGET = Symbol("execution budget");

interface Budget {
  /** performance.now() past which nothing more resolves (Infinity: no time limit). */
  deadline: number;
  /** Object and list fields that may still resolve. */
  fieldsLeft: number;
  /** Bytes of JSON values (documents, settings) that may still be returned. */
  bytesLeft: number;
  exceeded?: "time" | "size";
}

type Budgeted = { [BUDGET]?: Budget };

/** Thrown by each field past the budget; the whole result is replaced by one error afterwards. */
const SPENT = () => new GraphQLError("Out of the execution budget", { extensions: { code: "OPERATION_TIMEOUT" } });

const wrapped = new WeakSet<GraphQLSchema>();

/** Charges a JSON value's size to the budget: a few large documents weigh what many objects do. */
function weighed(budget: Budget | undefined, value: unknown): unknown {
  if (!budget) return value;
  const charge = (resolved: unknown) => {
    budget.bytesLeft -= JSON.stringify(resolved ?? null).length;
    if (budget.bytesLeft < 0) {
      budget.exceeded = "size";
      throw SPENT();
    }
    return resolved;
  };
  return value instanceof Promise ? value.then(charge) : charge(value);
}

/**
 * Makes every field that leads to more work (objects and lists) check its operation's budget before
 * it resolves: the deadline, and how many such fields may still resolve. Scalars resolve as before.
 * Done once per schema.
 */
function checkBudgets(schema: GraphQLSchema) {
  if (wrapped.has(schema)) return;
  wrapped.add(schema);
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    for (const field of Object.values(type.getFields())) {
      const output = isNonNullType(field.type) ? field.type.ofType : field.type;
      const resolve: GraphQLFieldResolver<unknown, unknown> | undefined = field.resolve;
      if (!resolve) continue;
      if (getNamedType(field.type).name === "JSON") {
        field.resolve = (source, args, context, info) =>
          weighed((context as Budgeted | null)?.[BUDGET], resolve(source, args, context, info));
        continue;
      }
      if (isLeafType(getNamedType(field.type)) && !isListType(output)) continue;
      field.resolve = (source, args, context, info) => {
        const budget = (context as Budgeted | null)?.[BUDGET];
        if (budget) {
          if (budget.exceeded) throw SPENT();
          if (--budget.fieldsLeft < 0) budget.exceeded = "size";
          else if (performance.now() > budget.deadline) budget.exceeded = "time";
          if (budget.exceeded) throw SPENT();
        }
        return resolve(source, args, context, info);
      };
    }
  }
}

export interface BudgetLimits {
  /** Time a query or an event may run; mutations are never cut short for time. */
  ms: number;
  /** Object and list fields one operation or one event may resolve. */
  fields: number;
  /** Bytes of JSON values one operation or one event may return. */
  bytes: number;
}

function refusal(exceeded: "time" | "size", { ms, fields, bytes }: BudgetLimits) {
  return exceeded === "time"
    ? new GraphQLError(`The operation ran out of its time budget of ${ms} ms; ask for less at once`, {
        extensions: { code: "OPERATION_TIMEOUT", budgetMs: ms },
      })
    : new GraphQLError(
        `The result would hold more than ${fields} objects or ${bytes} bytes of JSON values; ask for fewer items or fewer nested lists`,
        { extensions: { code: "RESULT_TOO_LARGE", maxFields: fields, maxJsonBytes: bytes } },
      );
}

/**
 * The last line behind the cost limit (whose list sizes are estimates): an operation stops
 * resolving once it has run longer than `ms` (queries) or resolved more than `fields` objects and
 * lists (queries and mutations), and is answered with OPERATION_TIMEOUT or RESULT_TOO_LARGE alone.
 * A mutation's writes are done when its result resolves; they stay done. `aroundEvent` applies the
 * same to the execution of a live event.
 */
export function executionBudget(schema: GraphQLSchema, limits: BudgetLimits) {
  checkBudgets(schema);
  const run = async (context: Budgeted, timed: boolean, execute: () => Promise<ExecutionResult>): Promise<ExecutionResult> => {
    const budget: Budget = {
      deadline: timed ? performance.now() + limits.ms : Number.POSITIVE_INFINITY,
      fieldsLeft: limits.fields,
      bytesLeft: limits.bytes,
    };
    context[BUDGET] = budget;
    const result = await execute();
    return budget.exceeded ? { data: null, errors: [refusal(budget.exceeded, limits)] } : result;
  };
  const plugin: Plugin = {
    onExecute({ args }) {
      const operation = getOperationAST(args.document, args.operationName)?.operation;
      if (operation !== "query" && operation !== "mutation") return;
      const context = args.contextValue as Budgeted;
      const budget: Budget = {
        deadline: operation === "query" ? performance.now() + limits.ms : Number.POSITIVE_INFINITY,
        fieldsLeft: limits.fields,
        bytesLeft: limits.bytes,
      };
      context[BUDGET] = budget;
      return {
        onExecuteDone({ result, setResult }) {
          delete context[BUDGET];
          if (!budget.exceeded || Symbol.asyncIterator in result) return;
          setResult({ data: null, errors: [refusal(budget.exceeded, limits)] } as ExecutionResult);
        },
      };
    },
  };
  return {
    plugin,
    /**
     * Starts an operation's time over from now: for one that waited for an identical execution
     * (src/server/response-cache.ts) before executing after all. Its wait is not its run.
     */
    restartClock: (context: unknown) => {
      const budget = (context as Budgeted)[BUDGET];
      if (budget && Number.isFinite(budget.deadline)) budget.deadline = performance.now() + limits.ms;
    },
    /** Executes a live event within the budget, on the event's own context. */
    aroundEvent: (context: unknown, execute: () => Promise<ExecutionResult>) => run(context as Budgeted, true, execute),
  };
}

import { createComplexityRule } from "@pothos/plugin-complexity";
import { type DocumentNode, GraphQLError, type GraphQLSchema, validate } from "graphql";
import type { Plugin } from "graphql-yoga";
import { LRUCache } from "lru-cache";
import { documentNumber, variablesKey } from "./document-number.js";

export interface CostedOperation {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null;
  variableValues?: Record<string, unknown> | null;
  contextValue: unknown;
}

/**
 * The cost of the operation to run, by the schema's own field declarations (src/graphql/cost.ts)
 * with the request's variables: `first: $n` costs what `first: 100` costs. One walk of the
 * document; fragments used twice are costed once and counted twice. null when the variables do not
 * fit the operation (execution refuses them with its own error).
 */
export function operationCost({ schema, document, operationName, variableValues, contextValue }: CostedOperation): number | null {
  const variables = variablesKey(variableValues);
  if (variables === null || variables.length > KEYED_VARIABLES_AT_MOST || (operationName?.length ?? 0) > KEYED_NAME_AT_MOST) {
    return computedCost({ schema, document, operationName, variableValues, contextValue });
  }
  let costs = costsBySchema.get(schema);
  if (!costs) costsBySchema.set(schema, (costs = new LRUCache({ max: COSTS_KEPT })));
  const key = `${documentNumber(document)}\u0000${operationName ?? ""}\u0000${variables}`;
  const kept = costs.get(key);
  if (kept !== undefined) return kept;
  const cost = computedCost({ schema, document, operationName, variableValues, contextValue });
  // Variables that do not fit are refused by execution; what they cost is not kept for others.
  if (cost !== null) costs.set(key, cost);
  return cost;
}

/**
 * Costs computed, by document, operation name and variables: the walk is a validation of the whole
 * document (~0.2 ms for a dashboard), and the same few documents come back with the same variables
 * on every request. Exact: a cost is a function of the document and the variables alone (the cost
 * options in src/graphql/cost.ts read only the field's arguments; none reads the context), and
 * yoga's parser cache hands the same text the same document (another object only gets another
 * number). Costed each time instead of kept: variables longer than KEYED_VARIABLES_AT_MOST characters
 * as JSON (a mutation's big input), an operation name longer than KEYED_NAME_AT_MOST (a name may be a
 * megabyte long: 2,000 of those would be gigabytes), variables JSON cannot tell apart
 * (`variablesKey`), and variables that do not fit the operation (no cost). So the cache holds a few
 * megabytes at most. Found by an attacking review: with `{"n": 1e400}` costed as "does not fit" and
 * kept, `{"n": null}` — the same JSON — ran uncosted.
 */
const costsBySchema = new WeakMap<GraphQLSchema, LRUCache<string, number>>();
const COSTS_KEPT = 2_000;
const KEYED_VARIABLES_AT_MOST = 2_048;
const KEYED_NAME_AT_MOST = 256;

function computedCost({ schema, document, operationName, variableValues, contextValue }: CostedOperation): number | null {
  let cost: number | null = null;
  const rule = createComplexityRule({
    context: contextValue as object,
    variableValues: (variableValues ?? {}) as Record<string, unknown>,
    operationName: operationName ?? undefined,
    validate: () => {},
    onResult: (state) => {
      cost = Math.max(cost ?? 0, state.complexity);
    },
  });
  validate(schema, document, [rule]);
  return cost;
}

export function tooComplex(cost: number, maxCost: number) {
  return new GraphQLError(
    `Operation cost ${cost} exceeds the limit of ${maxCost}; ask for fewer items (first/last) or fewer nested lists`,
    {
      extensions: { code: "QUERY_TOO_COMPLEX", cost, maxCost },
    },
  );
}

/**
 * Refuses, before anything resolves, an operation whose cost is over `maxCost`: QUERY_TOO_COMPLEX
 * with the computed cost. Over HTTP, WebSocket and SSE alike (every transport executes through here).
 */
export function useOperationCost({ maxCost }: { maxCost: number }): Plugin {
  const check = (args: CostedOperation, refuse: (result: { errors: GraphQLError[] }) => void) => {
    const cost = operationCost(args);
    if (cost !== null && cost > maxCost) refuse({ errors: [tooComplex(cost, maxCost)] });
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      check(args, setResultAndStopExecution);
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      check(args, setResultAndStopExecution);
    },
  };
}

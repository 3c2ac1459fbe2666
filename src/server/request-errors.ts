import { type ExecutionResult, GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";

/**
 * Errors of a request that never ran — a variable of the wrong type or missing, an operation name
 * the document lacks — come from graphql-js and graphql-jit without a code. Each gets one, as every
 * other refusal has: BAD_USER_INPUT for variables, BAD_REQUEST for the rest, and HTTP status 400
 * (a WebSocket client gets the code without the status).
 */
function coded(result: ExecutionResult): ExecutionResult | null {
  if (result.data !== undefined || !result.errors?.some((error) => error.extensions?.code === undefined)) return null;
  return {
    ...result,
    errors: result.errors.map((error) => {
      if (error.extensions?.code !== undefined) return error;
      const code = error.message.startsWith('Variable "$') ? "BAD_USER_INPUT" : "BAD_REQUEST";
      return new GraphQLError(error.message, {
        nodes: error.nodes,
        source: error.source,
        positions: error.positions,
        path: error.path,
        originalError: error.originalError,
        extensions: { ...error.extensions, code, http: { status: 400 } },
      });
    }),
  };
}

const isResult = (value: unknown): value is ExecutionResult =>
  typeof value === "object" && value !== null && !(Symbol.asyncIterator in value);

export function useRequestErrorCodes(): Plugin {
  return {
    onExecute: () => ({
      onExecuteDone: ({ result, setResult }) => {
        const replaced = isResult(result) ? coded(result) : null;
        if (replaced) setResult(replaced);
      },
    }),
    onSubscribe: () => ({
      onSubscribeResult: ({ result, setResult }) => {
        const replaced = isResult(result) ? coded(result) : null;
        if (replaced) setResult(replaced);
      },
    }),
  };
}

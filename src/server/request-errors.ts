import { type ExecutionResult, GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";

/**
 * Errors of a request that never ran — a variable of the wrong type or missing, an operation name
 * the document lacks — come from graphql-js and graphql-jit without a code. Each gets one, as every
 * other refusal has: BAD_USER_INPUT for variables, BAD_REQUEST for the rest, and HTTP status 400
 * (a WebSocket client gets the code without the status). Variables' messages lose the values sent.
 */
/** A quoted text that is a name (a field, a type, a path) is kept; any other is a value sent, not repeated. */
const quotedValue = /"((?:[^"\\]|\\.)*)"/g;
const isName = (text: string) => /^\$?[_A-Za-z][_0-9A-Za-z.![\]]*$/.test(text);

/**
 * graphql-js repeats the value a variable was refused for (`Variable "$input" got invalid value
 * { …, value: "<secret>" }; …`): an error must not hand back what was sent — a secret, for one. The
 * message keeps the variable, the path and the reason, without the values.
 */
function withoutValues(message: string, reason: string | undefined): string {
  const invalid = /^Variable "(\$[_A-Za-z][_0-9A-Za-z]*)" got invalid value [\s\S]*?(?: at "([^"]*)")?; ([\s\S]*)$/.exec(message);
  if (!invalid) return message.replace(quotedValue, (quoted, text: string) => (isName(text) ? quoted : '"…"'));
  const [, variable, path] = invalid;
  const why = (reason ?? invalid[3])
    .replace(/\{[\s\S]*\}|\[[\s\S]*\]/g, "…")
    .replace(quotedValue, (quoted, text: string) => (isName(text) ? quoted : '"…"'))
    .replace(/(cannot represent[^:]*): [\s\S]*$/, "$1.");
  return `Variable "${variable}" got an invalid value${path ? ` at "${path}"` : ""}; ${why}`;
}

function coded(result: ExecutionResult): ExecutionResult | null {
  if (result.data !== undefined || !result.errors?.some((error) => error.extensions?.code === undefined)) return null;
  return {
    ...result,
    errors: result.errors.map((error) => {
      if (error.extensions?.code !== undefined) return error;
      const variable = error.message.startsWith('Variable "$');
      const code = variable ? "BAD_USER_INPUT" : "BAD_REQUEST";
      return new GraphQLError(variable ? withoutValues(error.message, error.originalError?.message) : error.message, {
        nodes: error.nodes,
        source: error.source,
        positions: error.positions,
        path: error.path,
        // Not the original error: graphql-js's is a GraphQLError of its own (the scalar's, value and all),
        // which the error masking would answer with in place of this one.
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

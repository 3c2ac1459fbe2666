import type { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";

const SUGGESTION = /\s*Did you mean [^?]*\?/g;

/** graphql-js's "Did you mean …?" hints (fields, arguments, types, enum values) map a schema for whoever probes it. */
export function withoutSuggestions<T extends { message: string }>(error: T): T {
  const stripped = error.message.replace(SUGGESTION, "");
  if (stripped !== error.message) error.message = stripped;
  return error;
}

function strip(result: unknown) {
  for (const one of Array.isArray(result) ? result : [result]) {
    const errors = (one as { errors?: readonly GraphQLError[] } | null)?.errors;
    if (Array.isArray(errors)) errors.forEach(withoutSuggestions);
  }
}

/**
 * No suggestions in any HTTP answer: validation and variable errors keep their message without the
 * hint. (The WebSocket server applies {@link withoutSuggestions} to what it sends.)
 */
export function useNoSuggestions(): Plugin {
  return {
    onResultProcess({ result }) {
      if (!(Symbol.asyncIterator in (result as object))) strip(result);
    },
  };
}

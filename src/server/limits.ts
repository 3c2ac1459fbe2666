import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import { GraphQLError, NoSchemaIntrospectionCustomRule } from "graphql";
import type { Plugin } from "graphql-yoga";

/**
 * What one operation may ask for. Generous for every query the product's clients send (the README's
 * dashboard of 50 applications costs 27,213 with the `__typename` and `id` fields clients add; see
 * src/graphql/cost.ts for the model); tight enough that a hostile document is refused before a
 * resolver or the database sees it (`journeys { application { journeys { application { journeys
 * … } } } }` three lists deep costs 132,652).
 */
export const OPERATION_LIMITS = {
  depth: 12,
  aliases: 20,
  tokens: 3_000,
  directives: 20,
  /** Operation cost with the request's variables (src/graphql/cost.ts). */
  cost: 50_000,
  /** Time a query (or a live event's execution) may run before it is stopped with OPERATION_TIMEOUT. */
  queryTimeMs: 10_000,
  /**
   * Objects and lists one operation (or one live event) may resolve before it is stopped with
   * RESULT_TOO_LARGE: the cost's list sizes are estimates, this bounds what real data can make of them.
   */
  resolvedFields: 100_000,
  /** Bytes of JSON values (documents, settings) one operation (or live event) may return: RESULT_TOO_LARGE past it. */
  jsonBytes: 16 * 1024 * 1024,
  /** Operations one HTTP request may batch (a JSON array body); each is limited as if sent alone. */
  batchOperations: 10,
} as const;

/** Largest request body accepted (a 10,000-character comment and 5,000 change ids fit easily). */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;
/** Largest WebSocket message accepted. */
export const MAX_WS_MESSAGE_BYTES = 1024 * 1024;
/**
 * Bytes a WebSocket may send before its `connection_init` is accepted: the init carries a token and
 * a few connection parameters. Read no further, a hostile megabyte init costs no more than a small one.
 */
export const MAX_WS_BYTES_BEFORE_ACK = 64 * 1024;

/**
 * graphql-armor labels every refusal "Syntax Error"; ours say what was refused, with the code
 * clients branch on (QUERY_TOO_DEEP, TOO_MANY_ALIASES, TOO_MANY_TOKENS, TOO_MANY_DIRECTIVES).
 */
function refusedWith(code: string) {
  return [
    (_context: unknown, error: GraphQLError) => {
      error.message = error.message.replace(/^Syntax Error: /, "");
      (error.extensions as Record<string, unknown>).code = code;
    },
  ];
}

export function operationLimits(): Plugin {
  return EnvelopArmorPlugin({
    maxDepth: { n: OPERATION_LIMITS.depth, ignoreIntrospection: true, exposeLimits: true, onReject: refusedWith("QUERY_TOO_DEEP") },
    maxAliases: { n: OPERATION_LIMITS.aliases, exposeLimits: true, onReject: refusedWith("TOO_MANY_ALIASES") },
    maxTokens: { n: OPERATION_LIMITS.tokens, exposeLimits: true, onReject: refusedWith("TOO_MANY_TOKENS") },
    maxDirectives: { n: OPERATION_LIMITS.directives, exposeLimits: true, onReject: refusedWith("TOO_MANY_DIRECTIVES") },
    // The cost is ours: computed with the variables (src/server/operation-cost.ts).
    costLimit: { enabled: false },
    // Suggestions ("Did you mean …?") would map the schema for someone probing without introspection.
    blockFieldSuggestion: { enabled: true },
  }) as Plugin;
}

/** Refuses introspection queries (INTROSPECTION=false in production settings). */
export function disableIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}

/**
 * A batch (a JSON array of operations in one HTTP request) over `limit` operations is refused whole,
 * before any of them is parsed or run: 413 with code TOO_MANY_OPERATIONS. (Runs before yoga's own
 * batching check, which would say the same without a code clients can branch on.)
 */
export function batchLimit(limit: number = OPERATION_LIMITS.batchOperations): Plugin {
  return {
    onRequestParse: () => ({
      onRequestParseDone({ requestParserResult }) {
        if (Array.isArray(requestParserResult) && requestParserResult.length > limit) {
          throw new GraphQLError(`A batch holds at most ${limit} operations; this one holds ${requestParserResult.length}`, {
            extensions: { code: "TOO_MANY_OPERATIONS", limit, http: { status: 413 } },
          });
        }
        // Each entry of a batch is an operation's parameters: an object (`null` crashed a plugin downstream).
        if (Array.isArray(requestParserResult)) {
          const index = requestParserResult.findIndex((entry) => typeof entry !== "object" || entry === null || Array.isArray(entry));
          if (index !== -1) {
            throw new GraphQLError(`Entry ${index} of the batch is not an operation: send an object with "query" or "documentId"`, {
              extensions: { code: "BAD_REQUEST", http: { status: 400 } },
            });
          }
        }
      },
    }),
  };
}

import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import { NoSchemaIntrospectionCustomRule } from "graphql";
import type { Plugin } from "graphql-yoga";

/**
 * What one operation may ask for. Generous for every query the product's clients send (the
 * dashboard is depth 7, cost ~200); tight enough that a hostile document is refused at validation,
 * before a resolver or the database sees it.
 */
export const OPERATION_LIMITS = {
  depth: 12,
  aliases: 20,
  tokens: 3_000,
  directives: 20,
  cost: 5_000,
} as const;

/** Largest request body accepted (a 10,000-character comment and 5,000 change ids fit easily). */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;
/** Largest WebSocket message accepted. */
export const MAX_WS_MESSAGE_BYTES = 1024 * 1024;

export function operationLimits(): Plugin {
  return EnvelopArmorPlugin({
    maxDepth: { n: OPERATION_LIMITS.depth, ignoreIntrospection: true, exposeLimits: true },
    maxAliases: { n: OPERATION_LIMITS.aliases, exposeLimits: true },
    maxTokens: { n: OPERATION_LIMITS.tokens, exposeLimits: true },
    maxDirectives: { n: OPERATION_LIMITS.directives, exposeLimits: true },
    costLimit: { maxCost: OPERATION_LIMITS.cost, ignoreIntrospection: true, exposeLimits: true },
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

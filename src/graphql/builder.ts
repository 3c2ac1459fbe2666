import SchemaBuilder from "@pothos/core";
import ComplexityPlugin from "@pothos/plugin-complexity";
import ErrorsPlugin from "@pothos/plugin-errors";
import RelayPlugin from "@pothos/plugin-relay";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import { ForbiddenError } from "../domain/errors.js";
import type { JsonValue } from "../domain/journey-document.js";
import { hasRole } from "../services/index.js";
import type { GraphQLContext } from "./context.js";
import { UNDECLARED_LIST_SIZE } from "./cost.js";
import { parseJsonLiteral } from "./json-literal.js";

const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * The one schema builder: plugins, scalars, context and auth scopes. Types live in `schema/<area>.ts`.
 * Plugin order matters: errors wraps scope-auth, so a role refusal on a mutation is a typed
 * `ForbiddenError` in its result union.
 */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: true;
  AuthScopes: { viewer: boolean; editor: boolean; promoter: boolean; admin: boolean };
  Scalars: {
    ID: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: JsonValue; Output: unknown };
  };
}>({
  plugins: [ErrorsPlugin, ScopeAuthPlugin, RelayPlugin, ComplexityPlugin],
  // Each field costs 1; a list multiplies what is selected in it by its declared size (src/graphql/cost.ts).
  // The server checks the cost of every operation with its variables (src/server/operation-cost.ts).
  complexity: { defaultComplexity: 1, defaultListMultiplier: UNDECLARED_LIST_SIZE },
  defaultFieldNullability: false,
  defaultInputFieldRequiredness: true,
  scopeAuth: {
    authScopes: (context) => ({
      viewer: true,
      editor: hasRole(context.actor, "EDITOR"),
      promoter: hasRole(context.actor, "PROMOTER"),
      admin: hasRole(context.actor, "ADMIN"),
    }),
    unauthorizedError: () => new ForbiddenError(),
    authorizeOnSubscribe: true,
  },
  errors: {
    directResult: true,
    defaultUnionOptions: { name: ({ fieldName }) => `${upperFirst(fieldName)}Result` },
    defaultResultOptions: { name: ({ fieldName }) => `${upperFirst(fieldName)}Success` },
  },
  relay: {
    clientMutationId: "omit",
    cursorType: "String",
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    nodeTypeOptions: { description: "An object with a globally unique, opaque ID (Relay)." },
    pageInfoTypeOptions: { description: "Where a page of a connection sits in the whole list (Relay)." },
    idFieldOptions: { description: "Globally unique, opaque identifier." },
    cursorFieldOptions: { description: "Opaque position of this edge, for `after`." },
    nodeFieldOptions: { description: "The item at the end of the edge." },
    // The connection field multiplies by its page size; its edges add no second multiplier.
    edgesFieldOptions: { description: "The items of this page, with their cursors.", complexity: { field: 1, multiplier: 1 } },
    pageInfoFieldOptions: { description: "Where this page sits in the whole list." },
    hasNextPageFieldOptions: { description: "True when more items follow this page." },
    hasPreviousPageFieldOptions: { description: "True when items precede this page." },
    startCursorFieldOptions: { description: "Cursor of the first item of this page." },
    endCursorFieldOptions: { description: "Cursor of the last item of this page: pass it as `after` for the next page." },
    firstArgOptions: { description: "Number of items to return (at most 100)." },
    afterArgOptions: { description: "Return the items after this cursor." },
    lastArgOptions: { description: "Number of items to return from the end (at most 100)." },
    beforeArgOptions: { description: "Return the items before this cursor." },
  },
});

builder.scalarType("DateTime", {
  description: "A point in time, as an ISO-8601 string in UTC.",
  serialize: (value) => (value instanceof Date ? value : new Date(value as string)).toISOString(),
  parseValue: (value) => {
    const date = typeof value === "string" ? new Date(value) : new Date(NaN);
    if (Number.isNaN(date.getTime())) throw new TypeError("DateTime must be an ISO-8601 string");
    return date;
  },
});

builder.scalarType("JSON", {
  description: "Any JSON value.",
  serialize: (value) => value,
  parseValue: (value) => value as JsonValue,
  // One declared parameter: graphql-jit warns on stderr for every literal of a scalar whose parseLiteral
  // declares two, because it passes no variables. It never gets a literal holding a variable: the
  // server runs such documents with graphql-js (src/server/graphql-handler.ts).
  parseLiteral: (ast, variables = null) => parseJsonLiteral(ast, variables),
});

builder.queryType({ description: "Reads. Every field sees only the caller's organization." });
builder.mutationType({
  description: "Writes. Each returns a result union of its success type and the typed errors it can meet.",
});

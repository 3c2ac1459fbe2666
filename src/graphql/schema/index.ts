import { type GraphQLSchema, lexicographicSortSchema, printSchema } from "graphql";
import { builder } from "../builder.js";
import type { GraphQLContext } from "../context.js";
import "./errors.js";
import "./node.js";
import "./tokens.js";
import "./environments.js";
import "./applications.js";
import "./clients.js";
import "./journeys.js";
import "./drafts.js";
import "./diff.js";
import "./propagations.js";
import "./reverts.js";
import "./promotion-requests.js";
import "./sync.js";
import "./step-types.js";
import "./variables.js";
import "./runtime.js";
import "./audit.js";

export const schema = readAfterWrite(builder.toSchema());

/**
 * A mutation's result is read after it ran: its payload (the changed journey, client, application)
 * must not come from loaders that read before the write — in the mutation itself or in an earlier
 * mutation of the same request. Each mutation field empties the request's loaders once it resolved.
 */
function readAfterWrite(built: GraphQLSchema): GraphQLSchema {
  for (const field of Object.values(built.getMutationType()?.getFields() ?? {})) {
    const resolve = field.resolve;
    if (!resolve) continue;
    field.resolve = async (source, args, context: GraphQLContext, info) => {
      try {
        return await resolve(source, args, context, info);
      } finally {
        context.loaders.clear();
      }
    };
  }
  return built;
}

/** The schema as committed in `schema.graphql`. */
export const printedSchema = () => `${printSchema(lexicographicSortSchema(schema))}\n`;

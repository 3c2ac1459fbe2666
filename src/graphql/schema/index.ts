import { lexicographicSortSchema, printSchema } from "graphql";
import { builder } from "../builder.js";
import "./errors.js";
import "./node.js";
import "./token.js";
import "./environment.js";
import "./application.js";
import "./client.js";
import "./journey.js";
import "./draft.js";
import "./diff.js";
import "./propagation.js";
import "./sync.js";

export const schema = builder.toSchema();

/** The schema as committed in `schema.graphql`. */
export const printedSchema = () => `${printSchema(lexicographicSortSchema(schema))}\n`;

import { lexicographicSortSchema, printSchema } from "graphql";
import { builder } from "../builder.js";
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
import "./sync.js";

export const schema = builder.toSchema();

/** The schema as committed in `schema.graphql`. */
export const printedSchema = () => `${printSchema(lexicographicSortSchema(schema))}\n`;

import { lexicographicSortSchema, printSchema } from "graphql";
import { builder } from "../builder.js";
import "./errors.js";
import "./organization.js";
import "./environment.js";
import "./application.js";
import "./journey.js";
import "./diff.js";
import "./editing.js";
import "./propagation.js";
import "./notifications.js";

export const schema = builder.toSchema();

/** The schema as committed in `schema.graphql`. */
export const printedSchema = () => `${printSchema(lexicographicSortSchema(schema))}\n`;

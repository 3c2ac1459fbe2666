import { Kind, type ValueNode } from "graphql";
import type { JsonValue } from "../domain/journey-document.js";

/** A JSON value written inline in a query (`settings: { minLength: 12 }`). */
export function parseJsonLiteral(ast: ValueNode, variables?: Record<string, unknown> | null): JsonValue {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map((v) => parseJsonLiteral(v, variables));
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, parseJsonLiteral(f.value, variables)]));
    case Kind.VARIABLE:
      return (variables?.[ast.name.value] ?? null) as JsonValue;
    case Kind.ENUM:
      return ast.value;
  }
}

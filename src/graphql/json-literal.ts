import { GraphQLError, Kind, type ValueNode } from "graphql";
import type { JsonValue } from "../domain/journey-document.js";
import { PROTOTYPE_KEY, prototypeKeyProblem } from "../domain/prototype-key.js";

/**
 * A JSON value written inline in a query (`settings: { minLength: 12 }`). A `__proto__` key is
 * refused here, while validating the document: compiled execution (graphql-jit) writes literal
 * arguments out as object literals, where that key would silently become a prototype.
 */
export function parseJsonLiteral(ast: ValueNode, variables?: Record<string, unknown> | null, path = ""): JsonValue {
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
      return ast.values.map((v, i) => parseJsonLiteral(v, variables, path ? `${path}.${i}` : String(i)));
    case Kind.OBJECT:
      return Object.fromEntries(
        ast.fields.map((f) => {
          const at = path ? `${path}.${f.name.value}` : f.name.value;
          if (f.name.value === PROTOTYPE_KEY) {
            const problem = prototypeKeyProblem(at);
            throw new GraphQLError(`JSON value: ${problem.message}`, {
              nodes: f,
              extensions: { code: "VALIDATION_FAILED", problems: [problem] },
            });
          }
          return [f.name.value, parseJsonLiteral(f.value, variables, at)];
        }),
      );
    case Kind.VARIABLE:
      return (variables?.[ast.name.value] ?? null) as JsonValue;
    case Kind.ENUM:
      return ast.value;
  }
}

import { type DocumentNode, type ExecutionResult, type FieldNode, GraphQLError, Kind, visit } from "graphql";
import type { Plugin } from "graphql-yoga";

/** Per document: its fields by where they start (`line:column`), built the first time one of its answers has an error. */
const fieldsByPlace = new WeakMap<DocumentNode, Map<string, FieldNode>>();

function fieldsOf(document: DocumentNode): Map<string, FieldNode> {
  let fields = fieldsByPlace.get(document);
  if (!fields) {
    const found = new Map<string, FieldNode>();
    visit(document, {
      [Kind.FIELD]: (node: FieldNode) => {
        if (node.loc) found.set(`${node.loc.startToken.line}:${node.loc.startToken.column}`, node);
      },
    });
    fields = found;
    fieldsByPlace.set(document, fields);
  }
  return fields;
}

/** An error that knows where it is in the document but not which nodes: graphql-jit's. */
const unlocated = (error: GraphQLError) => error.nodes === undefined && (error.locations?.length ?? 0) > 0;

/** `error` with the document's nodes at its locations, as graphql-js's `locatedError` makes it; itself if a node is not found. */
function located(error: GraphQLError, document: DocumentNode): GraphQLError {
  const fields = fieldsOf(document);
  const nodes = (error.locations ?? []).flatMap(({ line, column }) => fields.get(`${line}:${column}`) ?? []);
  if (nodes.length !== error.locations?.length) return error;
  return new GraphQLError(error.message, {
    nodes,
    path: error.path,
    originalError: error.originalError ?? undefined,
    extensions: error.extensions,
  });
}

const isResult = (value: unknown): value is ExecutionResult =>
  typeof value === "object" && value !== null && !(Symbol.asyncIterator in value);

/**
 * graphql-jit's errors carry their locations but not the document's nodes, and the error masking
 * and yoga's serializer rebuild errors from nodes: a compiled document's errors reached clients
 * without `locations`, which graphql-js's have. Each such error gets its nodes back before the
 * masking, so a document answers the same whichever engine ran it.
 */
export function useLocatedErrors(): Plugin {
  return {
    onExecute: ({ args }) => ({
      onExecuteDone: ({ result, setResult }) => {
        if (!isResult(result) || !result.errors?.some(unlocated)) return;
        setResult({ ...result, errors: result.errors.map((error) => (unlocated(error) ? located(error, args.document) : error)) });
      },
    }),
  };
}

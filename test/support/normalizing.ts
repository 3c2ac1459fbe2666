import {
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  getNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  parse,
  print,
  type SelectionSetNode,
  TypeInfo,
  visit,
  visitWithTypeInfo,
} from "graphql";

const field = (name: string): FieldNode => ({ kind: Kind.FIELD, name: { kind: Kind.NAME, value: name } });

/**
 * A document as a normalizing client (Apollo Client, urql's graphcache, Relay) sends it: every
 * selection of an object, interface or union below the operation's root also asks for
 * `__typename`, and for `id` where the type has one.
 */
export function asNormalizingClientSends(schema: GraphQLSchema, source: string): string {
  const typeInfo = new TypeInfo(schema);
  const document: DocumentNode = visit(
    parse(source),
    visitWithTypeInfo(typeInfo, {
      SelectionSet: {
        leave(node: SelectionSetNode, _key, parent) {
          if (parent && !Array.isArray(parent) && (parent as { kind?: string }).kind === Kind.OPERATION_DEFINITION) return undefined;
          const type = getNamedType(typeInfo.getType() ?? typeInfo.getParentType());
          if (!type) return undefined;
          const asked = new Set(node.selections.flatMap((s) => (s.kind === Kind.FIELD && !s.alias ? [s.name.value] : [])));
          const extra: FieldNode[] = [];
          if (!asked.has("__typename")) extra.push(field("__typename"));
          if ((isObjectType(type) || isInterfaceType(type)) && "id" in type.getFields() && !asked.has("id")) extra.push(field("id"));
          return extra.length === 0 ? undefined : { ...node, selections: [...node.selections, ...extra] };
        },
      },
    }),
  );
  return print(document);
}

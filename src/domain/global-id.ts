/**
 * A global ID as the GraphQL layer writes it (Relay's: base64 of `Type:id`), so records kept by the
 * services (audit events) name objects the way clients know them. `test/unit/domain/global-id.test.ts`
 * holds it equal to the schema's own encoding.
 */
export function encodeGlobalId(typename: string, id: string): string {
  return Buffer.from(`${typename}:${id}`).toString("base64");
}

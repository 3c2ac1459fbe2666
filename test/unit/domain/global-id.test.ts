import { encodeGlobalID } from "@pothos/plugin-relay";
import fc from "fast-check";
import { expect, it } from "vitest";
import { encodeGlobalId } from "../../../src/domain/global-id.js";
import { localId, parseGlobalId } from "../../../src/graphql/ids.js";

it("writes a global ID exactly as the schema's Relay plugin does, so audit subjects name objects as clients know them", () => {
  fc.assert(
    fc.property(fc.constantFrom("Application", "Journey", "Client", "Environment", "ApiToken"), fc.uuid(), (typename, id) => {
      expect(encodeGlobalId(typename, id)).toBe(encodeGlobalID(typename, id));
    }),
  );
  expect(encodeGlobalId("Application", "é:1")).toBe(encodeGlobalID("Application", "é:1"));
});

it("reads the UUID of a global ID in lower case, whatever case it was sent in: one row, one key of the caches", () => {
  fc.assert(
    fc.property(fc.uuid(), fc.array(fc.boolean(), { minLength: 36, maxLength: 36 }), (id, upper) => {
      const variant = [...id].map((character, i) => (upper[i] ? character.toUpperCase() : character)).join("");
      expect(localId(encodeGlobalID("Application", variant), "Application")).toBe(id);
      expect(parseGlobalId(encodeGlobalID("Journey", variant))).toEqual({ typename: "Journey", id });
    }),
  );
  // Ids that are not UUIDs keep their case.
  expect(parseGlobalId(encodeGlobalID("JourneyVersion", "Ab:1"))?.id).toBe("Ab:1");
});

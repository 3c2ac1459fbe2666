import { encodeGlobalID } from "@pothos/plugin-relay";
import fc from "fast-check";
import { expect, it } from "vitest";
import { encodeGlobalId } from "../../../src/domain/global-id.js";

it("writes a global ID exactly as the schema's Relay plugin does, so audit subjects name objects as clients know them", () => {
  fc.assert(
    fc.property(fc.constantFrom("Application", "Journey", "Client", "Environment", "ApiToken"), fc.uuid(), (typename, id) => {
      expect(encodeGlobalId(typename, id)).toBe(encodeGlobalID(typename, id));
    }),
  );
  expect(encodeGlobalId("Application", "é:1")).toBe(encodeGlobalID("Application", "é:1"));
});

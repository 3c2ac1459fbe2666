import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { JsonDepthScanner, nestsDeeperThan } from "../../../src/server/json-depth.js";

/** The nesting depth of a JSON value, by walking it. */
function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (value !== null && typeof value === "object") return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

/** `text` cut at the given points. */
const pieces = (text: string, cuts: number[]) => {
  const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  return [0, ...at, text.length].slice(1).map((end, i, all) => text.slice(i === 0 ? 0 : all[i - 1], end));
};

describe("the JSON depth scanner", () => {
  it("finds the depth the value has, however the text is cut, strings with brackets, quotes and escapes included", () => {
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        fc.string({ unit: fc.constantFrom("[", "]", "{", "}", '"', "\\", "a", "é") }),
        fc.integer(),
        fc.array(tie("node"), { maxLength: 3 }),
        fc.dictionary(fc.string({ unit: fc.constantFrom("[", "{", '"', "\\", "k") }), tie("node"), { maxKeys: 3 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, fc.array(fc.nat(), { maxLength: 6 }), (v, cuts) => {
        const text = JSON.stringify(v);
        const depth = depthOf(v);
        expect(nestsDeeperThan(text, depth)).toBe(false);
        if (depth > 0) expect(nestsDeeperThan(text, depth - 1)).toBe(true);
        const scanner = new JsonDepthScanner(Math.max(0, depth - 1));
        expect(pieces(text, cuts).some((piece) => scanner.deeperAfter(piece))).toBe(depth > 0);
        // The same on the UTF-8 bytes, as a WebSocket message arrives.
        expect(new JsonDepthScanner(Math.max(0, depth - 1)).deeperAfterBytes(Buffer.from(text, "utf8"))).toBe(depth > 0);
      }),
      { numRuns: 500 },
    );
  });

  it("stops at the first level over the bound, without reading the rest", () => {
    const scanner = new JsonDepthScanner(3);
    expect(scanner.deeperAfter("[[[")).toBe(false);
    expect(scanner.deeperAfter("[")).toBe(true);
  });
});

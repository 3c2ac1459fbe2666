import { describe, expect, it } from "vitest";
import type { JsonValue } from "../../../src/domain/journey-document.js";
import { jsonEqual } from "../../../src/domain/json-equal.js";

/** Pairs of JSON values and whether they mean the same; jsonEqual must agree with itself both ways round. */
const PAIRS: [JsonValue | undefined, JsonValue | undefined, boolean][] = [
  [1, 1, true],
  [1, 2, false],
  ["a", "a", true],
  ["1", 1, false],
  [true, true, true],
  [true, false, false],
  [null, null, true],
  [null, 0, false],
  [null, {}, false],
  [null, [], false],
  [0, {}, false],
  [0, [], false],
  ["", {}, false],
  ["ab", { 0: "a", 1: "b" }, false],
  ["ab", ["a", "b"], false],
  [{}, {}, true],
  [[], [], true],
  [{}, [], false],
  [{ 0: "x" }, ["x"], false],
  [[1, 2], [1, 2], true],
  [[1, 2], [2, 1], false],
  [[1], [1, 1], false],
  [[[1, { a: [null] }]], [[1, { a: [null] }]], true],
  [[[1, { a: [null] }]], [[1, { a: [0] }]], false],
  [{ a: 1, b: [2] }, { b: [2], a: 1 }, true],
  [{ a: 1 }, { a: 1, b: 2 }, false],
  [{ a: 1 }, { b: 1 }, false],
  [{ a: { b: { c: 1 } } }, { a: { b: { c: 2 } } }, false],
  [{ a: null }, {}, false],
  [{ constructor: 1 }, {}, false],
  [undefined, undefined, true],
  [undefined, null, false],
  [undefined, {}, false],
];

describe("jsonEqual", () => {
  it.each(PAIRS)("%j and %j: %s", (a, b, equal) => {
    expect(jsonEqual(a, b)).toBe(equal);
    expect(jsonEqual(b, a)).toBe(equal);
  });
});

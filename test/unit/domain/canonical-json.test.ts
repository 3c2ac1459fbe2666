import { describe, expect, it } from "vitest";
import { canonicalHash, canonicalJson } from "../../../src/domain/canonical-json.js";
import { sha256Hex } from "../../../src/domain/sha256.js";

describe("canonicalJson", () => {
  it("sorts object keys at every depth and writes no whitespace", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1], c: null } })).toBe('{"a":{"c":null,"d":[3,1]},"b":1}');
  });

  it("sorts keys by UTF-16 code unit, not by locale or code point", () => {
    expect(canonicalJson({ b: 1, B: 2, a: 3, é: 4, "😀": 5, "\uffff": 6 })).toBe('{"B":2,"a":3,"b":1,"é":4,"😀":5,"\uffff":6}');
  });

  it("is the same for objects that differ only in key insertion order", () => {
    const one = { start: "a", steps: { a: { x: 1, y: [1, 2] } }, order: ["a"] };
    const two = { order: ["a"], steps: { a: { y: [1, 2], x: 1 } }, start: "a" };
    expect(canonicalJson(one)).toBe(canonicalJson(two));
    expect(canonicalHash(one)).toBe(canonicalHash(two));
  });

  it("keeps array order", () => {
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
  });

  it("omits undefined members and writes undefined array entries as null", () => {
    expect(canonicalJson({ a: undefined, b: 1, c: () => 1 })).toBe('{"b":1}');
    expect(canonicalJson([undefined, 1])).toBe("[null,1]");
  });

  it("writes strings and numbers as JSON.stringify does", () => {
    const values = ['quote " and \\ and \n', "\u0000\u001f", "lone \uD800", 1e21, -0, 0.1, Number.NaN, Infinity, true];
    for (const value of values) expect(canonicalJson(value)).toBe(JSON.stringify(value));
  });

  it("uses toJSON like JSON.stringify", () => {
    const date = new Date("2024-01-02T03:04:05.000Z");
    expect(canonicalJson({ at: date })).toBe('{"at":"2024-01-02T03:04:05.000Z"}');
  });

  it("passes toJSON the key as JSON.stringify does: the member's name, the entry's index, '' at the top", () => {
    const keyOf = { toJSON: (key: string) => `key ${key}` };
    const value = { a: keyOf, list: [keyOf, keyOf] };
    expect(canonicalJson(value)).toBe(JSON.stringify(value));
    expect(canonicalJson(keyOf)).toBe('"key "');
  });

  it("unboxes numbers, strings and booleans like JSON.stringify", () => {
    const value = { n: new Number(1), s: new String("x"), b: new Boolean(false), f: new Number(Number.NaN) };
    expect(canonicalJson(value)).toBe('{"b":false,"f":null,"n":1,"s":"x"}');
  });

  it("omits symbols and functions as members, and writes them as null in lists", () => {
    expect(canonicalJson({ s: Symbol("s"), f: () => 1, a: 1 })).toBe('{"a":1}');
    expect(canonicalJson([Symbol("s"), () => 1])).toBe("[null,null]");
  });

  it("refuses what JSON cannot represent, saying what", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = [cyclic];
    expect(() => canonicalJson(cyclic)).toThrow(new TypeError("canonicalJson cannot represent a cyclic structure"));
    expect(() => canonicalJson(undefined)).toThrow(new TypeError("canonicalJson cannot represent a top-level undefined"));
    expect(() => canonicalJson(() => 1)).toThrow(new TypeError("canonicalJson cannot represent a top-level function"));
    expect(() => canonicalJson({ n: 1n })).toThrow(new TypeError("canonicalJson cannot represent a bigint"));
  });

  it("allows the same object twice when it is not its own ancestor", () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: [shared] })).toBe('{"a":{"x":1},"b":[{"x":1}]}');
  });
});

describe("canonicalHash", () => {
  it("is the SHA-256 of the canonical JSON", () => {
    expect(canonicalHash({ b: 2, a: 1 })).toBe(sha256Hex('{"a":1,"b":2}'));
  });

  it("changes when a value changes", () => {
    expect(canonicalHash({ a: 1 })).not.toBe(canonicalHash({ a: 2 }));
  });
});

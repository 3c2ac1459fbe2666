import { describe, expect, it } from "vitest";
import { PROTOTYPE_KEY, prototypeKeyProblem, prototypeKeyProblems } from "../../../src/domain/prototype-key.js";

/** JSON as a client sends it: JSON.parse keeps a "__proto__" key as an own property. */
const parsed = (text: string): unknown => JSON.parse(text);

describe("__proto__ keys", () => {
  it("are a problem at their own path", () => {
    expect(PROTOTYPE_KEY).toBe("__proto__");
    expect(prototypeKeyProblem("settings.__proto__")).toEqual({
      path: "settings.__proto__",
      message: 'settings.__proto__: "__proto__" is not allowed as a key',
    });
    expect(prototypeKeyProblem("stepKey", "a step key")).toEqual({
      path: "stepKey",
      message: 'stepKey: "__proto__" is not allowed as a step key',
    });
  });

  it("are found at any depth, in objects and lists, pathed from where the value sits", () => {
    const value = parsed('{"a":{"__proto__":{"x":1}},"list":[{"b":1},{"__proto__":2}],"c":"__proto__"}');
    expect(prototypeKeyProblems(value, "settings").map((p) => p.path)).toEqual(["settings.a.__proto__", "settings.list.1.__proto__"]);
    expect(prototypeKeyProblems(value, "").map((p) => p.path)).toEqual(["a.__proto__", "list.1.__proto__"]);
    expect(prototypeKeyProblems(parsed('{"__proto__":1}'), "")).toEqual([prototypeKeyProblem("__proto__")]);
  });

  it("are not looked for under one: the key is refused whatever it holds", () => {
    expect(prototypeKeyProblems(parsed('{"__proto__":{"__proto__":1}}'), "")).toEqual([prototypeKeyProblem("__proto__")]);
  });

  it("are none in values without them", () => {
    expect(prototypeKeyProblems({ a: [1, { b: null }], c: "x" }, "settings")).toEqual([]);
    expect(prototypeKeyProblems(null, "settings")).toEqual([]);
    expect(prototypeKeyProblems("__proto__", "settings")).toEqual([]);
  });

  it("are reported up to the limit", () => {
    const value = parsed('{"a":{"__proto__":1},"b":{"__proto__":1},"c":{"__proto__":1}}');
    expect(prototypeKeyProblems(value, "", 2).map((p) => p.path)).toEqual(["a.__proto__", "b.__proto__"]);
    expect(prototypeKeyProblems(value, "", 3)).toHaveLength(3);
    const many = parsed(`{${Array.from({ length: 60 }, (_, i) => `"k${i}":{"__proto__":1}`).join(",")}}`);
    expect(prototypeKeyProblems(many, "")).toHaveLength(50);
  });

  it("are looked for 1,000 levels deep, and no deeper", () => {
    const nested = (depth: number) => parsed(`${'{"a":'.repeat(depth)}{"__proto__":1}${"}".repeat(depth)}`);
    expect(prototypeKeyProblems(nested(1000), "")).toEqual([prototypeKeyProblem(`${"a.".repeat(1000)}__proto__`)]);
    expect(prototypeKeyProblems(nested(1001), "")).toEqual([]);
  });
});

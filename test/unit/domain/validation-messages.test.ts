import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseWithProblems, zodIssueMessage } from "../../../src/domain/journey-validation.js";

/**
 * The sentences problems are written in, for every kind of issue zod raises (journey-validation.ts, `zodIssueMessage`):
 * the catalogue's schemas use some of them today, and a new setting may use any.
 */
const messageOf = (schema: z.ZodType, input: unknown, path = "x") => {
  const result = parseWithProblems(schema, input, path);
  return result.ok ? [] : result.problems.map((p) => p.message);
};

describe("problem messages", () => {
  it.each([
    ["a multiple", z.number().multipleOf(5), 7, "x must be a multiple of 5"],
    ["an email", z.email(), "nope", "x must be a valid email"],
    ["a URL", z.url(), "nope", "x must be a valid URL"],
    ["a union", z.union([z.string(), z.number()]), true, "x does not match any of the allowed forms"],
    ["a record's key", z.record(z.string().min(2), z.number()), { b: 1 }, "x.b has an invalid entry"],
    [
      "a map's key that is not a property key",
      z.map(z.object({ a: z.string() }), z.number()),
      new Map([[{ a: 1 }, 1]]),
      "x has an invalid entry",
    ],
    [
      "a map's value under a key that is not a property key",
      z.map(z.object({ a: z.string() }), z.number()),
      new Map([[{ a: "k" }, "v"]]),
      "x has an invalid entry",
    ],
    ["a custom check", z.custom(() => false), 1, "x is not valid"],
  ])("say what %s must be", (_, schema, input, message) => {
    expect(messageOf(schema, input)).toEqual([message]);
  });

  it.each([
    [z.number().gt(0), 0, "x must be greater than 0"],
    [z.number().lt(10), 10, "x must be less than 10"],
    [z.number().gt(0).lt(10), 10, "x must be less than 10"],
    [z.number().min(0), -1, "x must be at least 0"],
    [z.number().max(9), 10, "x must be at most 9"],
    [z.number().min(0).max(9), 10, "x must be between 0 and 9"],
  ])("bound numbers: %#", (schema, input, message) => {
    expect(messageOf(schema, input)).toEqual([message]);
  });

  it.each([
    [z.string().min(2).max(5), "a", "x must be between 2 and 5 characters long"],
    [z.string().min(2).max(5), "abcdef", "x must be between 2 and 5 characters long"],
    [z.string().min(1).max(3), "abcd", "x must be at most 3 characters long"],
    [z.string().min(1).max(3), "", "x must not be empty"],
    [z.string().max(5), "abcdef", "x must be at most 5 characters long"],
    [z.string().min(2), "a", "x must be at least 2 characters long"],
  ])("bound text: %#", (schema, input, message) => {
    expect(messageOf(schema, input)).toEqual([message]);
  });

  it.each([
    [z.array(z.number()).max(1), [1, 2], "x must list at most 1 entries"],
    [z.array(z.number()).min(2), [1], "x must list at least 2 entries"],
    [z.array(z.number()).min(1), [], "x must list at least one entry"],
    [z.set(z.number()).min(1), new Set(), "x must list at least one entry"],
    [z.set(z.number()).max(1), new Set([1, 2]), "x must list at most 1 entries"],
  ])("bound lists: %#", (schema, input, message) => {
    expect(messageOf(schema, input)).toEqual([message]);
  });

  it.each([
    [z.int(), 1.5, "x must be a whole number"],
    [z.int(), "1", "x must be a number, not a string"],
    [z.string(), undefined, "x is required"],
    [z.string(), null, "x must be a string, not null"],
    [z.string(), [1], "x must be a string, not a list"],
    [z.string(), {}, "x must be a string, not an object"],
    [z.number(), "1", "x must be a number, not a string"],
    [z.boolean(), 1, "x must be true or false, not a number"],
    [z.array(z.string()), true, "x must be a list, not a boolean"],
    [z.object({}), "{}", "x must be an object, not a string"],
    [z.null(), 0, "x must be null, not a number"],
    [z.string(), 10n, "x must be a string, not bigint"],
    [z.bigint(), 1, "x must be bigint, not a number"],
    [z.unknown().check(z.int()), "1", "x must be a whole number, not a string"],
  ])("name the expected and the given type: %#", (schema, input, message) => {
    expect(messageOf(schema, input)).toEqual([message]);
  });

  it("quote the allowed values, one, two or more, and cut long ones", () => {
    expect(messageOf(z.literal("a"), "b")).toEqual(['x must be "a"']);
    expect(messageOf(z.enum(["a", "b"]), "c")).toEqual(['x must be "a" or "b"']);
    expect(messageOf(z.literal([1, 2, 3]), 4)).toEqual(["x must be one of 1, 2, 3"]);
    expect(messageOf(z.enum(["x".repeat(64)]), "y")).toEqual([`x must be "${"x".repeat(64)}"`]);
    expect(messageOf(z.enum(["x".repeat(65)]), "y")).toEqual([`x must be "${"x".repeat(64)}…"`]);
    expect(messageOf(z.literal(null), 0)).toEqual(["x must be null"]);
    expect(messageOf(z.literal([1n, true]), 0)).toEqual(["x must be 1 or true"]);
  });

  it("name unknown fields at their path, nested ones as fields, top-level ones as the caller says", () => {
    const schema = z.strictObject({ a: z.strictObject({}) });
    expect(messageOf(schema, { a: { b: 1 }, c: 2 })).toEqual(["x.a.b is not a known field", "x.c is not a known field"]);
    const result = parseWithProblems(schema, { c: 2, a: {} }, "settings", (keyPath) => `${keyPath} is not a known setting`);
    expect(result).toEqual({ ok: false, problems: [{ path: "settings.c", message: "settings.c is not a known setting" }] });
  });

  it("start with the path, or with `The document` at the top; long path segments are cut", () => {
    expect(parseWithProblems(z.string(), 1, "")).toEqual({
      ok: false,
      problems: [{ path: "", message: "The document must be a string, not a number" }],
    });
    const whole = "k".repeat(64);
    expect(parseWithProblems(z.object({ [whole]: z.string() }), { [whole]: 1 }, "")).toEqual({
      ok: false,
      problems: [{ path: whole, message: `${whole} must be a string, not a number` }],
    });
    const key = "k".repeat(65);
    expect(parseWithProblems(z.object({ [key]: z.string() }), { [key]: 1 }, "")).toEqual({
      ok: false,
      problems: [{ path: `${"k".repeat(64)}…`, message: `${"k".repeat(64)}… must be a string, not a number` }],
    });
    expect(parseWithProblems(z.object({ a: z.string() }), { a: 1 }, "")).toEqual({
      ok: false,
      problems: [{ path: "a", message: "a must be a string, not a number" }],
    });
  });

  it("describe a size issue that comes without its schema by its own limit", () => {
    const tooSmall = z.string().transform((value, ctx) => {
      ctx.issues.push({ code: "too_small", origin: "number", minimum: 3, inclusive: true, input: value });
      return value;
    });
    expect(messageOf(tooSmall, "1")).toEqual(["x must be at least 3"]);
    expect(zodIssueMessage({ code: "too_big", origin: "number", maximum: 9, inclusive: true, input: 10, schema: null } as never)).toBe(
      "must be at most 9",
    );
  });

  it("name unknown fields in the map's own sentence too (parseWithProblems names each at its path instead)", () => {
    expect(zodIssueMessage({ code: "unrecognized_keys", keys: ["a", "b"], input: {} })).toBe('has unknown fields "a", "b"');
  });

  it("report a value once, by its first issue", () => {
    expect(messageOf(z.string().min(3).regex(/^a/), "b")).toEqual(["x must be at least 3 characters long"]);
  });

  it("take what a schema says itself over the map", () => {
    expect(messageOf(z.string().regex(/^a/, { error: "must start with a" }), "b")).toEqual(["x must start with a"]);
  });
});

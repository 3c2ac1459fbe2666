import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { JsonValue } from "../../../src/domain/journey-document.js";
import {
  isVariableKey,
  parseText,
  type ResolvableVariable,
  referencesIn,
  resolveValue,
  type Segment,
  VARIABLE_LIMITS,
  valueProblem,
  wholeReference,
} from "../../../src/domain/variables.js";

const SEED = Number(process.env.VARIABLES_SEED ?? 14_001);

const key = fc
  .array(fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/), { minLength: 1, maxLength: 3 })
  .chain((parts) => fc.constantFrom(".", "-").map((sep) => parts.join(sep)));

/** Literal text as a user writes it: anything, `&{` included (written `\&{`), but no backslash before `&{`. */
const literal = fc.stringMatching(/^[a-zA-Z0-9 :/.&{}-]{0,12}$/).filter((t) => !t.includes("\\"));

/** How a text with these segments is written in a configuration. */
function write(segments: Segment[]): string {
  return segments.map((s) => ("key" in s ? `&{${s.key}}` : s.text.split("&{").join("\\&{"))).join("");
}

/** Adjacent text segments are one. */
function merged(segments: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segments) {
    const last = out.at(-1);
    if ("text" in s && last && "text" in last) out[out.length - 1] = { text: last.text + s.text };
    else if (!("text" in s) || s.text !== "") out.push(s);
  }
  return out.length === 0 ? [{ text: "" }] : out;
}

describe("keys", () => {
  it.each(["webhook.host", "otp-length", "a", "a1.b2-c3", "sms.sender.id"])("accepts %s", (k) => expect(isVariableKey(k)).toBe(true));
  it.each(["", "Webhook", "1a", "a..b", "a.", ".a", "a_b", "a b", "a.B", "x".repeat(VARIABLE_LIMITS.keyLength + 1), "a\u0000"])(
    "refuses %j",
    (k) => expect(isVariableKey(k)).toBe(false),
  );
});

describe("reading a text", () => {
  it("finds whole and embedded references, undoes escapes, and reports malformed ones", () => {
    expect(parseText("&{otp.length}")).toEqual({ segments: [{ key: "otp.length" }], problems: [] });
    expect(parseText("https://&{webhook.host}/risk")).toEqual({
      segments: [{ text: "https://" }, { key: "webhook.host" }, { text: "/risk" }],
      problems: [],
    });
    expect(parseText("a \\&{literal} b")).toEqual({ segments: [{ text: "a &{literal} b" }], problems: [] });
    expect(parseText("plain & {text}")).toEqual({ segments: [{ text: "plain & {text}" }], problems: [] });
    expect(parseText("&{Bad Key}").problems).toEqual([expect.stringMatching(/^"&\{Bad Key\}" is not a variable reference/)]);
    expect(parseText("x &{open").problems).toEqual([expect.stringMatching(/has no closing/)]);
    expect(wholeReference("&{a.b}")).toBe("a.b");
    expect(wholeReference(" &{a.b}")).toBeNull();
    expect(wholeReference("&{a.b}&{c}")).toBeNull();
  });

  it("reads back exactly the segments a text was written from", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            literal.map((text) => ({ text })),
            key.map((k) => ({ key: k })),
          ),
          { maxLength: 6 },
        ),
        (segments) => {
          const parsed = parseText(write(merged(segments)));
          expect(parsed.problems).toEqual([]);
          expect(parsed.segments).toEqual(merged(segments));
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });
});

describe("values and kinds", () => {
  it.each([
    ["STRING", "dev-hooks.example.com", null],
    ["STRING", 5, "a STRING value is a string"],
    ["NUMBER", 8, null],
    ["NUMBER", "8", "a NUMBER value is a finite number"],
    ["BOOLEAN", false, null],
    ["BOOLEAN", "false", "a BOOLEAN value is true or false"],
    ["URL", "https://hooks.example.com/risk", null],
    ["URL", "hooks.example.com", "an absolute URL, e.g. https://hooks.example.com/risk"],
    ["URL", "javascript:alert(1)", "an http or https URL"],
    ["JSON", { a: [1, 2] }, null],
    ["SECRET", "s3cr3t", null],
    ["SECRET", "", "a SECRET value is not empty"],
    ["STRING", "a\u0000b", "no NUL characters"],
    ["STRING", "x".repeat(VARIABLE_LIMITS.textLength + 1), `at most ${VARIABLE_LIMITS.textLength} characters`],
    ["JSON", "x".repeat(VARIABLE_LIMITS.jsonBytes), `at most ${VARIABLE_LIMITS.jsonBytes} bytes as JSON`],
  ] as const)("%s %j → %s", (kind, value, problem) => {
    expect(valueProblem(kind, value)).toBe(problem);
  });
});

describe("resolving against one environment", () => {
  const variables: Record<string, ResolvableVariable> = {
    "webhook.host": { kind: "STRING", value: "hooks.dev.example.com" },
    "otp.length": { kind: "NUMBER", value: 8 },
    "risk.url": { kind: "URL", value: "https://risk.example.com/score" },
    "webhook.secret": { kind: "SECRET", value: "sentinel-secret" },
    "no.value": { kind: "STRING" },
    flags: { kind: "JSON", value: { a: true } },
  };
  const lookup = (k: string) => variables[k];
  const secretPaths = new Set(["signingSecret"]);

  it("gives whole references their typed value and embedded ones their text", () => {
    const settings = { codeLength: "&{otp.length}", url: "https://&{webhook.host}/risk", note: "\\&{not.a.reference}", extra: "&{flags}" };
    expect(resolveValue(settings, lookup, { secrets: "reference" })).toEqual({
      value: { codeLength: 8, url: "https://hooks.dev.example.com/risk", note: "&{not.a.reference}", extra: { a: true } },
      missing: [],
      problems: [],
    });
  });

  it("keeps secrets as references unless the runtime asks, and only in secret settings", () => {
    const settings = { url: "&{risk.url}", signingSecret: "&{webhook.secret}" };
    expect(resolveValue(settings, lookup, { secrets: "reference", secretPaths }).value).toEqual({
      url: "https://risk.example.com/score",
      signingSecret: "&{webhook.secret}",
    });
    expect(resolveValue(settings, lookup, { secrets: "value", secretPaths }).value).toEqual({
      url: "https://risk.example.com/score",
      signingSecret: "sentinel-secret",
    });
    const misplaced = resolveValue({ url: "&{webhook.secret}", signingSecret: "&{webhook.host}" }, lookup, {
      secrets: "value",
      secretPaths,
    });
    expect(misplaced.problems.map((p) => p.path)).toEqual(["url", "signingSecret"]);
    expect(JSON.stringify(misplaced)).not.toContain("sentinel-secret");
    expect(resolveValue({ signingSecret: "plain" }, lookup, { secrets: "value", secretPaths }).problems).toHaveLength(1);
    expect(resolveValue({ note: "x&{webhook.secret}" }, lookup, { secrets: "value" }).problems).toHaveLength(1);
  });

  it("reports missing variables and values, and references that cannot be embedded, keeping what was written", () => {
    const result = resolveValue({ a: "&{no.value}", b: "x-&{unknown.key}", c: "n=&{otp.length}", d: ["&{unknown.key}"] }, lookup, {
      secrets: "reference",
    });
    expect(result.missing).toEqual(["no.value", "unknown.key"]);
    expect(result.problems).toEqual([{ path: "c", message: expect.stringMatching(/NUMBER variable: only STRING and URL/) }]);
    expect(result.value).toEqual({ a: "&{no.value}", b: "x-&{unknown.key}", c: "n=&{otp.length}", d: ["&{unknown.key}"] });
  });

  it("keeps __proto__ an own key", () => {
    const value = JSON.parse('{"__proto__": {"x": "&{otp.length}"}}') as JsonValue;
    const resolved = resolveValue(value, lookup, { secrets: "reference" }).value as Record<string, unknown>;
    expect(Object.getPrototypeOf(resolved)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(resolved, "__proto__")?.value).toEqual({ x: 8 });
  });

  const json = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.oneof(
        literal,
        key.map((k) => `&{${k}}`),
        fc.tuple(literal, key, literal).map(([a, k, b]) => `${a}&{${k}}${b}`.replace(/\\/g, "")),
      ),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie("value"), { maxLength: 3 }),
      fc.dictionary(fc.stringMatching(/^[a-z]{1,5}$/), tie("value"), { maxKeys: 3 }),
    ),
  })).value as fc.Arbitrary<JsonValue>;

  it("finds as missing exactly the referenced keys an environment has no value for; with all of them as text, no reference is left", () => {
    fc.assert(
      fc.property(json, fc.func(fc.boolean()), (value, has) => {
        const { uses, problems } = referencesIn(value);
        fc.pre(problems.length === 0);
        const keys = [...new Set(uses.map((u) => u.key))].sort();
        const present = keys.filter((k) => has(k));
        const env = (k: string): ResolvableVariable | undefined => (present.includes(k) ? { kind: "STRING", value: `v-${k}` } : undefined);
        const result = resolveValue(value, env, { secrets: "reference" });
        expect(result.problems).toEqual([]);
        expect(result.missing).toEqual(keys.filter((k) => !present.includes(k)));
        if (result.missing.length === 0) expect(referencesIn(result.value).uses.filter((u) => !u.key.startsWith("v-"))).toEqual([]);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it("leaves a value without references as it is", () => {
    fc.assert(
      fc.property(fc.jsonValue() as fc.Arbitrary<JsonValue>, (value) => {
        fc.pre(!JSON.stringify(value).includes("&{"));
        expect(resolveValue(value, () => undefined, { secrets: "reference" })).toEqual({ value, missing: [], problems: [] });
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { JsonValue } from "../../../src/domain/journey-document.js";
import {
  isSettingPath,
  isVariableKey,
  parseText,
  type ResolvableVariable,
  referencesIn,
  resolveValue,
  type Segment,
  settingReferencesIn,
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

  it("are at most VARIABLE_LIMITS.keyLength characters, that many included", () => {
    expect(isVariableKey("x".repeat(VARIABLE_LIMITS.keyLength))).toBe(true);
    expect(isVariableKey("x".repeat(VARIABLE_LIMITS.keyLength + 1))).toBe(false);
  });
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

  it("keeps the rest of a text whose reference is not closed as text, and reports where it opens", () => {
    expect(parseText("x &{open")).toEqual({
      segments: [{ text: "x &{open" }],
      problems: ['"&{" at 2 has no closing "}" (write \\&{ for a literal "&{")'],
    });
    expect(parseText("&{a.b} &{c")).toEqual({
      segments: [{ key: "a.b" }, { text: " &{c" }],
      problems: ['"&{" at 7 has no closing "}" (write \\&{ for a literal "&{")'],
    });
  });

  it("names a malformed key in full up to 40 characters, and cuts a longer one to its first 40", () => {
    const rule = 'is not a variable reference: a key is lower-case letters and digits, in parts joined by "." or "-"';
    const forty = "X".repeat(40);
    expect(parseText(`&{${forty}}`)).toEqual({ segments: [{ text: "" }], problems: [`"&{${forty}}" ${rule}`] });
    expect(parseText(`&{${forty}YZ}`).problems).toEqual([`"&{${forty}…}" ${rule}`]);
  });

  it("finds no whole reference in a text with a malformed one beside it", () => {
    expect(parseText("&{a.b}&{Bad}")).toEqual({ segments: [{ key: "a.b" }], problems: [expect.any(String)] });
    expect(wholeReference("&{a.b}&{Bad}")).toBeNull();
    expect(wholeReference("&{a.b}&{open")).toBeNull();
    expect(wholeReference("\\&{a.b}")).toBeNull();
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

  const url = (length: number) => {
    const start = "https://hooks.example.com/";
    return start + "x".repeat(length - start.length);
  };

  it.each([
    ["STRING", "x".repeat(VARIABLE_LIMITS.textLength), null],
    ["SECRET", "x".repeat(VARIABLE_LIMITS.textLength), null],
    ["SECRET", "x".repeat(VARIABLE_LIMITS.textLength + 1), `at most ${VARIABLE_LIMITS.textLength} characters`],
    ["URL", url(VARIABLE_LIMITS.textLength), null],
    ["URL", url(VARIABLE_LIMITS.textLength + 1), `at most ${VARIABLE_LIMITS.textLength} characters`],
  ] as const)("%s of %#: text is limited to VARIABLE_LIMITS.textLength characters, that many included", (kind, value, problem) => {
    expect(valueProblem(kind, value)).toBe(problem);
  });

  it.each([
    ["URL", 5, "a URL value is a string"],
    ["URL", null, "a URL value is a string"],
    ["URL", "http://hooks.example.com", null],
    ["URL", "ftp://hooks.example.com", "an http or https URL"],
    ["NUMBER", 0, null],
    ["NUMBER", -2.5, null],
    ["NUMBER", Number.POSITIVE_INFINITY, "a NUMBER value is a finite number"],
    ["NUMBER", Number.NaN, "a NUMBER value is a finite number"],
    ["NUMBER", null, "a NUMBER value is a finite number"],
    ["JSON", undefined, "a JSON value"],
    ["JSON", () => 1, "a JSON value"],
    ["JSON", Symbol("s"), "a JSON value"],
    ["JSON", null, null],
    ["JSON", "x".repeat(VARIABLE_LIMITS.jsonBytes - 2), null],
    ["JSON", "é".repeat(VARIABLE_LIMITS.jsonBytes / 2), `at most ${VARIABLE_LIMITS.jsonBytes} bytes as JSON`],
  ] as const)("%s %s → %s", (kind, value, problem) => {
    expect(valueProblem(kind, value)).toBe(problem);
  });
});

describe("where references are found", () => {
  it("names each use by its path, whole when the value is the reference alone, and each malformed one by its path", () => {
    expect(
      referencesIn({
        settings: { length: "&{otp.length}", url: "https://&{webhook.host}/&{webhook.path}", list: ["&{a}", "x"], n: 5, off: null },
        note: "&{Bad}",
        plain: "no reference",
      }),
    ).toEqual({
      uses: [
        { key: "otp.length", path: "settings.length", whole: true },
        { key: "webhook.host", path: "settings.url", whole: false },
        { key: "webhook.path", path: "settings.url", whole: false },
        { key: "a", path: "settings.list.0", whole: true },
      ],
      problems: [
        {
          path: "note",
          message: '"&{Bad}" is not a variable reference: a key is lower-case letters and digits, in parts joined by "." or "-"',
        },
      ],
    });
    expect(referencesIn("&{a}x").uses).toEqual([{ key: "a", path: "", whole: false }]);
    expect(referencesIn("&{a}&{b}").uses).toEqual([
      { key: "a", path: "", whole: false },
      { key: "b", path: "", whole: false },
    ]);
    expect(referencesIn("&{a}", "steps.s.settings.x").uses).toEqual([{ key: "a", path: "steps.s.settings.x", whole: true }]);
    expect(referencesIn(["&{a}", ["&{b}"]], "list").uses.map((u) => u.path)).toEqual(["list.0", "list.1.0"]);
  });

  it("passes over numbers, booleans, null and members left undefined (settings built in code)", () => {
    const settings = { a: 5, b: true, c: null, d: undefined, e: [undefined, 0], f: "&{x}" } as unknown as JsonValue;
    expect(referencesIn(settings, "settings")).toEqual({ uses: [{ key: "x", path: "settings.f", whole: true }], problems: [] });
    expect(settingReferencesIn(settings, "settings")).toEqual([{ key: "x", path: "settings.f", whole: true }]);
  });

  it.each([
    ["settings", true],
    ["settings.accessTokenTtlSeconds", true],
    ["steps.webhook.settings", true],
    ["steps.webhook.settings.url", true],
    ["journeys.login.steps.webhook.settings.headers.0", true],
    ["client.settings", true],
    ["client.settings.accessTokenTtlSeconds", true],
    ["application.client.settings.grantTypes.0", true],
    ["", false],
    ["steps", false],
    ["steps.settings", false],
    ["steps.webhook.name", false],
    ["steps.webhook.next.settings", false],
    ["journey.name.settings", false],
    ["name.settings", false],
    ["client", false],
    ["client.name", false],
    ["client.x.settings", false],
    ["x.settings.steps.y", false],
    ["settingsx.y", false],
  ] as const)("isSettingPath(%j) is %s", (path, expected) => {
    expect(isSettingPath(path)).toBe(expected);
  });

  it("keeps, of a configuration's references, those in step and client settings only: elsewhere &{…} is text", () => {
    const document = {
      name: "&{not.a.setting}",
      steps: {
        webhook: { name: "Call &{also.text}", settings: { url: "https://&{webhook.host}/risk", secret: "&{webhook.secret}" } },
      },
    };
    expect(settingReferencesIn(document, "")).toEqual([
      { key: "webhook.host", path: "steps.webhook.settings.url", whole: false },
      { key: "webhook.secret", path: "steps.webhook.settings.secret", whole: true },
    ]);
    expect(settingReferencesIn({ accessTokenTtlSeconds: "&{token.ttl}" }, "settings")).toEqual([
      { key: "token.ttl", path: "settings.accessTokenTtlSeconds", whole: true },
    ]);
    expect(settingReferencesIn({ accessTokenTtlSeconds: "&{token.ttl}" }, "")).toEqual([]);
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

  it("keeps a text with a malformed reference as written, and says why at its path", () => {
    expect(resolveValue({ a: "&{Bad}", b: "x-&{webhook.host}-&{open" }, lookup, { secrets: "reference" })).toEqual({
      value: { a: "&{Bad}", b: "x-&{webhook.host}-&{open" },
      missing: [],
      problems: [
        {
          path: "a",
          message: '"&{Bad}" is not a variable reference: a key is lower-case letters and digits, in parts joined by "." or "-"',
        },
        { path: "b", message: '"&{" at 18 has no closing "}" (write \\&{ for a literal "&{")' },
      ],
    });
  });

  it("embeds a reference followed by text, and URL variables, as text", () => {
    expect(
      resolveValue({ a: "&{webhook.host}/risk", b: "see &{risk.url}", c: "&{webhook.host}&{webhook.host}" }, lookup, {
        secrets: "reference",
      }),
    ).toEqual({
      value: { a: "hooks.dev.example.com/risk", b: "see https://risk.example.com/score", c: "hooks.dev.example.comhooks.dev.example.com" },
      missing: [],
      problems: [],
    });
  });

  it("takes in a secret setting only a whole reference to a SECRET variable, saying what is wrong", () => {
    const resolve = (signingSecret: JsonValue) => resolveValue({ signingSecret }, lookup, { secrets: "value", secretPaths });
    const example = "a secret setting takes a whole reference to a SECRET variable, e.g. &{webhook.secret}";
    for (const value of ["plain", "", 5, true, null, { a: "&{webhook.secret}" }, ["&{webhook.secret}"]] as JsonValue[]) {
      expect(resolve(value), JSON.stringify(value)).toEqual({
        value: { signingSecret: value },
        missing: [],
        problems: [{ path: "signingSecret", message: example }],
      });
    }
    const nothingAround = "a secret setting takes a whole reference to a SECRET variable, nothing around it";
    for (const value of ["x&{webhook.secret}", "&{webhook.secret}&{webhook.secret}", "\\&{webhook.secret}"]) {
      expect(resolve(value), value).toEqual({
        value: { signingSecret: value },
        missing: [],
        problems: [{ path: "signingSecret", message: nothingAround }],
      });
    }
    expect(resolve("&{webhook.host}")).toEqual({
      value: { signingSecret: "&{webhook.host}" },
      missing: [],
      problems: [{ path: "signingSecret", message: "&{webhook.host} is a STRING variable: a secret setting takes a SECRET variable" }],
    });
    // a non-string at another path is no secret setting
    expect(resolveValue({ other: 5 }, lookup, { secrets: "value", secretPaths })).toEqual({
      value: { other: 5 },
      missing: [],
      problems: [],
    });
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

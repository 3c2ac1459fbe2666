import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { STEP_CATALOGUE, STEP_TYPES, type StepType, settingsDefaults, settingsJsonSchema } from "../../src/domain/step-catalogue.js";

/**
 * The published settings schema (`StepType.settingsSchema`) against the domain's validator: a
 * draft 2020-12 validator (ajv, strict mode: an unknown keyword fails the compile) must reach the
 * domain's verdict on every value, valid-looking or mutated.
 *
 * Two documented gaps remain, both in the safe direction (the JSON Schema accepts a value the
 * domain refuses; it never refuses one the domain accepts), and only these are tolerated:
 * - WEBHOOK.url: the domain parses a WHATWG URL (IDNA hosts, trimmed, tabs and newlines dropped)
 *   and requires a domain-name host and at most 2048 characters after that clean-up; the JSON
 *   Schema checks only the `https:` scheme (exactly as the URL parser reads it).
 * - CONSENT.documents: the domain refuses two documents with the same (trimmed) id even when the
 *   versions differ; `uniqueItems` can only compare whole entries.
 */

type Json = unknown;
type Schema = Record<string, any>;

const ajv = new Ajv2020({ strict: true, allErrors: true });
const validators = new Map<StepType, ValidateFunction>();
/** The compiled JSON Schema of a type, compiled on first use: inside a test, so that a schema that fails to build fails that test. */
function validatorOf(type: StepType): ValidateFunction {
  let validator = validators.get(type);
  if (validator === undefined) validators.set(type, (validator = ajv.compile(settingsJsonSchema(type) as Schema)));
  return validator;
}

const domainAccepts = (type: StepType, value: Json) => STEP_CATALOGUE[type].settings.safeParse(value).success;

/** Why the domain refused a value the JSON Schema accepted, if it is one of the documented gaps. */
function knownGap(type: StepType, issues: readonly z.core.$ZodIssue[]): boolean {
  return issues.every(
    (issue) =>
      (type === "WEBHOOK" &&
        issue.path.length === 1 &&
        issue.path[0] === "url" &&
        (issue.code === "invalid_format" || issue.code === "too_big")) ||
      (type === "CONSENT" &&
        issue.code === "custom" &&
        issue.path.length === 2 &&
        issue.path[0] === "documents" &&
        /^repeats document /.test(issue.message)),
  );
}

/** Equal verdicts, or a documented gap in the safe direction; a message saying which otherwise. */
function disagreement(type: StepType, value: Json): string | undefined {
  const schemaAccepts = validatorOf(type)(value);
  const result = STEP_CATALOGUE[type].settings.safeParse(value);
  if (schemaAccepts === result.success) return undefined;
  if (!schemaAccepts) {
    return `${type}: the JSON Schema refuses what the domain accepts: ${JSON.stringify(value)} (${ajv.errorsText(validatorOf(type).errors)})`;
  }
  if (!result.success && knownGap(type, result.error.issues)) return undefined;
  return `${type}: the JSON Schema accepts what the domain refuses: ${JSON.stringify(value)} (${JSON.stringify(result.success ? null : result.error.issues)})`;
}

// ---- valid-looking values, built from a property's JSON Schema ----

const HTTPS_URL = fc.webUrl({ validSchemes: ["https"], withQueryParameters: true, withFragments: true });

function validLooking(schema: Schema): fc.Arbitrary<Json> {
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case "boolean":
      return fc.boolean();
    case "integer":
      return fc.integer({ min: schema.minimum, max: schema.maximum });
    case "string": {
      if (schema.pattern === undefined) return fc.string({ minLength: schema.minLength, maxLength: schema.maxLength });
      const pattern = new RegExp(schema.pattern, "u");
      const matching = fc.stringMatching(pattern);
      // A pattern that checks only a prefix (the URL's scheme) says little about the rest.
      return pattern.test("https://example.com") ? fc.oneof(HTTPS_URL, matching) : matching;
    }
    case "array": {
      const item = validLooking(schema.items);
      const bounds = { minLength: schema.minItems, maxLength: schema.maxItems };
      return schema.uniqueItems ? fc.uniqueArray(item, { ...bounds, selector: (entry) => JSON.stringify(entry) }) : fc.array(item, bounds);
    }
    case "object":
      return objectOf(schema);
    default:
      throw new Error(`no generator for ${JSON.stringify(schema)}`);
  }
}

function objectOf(schema: Schema): fc.Arbitrary<Json> {
  const properties = Object.entries(schema.properties as Record<string, Schema>);
  return fc.record(Object.fromEntries(properties.map(([key, property]) => [key, validLooking(property)])), {
    requiredKeys: schema.required ?? [],
  });
}

// ---- mutations ----

const WRONG_TYPE: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, "", "6", "true", [], {}, [null], { value: 1 }),
  fc.jsonValue({ maxDepth: 2 }),
);

const WHITESPACE = fc.constantFrom(" ", "\t", "\n", "\r", "\u00a0", "\u2003", "\ufeff", "\u2028", "\x0b", "\x0c");
const CHARACTER = fc.oneof(fc.constantFrom("a", "Z", "0", "-", "_", ".", "é", "😀", "\u0000", "\x01", "\\", "/", ":"), WHITESPACE);

/** Every number a schema names (lengths in a pattern too), for strings around the limits. */
function limitsOf(schema: Schema): number[] {
  const numbers = (JSON.stringify(schema).match(/\d+/g) ?? []).map(Number).filter((n) => n > 0 && n < 5000);
  return [...new Set(numbers.flatMap((n) => [n - 1, n, n + 1, n + 2, n + 3]))].filter((n) => n >= 0);
}

function mutatedString(schema: Schema, valid: Json): fc.Arbitrary<Json> {
  const limits = limitsOf(schema);
  const padded = (core: fc.Arbitrary<string>) =>
    fc
      .tuple(fc.array(WHITESPACE, { maxLength: 3 }), core, fc.array(WHITESPACE, { maxLength: 3 }))
      .map(([before, middle, after]) => before.join("") + middle + after.join(""));
  const sized = fc
    .tuple(fc.constantFrom(...(limits.length > 0 ? limits : [1, 2])), fc.constantFrom("x", "é", "😀", "a b", "\t"))
    .map(([n, unit]) => unit.repeat(n).slice(0, Math.max(n, 1) * 2));
  return fc.oneof(
    fc.constantFrom("", " ", "   ", "\t\n", "\u00a0"),
    padded(sized),
    typeof valid === "string" ? padded(fc.constant(valid)) : padded(fc.string({ maxLength: 8 })),
    fc.string({ unit: CHARACTER, maxLength: 40 }),
    typeof valid === "string"
      ? fc.tuple(fc.nat(valid.length), CHARACTER).map(([at, c]) => valid.slice(0, at) + c + valid.slice(at))
      : fc.string(),
    typeof valid === "string" ? fc.constant(valid.toUpperCase()) : fc.constant("X"),
    typeof valid === "string"
      ? fc.constantFrom(`http${valid.slice(5)}`, valid.replace("//", ""), valid.replace(/\./g, ""), `${valid}\t`)
      : fc.constant("https://"),
    fc.constantFrom("https://localhost", "https://127.0.0.1/x", "https://exämple.com", "ftp://example.com", "https:example.com"),
  );
}

function mutatedInteger(schema: Schema): fc.Arbitrary<Json> {
  const { minimum: min, maximum: max } = schema;
  return fc.oneof(
    fc.constantFrom(min - 1, max + 1, min, max, min + 0.5, -0, 2 ** 31, -(2 ** 31), Number.MAX_SAFE_INTEGER + 1, 1e300),
    fc.integer({ min: min - 1000, max: max + 1000 }),
    fc.double({ min: min - 10, max: max + 10, noNaN: true, noDefaultInfinity: true }),
    fc.constant(String(min)),
  );
}

function mutatedEnum(schema: Schema): fc.Arbitrary<Json> {
  const values = schema.enum as Json[];
  return fc.oneof(
    fc.constantFrom(...values.map((v) => (typeof v === "string" ? v.toUpperCase() : String(v)))),
    fc.constantFrom(...values.map((v) => (typeof v === "string" ? ` ${v}` : (v as number) + 1))),
    fc.constantFrom(...values.map((v) => (typeof v === "number" ? v + 0.5 : `${v}x`))),
  );
}

function mutatedArray(schema: Schema, valid: Json): fc.Arbitrary<Json> {
  const list = Array.isArray(valid) ? valid : [];
  const options: fc.Arbitrary<Json>[] = [
    fc.constant([]),
    fc.array(validLooking(schema.items), { minLength: schema.maxItems + 1, maxLength: schema.maxItems + 3 }),
    fc.array(mutated(schema.items, undefined), { minLength: 1, maxLength: 3 }),
  ];
  if (list.length > 0) {
    options.push(
      // a repeated entry, somewhere in the list
      fc.tuple(fc.nat(list.length - 1), fc.nat(list.length)).map(([from, to]) => {
        const copy = [...list];
        copy.splice(to, 0, structuredClone(list[from]));
        return copy;
      }),
      // one entry mutated
      fc.nat(list.length - 1).chain((at) => mutated(schema.items, list[at]).map((entry) => list.map((e, i) => (i === at ? entry : e)))),
    );
  }
  return fc.oneof(...options);
}

function mutatedObject(schema: Schema, valid: Json): fc.Arbitrary<Json> {
  const object = typeof valid === "object" && valid !== null && !Array.isArray(valid) ? (valid as Record<string, Json>) : {};
  const properties = schema.properties as Record<string, Schema>;
  const keys = Object.keys(properties);
  // Not "toString" or "valueOf": ajv's uniqueItems compares entries with fast-deep-equal, which
  // calls them and throws on a list entry where they are not functions (a bug of that client-side
  // check, not a verdict).
  const unknownKey = fc.oneof(
    fc.constantFrom("__proto__", "constructor", "hasOwnProperty", "extra", keys[0].toUpperCase(), ` ${keys[0]}`),
    fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !keys.includes(k) && k !== "toString" && k !== "valueOf"),
  );
  return fc.oneof(
    // an unknown key
    fc.tuple(unknownKey, WRONG_TYPE).map(([key, value]) => ({ ...object, [key]: value })),
    // a key left out
    fc.constantFrom(...keys).map((key) => Object.fromEntries(Object.entries(object).filter(([k]) => k !== key))),
    // one setting mutated (or given a wrong type)
    fc.constantFrom(...keys).chain((key) => mutated(properties[key], object[key]).map((value) => ({ ...object, [key]: value }))),
    // two settings mutated at once
    fc
      .tuple(fc.constantFrom(...keys), fc.constantFrom(...keys))
      .chain(([a, b]) =>
        fc.tuple(mutated(properties[a], object[a]), mutated(properties[b], object[b])).map(([va, vb]) => ({ ...object, [a]: va, [b]: vb })),
      ),
  );
}

/** A value of `schema`'s place made wrong (or not: some mutations land on valid values). */
function mutated(schema: Schema, valid: Json): fc.Arbitrary<Json> {
  let specific: fc.Arbitrary<Json>;
  if (Array.isArray(schema.enum)) specific = mutatedEnum(schema);
  else if (schema.type === "string") specific = mutatedString(schema, valid);
  else if (schema.type === "integer") specific = mutatedInteger(schema);
  else if (schema.type === "array") specific = mutatedArray(schema, valid);
  else if (schema.type === "object") specific = mutatedObject(schema, valid);
  else specific = fc.constantFrom("true", 0, 1);
  return fc.oneof({ arbitrary: specific, weight: 4 }, { arbitrary: WRONG_TYPE, weight: 1 });
}

/**
 * Settings of a type: valid-looking, or valid-looking then mutated once or twice; as the API
 * receives them, through JSON (plain objects, no -0, no undefined).
 */
function settingsOf(type: StepType): fc.Arbitrary<Json> {
  const schema = settingsJsonSchema(type) as Schema;
  const valid = objectOf(schema);
  const once = valid.chain((value) => mutated(schema, value));
  return fc
    .oneof(
      valid,
      once,
      once.chain((value) => mutated(schema, value)),
    )
    .map((value) => JSON.parse(JSON.stringify(value)));
}

/** Sample settings that both validators accept: every required setting from a generated valid value. */
function completeSettings(type: StepType): Record<string, Json> {
  const schema = settingsJsonSchema(type) as Schema;
  const [sample] = fc.sample(
    objectOf(schema).filter((value) => domainAccepts(type, value)),
    { numRuns: 1, seed: 1 },
  ) as Record<string, Json>[];
  return Object.fromEntries((schema.required ?? []).map((key: string) => [key, sample[key]]));
}

describe.each(STEP_TYPES)("the settings schema of %s", (type) => {
  const schemaOf = () => settingsJsonSchema(type) as Schema;

  it("is a draft 2020-12 object schema that refuses unknown settings and names every setting the domain knows", () => {
    const schema = schemaOf();
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.type).toBe("object");
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual(STEP_CATALOGUE[type].settingKeys);
  });

  it("accepts the defaults, completed by the required settings that have none, and so does the domain", () => {
    const defaults = settingsDefaults(type);
    const required: string[] = schemaOf().required ?? [];
    expect(required.filter((key) => key in defaults)).toEqual([]);
    const settings = { ...defaults, ...completeSettings(type) };
    expect(validatorOf(type)(settings)).toBe(true);
    expect(domainAccepts(type, settings)).toBe(true);
    // without the required settings, both refuse (or, with none required, both accept the defaults alone)
    expect(validatorOf(type)(defaults)).toBe(required.length === 0);
    expect(domainAccepts(type, defaults)).toBe(required.length === 0);
  });

  it("states each default as the domain fills it in", () => {
    const stated = Object.fromEntries(
      Object.entries(schemaOf().properties as Record<string, Schema>)
        .filter(([, property]) => "default" in property)
        .map(([key, property]) => [key, property.default]),
    );
    expect(stated).toEqual(settingsDefaults(type));
    expect(STEP_CATALOGUE[type].settings.parse({ ...completeSettings(type) })).toEqual({
      ...settingsDefaults(type),
      ...STEP_CATALOGUE[type].settings.parse(completeSettings(type)),
    });
  });

  it("reaches the domain's verdict on generated and mutated settings", () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(settingsOf(type), (value) => {
        expect(disagreement(type, value)).toBeUndefined();
        if (domainAccepts(type, value)) accepted++;
        else refused++;
      }),
      { numRuns: 1000 },
    );
    // the sample exercises both verdicts
    expect(accepted).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(20);
  });
});

describe("the settings schemas at their edges", () => {
  const cases: [StepType, Json, boolean][] = [
    // trimmed text: the length is the trimmed value's
    ["TOTP", { issuer: `  ${"x".repeat(100)}  ` }, true],
    ["TOTP", { issuer: "x".repeat(101) }, false],
    ["TOTP", { issuer: " \t\u00a0\ufeff " }, false],
    ["TOTP", { issuer: "😀".repeat(100) }, true],
    ["TOTP", { issuer: "😀".repeat(101) }, false],
    ["SMS_OTP", { senderId: "\u2003ACME\n" }, true],
    ["SMS_OTP", { senderId: "" }, false],
    ["CONSENT", { documents: [{ id: "terms", version: " 1 " }] }, true],
    [
      "CONSENT",
      {
        documents: [
          { id: "terms", version: "1" },
          { id: "terms", version: "1" },
        ],
      },
      false,
    ],
    // lists: non-empty, bounded, no repeats
    ["IDENTIFIER", { identifiers: [] }, false],
    ["IDENTIFIER", { identifiers: ["email", "email"] }, false],
    ["SOCIAL_LOGIN", { providers: ["google", "apple", "microsoft", "facebook", "github"] }, true],
    ["PROFILE_COMPLETION", { fields: ["given_name", "given_name"] }, false],
    ["PROFILE_COMPLETION", { fields: ["x".repeat(64)] }, true],
    ["PROFILE_COMPLETION", { fields: ["x".repeat(65)] }, false],
    // numbers
    ["TOTP", { digits: 8 }, true],
    ["TOTP", { digits: 7 }, false],
    ["PASSWORD", { minLength: 12.5 }, false],
    ["PASSWORD", { minLength: 12.0 }, true],
    // the URL's scheme, as the URL parser reads it
    ["WEBHOOK", { url: "https://risk.example.com/score" }, true],
    ["WEBHOOK", { url: " HTTPS://risk.example.com " }, true],
    ["WEBHOOK", { url: "http://risk.example.com" }, false],
    ["WEBHOOK", { url: "risk.example.com" }, false],
    ["WEBHOOK", { timeoutMs: 3000 }, false],
    // unknown settings
    ["PASSKEY", { userVerification: "required", extra: true }, false],
    ["PASSKEY", JSON.parse('{"__proto__": 1}'), false],
  ];

  it.each(cases)("%s %j: both say %s", (type, value, valid) => {
    expect(domainAccepts(type, value)).toBe(valid);
    expect(validatorOf(type)(value)).toBe(valid);
  });

  const gaps: [StepType, Json][] = [
    ["WEBHOOK", { url: "https://localhost/hook" }],
    ["WEBHOOK", { url: `https://example.com/${"x".repeat(2048)}` }],
    [
      "CONSENT",
      {
        documents: [
          { id: "terms", version: "1" },
          { id: " terms", version: "2" },
        ],
      },
    ],
  ];

  it.each(gaps)("%s %j: a documented gap, in the safe direction", (type, value) => {
    expect(validatorOf(type)(value)).toBe(true);
    expect(domainAccepts(type, value)).toBe(false);
    expect(disagreement(type, value)).toBeUndefined();
  });
});

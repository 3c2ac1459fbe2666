import fc from "fast-check";
import type { ClientSettings, JsonObject, JsonValue } from "../../../src/domain/journey-document.js";
import type { StepType } from "../../../src/domain/step-catalogue.js";
import { type ResolvableVariable, VARIABLE_KINDS, type VariableKind } from "../../../src/domain/variables.js";
import { clientSettingsArbitrary, type SettingsSource, settingsArbitrary } from "./arbitraries.js";

/**
 * Generated configurations whose settings hold variable references (DESIGN.md §6), and generated
 * organizations of variables with one value map per environment. Settings take a reference now and
 * then — whole (`"codeLength": "&{otp.length}"`), embedded (`"url": "https://&{webhook.host}/risk"`),
 * inside a list or an object (`documents: [{ id: "terms", version: "&{terms.version}" }]`), the
 * secret setting `signingSecret` always as a whole reference — and the variables they name have a
 * random kind (usually the one that fits the setting), and in each environment a value of that kind
 * or none. Values fit their kind (as stored ones do) but often not the setting: a NUMBER of 99 for
 * a code length of 4–10, an empty issuer, an http URL where https is required.
 */

/** What each referencable setting may hold instead of a literal. */
const STEP_REFERENCES: Partial<Record<StepType, Record<string, readonly JsonValue[]>>> = {
  IDENTIFIER: { identifiers: ["&{identifiers}", ["email", "&{identifier.extra}"]], rememberMe: ["&{remember}"] },
  PASSWORD: { minLength: ["&{password.min}"], allowReset: ["&{password.reset}"] },
  EMAIL_OTP: { codeLength: ["&{otp.length}"], ttlSeconds: ["&{otp.ttl}"] },
  SMS_OTP: {
    codeLength: ["&{otp.length}", "&{sms.length}"],
    ttlSeconds: ["&{otp.ttl}"],
    senderId: ["&{sms.sender}", "ACME-&{region}"],
  },
  TOTP: { digits: ["&{otp.digits}"], issuer: ["&{brand}", "&{brand} Corp"] },
  PASSKEY: { userVerification: ["&{passkey.uv}"] },
  SOCIAL_LOGIN: { providers: ["&{social.providers}"] },
  CONSENT: {
    documents: ["&{consent.documents}", [{ id: "terms", version: "&{terms.version}" }]],
    required: ["&{consent.required}"],
  },
  RISK_CHECK: { threshold: ["&{risk.threshold}"], action: ["&{risk.action}"] },
  WEBHOOK: {
    url: ["https://&{webhook.host}/risk", "&{webhook.url}", "https://&{webhook.host}/&{webhook.path}"],
    timeoutMs: ["&{webhook.timeout}"],
  },
};

/** WEBHOOK's secret setting: absent, or a whole reference (anything else is not a valid document). */
const SIGNING_SECRETS = ["&{webhook.signing-secret}", "&{webhook.secret}"] as const;

const CLIENT_REFERENCES: Record<string, readonly JsonValue[]> = {
  accessTokenTtlSeconds: ["&{token.ttl}"],
  refreshTokenTtlSeconds: ["&{token.refresh-ttl}"],
  pkceRequired: ["&{client.pkce}"],
  grantTypes: ["&{client.grants}"],
};

/**
 * Every key the references above name, with the kind that suits its setting and values of that kind
 * for it, fitting and not.
 */
const NATURAL: Record<string, { kind: VariableKind; values: readonly JsonValue[] }> = {
  identifiers: { kind: "JSON", values: [["email"], ["email", "phone"], ["fax"], ["email", "email"], "email"] },
  "identifier.extra": { kind: "STRING", values: ["phone", "username", "fax", "email"] },
  remember: { kind: "BOOLEAN", values: [true, false] },
  "password.min": { kind: "NUMBER", values: [8, 12, 128, 200, 4] },
  "password.reset": { kind: "BOOLEAN", values: [true, false] },
  "otp.length": { kind: "NUMBER", values: [4, 6, 8, 10, 99, 3, 6.5] },
  "sms.length": { kind: "NUMBER", values: [6, 12] },
  "otp.ttl": { kind: "NUMBER", values: [30, 300, 3600, 10, 7200] },
  "otp.digits": { kind: "NUMBER", values: [6, 8, 7] },
  "sms.sender": { kind: "STRING", values: ["Acme", "ACME-2", "  ", "a-sender-name-far-too-long"] },
  region: { kind: "STRING", values: ["eu", "us", "northern-europe-1"] },
  brand: { kind: "STRING", values: ["Acme", "", "Acme Inc"] },
  "passkey.uv": { kind: "STRING", values: ["required", "preferred", "sometimes"] },
  "social.providers": { kind: "JSON", values: [["google"], ["google", "apple"], [], ["myspace"]] },
  "consent.documents": { kind: "JSON", values: [[{ id: "terms", version: "1" }], [{ id: "terms" }], []] },
  "terms.version": { kind: "STRING", values: ["1", "2", ""] },
  "consent.required": { kind: "BOOLEAN", values: [true, false] },
  "risk.threshold": { kind: "NUMBER", values: [0, 70, 100, 101, -5] },
  "risk.action": { kind: "STRING", values: ["deny", "challenge", "allow"] },
  "webhook.host": { kind: "STRING", values: ["hooks.example.com", "risk.example.org", "not a host"] },
  "webhook.url": { kind: "URL", values: ["https://hooks.example.com/check", "http://hooks.example.com/check"] },
  "webhook.path": { kind: "STRING", values: ["risk", "v2/check"] },
  "webhook.timeout": { kind: "NUMBER", values: [100, 3000, 10000, 99, 20000] },
  "webhook.signing-secret": { kind: "SECRET", values: ["0123456789ab"] },
  "webhook.secret": { kind: "SECRET", values: ["ba9876543210"] },
  "token.ttl": { kind: "NUMBER", values: [900, 3600, 30, 100000] },
  "token.refresh-ttl": { kind: "NUMBER", values: [0, 2592000, -1] },
  "client.pkce": { kind: "BOOLEAN", values: [true, false] },
  "client.grants": { kind: "JSON", values: [["authorization_code"], ["implicit"], []] },
};

export const VARIABLE_KEYS = Object.keys(NATURAL).sort();

/** Values of each kind for a variable whose kind does not suit its setting (a STRING "8" for a code length). */
const OTHER_VALUES: Record<VariableKind, readonly JsonValue[]> = {
  STRING: ["8", "true", "hooks.example.com", "Acme"],
  NUMBER: [6, 99, 3600],
  BOOLEAN: [true, false],
  URL: ["https://hooks.example.com/check"],
  JSON: [["email"], 6, "preferred", { a: 1 }, true],
  // A SECRET stands in for validation as its fingerprint (`lookupOf` in src/services/variables.ts).
  SECRET: ["fedcba987654"],
};

/** A value in `pool`, or `undefined` about one time in three. */
function sometimes(pool: readonly JsonValue[]): fc.Arbitrary<JsonValue | undefined> {
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: 2 }, { arbitrary: fc.constantFrom(...pool), weight: 1 });
}

function withReferences(literal: fc.Arbitrary<JsonObject>, pools: Record<string, readonly JsonValue[]>): fc.Arbitrary<JsonObject> {
  const choices = Object.fromEntries(Object.entries(pools).map(([key, pool]) => [key, sometimes(pool)]));
  return fc.tuple(literal, fc.record(choices)).map(([settings, references]) => {
    const out: JsonObject = { ...settings };
    for (const [key, reference] of Object.entries(references)) if (reference !== undefined) out[key] = structuredClone(reference);
    return out;
  });
}

/** Catalogue settings in which some settings are references (as stored: kept as written). */
export function settingsWithReferencesArbitrary(type: StepType): fc.Arbitrary<JsonObject> {
  const settings = withReferences(settingsArbitrary(type), STEP_REFERENCES[type] ?? {});
  if (type !== "WEBHOOK") return settings;
  return fc
    .tuple(settings, fc.option(fc.constantFrom(...SIGNING_SECRETS), { nil: undefined }))
    .map(([s, secret]) => (secret === undefined ? s : { ...s, signingSecret: secret }));
}

export const clientSettingsWithReferencesArbitrary: fc.Arbitrary<ClientSettings> = withReferences(
  clientSettingsArbitrary as unknown as fc.Arbitrary<JsonObject>,
  CLIENT_REFERENCES,
) as unknown as fc.Arbitrary<ClientSettings>;

export const REFERENCING_SETTINGS: SettingsSource = {
  step: settingsWithReferencesArbitrary,
  client: clientSettingsWithReferencesArbitrary,
};

export type EnvironmentRole = "source" | "target";

/** An organization's variables: each key's kind (absent: no such variable) and its value in each environment (absent: none). */
export interface VariableWorld {
  kinds: Record<string, VariableKind>;
  values: Record<EnvironmentRole, Record<string, JsonValue>>;
}

/**
 * One variable: usually of the kind that suits its setting, sometimes another, sometimes not defined
 * at all; `complete`: always defined, with a value in both environments.
 */
function variableArbitrary(
  key: string,
  complete: boolean,
): fc.Arbitrary<{ kind: VariableKind; source?: JsonValue; target?: JsonValue } | null> {
  const natural = NATURAL[key];
  const kind = fc.oneof({ arbitrary: fc.constant(natural.kind), weight: 4 }, { arbitrary: fc.constantFrom(...VARIABLE_KINDS), weight: 1 });
  const defined = kind.chain((k) => {
    const pool = fc.constantFrom(...(k === natural.kind ? natural.values : OTHER_VALUES[k]));
    const value = complete ? pool : fc.oneof({ arbitrary: fc.constant(undefined), weight: 1 }, { arbitrary: pool, weight: 4 });
    return fc.record({ kind: fc.constant(k), source: value, target: value });
  });
  return complete ? defined : fc.oneof({ arbitrary: fc.constant(null), weight: 1 }, { arbitrary: defined, weight: 12 });
}

function worldArbitrary(complete: boolean): fc.Arbitrary<VariableWorld> {
  return fc.tuple(...VARIABLE_KEYS.map((key) => variableArbitrary(key, complete))).map((variables) => {
    const world: VariableWorld = { kinds: {}, values: { source: {}, target: {} } };
    variables.forEach((variable, i) => {
      if (variable === null) return;
      const key = VARIABLE_KEYS[i];
      world.kinds[key] = variable.kind;
      for (const role of ["source", "target"] as const) {
        const value = variable[role];
        if (value !== undefined) world.values[role][key] = structuredClone(value);
      }
    });
    return world;
  });
}

/** Variables with random kinds; some not defined, some without a value in an environment. */
export const variableWorldArbitrary = worldArbitrary(false);

/** Every variable defined, with a value (fitting its kind, not always its settings) in both environments. */
export const completeVariableWorldArbitrary = worldArbitrary(true);

/** The lookup resolution uses, for one environment of the world. */
export function lookupIn(world: VariableWorld, role: EnvironmentRole): (key: string) => ResolvableVariable | undefined {
  return (key) => {
    if (!Object.hasOwn(world.kinds, key)) return undefined;
    const variable: ResolvableVariable = { kind: world.kinds[key] };
    if (Object.hasOwn(world.values[role], key)) variable.value = world.values[role][key];
    return variable;
  };
}

/**
 * The world with a value in the target for each of `keys` that lacks one (a variable created where
 * none is): how a target whose own configuration resolves there looks.
 */
export function withTargetValuesFor(world: VariableWorld, keys: Iterable<string>): VariableWorld {
  const filled = structuredClone(world);
  for (const key of keys) {
    if (!Object.hasOwn(filled.kinds, key)) filled.kinds[key] = NATURAL[key]?.kind ?? "STRING";
    if (Object.hasOwn(filled.values.target, key)) continue;
    const kind = filled.kinds[key];
    const natural = NATURAL[key];
    filled.values.target[key] = structuredClone(natural && natural.kind === kind ? natural.values[0] : OTHER_VALUES[kind][0]);
  }
  return filled;
}

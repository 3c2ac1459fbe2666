import fc from "fast-check";
import type { ApplicationDocument } from "../../../src/domain/change.js";
import type { ClientSettings, JourneyDocument, JourneyStepDefinition, JsonObject } from "../../../src/domain/journey-document.js";
import { STEP_TYPES, type StepType } from "../../../src/domain/step-catalogue.js";

/**
 * Generated valid configurations for the diff properties: a base application, then two
 * independent sets of mutations of it (steps added, removed, retyped, rewired, re-ordered,
 * renamed, toggled, settings and start changed; journeys added and removed), so both sides share
 * most step keys and differ the way environments do. Value domains are small on purpose, so that
 * mutations often land on equal values and on references to steps that the other side removed.
 */

export type Gen = fc.GeneratorValue;

const STEP_KEYS = ["identify", "password", "email-otp", "sms-otp", "totp", "passkey", "social", "consent", "risk", "hook"];
const OUTCOMES = ["success", "failure", "high-risk", "timeout"];
const TERMINALS = ["COMPLETE", "DENY"];
const JOURNEY_KEYS = ["login", "registration", "recovery"];
const NAMES = ["Enter email", "Password", "Email code", "SMS code", "Second factor", "Check"];

const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

/** Settings valid for the catalogue, defaults filled in, optional ones sometimes absent. */
export function settingsArbitrary(type: StepType): fc.Arbitrary<JsonObject> {
  const otp = { codeLength: fc.integer({ min: 4, max: 10 }), ttlSeconds: fc.constantFrom(30, 300, 3600) };
  const list = <T>(values: readonly T[]) => fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: values.length });
  const arbitraries: Record<StepType, fc.Arbitrary<Record<string, unknown>>> = {
    IDENTIFIER: fc.record({ identifiers: list(["email", "phone", "username"]), rememberMe: fc.boolean() }),
    PASSWORD: fc.record({ minLength: fc.constantFrom(8, 12, 16), allowReset: fc.boolean() }),
    EMAIL_OTP: fc.record(otp),
    SMS_OTP: fc.record({ ...otp, senderId: optional(fc.constantFrom("Acme", "ACME-2")) }),
    TOTP: fc.record({ digits: fc.constantFrom(6, 8), issuer: optional(fc.constantFrom("Acme", "Acme Corp")) }),
    PASSKEY: fc.record({ userVerification: fc.constantFrom("required", "preferred", "discouraged") }),
    SOCIAL_LOGIN: fc.record({ providers: list(["google", "apple", "github"]) }),
    CONSENT: fc.record({
      documents: fc.uniqueArray(fc.record({ id: fc.constantFrom("terms", "privacy"), version: fc.constantFrom("1", "2") }), {
        minLength: 1,
        maxLength: 2,
        selector: (document) => document.id,
      }),
      required: fc.boolean(),
    }),
    PROFILE_COMPLETION: fc.record({ fields: list(["givenName", "familyName", "birthdate"]) }),
    RISK_CHECK: fc.record({ threshold: fc.constantFrom(0, 70, 100), action: fc.constantFrom("challenge", "deny") }),
    WEBHOOK: fc.record({
      url: fc.constantFrom("https://hooks.example.com/check", "https://risk.example.org/v2"),
      timeoutMs: fc.constantFrom(100, 3000, 10000),
    }),
  };
  // an optional setting that is not set is absent, not undefined
  return arbitraries[type].map((settings) => JSON.parse(JSON.stringify(settings)) as JsonObject);
}

export const clientSettingsArbitrary: fc.Arbitrary<ClientSettings> = fc.record({
  accessTokenTtlSeconds: fc.constantFrom(900, 3600),
  refreshTokenTtlSeconds: fc.constantFrom(0, 2592000),
  grantTypes: fc.uniqueArray(fc.constantFrom("authorization_code", "refresh_token", "client_credentials"), {
    minLength: 1,
    maxLength: 3,
  }),
  pkceRequired: fc.boolean(),
  refreshTokenRotation: fc.boolean(),
});

/**
 * What a scenario's settings are drawn from: the catalogue-valid literals above by default; other
 * generators (e.g. settings that hold variable references, `variable-arbitraries.ts`) plug in here.
 */
export interface SettingsSource {
  step: (type: StepType) => fc.Arbitrary<JsonObject>;
  client: fc.Arbitrary<ClientSettings>;
}

export const LITERAL_SETTINGS: SettingsSource = {
  step: settingsArbitrary,
  client: clientSettingsArbitrary,
};

function pick<T>(g: Gen, values: readonly T[]): T {
  return values[g(fc.integer, { min: 0, max: values.length - 1 })];
}

function target(g: Gen, stepKeys: readonly string[]): string {
  return pick(g, [...stepKeys, ...TERMINALS]);
}

/** A step of a journey whose steps will be `stepKeys` (its own key included: steps may loop). */
function newStep(g: Gen, stepKeys: readonly string[], source: SettingsSource): JourneyStepDefinition {
  const type = pick(g, STEP_TYPES);
  const outcomes = g(fc.subarray, OUTCOMES, { minLength: 0, maxLength: 3 });
  const transitions: Record<string, string> = {};
  for (const outcome of outcomes) transitions[outcome] = target(g, stepKeys);
  return {
    type,
    name: pick(g, NAMES),
    enabled: g(fc.boolean),
    settings: g(() => source.step(type)),
    transitions,
  };
}

function baseJourney(g: Gen, source: SettingsSource): JourneyDocument {
  const keys = g(fc.shuffledSubarray, STEP_KEYS, { minLength: 1, maxLength: 6 });
  const steps: Record<string, JourneyStepDefinition> = {};
  for (const key of keys) steps[key] = newStep(g, keys, source);
  return {
    start: pick(g, keys),
    order: g(fc.shuffledSubarray, keys, { minLength: keys.length, maxLength: keys.length }),
    steps,
  };
}

const MUTATIONS = ["add", "remove", "retype", "rewire", "reorder", "setting", "start", "rename", "toggle"] as const;

/** One mutation that keeps the journey valid. */
function mutateJourney(g: Gen, doc: JourneyDocument, source: SettingsSource): void {
  const keys = Object.keys(doc.steps);
  const mutation = pick(g, MUTATIONS);
  switch (mutation) {
    case "add": {
      const free = STEP_KEYS.filter((key) => !keys.includes(key));
      if (free.length === 0) return;
      const key = pick(g, free);
      doc.steps[key] = newStep(g, [...keys, key], source);
      doc.order.splice(g(fc.integer, { min: 0, max: doc.order.length }), 0, key);
      // often wire it in, so that references to added steps are common
      if (g(fc.boolean)) {
        const from = doc.steps[pick(g, keys)];
        from.transitions[pick(g, OUTCOMES)] = key;
      }
      if (g(fc.integer, { min: 0, max: 3 }) === 0) doc.start = key;
      return;
    }
    case "remove": {
      if (keys.length < 2) return;
      const key = pick(g, keys);
      delete doc.steps[key];
      doc.order = doc.order.filter((k) => k !== key);
      for (const step of Object.values(doc.steps)) {
        for (const [outcome, next] of Object.entries(step.transitions)) {
          if (next !== key) continue;
          if (g(fc.boolean)) delete step.transitions[outcome];
          else step.transitions[outcome] = target(g, Object.keys(doc.steps));
        }
      }
      if (doc.start === key) doc.start = pick(g, Object.keys(doc.steps));
      return;
    }
    case "retype": {
      const key = pick(g, keys);
      const old = doc.steps[key];
      const replacement = newStep(g, keys, source);
      if (replacement.type === old.type) return;
      // keep the name sometimes: "Changed step … from SMS_OTP to EMAIL_OTP"
      doc.steps[key] = g(fc.boolean) ? { ...replacement, name: old.name } : replacement;
      return;
    }
    case "rewire": {
      const step = doc.steps[pick(g, keys)];
      const outcome = pick(g, OUTCOMES);
      if (outcome in step.transitions && g(fc.integer, { min: 0, max: 2 }) === 0) delete step.transitions[outcome];
      else step.transitions[outcome] = target(g, keys);
      return;
    }
    case "reorder":
      doc.order = g(fc.shuffledSubarray, doc.order, { minLength: doc.order.length, maxLength: doc.order.length });
      return;
    case "setting": {
      const step = doc.steps[pick(g, keys)];
      const fresh = g(() => source.step(step.type as StepType));
      const settingKeys = [...new Set([...Object.keys(fresh), ...Object.keys(step.settings)])];
      const key = pick(g, settingKeys);
      if (key in fresh) step.settings[key] = fresh[key];
      else delete step.settings[key];
      return;
    }
    case "start":
      doc.start = pick(g, keys);
      return;
    case "rename":
      doc.steps[pick(g, keys)].name = pick(g, NAMES);
      return;
    case "toggle": {
      const step = doc.steps[pick(g, keys)];
      step.enabled = !step.enabled;
      return;
    }
  }
}

export function mutateApplication(g: Gen, base: ApplicationDocument, maxMutations: number, source: SettingsSource): ApplicationDocument {
  const app = structuredClone(base);
  if (app.client !== null && g(fc.integer, { min: 0, max: 3 }) === 0) {
    const fresh = g(() => source.client) as unknown as Record<string, unknown>;
    const key = pick(g, Object.keys(fresh));
    (app.client.settings as unknown as Record<string, unknown>)[key] = fresh[key];
  }
  if (g(fc.integer, { min: 0, max: 15 }) === 0) app.client = null;
  for (const key of JOURNEY_KEYS) {
    const roll = g(fc.integer, { min: 0, max: 11 });
    if (roll === 0) delete app.journeys[key];
    else if (roll === 1 && !(key in app.journeys)) app.journeys[key] = baseJourney(g, source);
  }
  for (const journey of Object.values(app.journeys)) {
    const count = g(fc.integer, { min: 0, max: maxMutations });
    for (let i = 0; i < count; i++) mutateJourney(g, journey, source);
  }
  return app;
}

export interface Scenario {
  /** the lower environment: what is promoted */
  from: ApplicationDocument;
  /** the upper environment: what promoting changes */
  to: ApplicationDocument;
}

/** Two valid applications derived from one base. */
export function scenarioArbitrary(maxMutations = 6, source: SettingsSource = LITERAL_SETTINGS): fc.Arbitrary<Scenario> {
  return fc.gen().map((g) => {
    const base: ApplicationDocument = {
      client: { settings: g(() => source.client) },
      journeys: {},
    };
    for (const key of g(fc.subarray, JOURNEY_KEYS, { minLength: 1 })) base.journeys[key] = baseJourney(g, source);
    return { from: mutateApplication(g, base, maxMutations, source), to: mutateApplication(g, base, maxMutations, source) };
  });
}

/**
 * A deep copy of a JSON value with every object's keys in an order drawn from `seed` (lists keep theirs): the same
 * document as far as JSON (and PostgreSQL's jsonb, which does not keep key order) is concerned. Integer-like keys
 * still come first, as JavaScript orders them.
 */
export function shuffledKeys<T>(value: T, seed: number): T {
  // mulberry32: cheap and good enough to shuffle by; fast-check draws only the seed
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const visit = (node: unknown): unknown => {
    if (typeof node !== "object" || node === null) return node;
    if (Array.isArray(node)) return node.map(visit);
    const keys = Object.keys(node);
    for (let i = keys.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [keys[i], keys[j]] = [keys[j], keys[i]];
    }
    return Object.fromEntries(keys.map((key) => [key, visit((node as Record<string, unknown>)[key])]));
  };
  return visit(value) as T;
}

import { describe, expect, it } from "vitest";
import { validateStep } from "../../../src/domain/journey-validation.js";
import {
  humanizeKey,
  isStepType,
  STEP_CATALOGUE,
  STEP_TYPES,
  type StepType,
  settingLabel,
  stepTypeLabel,
  stepTypeOf,
} from "../../../src/domain/step-catalogue.js";

/** Settings a type cannot do without (they have no default). */
const REQUIRED: Record<StepType, Record<string, unknown>> = {
  IDENTIFIER: {},
  PASSWORD: {},
  EMAIL_OTP: {},
  SMS_OTP: {},
  TOTP: {},
  PASSKEY: {},
  SOCIAL_LOGIN: { providers: ["google"] },
  CONSENT: { documents: [{ id: "terms", version: "2024-01" }] },
  PROFILE_COMPLETION: { fields: ["givenName"] },
  RISK_CHECK: {},
  WEBHOOK: { url: "https://hooks.example.com/journey" },
};

const DEFAULTS: Record<StepType, Record<string, unknown>> = {
  IDENTIFIER: { identifiers: ["email"], rememberMe: false },
  PASSWORD: { minLength: 12, allowReset: true },
  EMAIL_OTP: { codeLength: 6, ttlSeconds: 300 },
  SMS_OTP: { codeLength: 6, ttlSeconds: 300 },
  TOTP: { digits: 6 },
  PASSKEY: { userVerification: "preferred" },
  SOCIAL_LOGIN: { providers: ["google"] },
  CONSENT: { documents: [{ id: "terms", version: "2024-01" }], required: true },
  PROFILE_COMPLETION: { fields: ["givenName"] },
  RISK_CHECK: { threshold: 70, action: "challenge" },
  WEBHOOK: { url: "https://hooks.example.com/journey", timeoutMs: 3000 },
};

const RANGES: Array<[StepType, string, number, number]> = [
  ["PASSWORD", "minLength", 8, 128],
  ["EMAIL_OTP", "codeLength", 4, 10],
  ["EMAIL_OTP", "ttlSeconds", 30, 3600],
  ["SMS_OTP", "codeLength", 4, 10],
  ["SMS_OTP", "ttlSeconds", 30, 3600],
  ["RISK_CHECK", "threshold", 0, 100],
  ["WEBHOOK", "timeoutMs", 100, 10000],
];

const CHOICES: Array<[StepType, string, unknown, string]> = [
  ["IDENTIFIER", "identifiers", ["fax"], 'steps.s.settings.identifiers.0 must be one of "email", "phone", "username"'],
  ["TOTP", "digits", 7, "steps.s.settings.digits must be 6 or 8"],
  ["PASSKEY", "userVerification", "always", 'steps.s.settings.userVerification must be one of "required", "preferred", "discouraged"'],
  [
    "SOCIAL_LOGIN",
    "providers",
    ["myspace"],
    'steps.s.settings.providers.0 must be one of "google", "apple", "microsoft", "facebook", "github"',
  ],
  ["RISK_CHECK", "action", "allow", 'steps.s.settings.action must be "challenge" or "deny"'],
];

function settingsOf(type: StepType, settings: Record<string, unknown>) {
  return validateStep("s", { type, name: "Step", settings, transitions: {} });
}

describe("step catalogue", () => {
  it("lists the eleven step types of the design", () => {
    expect(STEP_TYPES).toEqual([
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
    ]);
    expect(Object.keys(STEP_CATALOGUE)).toEqual([...STEP_TYPES]);
  });

  it("looks types up by name and knows nothing else", () => {
    expect(stepTypeOf("EMAIL_OTP")?.label).toBe("Email code");
    expect(stepTypeOf("FOO")).toBeUndefined();
    expect(stepTypeOf("toString")).toBeUndefined();
    expect(isStepType("__proto__")).toBe(false);
  });

  it("gives every type a label and a description", () => {
    for (const type of STEP_TYPES) {
      expect(STEP_CATALOGUE[type].label).not.toBe("");
      expect(STEP_CATALOGUE[type].description).not.toBe("");
    }
    expect(stepTypeLabel("TOTP")).toBe("Authenticator app code");
    expect(stepTypeLabel("CUSTOM")).toBe("CUSTOM");
  });

  it("labels every setting of every type", () => {
    expect(settingLabel("codeLength")).toBe("code length");
    for (const type of STEP_TYPES) {
      for (const key of STEP_CATALOGUE[type].settingKeys) {
        expect(settingLabel(key)).toMatch(/^[a-zA-Z() ]+$/);
      }
    }
  });

  it("humanizes keys it has no label for", () => {
    expect(settingLabel("maxAttemptsPerHour")).toBe("max attempts per hour");
    expect(humanizeKey("allowedIPRanges")).toBe("allowed ip ranges");
  });
});

describe("step settings", () => {
  it.each(STEP_TYPES)("%s fills in every default", (type) => {
    const result = settingsOf(type, REQUIRED[type]);
    expect(result).toEqual({ ok: true, value: expect.objectContaining({ settings: DEFAULTS[type] }) });
  });

  it.each(STEP_TYPES)("%s treats absent settings as the empty object", (type) => {
    const result = validateStep("s", { type, name: "Step", transitions: {} });
    expect(result.ok).toBe(Object.keys(REQUIRED[type]).length === 0);
  });

  it.each(STEP_TYPES)("%s rejects an unknown setting", (type) => {
    const result = settingsOf(type, { ...REQUIRED[type], colour: "blue" });
    expect(result).toEqual({
      ok: false,
      problems: [{ path: "steps.s.settings.colour", message: `steps.s.settings.colour is not a known setting of ${type}` }],
    });
  });

  it.each(RANGES)("%s %s accepts %i to %i and nothing outside", (type, key, min, max) => {
    const message = `steps.s.settings.${key} must be between ${min} and ${max}`;
    expect(settingsOf(type, { ...REQUIRED[type], [key]: min }).ok).toBe(true);
    expect(settingsOf(type, { ...REQUIRED[type], [key]: max }).ok).toBe(true);
    for (const value of [min - 1, max + 1]) {
      expect(settingsOf(type, { ...REQUIRED[type], [key]: value })).toEqual({
        ok: false,
        problems: [{ path: `steps.s.settings.${key}`, message }],
      });
    }
  });

  it.each(RANGES)("%s %s must be a whole number", (type, key, min) => {
    const result = settingsOf(type, { ...REQUIRED[type], [key]: min + 0.5 });
    expect(result.ok ? [] : result.problems.map((p) => p.message)).toEqual([`steps.s.settings.${key} must be a whole number`]);
  });

  it.each(CHOICES)("%s %s accepts only the listed values", (type, key, value, message) => {
    const result = settingsOf(type, { ...REQUIRED[type], [key]: value });
    expect(result.ok ? [] : result.problems.map((p) => p.message)).toEqual([message]);
  });

  it("names the expected type when a setting has the wrong one", () => {
    const result = settingsOf("IDENTIFIER", { rememberMe: "yes", identifiers: "email" });
    expect(result.ok ? [] : result.problems.map((p) => p.message)).toEqual([
      "steps.s.settings.identifiers must be a list, not a string",
      "steps.s.settings.rememberMe must be true or false, not a string",
    ]);
  });

  it.each([
    ["IDENTIFIER", "identifiers"],
    ["SOCIAL_LOGIN", "providers"],
    ["CONSENT", "documents"],
    ["PROFILE_COMPLETION", "fields"],
  ] as const)("%s %s must not be an empty list", (type, key) => {
    const result = settingsOf(type, { ...REQUIRED[type], [key]: [] });
    expect(result.ok ? [] : result.problems.map((p) => p.message)).toEqual([`steps.s.settings.${key} must list at least one entry`]);
  });

  it.each([
    ["SOCIAL_LOGIN", "providers"],
    ["CONSENT", "documents"],
    ["PROFILE_COMPLETION", "fields"],
    ["WEBHOOK", "url"],
  ] as const)("%s %s is required", (type, key) => {
    const result = settingsOf(type, {});
    expect(result.ok ? [] : result.problems.map((p) => p.message)).toEqual([`steps.s.settings.${key} is required`]);
  });

  it("rejects a list that repeats an entry", () => {
    const result = settingsOf("IDENTIFIER", { identifiers: ["email", "phone", "email"] });
    expect(result.ok ? [] : result.problems.map((p) => p.message)).toEqual([
      'steps.s.settings.identifiers.2 repeats "email": each entry may appear only once',
    ]);
  });

  it("rejects consent documents with the same id", () => {
    const result = settingsOf("CONSENT", {
      documents: [
        { id: "terms", version: "1" },
        { id: "terms", version: "2" },
      ],
    });
    expect(result.ok ? [] : result.problems.map((p) => p.message)).toEqual([
      'steps.s.settings.documents.1 repeats document "terms": each entry may appear only once',
    ]);
  });

  it("rejects unknown fields of a consent document", () => {
    const result = settingsOf("CONSENT", { documents: [{ id: "terms", version: "1", url: "x" }] });
    expect(result.ok ? [] : result.problems.map((p) => p.message)).toEqual(["steps.s.settings.documents.0.url is not a known field"]);
  });

  it("keeps optional settings absent rather than defaulting them", () => {
    const result = settingsOf("SMS_OTP", {});
    expect(result.ok && result.value.settings).toEqual({ codeLength: 6, ttlSeconds: 300 });
    const withSender = settingsOf("SMS_OTP", { senderId: " ACME " });
    expect(withSender.ok && withSender.value.settings.senderId).toBe("ACME");
  });

  it.each(["http://hooks.example.com/x", "ftp://hooks.example.com", "https://", "not a url", "https://localhost/x"])(
    "WEBHOOK rejects the url %s",
    (url) => {
      const result = settingsOf("WEBHOOK", { url });
      expect(result.ok ? [] : result.problems.map((p) => p.message)).toEqual(["steps.s.settings.url must be an https URL"]);
    },
  );

  it("PROFILE_COMPLETION accepts attribute names only", () => {
    expect(settingsOf("PROFILE_COMPLETION", { fields: ["given_name", "address.city", "phoneNumber"] }).ok).toBe(true);
    const result = settingsOf("PROFILE_COMPLETION", { fields: ["given name"] });
    expect(result.ok ? [] : result.problems.map((p) => p.path)).toEqual(["steps.s.settings.fields.0"]);
  });
});

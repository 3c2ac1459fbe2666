import { describe, expect, it, vi } from "vitest";

/**
 * The step catalogue as it is built when its module loads: the types, their texts, their settings'
 * schemas and the JSON Schemas made from them. This file imports the module inside its tests, never
 * at its top: a catalogue that fails to build then fails these tests (a test file whose imports
 * throw has no test that fails, so a mutation run would count that catalogue as passing).
 */
const catalogue = () => {
  // A module of its own for each test: the catalogue computes its JSON Schemas and defaults once
  // per module, so without this only the first test to ask computed them, and a mutation run,
  // which runs only the tests that reached a mutant, would not run the tests that check them.
  vi.resetModules();
  return import("../../../src/domain/step-catalogue.js");
};

type Schema = Record<string, any>;

describe("the step catalogue, loaded", () => {
  it("describes each type under its own name, with a label and a description of its own", async () => {
    const { STEP_CATALOGUE, STEP_TYPES } = await catalogue();
    expect(Object.keys(STEP_CATALOGUE)).toEqual([...STEP_TYPES]);
    for (const type of STEP_TYPES) {
      const definition = STEP_CATALOGUE[type];
      expect(definition.type).toBe(type);
      expect(definition.label).toMatch(/^[A-Z][A-Za-z ]+$/);
      expect(definition.description).toMatch(/^[A-Z].{10,}\.$/);
      expect(definition.settingKeys).toEqual(Object.keys(definition.settings.shape));
      expect(definition.settingKeys.length).toBeGreaterThan(0);
    }
    const labels = STEP_TYPES.map((type) => STEP_CATALOGUE[type].label);
    const descriptions = STEP_TYPES.map((type) => STEP_CATALOGUE[type].description);
    expect(new Set(labels).size).toBe(STEP_TYPES.length);
    expect(new Set(descriptions).size).toBe(STEP_TYPES.length);
  });

  it("names WEBHOOK's signing secret as its only secret setting; no other type has one", async () => {
    const { STEP_CATALOGUE, STEP_TYPES } = await catalogue();
    for (const type of STEP_TYPES) {
      expect(STEP_CATALOGUE[type].secretSettings).toEqual(type === "WEBHOOK" ? ["signingSecret"] : []);
    }
  });

  it("knows only its own types, whatever the value", async () => {
    const { isStepType } = await catalogue();
    expect(isStepType("PASSWORD")).toBe(true);
    for (const value of [undefined, null, 1, {}, ["PASSWORD"], "password", "constructor", "hasOwnProperty"]) {
      expect(isStepType(value)).toBe(false);
    }
  });

  it("titles each JSON Schema with its type's label and description, and each setting with its label", async () => {
    const { STEP_CATALOGUE, STEP_TYPES, settingLabel, settingsJsonSchema } = await catalogue();
    for (const type of STEP_TYPES) {
      const schema = settingsJsonSchema(type) as Schema;
      expect(schema.title).toBe(STEP_CATALOGUE[type].label);
      expect(schema.description).toBe(STEP_CATALOGUE[type].description);
      expect(Object.keys(schema.properties)).toEqual(STEP_CATALOGUE[type].settingKeys);
      for (const [key, property] of Object.entries(schema.properties as Record<string, Schema>)) {
        expect(property.title).toBe(settingLabel(key));
        expect(property.title).not.toBe("");
      }
    }
  });

  it("computes each JSON Schema and each type's defaults once, deeply frozen", async () => {
    const { STEP_TYPES, settingsDefaults, settingsJsonSchema } = await catalogue();
    for (const type of STEP_TYPES) {
      expect(settingsJsonSchema(type)).toBe(settingsJsonSchema(type));
      expect(settingsDefaults(type)).toBe(settingsDefaults(type));
    }
    const schema = settingsJsonSchema("CONSENT") as Schema;
    expect(Object.isFrozen(schema)).toBe(true);
    expect(Object.isFrozen(schema.properties)).toBe(true);
    expect(Object.isFrozen(schema.properties.documents.items.properties.id)).toBe(true);
    const defaults = settingsDefaults("IDENTIFIER") as Schema;
    expect(Object.isFrozen(defaults)).toBe(true);
    expect(Object.isFrozen(defaults.identifiers)).toBe(true);
    expect(() => {
      (defaults.identifiers as string[]).push("phone");
    }).toThrow(TypeError);
  });

  it("describes settings as a client sends them: one with a default is optional and carries it", async () => {
    const { settingsJsonSchema } = await catalogue();
    const sms = settingsJsonSchema("SMS_OTP") as Schema;
    expect(sms.required ?? []).not.toContain("codeLength");
    expect(sms.required ?? []).not.toContain("ttlSeconds");
    expect(sms.properties.codeLength.default).toBe(6);
    const webhook = settingsJsonSchema("WEBHOOK") as Schema;
    expect(webhook.required).toContain("url");
    expect(webhook.required).not.toContain("timeoutMs");
  });

  it("lists as defaults exactly the settings that have one", async () => {
    const { settingsDefaults } = await catalogue();
    expect(Object.keys(settingsDefaults("SMS_OTP"))).toEqual(["codeLength", "ttlSeconds"]);
    expect(Object.keys(settingsDefaults("WEBHOOK"))).toEqual(["timeoutMs"]);
    expect(Object.keys(settingsDefaults("SOCIAL_LOGIN"))).toEqual([]);
    expect(settingsDefaults("IDENTIFIER")).toEqual({ identifiers: ["email"], rememberMe: false });
  });

  it("states in the JSON Schema what zod cannot: trimmed lengths, a repeat rule, the URL's scheme, the secret's form", async () => {
    const { settingsJsonSchema } = await catalogue();
    const sms = settingsJsonSchema("SMS_OTP") as Schema;
    expect(sms.properties.senderId.description).toBe("1–16 characters; surrounding whitespace is ignored.");
    expect(sms.properties.senderId).not.toHaveProperty("maxLength");
    expect(sms.properties.senderId.pattern).toBe("^\\s*\\S(?:[\\s\\S]{0,14}\\S)?\\s*$");

    const consent = settingsJsonSchema("CONSENT") as Schema;
    expect(consent.properties.documents.uniqueItems).toBe(true);
    expect(consent.properties.documents.description).toBe("Each document id (trimmed) may appear only once, whatever its version.");
    const identifier = settingsJsonSchema("IDENTIFIER") as Schema;
    expect(identifier.properties.identifiers.uniqueItems).toBe(true);
    // the whole entry is what must not repeat: nothing more to say than uniqueItems
    expect(Object.hasOwn(identifier.properties.identifiers, "description")).toBe(false);

    const webhook = settingsJsonSchema("WEBHOOK") as Schema;
    expect(webhook.properties.url).not.toHaveProperty("format");
    expect(webhook.properties.url).not.toHaveProperty("maxLength");
    expect(webhook.properties.url.pattern).toMatch(/^\^/);
    expect(webhook.properties.url.description).toBe("An https URL whose host is a domain name, at most 2048 characters.");
    expect(webhook.properties.signingSecret.description).toMatch(/^Signs each call \(HMAC\)\. A secret setting/);
  });
});

describe("the step catalogue's settings, loaded", () => {
  it("WEBHOOK's url must have the https scheme exactly", async () => {
    const { STEP_CATALOGUE } = await catalogue();
    const url = (value: string) => STEP_CATALOGUE.WEBHOOK.settings.safeParse({ url: value });
    expect(url("https://hooks.example.com/x").success).toBe(true);
    expect(url("xhttps://hooks.example.com/x").success).toBe(false);
    expect(url("httpsx://hooks.example.com/x").success).toBe(false);
  });

  it("WEBHOOK's signing secret is a whole reference, of one or more dotted or dashed parts", async () => {
    const { STEP_CATALOGUE } = await catalogue();
    const secret = (value: string) => STEP_CATALOGUE.WEBHOOK.settings.safeParse({ url: "https://hooks.example.com", signingSecret: value });
    for (const accepted of ["&{webhook}", "&{webhook.signing-secret}", "&{a.b-c.d}"]) expect(secret(accepted).success).toBe(true);
    for (const refused of ["x&{webhook}", "&{webhook}x", "&{Webhook}", "webhook"]) {
      const result = secret(refused);
      expect(result.success).toBe(false);
      expect(result.error?.issues.map((issue) => issue.message)).toEqual([
        "must be a whole reference to a SECRET variable, e.g. &{webhook.signing-secret}",
      ]);
    }
  });

  it("PROFILE_COMPLETION's fields say what an attribute name is", async () => {
    const { STEP_CATALOGUE } = await catalogue();
    const result = STEP_CATALOGUE.PROFILE_COMPLETION.settings.safeParse({ fields: ["given name"] });
    expect(result.error?.issues.map((issue) => issue.message)).toEqual([
      'must be an attribute name: letters, digits, ".", "_" or "-", starting with a letter',
    ]);
  });

  it("humanizes keys: words of camel case, runs of capitals, underscores and dashes, in lower case", async () => {
    const { humanizeKey } = await catalogue();
    expect(humanizeKey("rememberMe")).toBe("remember me");
    expect(humanizeKey("HTTPServerURL")).toBe("http server url");
    expect(humanizeKey("max__attempts--perHour")).toBe("max attempts per hour");
    expect(humanizeKey("_leading_")).toBe("leading");
    expect(humanizeKey("snake_case")).toBe("snake case");
  });
});

import { describe, expect, it } from "vitest";
import {
  clientSettingLabel,
  DEFAULT_CLIENT_SETTINGS,
  mergeClientSettings,
  validateClientSettings,
} from "../../../src/domain/client-settings.js";
import type { Validated } from "../../../src/domain/journey-document.js";

function messages<T>(result: Validated<T>): string[] {
  return result.ok ? [] : result.problems.map((p) => p.message);
}

describe("client settings", () => {
  it("defaults every setting", () => {
    expect(DEFAULT_CLIENT_SETTINGS).toEqual({
      accessTokenTtlSeconds: 3600,
      refreshTokenTtlSeconds: 2592000,
      grantTypes: ["authorization_code", "refresh_token"],
      pkceRequired: true,
      refreshTokenRotation: true,
    });
    expect(validateClientSettings({})).toEqual({ ok: true, value: DEFAULT_CLIENT_SETTINGS });
  });

  it.each([
    ["accessTokenTtlSeconds", 60, 86400],
    ["refreshTokenTtlSeconds", 0, 31536000],
  ] as const)("%s accepts %i to %i and nothing outside", (key, min, max) => {
    expect(validateClientSettings({ [key]: min }).ok).toBe(true);
    expect(validateClientSettings({ [key]: max }).ok).toBe(true);
    for (const value of [min - 1, max + 1]) {
      expect(validateClientSettings({ [key]: value })).toEqual({
        ok: false,
        problems: [{ path: `settings.${key}`, message: `settings.${key} must be between ${min} and ${max}` }],
      });
    }
    expect(messages(validateClientSettings({ [key]: min + 0.5 }))).toEqual([`settings.${key} must be a whole number`]);
  });

  it("names each repeated grant type at its own index, the first occurrence being no repeat", () => {
    expect(validateClientSettings({ grantTypes: ["client_credentials", "authorization_code", "client_credentials"] })).toEqual({
      ok: false,
      problems: [
        {
          path: "settings.grantTypes.2",
          message: 'settings.grantTypes.2 repeats "client_credentials": each entry may appear only once',
        },
      ],
    });
    expect(validateClientSettings({ grantTypes: ["refresh_token", "refresh_token", "refresh_token"] })).toEqual({
      ok: false,
      problems: [
        { path: "settings.grantTypes.1", message: 'settings.grantTypes.1 repeats "refresh_token": each entry may appear only once' },
        { path: "settings.grantTypes.2", message: 'settings.grantTypes.2 repeats "refresh_token": each entry may appear only once' },
      ],
    });
  });

  it("accepts a non-empty list of known grant types without repeats", () => {
    expect(validateClientSettings({ grantTypes: ["client_credentials"] }).ok).toBe(true);
    expect(messages(validateClientSettings({ grantTypes: [] }))).toEqual(["settings.grantTypes must list at least one entry"]);
    expect(messages(validateClientSettings({ grantTypes: ["implicit"] }))).toEqual([
      'settings.grantTypes.0 must be one of "authorization_code", "refresh_token", "client_credentials"',
    ]);
    expect(messages(validateClientSettings({ grantTypes: ["refresh_token", "refresh_token"] }))).toEqual([
      'settings.grantTypes.1 repeats "refresh_token": each entry may appear only once',
    ]);
  });

  it("requires booleans for the switches", () => {
    expect(messages(validateClientSettings({ pkceRequired: "yes", refreshTokenRotation: 0 }))).toEqual([
      "settings.pkceRequired must be true or false, not a string",
      "settings.refreshTokenRotation must be true or false, not a number",
    ]);
  });

  it("rejects unknown settings and non-objects", () => {
    expect(messages(validateClientSettings({ implicitFlow: true }))).toEqual(["settings.implicitFlow is not a known client setting"]);
    expect(messages(validateClientSettings(null))).toEqual(["settings must be an object, not null"]);
  });

  it("reports every problem at once", () => {
    expect(validateClientSettings({ accessTokenTtlSeconds: 1, grantTypes: [], extra: 1 })).toEqual({
      ok: false,
      problems: [
        { path: "settings.accessTokenTtlSeconds", message: "settings.accessTokenTtlSeconds must be between 60 and 86400" },
        { path: "settings.grantTypes", message: "settings.grantTypes must list at least one entry" },
        { path: "settings.extra", message: "settings.extra is not a known client setting" },
      ],
    });
  });

  it("labels every setting", () => {
    expect(Object.keys(DEFAULT_CLIENT_SETTINGS).map((key) => [key, clientSettingLabel(key)])).toEqual([
      ["accessTokenTtlSeconds", "access token lifetime (seconds)"],
      ["refreshTokenTtlSeconds", "refresh token lifetime (seconds)"],
      ["grantTypes", "grant types"],
      ["pkceRequired", "PKCE required"],
      ["refreshTokenRotation", "refresh token rotation"],
    ]);
    expect(clientSettingLabel("someNewThing")).toBe("some new thing");
    expect(clientSettingLabel("toString")).toBe("to string");
  });
});

describe("merging client settings", () => {
  const current = { ...DEFAULT_CLIENT_SETTINGS, accessTokenTtlSeconds: 600 };

  it("applies a partial update and keeps the rest", () => {
    expect(mergeClientSettings(current, { pkceRequired: false })).toEqual({
      ok: true,
      value: { ...current, pkceRequired: false },
    });
  });

  it("returns a setting set to null to its default", () => {
    const result = mergeClientSettings(current, { accessTokenTtlSeconds: null });
    expect(result.ok && result.value.accessTokenTtlSeconds).toBe(3600);
  });

  it("validates the merged result", () => {
    expect(messages(mergeClientSettings(current, { accessTokenTtlSeconds: 10, bogus: 1 }))).toEqual([
      "settings.accessTokenTtlSeconds must be between 60 and 86400",
      "settings.bogus is not a known client setting",
    ]);
    expect(messages(mergeClientSettings(current, JSON.parse('{"__proto__":{"pkceRequired":false}}')))).toEqual([
      "settings.__proto__ is not a known client setting",
    ]);
    expect(messages(mergeClientSettings(current, []))).toEqual(["settings must be an object"]);
  });

  it.each([
    ["null", null],
    ["undefined", undefined],
    ["a string", "pkceRequired"],
    ["a number", 5],
    ["a boolean", true],
    ["an array", [{ pkceRequired: false }]],
  ])("refuses a patch that is %s: settings must be an object", (_, patch) => {
    expect(mergeClientSettings(current, patch)).toEqual({
      ok: false,
      problems: [{ path: "settings", message: "settings must be an object" }],
    });
  });

  it("does not modify the current settings", () => {
    const before = { ...current };
    mergeClientSettings(current, { grantTypes: ["client_credentials"] });
    expect(current).toEqual(before);
  });
});

/**
 * The journey configuration document (ARCHITECTURE.md, "The domain"): steps are a keyed collection, `order` is only
 * the display order, and transitions map an outcome slug to a step key or a terminal.
 */
export const TERMINALS = ["COMPLETE", "DENY"] as const;
export type Terminal = (typeof TERMINALS)[number];

export const JOURNEY_TYPES = ["LOGIN", "REGISTRATION", "PROFILE_UPDATE", "PASSWORD_RECOVERY"] as const;
export type JourneyType = (typeof JOURNEY_TYPES)[number];

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface JourneyStepDefinition {
  type: string;
  name: string;
  enabled: boolean;
  /** Always the defaulted settings once normalized: two documents that mean the same are byte-identical. */
  settings: JsonObject;
  /** outcome slug → step key or terminal */
  transitions: Record<string, string>;
}

export interface JourneyDocument {
  start: string;
  order: string[];
  steps: Record<string, JourneyStepDefinition>;
}

/** A problem found in a document or an input, at a dotted path (`steps.email-otp.settings.codeLength`). */
export interface Problem {
  path: string;
  message: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; problems: Problem[] };

/** Client shared settings (propagated). */
export interface ClientSettings {
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  grantTypes: string[];
  pkceRequired: boolean;
  refreshTokenRotation: boolean;
}

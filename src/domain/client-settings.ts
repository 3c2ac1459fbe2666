import { z } from "zod";
import type { ClientSettings, Validated } from "./journey-document.js";
import { parseWithReferences } from "./journey-validation.js";
import { humanizeKey } from "./step-catalogue.js";

/**
 * Client shared settings (ARCHITECTURE.md, "The domain"): propagated between environments, so they follow the same
 * rules as step settings: strict keys, defaults filled in, problems pathed `settings.<key>`.
 */

export const GRANT_TYPES = ["authorization_code", "refresh_token", "client_credentials"] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

export const clientSettingsSchema = z.strictObject({
  accessTokenTtlSeconds: z.int().min(60).max(86400).default(3600),
  refreshTokenTtlSeconds: z.int().min(0).max(31536000).default(2592000),
  grantTypes: z
    .array(z.enum(GRANT_TYPES))
    .min(1)
    .max(GRANT_TYPES.length)
    .superRefine((list, ctx) => {
      list.forEach((grantType, index) => {
        if (list.indexOf(grantType) !== index) {
          ctx.addIssue({
            // Stryker disable next-line StringLiteral: equivalent, the issue brings its own message, and of an issue only its path, its message and whether its code is "unrecognized_keys" are read (parseWithProblems)
            code: "custom",
            path: [index],
            message: `repeats "${grantType}": each entry may appear only once`,
          });
        }
      });
    })
    .default(() => ["authorization_code" as const, "refresh_token" as const]),
  pkceRequired: z.boolean().default(true),
  refreshTokenRotation: z.boolean().default(true),
}) satisfies z.ZodType<ClientSettings, unknown>;

/** Frozen all the way down: it is shared, so an accidental push into `grantTypes` must fail loudly. */
export const DEFAULT_CLIENT_SETTINGS: Readonly<ClientSettings> = (() => {
  const defaults = clientSettingsSchema.parse({});
  Object.freeze(defaults.grantTypes);
  return Object.freeze(defaults);
})();

const CLIENT_SETTING_LABELS: Record<string, string> = {
  accessTokenTtlSeconds: "access token lifetime (seconds)",
  refreshTokenTtlSeconds: "refresh token lifetime (seconds)",
  grantTypes: "grant types",
  pkceRequired: "PKCE required",
  refreshTokenRotation: "refresh token rotation",
};

/** Human label of a client setting ("accessTokenTtlSeconds" → "access token lifetime (seconds)"). */
export function clientSettingLabel(key: string): string {
  return Object.hasOwn(CLIENT_SETTING_LABELS, key) ? CLIENT_SETTING_LABELS[key] : humanizeKey(key);
}

/**
 * Validates untrusted client settings; settings not given take their default. A setting may be a
 * variable reference (`"accessTokenTtlSeconds": "&{token.ttl}"`), kept as written: its value is
 * checked per environment where the settings are saved or promoted.
 */
export function validateClientSettings(input: unknown): Validated<ClientSettings> {
  return parseWithReferences(
    clientSettingsSchema,
    input,
    "settings",
    (keyPath) => `${keyPath} is not a known client setting`,
  ) as Validated<ClientSettings>;
}

/**
 * Applies a partial update to valid settings and validates the result. A member set to null
 * returns that setting to its default (JSON merge patch semantics).
 */
export function mergeClientSettings(current: ClientSettings, patch: unknown): Validated<ClientSettings> {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
    return { ok: false, problems: [{ path: "settings", message: "settings must be an object" }] };
  }
  const merged = new Map<string, unknown>(Object.entries(current));
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) merged.delete(key);
    else merged.set(key, value);
  }
  // fromEntries defines own properties, so a "__proto__" key is reported as unknown, not swallowed.
  return validateClientSettings(Object.fromEntries(merged));
}

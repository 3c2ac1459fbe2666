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
  readonly settings: z.ZodType<Record<string, unknown>, unknown>;
  /** Every setting the type knows, in display order. */
  readonly settingKeys: readonly string[];
}

const intBetween = (min: number, max: number) => z.int().min(min).max(max);

const text = (max: number) => z.string().trim().min(1).max(max);

/** A non-empty list without repeated entries; `identity` names what must not repeat. */
function nonEmptyList<T extends z.ZodType>(
  item: T,
  max: number,
  identity: (value: z.output<T>) => string = (value) => JSON.stringify(value),
) {
  return z
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
    url: z
      .url({
        protocol: /^https$/,
        hostname: z.regexes.domain,
        // a missing url falls through to the generic "is required"
        error: (issue) => (issue.input === undefined ? undefined : "must be an https URL"),
      })
      .max(2048),
    timeoutMs: intBetween(100, 10000).default(3000),
  }),
} satisfies Record<StepType, z.ZodObject>;

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

/** camelCase → lower-case words: "rememberMe" → "remember me". */
export function humanizeKey(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .replace(/[_-]+/g, " ")
    .toLowerCase()
    .trim();
}

/** Human label of a step setting ("codeLength" → "code length"); unknown keys are humanized. */
export function settingLabel(key: string): string {
  return Object.hasOwn(SETTING_LABELS, key) ? SETTING_LABELS[key] : humanizeKey(key);
}

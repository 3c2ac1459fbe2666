import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { type Db, rowsOf } from "../db/client.js";
import { listEnvironments } from "../db/repositories/environments.js";
import { findOrganizationByName } from "../db/repositories/organizations.js";
import type { JourneyDocument } from "../domain/journey-document.js";
import type { Keyring } from "../domain/secret-box.js";
import type { Actor } from "./actor.js";
import { createApplication } from "./applications.js";
import { createClient } from "./clients.js";
import { saveJourney, saveJourneyStep } from "./drafts.js";
import { createDatabase } from "./environments.js";
import { createJourney } from "./journeys.js";
import { ensureOrganization, issueTokenWithFreeName } from "./tokens.js";
import { createVariable, setVariableValue } from "./variables.js";

export const DEMO_ORGANIZATION = "Demo";

/** The login journey of ARCHITECTURE.md, "The domain": identify → password → email code. */
export const DEMO_LOGIN: JourneyDocument = {
  start: "identify",
  order: ["identify", "password", "email-otp"],
  steps: {
    identify: {
      type: "IDENTIFIER",
      name: "Enter email",
      enabled: true,
      settings: { identifiers: ["email"], rememberMe: true },
      transitions: { success: "password" },
    },
    password: {
      type: "PASSWORD",
      name: "Password",
      enabled: true,
      settings: { minLength: 12 },
      transitions: { success: "email-otp", failure: "DENY" },
    },
    "email-otp": {
      type: "EMAIL_OTP",
      name: "Email code",
      enabled: true,
      settings: { codeLength: 6, ttlSeconds: 300 },
      transitions: { success: "COMPLETE", failure: "DENY" },
    },
  },
};

/** Sign-up: identify → terms → profile. */
export const DEMO_REGISTRATION: JourneyDocument = {
  start: "identify",
  order: ["identify", "consent", "profile"],
  steps: {
    identify: {
      type: "IDENTIFIER",
      name: "Enter email",
      enabled: true,
      settings: { identifiers: ["email"] },
      transitions: { success: "consent" },
    },
    consent: {
      type: "CONSENT",
      name: "Terms of use",
      enabled: true,
      settings: { documents: [{ id: "terms", version: "2026-01" }] },
      transitions: { success: "profile", failure: "DENY" },
    },
    profile: {
      type: "PROFILE_COMPLETION",
      name: "Your details",
      enabled: true,
      settings: { fields: ["givenName", "familyName"] },
      transitions: { success: "COMPLETE" },
    },
  },
};

/** The webhook host of each demo environment (`webhook.host`). */
const DEMO_WEBHOOK_HOSTS = {
  development: "hooks.dev.example.com",
  staging: "hooks.staging.example.com",
  production: "hooks.example.com",
} as const;

/**
 * The risk webhook the demo's login calls after the password (DESIGN.md §6): its host and signing
 * secret are references, resolved in each environment to that environment's values.
 */
const DEMO_RISK_HOOK = {
  key: "risk-hook",
  type: "WEBHOOK",
  name: "Risk webhook",
  enabled: true,
  settings: { url: "https://&{webhook.host}/risk", signingSecret: "&{webhook.signing-secret}" },
  transitions: [
    { outcome: "success", to: "email-otp" },
    { outcome: "failure", to: "DENY" },
  ],
};

/** True when the database holds no organization yet. */
export async function isEmpty(db: Db): Promise<boolean> {
  const [row] = rowsOf<{ empty: boolean }>(await db.execute(sql`select not exists (select 1 from organizations) as empty`));
  return Boolean(row?.empty);
}

/**
 * The demo the README describes: development → staging → production with a database each, "Customer Portal"
 * with clients in development and staging, and `login` and `registration` journeys; `login` calls a risk
 * webhook whose host (`webhook.host`) and signing secret (`webhook.signing-secret`, random, sealed with
 * `keyring` and never shown) have a value in every environment. Returns an admin token.
 */
export async function seedDemo(db: Db, keyring: Keyring): Promise<{ token: string; organizationId: string }> {
  const existing = await findOrganizationByName(db, DEMO_ORGANIZATION);
  const { organization } = existing ? { organization: existing } : await ensureOrganization(db, DEMO_ORGANIZATION);
  const { token, apiToken } = await issueTokenWithFreeName(db, { organizationId: organization.id, name: "demo-admin", role: "ADMIN" });
  if (existing) return { token, organizationId: organization.id };
  const actor: Actor = { organizationId: organization.id, tokenId: apiToken.id, role: "ADMIN", name: apiToken.name };
  const [development, staging, production] = await listEnvironments(db, organization.id);
  const databases = {
    development: await createDatabase(db, actor, { environmentId: development.id, name: "demo-users-dev" }),
    staging: await createDatabase(db, actor, { environmentId: staging.id, name: "demo-users-staging" }),
    production: await createDatabase(db, actor, { environmentId: production.id, name: "demo-users-prod" }),
  };
  const environments = { development, staging, production };
  const host = await createVariable(db, actor, { key: "webhook.host", kind: "STRING", description: "Host of the risk webhook" });
  const secret = await createVariable(db, actor, {
    key: "webhook.signing-secret",
    kind: "SECRET",
    description: "Signs the calls of the risk webhook",
  });
  for (const [key, environment] of Object.entries(environments)) {
    const environmentId = environment.id;
    const value = DEMO_WEBHOOK_HOSTS[key as keyof typeof DEMO_WEBHOOK_HOSTS];
    await setVariableValue(db, keyring, actor, { variableId: host.id, environmentId, value });
    // A fresh secret per environment and per seed, sealed by the service: it is in no file, log or output.
    await setVariableValue(db, keyring, actor, { variableId: secret.id, environmentId, value: randomBytes(32).toString("base64url") });
  }
  const application = await createApplication(db, actor, { name: "Customer Portal" });
  await createClient(db, actor, {
    applicationId: application.id,
    environmentId: development.id,
    databaseId: databases.development.id,
    redirectUris: ["http://localhost:3000/callback"],
    allowedOrigins: ["http://localhost:3000"],
  });
  const login = await createJourney(db, actor, {
    applicationId: application.id,
    key: "login",
    name: "Login",
    type: "LOGIN",
    document: DEMO_LOGIN,
  });
  // Saved in development like any edit (its references checked there); the staging client below copies it.
  const draft = { journeyId: login.id, environmentId: development.id };
  await saveJourneyStep(db, actor, { ...draft, step: DEMO_RISK_HOOK, position: 2 });
  const password = DEMO_LOGIN.steps.password;
  const { revision } = await saveJourneyStep(db, actor, {
    ...draft,
    step: {
      key: "password",
      type: password.type,
      name: password.name,
      enabled: password.enabled,
      settings: password.settings,
      transitions: [
        { outcome: "success", to: DEMO_RISK_HOOK.key },
        { outcome: "failure", to: "DENY" },
      ],
    },
  });
  await saveJourney(db, actor, { ...draft, draftRevision: revision, comment: "Risk webhook after the password" });
  await createJourney(db, actor, {
    applicationId: application.id,
    key: "registration",
    name: "Registration",
    type: "REGISTRATION",
    document: DEMO_REGISTRATION,
  });
  await createClient(db, actor, {
    applicationId: application.id,
    environmentId: staging.id,
    databaseId: databases.staging.id,
    redirectUris: ["https://staging.portal.example.com/callback"],
    allowedOrigins: ["https://staging.portal.example.com"],
  });
  return { token, organizationId: organization.id };
}

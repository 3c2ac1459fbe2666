import { sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { listEnvironments } from "../db/repositories/environments.js";
import { findOrganizationByName } from "../db/repositories/organizations.js";
import type { JourneyDocument } from "../domain/journey-document.js";
import type { Actor } from "./actor.js";
import { createApplication } from "./applications.js";
import { createClient } from "./clients.js";
import { createDatabase } from "./environments.js";
import { createJourney } from "./journeys.js";
import { ensureOrganization, issueTokenWithFreeName } from "./tokens.js";

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

/** True when the database holds no organization yet. */
export async function isEmpty(db: Db): Promise<boolean> {
  const rows = await db.execute<{ empty: boolean }>(sql`select not exists (select 1 from organizations) as empty`);
  const list = Array.isArray(rows) ? rows : (rows as unknown as { rows: { empty: boolean }[] }).rows;
  return Boolean(list[0]?.empty);
}

/**
 * The demo the README describes: development → staging → production with a database each, "Customer Portal"
 * with clients in development and staging, and `login` and `registration` journeys. Returns an admin token.
 */
export async function seedDemo(db: Db): Promise<{ token: string; organizationId: string }> {
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
  const application = await createApplication(db, actor, { name: "Customer Portal" });
  await createClient(db, actor, {
    applicationId: application.id,
    environmentId: development.id,
    databaseId: databases.development.id,
    redirectUris: ["http://localhost:3000/callback"],
    allowedOrigins: ["http://localhost:3000"],
  });
  await createJourney(db, actor, { applicationId: application.id, key: "login", name: "Login", type: "LOGIN", document: DEMO_LOGIN });
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

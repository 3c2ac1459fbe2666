import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { appendVersion } from "../../src/db/repositories/journeys.js";
import { journeyHeads } from "../../src/db/schema.js";
import { apiContext } from "../support/api-context.js";
import { testDatabase } from "../support/database.js";
import { APPLICATION, CONFIGURATIONS, VERSION_FIELDS } from "../support/documents.js";
import {
  apiAs,
  createCatalogue,
  createClient,
  errorCodes,
  LOGIN_DOCUMENT,
  LOGIN_DOCUMENT_STORED,
  localIdOf,
  operation,
  sha256OfCanonical,
} from "../support/fixtures.js";

/** Journeys: creating one, its configuration in each environment and its history of versions. */

const CREATE_JOURNEY = operation(`
  mutation CreateJourney($input: CreateJourneyInput!, $environmentId: ID!) {
    createJourney(input: $input) {
      __typename
      ... on CreateJourneySuccess {
        journey { id key name type application { id } configuration(environmentId: $environmentId) { ...VersionFields } }
      }
      ... on Error { code message }
    }
  }
  ${VERSION_FIELDS}
`);

const VERSIONS = operation(`
  query Versions($id: ID!, $environmentId: ID!, $first: Int, $after: String) {
    node(id: $id) {
      ... on Journey {
        versions(environmentId: $environmentId, first: $first, after: $after) {
          edges { cursor node { version origin comment hash } }
          pageInfo { hasNextPage endCursor }
        }
      }
    }
  }
`);

const DEFAULT_JOURNEY_DOCUMENT = {
  start: "identify",
  order: ["identify"],
  steps: {
    identify: {
      type: "IDENTIFIER",
      name: "Enter email",
      enabled: true,
      settings: { identifiers: ["email"], rememberMe: false },
      transitions: { success: "COMPLETE" },
    },
  },
};

const context = apiContext();
const { tenantWithApi } = context;

describe("createJourney", () => {
  it("writes version 1 of the default document (one IDENTIFIER step) in the lowest environment", async () => {
    const { tenant, api } = await tenantWithApi("create-journey");
    const catalogue = await createCatalogue(api);
    const editor = apiAs(context.server.endpoint, tenant, "EDITOR");
    const before = Date.now();
    const { createJourney } = await editor.data(CREATE_JOURNEY, {
      input: { applicationId: catalogue.applicationId, key: "profile-update", name: "Update profile", type: "PROFILE_UPDATE" },
      environmentId: catalogue.environments.development,
    });
    expect(createJourney).toMatchObject({
      __typename: "CreateJourneySuccess",
      journey: { key: "profile-update", name: "Update profile", type: "PROFILE_UPDATE", application: { id: catalogue.applicationId } },
    });
    const version = createJourney.journey.configuration;
    expect(version).toMatchObject({
      version: 1,
      origin: "SAVE",
      savedBy: "editor-token",
      start: "identify",
      document: DEFAULT_JOURNEY_DOCUMENT,
      hash: sha256OfCanonical(DEFAULT_JOURNEY_DOCUMENT),
      steps: [
        {
          key: "identify",
          type: "IDENTIFIER",
          name: "Enter email",
          enabled: true,
          settings: { identifiers: ["email"], rememberMe: false },
          transitions: [{ outcome: "success", to: "COMPLETE" }],
        },
      ],
    });
    expect(new Date(version.savedAt).getTime()).toBeGreaterThanOrEqual(before - 60_000);
    expect(version.savedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
  });

  it("writes version 1 of a given document with its settings defaulted, hashed as canonical SHA-256", async () => {
    const { api } = await tenantWithApi("create-journey");
    const catalogue = await createCatalogue(api);
    const { createJourney } = await api.data(CREATE_JOURNEY, {
      input: { applicationId: catalogue.applicationId, key: "login-2", name: "Login 2", type: "LOGIN", document: LOGIN_DOCUMENT },
      environmentId: catalogue.environments.development,
    });
    const version = createJourney.journey.configuration;
    expect(version).toMatchObject({ version: 1, origin: "SAVE", savedBy: "admin-token", start: "identify" });
    expect(version.document).toEqual(LOGIN_DOCUMENT_STORED);
    expect(version.hash).toBe(sha256OfCanonical(LOGIN_DOCUMENT_STORED));
    expect(version.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(version.steps.map((s: any) => [s.key, s.type, s.transitions])).toEqual([
      ["identify", "IDENTIFIER", [{ outcome: "success", to: "password" }]],
      [
        "password",
        "PASSWORD",
        [
          { outcome: "failure", to: "DENY" },
          { outcome: "success", to: "email-otp" },
        ],
      ],
      [
        "email-otp",
        "EMAIL_OTP",
        [
          { outcome: "failure", to: "DENY" },
          { outcome: "success", to: "COMPLETE" },
        ],
      ],
    ]);
    expect(version.steps[1].settings).toEqual({ minLength: 12, allowReset: true });
  });

  it("gives two documents that mean the same the same hash", async () => {
    const { api } = await tenantWithApi("create-journey");
    const catalogue = await createCatalogue(api);
    // Same meaning as LOGIN_DOCUMENT: keys in another order, defaults left out, `enabled` omitted.
    const sameMeaning = {
      steps: {
        "email-otp": { transitions: { failure: "DENY", success: "COMPLETE" }, name: "Email code", type: "EMAIL_OTP", settings: {} },
        password: {
          type: "PASSWORD",
          name: "Password",
          settings: { allowReset: true, minLength: 12 },
          transitions: { failure: "DENY", success: "email-otp" },
        },
        identify: { type: "IDENTIFIER", name: "Enter email", settings: { rememberMe: true }, transitions: { success: "password" } },
      },
      order: ["identify", "password", "email-otp"],
      start: "identify",
    };
    const { createJourney } = await api.data(CREATE_JOURNEY, {
      input: { applicationId: catalogue.applicationId, key: "login-again", name: "Login", type: "LOGIN", document: sameMeaning },
      environmentId: catalogue.environments.development,
    });
    const { node } = await api.data(CONFIGURATIONS, { id: catalogue.journeys.login, ...catalogue.environments });
    expect(createJourney.journey.configuration.hash).toBe(node.development.hash);
    expect(createJourney.journey.configuration.document).toEqual(node.development.document);
  });

  it("appears in its application's journeys", async () => {
    const { api } = await tenantWithApi("create-journey");
    const catalogue = await createCatalogue(api);
    const { node } = await api.data(APPLICATION, {
      id: catalogue.applicationId,
      environmentId: catalogue.environments.development,
      key: "registration",
    });
    expect(node.journeys.map((j: any) => j.key)).toEqual(["login", "registration"]);
    expect(node.journey).toMatchObject({ id: catalogue.journeys.registration, type: "REGISTRATION" });
  });
});

describe("Journey.configuration", () => {
  it("is the head version in an environment with a client, and null where the application has no client", async () => {
    const { api } = await tenantWithApi("configuration");
    const catalogue = await createCatalogue(api);
    const { node } = await api.data(CONFIGURATIONS, { id: catalogue.journeys.login, ...catalogue.environments });
    expect(node.development).toMatchObject({ version: 1, document: LOGIN_DOCUMENT_STORED });
    expect(node.staging).toBeNull();
    expect(node.production).toBeNull();
  });

  it("moves with the head when a newer version is written", async () => {
    const { api } = await tenantWithApi("configuration");
    const catalogue = await createCatalogue(api);
    await appendVersionsDirectly(catalogue.journeys.login, catalogue.environments.development, 2);
    const { node } = await api.data(CONFIGURATIONS, { id: catalogue.journeys.login, ...catalogue.environments });
    expect(node.development).toMatchObject({ version: 3, comment: "version 3" });
  });
});

/**
 * Only createJourney and createClient write versions so far (saving a draft comes later), so the
 * paging tests append versions through the repository, as the save use-case will.
 */
async function appendVersionsDirectly(journeyGlobalId: string, environmentGlobalId: string, count: number) {
  const { db } = await testDatabase();
  const key = { journeyId: localIdOf(journeyGlobalId), environmentId: localIdOf(environmentGlobalId) };
  for (let i = 0; i < count; i++) {
    const [head] = await db
      .select({ version: journeyHeads.version })
      .from(journeyHeads)
      .where(and(eq(journeyHeads.journeyId, key.journeyId), eq(journeyHeads.environmentId, key.environmentId)));
    const password = { ...LOGIN_DOCUMENT_STORED.steps.password, settings: { minLength: 13 + i, allowReset: true } };
    const document = { ...LOGIN_DOCUMENT_STORED, steps: { ...LOGIN_DOCUMENT_STORED.steps, password } };
    await appendVersion(db, key, head.version, {
      document,
      hash: sha256OfCanonical(document),
      origin: "SAVE",
      savedBy: "fixture",
      savedByTokenId: null,
      comment: `version ${head.version + 1}`,
    });
  }
}

describe("Journey.versions", () => {
  it("lists versions newest first and pages with first and after", async () => {
    const { api } = await tenantWithApi("versions");
    const catalogue = await createCatalogue(api);
    await appendVersionsDirectly(catalogue.journeys.login, catalogue.environments.development, 4);
    const read = async (after?: string) =>
      (await api.data(VERSIONS, { id: catalogue.journeys.login, environmentId: catalogue.environments.development, first: 2, after })).node
        .versions;
    const first = await read();
    expect(first.edges.map((e: any) => e.node.version)).toEqual([5, 4]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await read(first.pageInfo.endCursor);
    expect(second.edges.map((e: any) => e.node.version)).toEqual([3, 2]);
    expect(second.pageInfo.hasNextPage).toBe(true);
    const third = await read(second.pageInfo.endCursor);
    expect(third.edges.map((e: any) => e.node)).toEqual([
      { version: 1, origin: "SAVE", comment: expect.any(String), hash: sha256OfCanonical(LOGIN_DOCUMENT_STORED) },
    ]);
    expect(third.pageInfo.hasNextPage).toBe(false);
  });

  it("lists the whole history without first, newest first", async () => {
    const { api } = await tenantWithApi("versions");
    const catalogue = await createCatalogue(api);
    await appendVersionsDirectly(catalogue.journeys.login, catalogue.environments.development, 2);
    const { node } = await api.data(VERSIONS, { id: catalogue.journeys.login, environmentId: catalogue.environments.development });
    expect(node.versions.edges.map((e: any) => [e.node.version, e.node.comment])).toEqual([
      [3, "version 3"],
      [2, "version 2"],
      [1, "Journey created"],
    ]);
    expect(node.versions.pageInfo.hasNextPage).toBe(false);
  });

  it("keeps each environment's history apart", async () => {
    const { api } = await tenantWithApi("versions");
    const catalogue = await createCatalogue(api);
    await appendVersionsDirectly(catalogue.journeys.login, catalogue.environments.development, 1);
    await createClient(api, {
      applicationId: catalogue.applicationId,
      environmentId: catalogue.environments.staging,
      databaseId: catalogue.databases.staging,
    });
    const staging = (await api.data(VERSIONS, { id: catalogue.journeys.login, environmentId: catalogue.environments.staging })).node
      .versions;
    expect(staging.edges.map((e: any) => [e.node.version, e.node.origin])).toEqual([[1, "CLIENT_CREATION"]]);
    const production = (await api.data(VERSIONS, { id: catalogue.journeys.login, environmentId: catalogue.environments.production })).node
      .versions;
    expect(production.edges).toEqual([]);
    expect(production.pageInfo.hasNextPage).toBe(false);
  });

  it("refuses a cursor that is not a version number with VALIDATION_FAILED", async () => {
    const { api } = await tenantWithApi("versions");
    const catalogue = await createCatalogue(api);
    const response = await api.request(VERSIONS, {
      id: catalogue.journeys.login,
      environmentId: catalogue.environments.development,
      after: "not-a-version",
    });
    expect(response.status).toBe(200);
    expect(errorCodes(response)).toEqual(["VALIDATION_FAILED"]);
  });
});

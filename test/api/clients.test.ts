import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { clientSettingsVersions, clients } from "../../src/db/schema.js";
import { apiContext } from "../support/api-context.js";
import { testDatabase } from "../support/database.js";
import { CONFIGURATIONS } from "../support/documents.js";
import {
  createApplication,
  createCatalogue,
  createClient,
  createDatabase,
  createJourney,
  environmentIds,
  localIdOf,
  operation,
  sha256OfCanonical,
} from "../support/fixtures.js";

/** Creating a client, in the lowest environment and copied up from the one below. */

const CLIENT_FIELDS = `
  fragment ClientFields on Client {
    id clientId name redirectUris allowedOrigins settings
    application { id } environment { id key } database { id name }
  }
`;

const CREATE_CLIENT = operation(`
  mutation CreateClient($input: CreateClientInput!) {
    createClient(input: $input) {
      __typename
      ... on CreateClientSuccess { client { ...ClientFields } }
      ... on Error { code message }
    }
  }
  ${CLIENT_FIELDS}
`);

const CLIENT = operation(`
  query Client($id: ID!) { node(id: $id) { ...ClientFields } }
  ${CLIENT_FIELDS}
`);

const DEFAULT_CLIENT_SETTINGS = {
  accessTokenTtlSeconds: 3600,
  refreshTokenTtlSeconds: 2592000,
  grantTypes: ["authorization_code", "refresh_token"],
  pkceRequired: true,
  refreshTokenRotation: true,
};

const { tenantWithApi } = apiContext();

describe("createClient in the lowest environment", () => {
  async function setUp() {
    const { api } = await tenantWithApi("create-client");
    const environments = await environmentIds(api);
    const databaseId = await createDatabase(api, { environmentId: environments.development, name: "acme-users-dev" });
    const applicationId = await createApplication(api, "Customer Portal");
    return { api, environments, databaseId, applicationId };
  }

  it("generates a clientId and starts with the default shared settings", async () => {
    const { api, environments, databaseId, applicationId } = await setUp();
    const { createClient } = await api.data(CREATE_CLIENT, {
      input: { applicationId, environmentId: environments.development, databaseId, redirectUris: [], allowedOrigins: [] },
    });
    expect(createClient.__typename).toBe("CreateClientSuccess");
    expect(createClient.client.clientId).toMatch(/^[A-Za-z0-9]{16,}$/);
    expect(createClient.client.settings).toEqual(DEFAULT_CLIENT_SETTINGS);
  });

  it("takes the environment-specific fields from the input, origins normalized", async () => {
    const { api, environments, databaseId, applicationId } = await setUp();
    const { createClient } = await api.data(CREATE_CLIENT, {
      input: {
        applicationId,
        environmentId: environments.development,
        databaseId,
        name: "Portal (dev)",
        redirectUris: ["https://dev.portal.example.com/callback", "http://localhost:3000/callback"],
        allowedOrigins: ["https://dev.portal.example.com/", "https://dev.portal.example.com", "http://localhost:3000"],
      },
    });
    expect(createClient.client).toEqual({
      id: expect.any(String),
      clientId: expect.any(String),
      name: "Portal (dev)",
      redirectUris: ["https://dev.portal.example.com/callback", "http://localhost:3000/callback"],
      allowedOrigins: ["https://dev.portal.example.com", "http://localhost:3000"],
      settings: DEFAULT_CLIENT_SETTINGS,
      application: { id: applicationId },
      environment: { id: environments.development, key: "development" },
      database: { id: databaseId, name: "acme-users-dev" },
    });
    // Read back through node: what was written is what is read.
    expect((await api.data(CLIENT, { id: createClient.client.id })).node).toEqual(createClient.client);
  });

  it("names the client after its application and environment when no name is given", async () => {
    const { api, environments, databaseId, applicationId } = await setUp();
    const { createClient } = await api.data(CREATE_CLIENT, {
      input: { applicationId, environmentId: environments.development, databaseId, redirectUris: [], allowedOrigins: [] },
    });
    expect(createClient.client.name).toBe("Customer Portal (Development)");
  });

  it("generates a different clientId for every client", async () => {
    const { api, environments, databaseId } = await setUp();
    const ids = new Set<string>();
    for (const name of ["one", "two", "three"]) {
      const applicationId = await createApplication(api, name);
      const { createClient } = await api.data(CREATE_CLIENT, {
        input: { applicationId, environmentId: environments.development, databaseId, redirectUris: [], allowedOrigins: [] },
      });
      ids.add(createClient.client.clientId);
    }
    expect(ids.size).toBe(3);
  });
});

describe("createClient in an upper environment", () => {
  /**
   * No mutation changes client settings yet (updateClient comes later), so the development
   * client's settings are set in the table: otherwise a copy could not be told from the defaults.
   */
  async function setClientSettingsDirectly(clientGlobalId: string, settings: typeof DEFAULT_CLIENT_SETTINGS) {
    const { db } = await testDatabase();
    const id = localIdOf(clientGlobalId);
    const hash = sha256OfCanonical(settings);
    await db.update(clients).set({ settings, settingsHash: hash }).where(eq(clients.id, id));
    await db
      .update(clientSettingsVersions)
      .set({ settings, hash })
      .where(and(eq(clientSettingsVersions.clientId, id), eq(clientSettingsVersions.version, 1)));
  }

  const CUSTOM_SETTINGS = { ...DEFAULT_CLIENT_SETTINGS, accessTokenTtlSeconds: 900, grantTypes: ["authorization_code"] };

  it("copies the lower client's shared settings and takes its own environment-specific fields", async () => {
    const { api } = await tenantWithApi("create-client-upper");
    const catalogue = await createCatalogue(api);
    await setClientSettingsDirectly(catalogue.clientId, CUSTOM_SETTINGS);
    const { createClient } = await api.data(CREATE_CLIENT, {
      input: {
        applicationId: catalogue.applicationId,
        environmentId: catalogue.environments.staging,
        databaseId: catalogue.databases.staging,
        redirectUris: ["https://staging.portal.example.com/callback"],
        allowedOrigins: ["https://staging.portal.example.com"],
      },
    });
    const development = (await api.data(CLIENT, { id: catalogue.clientId })).node;
    expect(createClient.client).toMatchObject({
      settings: CUSTOM_SETTINGS,
      name: "Customer Portal (Staging)",
      environment: { key: "staging" },
      database: { id: catalogue.databases.staging },
      redirectUris: ["https://staging.portal.example.com/callback"],
      allowedOrigins: ["https://staging.portal.example.com"],
    });
    expect(createClient.client.clientId).not.toBe(development.clientId);
    // The source keeps its own environment-specific fields.
    expect(development).toMatchObject({
      redirectUris: ["http://localhost:3000/callback"],
      database: { id: catalogue.databases.development },
    });
  });

  it("copies every journey's head as version 1 with origin CLIENT_CREATION and the same hash", async () => {
    const { api } = await tenantWithApi("create-client-upper");
    const catalogue = await createCatalogue(api);
    const { createClient } = await api.data(CREATE_CLIENT, {
      input: {
        applicationId: catalogue.applicationId,
        environmentId: catalogue.environments.staging,
        databaseId: catalogue.databases.staging,
        redirectUris: [],
        allowedOrigins: [],
      },
    });
    expect(createClient.__typename).toBe("CreateClientSuccess");
    for (const journeyId of Object.values(catalogue.journeys)) {
      const { node } = await api.data(CONFIGURATIONS, { id: journeyId, ...catalogue.environments });
      expect(node.staging).toMatchObject({
        version: 1,
        origin: "CLIENT_CREATION",
        hash: node.development.hash,
        document: node.development.document,
        steps: node.development.steps,
        savedBy: "admin-token",
        comment: "Copied from Development version 1",
      });
      expect(node.production).toBeNull();
    }
  });

  it("copies from the nearest lower environment that has a client", async () => {
    const { api } = await tenantWithApi("create-client-upper");
    const catalogue = await createCatalogue(api);
    await setClientSettingsDirectly(catalogue.clientId, CUSTOM_SETTINGS);
    // Staging has no client: production copies from development.
    const { createClient } = await api.data(CREATE_CLIENT, {
      input: {
        applicationId: catalogue.applicationId,
        environmentId: catalogue.environments.production,
        databaseId: catalogue.databases.production,
        redirectUris: [],
        allowedOrigins: [],
      },
    });
    expect(createClient.client.settings).toEqual(CUSTOM_SETTINGS);
    const { node } = await api.data(CONFIGURATIONS, { id: catalogue.journeys.login, ...catalogue.environments });
    expect(node.staging).toBeNull();
    expect(node.production).toMatchObject({
      version: 1,
      origin: "CLIENT_CREATION",
      hash: node.development.hash,
      comment: "Copied from Development version 1",
    });
  });

  it("copies from the environment right below once it has a client", async () => {
    const { api } = await tenantWithApi("create-client-upper");
    const catalogue = await createCatalogue(api);
    for (const key of ["staging", "production"] as const) {
      await createClient(api, {
        applicationId: catalogue.applicationId,
        environmentId: catalogue.environments[key],
        databaseId: catalogue.databases[key],
      });
    }
    const { node } = await api.data(CONFIGURATIONS, { id: catalogue.journeys.registration, ...catalogue.environments });
    expect(node.production).toMatchObject({
      version: 1,
      origin: "CLIENT_CREATION",
      hash: node.staging.hash,
      comment: "Copied from Staging version 1",
    });
  });

  it("starts a client with no client below it with the default settings and no journeys", async () => {
    const { api } = await tenantWithApi("create-client-upper");
    const environments = await environmentIds(api);
    const databaseId = await createDatabase(api, { environmentId: environments.staging, name: "staging-users" });
    const applicationId = await createApplication(api, "Staging only");
    const journeyId = await createJourney(api, { applicationId, key: "login" });
    const { createClient } = await api.data(CREATE_CLIENT, {
      input: { applicationId, environmentId: environments.staging, databaseId, redirectUris: [], allowedOrigins: [] },
    });
    expect(createClient.client.settings).toEqual(DEFAULT_CLIENT_SETTINGS);
    const { node } = await api.data(CONFIGURATIONS, { id: journeyId, ...environments });
    expect(node.staging).toBeNull();
  });
});

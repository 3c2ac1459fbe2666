import { createHash } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendVersion } from "../../src/db/repositories/journeys.js";
import { clientSettingsVersions, clients, journeyHeads } from "../../src/db/schema.js";
import { canonicalJson } from "../../src/domain/canonical-json.js";
import { globalId, parseGlobalId } from "../../src/graphql/ids.js";
import { testDatabase } from "../support/database.js";
import {
  type Api,
  apiAs,
  createApiToken,
  createApplication,
  createCatalogue,
  createClient,
  createDatabase,
  createJourney,
  environmentIds,
  errorCodes,
  LOGIN_DOCUMENT,
  LOGIN_DOCUMENT_STORED,
  operation,
} from "../support/fixtures.js";
import { gql } from "../support/graphql.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";

const VIEWER = operation(`
  query Viewer { viewer { role organization { id name } } }
`);

const ENVIRONMENTS = operation(`
  query Environments {
    environments { id key name rank isProduction editable lower { key } upper { key } databases { id name environment { key } } }
  }
`);

const CREATE_ENVIRONMENT = operation(`
  mutation CreateEnvironment($input: CreateEnvironmentInput!) {
    createEnvironment(input: $input) {
      __typename
      ... on CreateEnvironmentSuccess { environment { id key name rank isProduction editable lower { key } upper { key } databases { id } } }
      ... on Error { code message }
    }
  }
`);

const CREATE_DATABASE = operation(`
  mutation CreateDatabase($input: CreateDatabaseInput!) {
    createDatabase(input: $input) {
      __typename
      ... on CreateDatabaseSuccess { database { id name environment { id key } } }
      ... on Error { code message }
    }
  }
`);

const CREATE_APPLICATION = operation(`
  mutation CreateApplication($input: CreateApplicationInput!) {
    createApplication(input: $input) {
      __typename
      ... on CreateApplicationSuccess { application { id name clients { id } journeys { id } } }
      ... on Error { code message }
    }
  }
`);

const APPLICATIONS = operation(`
  query Applications($first: Int, $after: String) {
    applications(first: $first, after: $after) {
      edges { cursor node { id name } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
`);

const APPLICATION = operation(`
  query Application($id: ID!, $environmentId: ID!, $key: String!) {
    node(id: $id) {
      __typename id
      ... on Application {
        name
        clients { id environment { key } }
        client(environmentId: $environmentId) { id environment { key } }
        journeys { id key }
        journey(key: $key) { id key name type application { id } }
      }
    }
  }
`);

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

const VERSION_FIELDS = `
  fragment VersionFields on JourneyVersion {
    version hash start document origin savedAt savedBy comment
    steps { key type name enabled settings transitions { outcome to } }
  }
`;

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

const CONFIGURATIONS = operation(`
  query Configurations($id: ID!, $development: ID!, $staging: ID!, $production: ID!) {
    node(id: $id) {
      ... on Journey {
        key
        development: configuration(environmentId: $development) { ...VersionFields }
        staging: configuration(environmentId: $staging) { ...VersionFields }
        production: configuration(environmentId: $production) { ...VersionFields }
      }
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

const NODE = operation(`
  query Node($id: ID!) {
    node(id: $id) {
      __typename id
      ... on Organization { name }
      ... on ApiToken { name role revokedAt }
      ... on Environment { key }
      ... on Database { name }
      ... on Application { name }
      ... on Client { clientId }
      ... on Journey { key }
    }
  }
`);

const CREATE_API_TOKEN = operation(`
  mutation CreateApiToken($input: CreateApiTokenInput!) {
    createApiToken(input: $input) {
      __typename
      ... on CreateApiTokenSuccess { token apiToken { id name role createdAt revokedAt } }
      ... on Error { code message }
    }
  }
`);

const REVOKE_API_TOKEN = operation(`
  mutation RevokeApiToken($input: RevokeApiTokenInput!) {
    revokeApiToken(input: $input) {
      __typename
      ... on RevokeApiTokenSuccess { apiToken { id name revokedAt } }
      ... on Error { code message }
    }
  }
`);

const DEFAULT_CLIENT_SETTINGS = {
  accessTokenTtlSeconds: 3600,
  refreshTokenTtlSeconds: 2592000,
  grantTypes: ["authorization_code", "refresh_token"],
  pkceRequired: true,
  refreshTokenRotation: true,
};

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

/** What the contract promises a version's hash is: SHA-256 of the canonical JSON, computed here with node:crypto. */
const sha256OfCanonical = (document: unknown) => createHash("sha256").update(canonicalJson(document)).digest("hex");

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

async function tenantWithApi(label: string, role: keyof Tenant["tokens"] = "ADMIN"): Promise<{ tenant: Tenant; api: Api }> {
  const tenant = await createTenant(label);
  return { tenant, api: apiAs(server.endpoint, tenant, role) };
}

function localIdOf(id: string): string {
  const parsed = parseGlobalId(id);
  if (!parsed) throw new Error(`not a global ID: ${id}`);
  return parsed.id;
}

describe("viewer", () => {
  it.each(["VIEWER", "EDITOR", "PROMOTER", "ADMIN"] as const)("names the organization and role of a %s token", async (role) => {
    const { tenant, api } = await tenantWithApi("viewer", role);
    const { viewer } = await api.data(VIEWER);
    expect(viewer).toEqual({ role, organization: { id: globalId("Organization", tenant.organizationId), name: tenant.name } });
  });
});

describe("environments", () => {
  it("lists a new organization's pipeline lowest first: development (editable) → staging → production", async () => {
    const { api } = await tenantWithApi("environments");
    const { environments } = await api.data(ENVIRONMENTS);
    expect(environments.map((e: any) => [e.key, e.name, e.rank, e.editable, e.isProduction])).toEqual([
      ["development", "Development", 0, true, false],
      ["staging", "Staging", 1, false, false],
      ["production", "Production", 2, false, true],
    ]);
  });

  it("links every environment to its lower and upper neighbour", async () => {
    const { api } = await tenantWithApi("environments");
    const { environments } = await api.data(ENVIRONMENTS);
    expect(environments.map((e: any) => [e.lower?.key ?? null, e.key, e.upper?.key ?? null])).toEqual([
      [null, "development", "staging"],
      ["development", "staging", "production"],
      ["staging", "production", null],
    ]);
  });

  it("lists each environment's databases by name, and none at the start", async () => {
    const { api } = await tenantWithApi("environments");
    expect((await api.data(ENVIRONMENTS)).environments.every((e: any) => e.databases.length === 0)).toBe(true);
    const ids = await environmentIds(api);
    await createDatabase(api, { environmentId: ids.development, name: "zeta-users" });
    await createDatabase(api, { environmentId: ids.development, name: "alpha-users" });
    await createDatabase(api, { environmentId: ids.production, name: "prod-users" });
    const { environments } = await api.data(ENVIRONMENTS);
    expect(environments.map((e: any) => [e.key, e.databases.map((d: any) => `${d.name}@${d.environment.key}`)])).toEqual([
      ["development", ["alpha-users@development", "zeta-users@development"]],
      ["staging", []],
      ["production", ["prod-users@production"]],
    ]);
  });

  it("shows only the caller's organization's environments", async () => {
    const { api } = await tenantWithApi("environments");
    const other = await tenantWithApi("environments-other");
    await other.api.data(CREATE_ENVIRONMENT, { input: { key: "qa", name: "QA", rank: 1 } });
    const { environments } = await api.data(ENVIRONMENTS);
    expect(environments.map((e: any) => e.key)).toEqual(["development", "staging", "production"]);
  });
});

describe("createEnvironment", () => {
  it("inserts an environment at a rank and moves the environments at and above it up one", async () => {
    const { api } = await tenantWithApi("create-environment");
    const before = await environmentIds(api);
    const { createEnvironment } = await api.data(CREATE_ENVIRONMENT, { input: { key: "qa", name: "QA", rank: 1 } });
    expect(createEnvironment).toEqual({
      __typename: "CreateEnvironmentSuccess",
      environment: {
        id: expect.any(String),
        key: "qa",
        name: "QA",
        rank: 1,
        isProduction: false,
        editable: false,
        lower: { key: "development" },
        upper: { key: "staging" },
        databases: [],
      },
    });
    const { environments } = await api.data(ENVIRONMENTS);
    expect(environments.map((e: any) => [e.rank, e.key, e.lower?.key ?? null, e.upper?.key ?? null])).toEqual([
      [0, "development", null, "qa"],
      [1, "qa", "development", "staging"],
      [2, "staging", "qa", "production"],
      [3, "production", "staging", null],
    ]);
    // Moving up keeps identities: the same environments, at new ranks.
    expect(await environmentIds(api)).toEqual({ ...before, qa: createEnvironment.environment.id });
  });

  it("inserts at rank 0 a new lowest environment", async () => {
    const { api } = await tenantWithApi("create-environment");
    const { createEnvironment } = await api.data(CREATE_ENVIRONMENT, {
      input: { key: "sandbox", name: "Sandbox", rank: 0, editable: true },
    });
    expect(createEnvironment.environment).toMatchObject({ rank: 0, editable: true, lower: null, upper: { key: "development" } });
    const { environments } = await api.data(ENVIRONMENTS);
    expect(environments.map((e: any) => `${e.rank}:${e.key}`)).toEqual(["0:sandbox", "1:development", "2:staging", "3:production"]);
  });

  it("appends an environment whose rank is past the top", async () => {
    const { api } = await tenantWithApi("create-environment");
    const { createEnvironment } = await api.data(CREATE_ENVIRONMENT, {
      input: { key: "dr", name: "Disaster recovery", rank: 50, isProduction: true },
    });
    expect(createEnvironment.environment).toMatchObject({
      key: "dr",
      rank: 3,
      isProduction: true,
      editable: false,
      lower: { key: "production" },
      upper: null,
    });
    const { environments } = await api.data(ENVIRONMENTS);
    expect(environments.map((e: any) => `${e.rank}:${e.key}`)).toEqual(["0:development", "1:staging", "2:production", "3:dr"]);
  });

  it("allows a key another organization already uses", async () => {
    const { api } = await tenantWithApi("create-environment");
    const other = await tenantWithApi("create-environment-other");
    await other.api.data(CREATE_ENVIRONMENT, { input: { key: "qa", name: "QA", rank: 1 } });
    const { createEnvironment } = await api.data(CREATE_ENVIRONMENT, { input: { key: "qa", name: "QA", rank: 1 } });
    expect(createEnvironment.__typename).toBe("CreateEnvironmentSuccess");
  });
});

describe("createDatabase", () => {
  it("creates a database in an environment, which then lists it", async () => {
    const { api } = await tenantWithApi("create-database");
    const ids = await environmentIds(api);
    const { createDatabase } = await api.data(CREATE_DATABASE, { input: { environmentId: ids.staging, name: "acme-users-staging" } });
    expect(createDatabase).toEqual({
      __typename: "CreateDatabaseSuccess",
      database: { id: expect.any(String), name: "acme-users-staging", environment: { id: ids.staging, key: "staging" } },
    });
    const { environments } = await api.data(ENVIRONMENTS);
    const staging = environments.find((e: any) => e.key === "staging");
    expect(staging.databases).toEqual([{ id: createDatabase.database.id, name: "acme-users-staging", environment: { key: "staging" } }]);
  });

  it("allows a name another organization already uses", async () => {
    const { api } = await tenantWithApi("create-database");
    const other = await tenantWithApi("create-database-other");
    await createDatabase(other.api, { environmentId: (await environmentIds(other.api)).development, name: "shared-name" });
    const { createDatabase: result } = await api.data(CREATE_DATABASE, {
      input: { environmentId: (await environmentIds(api)).development, name: "shared-name" },
    });
    expect(result.__typename).toBe("CreateDatabaseSuccess");
  });
});

describe("createApplication", () => {
  it("creates an application with no clients and no journeys, its name trimmed", async () => {
    const { api } = await tenantWithApi("create-application");
    const { createApplication } = await api.data(CREATE_APPLICATION, { input: { name: "  Customer Portal  " } });
    expect(createApplication).toEqual({
      __typename: "CreateApplicationSuccess",
      application: { id: expect.any(String), name: "Customer Portal", clients: [], journeys: [] },
    });
  });
});

describe("applications", () => {
  const NAMES = ["app-05", "app-02", "app-07", "app-01", "app-06", "app-03", "app-04"];

  async function tenantWithApplications() {
    const context = await tenantWithApi("applications");
    for (const name of NAMES) await createApplication(context.api, name);
    return context;
  }

  async function page(api: Api, variables: { first?: number; after?: string }) {
    return (await api.data(APPLICATIONS, variables)).applications;
  }

  it("pages through the applications by name with first and after", async () => {
    const { api } = await tenantWithApplications();
    const first = await page(api, { first: 3 });
    expect(first.edges.map((e: any) => e.node.name)).toEqual(["app-01", "app-02", "app-03"]);
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false, endCursor: first.edges[2].cursor });
    const second = await page(api, { first: 3, after: first.pageInfo.endCursor });
    expect(second.edges.map((e: any) => e.node.name)).toEqual(["app-04", "app-05", "app-06"]);
    expect(second.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    const third = await page(api, { first: 3, after: second.pageInfo.endCursor });
    expect(third.edges.map((e: any) => e.node.name)).toEqual(["app-07"]);
    expect(third.pageInfo.hasNextPage).toBe(false);
  });

  it("ends without a next page when a page ends exactly at the last application", async () => {
    const { api } = await tenantWithApplications();
    const all = await page(api, { first: 7 });
    expect(all.edges).toHaveLength(7);
    expect(all.pageInfo.hasNextPage).toBe(false);
    const after = await page(api, { first: 3, after: all.pageInfo.endCursor });
    expect(after.edges).toEqual([]);
    expect(after.pageInfo.hasNextPage).toBe(false);
  });

  it("returns the same order on every read, and the pages add up to the whole list", async () => {
    const { api } = await tenantWithApplications();
    const whole = (await page(api, {})).edges.map((e: any) => e.node.id);
    expect(whole).toHaveLength(7);
    expect((await page(api, {})).edges.map((e: any) => e.node.id)).toEqual(whole);
    const paged: string[] = [];
    let after: string | undefined;
    for (;;) {
      const next = await page(api, { first: 2, after });
      paged.push(...next.edges.map((e: any) => e.node.id));
      if (!next.pageInfo.hasNextPage) break;
      after = next.pageInfo.endCursor;
    }
    expect(paged).toEqual(whole);
  });

  it("keeps a cursor valid when the application before it is followed by a new one", async () => {
    const { api } = await tenantWithApplications();
    const first = await page(api, { first: 2 });
    await createApplication(api, "app-02a");
    const second = await page(api, { first: 2, after: first.pageInfo.endCursor });
    expect(second.edges.map((e: any) => e.node.name)).toEqual(["app-02a", "app-03"]);
  });

  it("is an empty page without a next page for an organization with no applications", async () => {
    const { api } = await tenantWithApi("applications-empty");
    const empty = await page(api, { first: 5 });
    expect(empty.edges).toEqual([]);
    expect(empty.pageInfo.hasNextPage).toBe(false);
  });

  it("lists only the caller's organization's applications", async () => {
    const { api } = await tenantWithApplications();
    const other = await tenantWithApi("applications-other");
    await createApplication(other.api, "app-00");
    expect((await page(api, {})).edges.map((e: any) => e.node.name)).toEqual([...NAMES].sort());
  });

  it.each([
    ["garbage", "not-a-cursor"],
    ["a version cursor", "1"],
    ["a cursor of the wrong shape", Buffer.from(JSON.stringify(["app-01", "not-a-uuid"])).toString("base64url")],
  ])("refuses %s as after with VALIDATION_FAILED", async (_label, after) => {
    const { api } = await tenantWithApplications();
    const response = await api.request(APPLICATIONS, { first: 2, after });
    expect(response.status).toBe(200);
    expect(errorCodes(response)).toEqual(["VALIDATION_FAILED"]);
    expect(response.errors?.[0].path).toEqual(["applications"]);
  });

  it("refuses a negative first with VALIDATION_FAILED", async () => {
    const { api } = await tenantWithApi("applications-negative");
    const response = await api.request(APPLICATIONS, { first: -1 });
    expect(response.status).toBe(200);
    expect(errorCodes(response)).toEqual(["VALIDATION_FAILED"]);
  });
});

describe("Application clients and journeys", () => {
  it("lists clients lowest environment first and finds the one of an environment", async () => {
    const { api } = await tenantWithApi("application-fields");
    const catalogue = await createCatalogue(api);
    // Created in production first, then staging: the list still follows the pipeline.
    const production = await createClient(api, {
      applicationId: catalogue.applicationId,
      environmentId: catalogue.environments.production,
      databaseId: catalogue.databases.production,
    });
    const staging = await createClient(api, {
      applicationId: catalogue.applicationId,
      environmentId: catalogue.environments.staging,
      databaseId: catalogue.databases.staging,
    });
    const { node } = await api.data(APPLICATION, {
      id: catalogue.applicationId,
      environmentId: catalogue.environments.staging,
      key: "login",
    });
    expect(node.clients).toEqual([
      { id: catalogue.clientId, environment: { key: "development" } },
      { id: staging, environment: { key: "staging" } },
      { id: production, environment: { key: "production" } },
    ]);
    expect(node.client).toEqual({ id: staging, environment: { key: "staging" } });
  });

  it("has no client in an environment where none was created", async () => {
    const { api } = await tenantWithApi("application-fields");
    const catalogue = await createCatalogue(api);
    const { node } = await api.data(APPLICATION, {
      id: catalogue.applicationId,
      environmentId: catalogue.environments.production,
      key: "login",
    });
    expect(node.clients.map((c: any) => c.environment.key)).toEqual(["development"]);
    expect(node.client).toBeNull();
  });

  it("lists journeys by key and finds one by its key", async () => {
    const { api } = await tenantWithApi("application-fields");
    const catalogue = await createCatalogue(api);
    const recovery = await createJourney(api, { applicationId: catalogue.applicationId, key: "a-recovery", type: "PASSWORD_RECOVERY" });
    const { node } = await api.data(APPLICATION, {
      id: catalogue.applicationId,
      environmentId: catalogue.environments.development,
      key: "login",
    });
    expect(node.journeys).toEqual([
      { id: recovery, key: "a-recovery" },
      { id: catalogue.journeys.login, key: "login" },
      { id: catalogue.journeys.registration, key: "registration" },
    ]);
    expect(node.journey).toEqual({
      id: catalogue.journeys.login,
      key: "login",
      name: "Login",
      type: "LOGIN",
      application: { id: catalogue.applicationId },
    });
  });

  it("has no journey under an unknown key", async () => {
    const { api } = await tenantWithApi("application-fields");
    const catalogue = await createCatalogue(api);
    const { node } = await api.data(APPLICATION, {
      id: catalogue.applicationId,
      environmentId: catalogue.environments.development,
      key: "checkout",
    });
    expect(node.journey).toBeNull();
  });
});

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

describe("createJourney", () => {
  it("writes version 1 of the default document (one IDENTIFIER step) in the lowest environment", async () => {
    const { tenant, api } = await tenantWithApi("create-journey");
    const catalogue = await createCatalogue(api);
    const editor = apiAs(server.endpoint, tenant, "EDITOR");
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

describe("node", () => {
  async function everyNode() {
    const { tenant, api } = await tenantWithApi("node");
    const catalogue = await createCatalogue(api);
    const token = await createApiToken(api, { name: "ci", role: "EDITOR" });
    const expected: [string, string, Record<string, unknown>][] = [
      ["Organization", globalId("Organization", tenant.organizationId), { name: tenant.name }],
      ["ApiToken", token.id, { name: "ci", role: "EDITOR", revokedAt: null }],
      ["Environment", catalogue.environments.staging, { key: "staging" }],
      ["Database", catalogue.databases.production, { name: "acme-users-production" }],
      ["Application", catalogue.applicationId, { name: "Customer Portal" }],
      ["Client", catalogue.clientId, { clientId: expect.any(String) }],
      ["Journey", catalogue.journeys.login, { key: "login" }],
    ];
    return { api, expected };
  }

  it("resolves the ID of every node type to that object", async () => {
    const { api, expected } = await everyNode();
    for (const [typename, id, fields] of expected) {
      const { node } = await api.data(NODE, { id });
      expect(node).toEqual({ __typename: typename, id, ...fields });
    }
  });

  it("returns null for another organization's ID of every node type", async () => {
    const { expected } = await everyNode();
    const { api } = await tenantWithApi("node-other");
    for (const [, id] of expected) {
      const response = await api.request(NODE, { id });
      expect(response.errors).toBeUndefined();
      expect(response.data.node).toBeNull();
    }
  });

  it.each([
    ["an empty string", ""],
    ["garbage", "not-an-id"],
    ["base64 without a type", Buffer.from("no-colon").toString("base64")],
    ["an unknown type", Buffer.from("Widget:6f1c1b7e-8f0c-4d43-9a43-4f1c2b7e8f0c").toString("base64")],
    ["a type without an id", Buffer.from("Application:").toString("base64")],
    ["an id that is not a UUID", globalId("Application", "not-a-uuid")],
    ["an unknown UUID", globalId("Application", "6f1c1b7e-8f0c-4d43-9a43-4f1c2b7e8f0c")],
    ["a very long string", "A".repeat(5000)],
  ])("returns null for %s", async (_label, id) => {
    const { api } = await tenantWithApi("node-malformed");
    const response = await api.request(NODE, { id });
    expect(response.status).toBe(200);
    expect(response.errors).toBeUndefined();
    expect(response.data.node).toBeNull();
  });

  it("returns null for an existing row's UUID under another type's name", async () => {
    const { api } = await tenantWithApi("node-wrong-type");
    const catalogue = await createCatalogue(api);
    const response = await api.request(NODE, { id: globalId("Application", localIdOf(catalogue.environments.development)) });
    expect(response.errors).toBeUndefined();
    expect(response.data.node).toBeNull();
  });
});

describe("API tokens", () => {
  it("creates a token that works with its role and shows its record", async () => {
    const { api } = await tenantWithApi("tokens");
    const { createApiToken } = await api.data(CREATE_API_TOKEN, { input: { name: "deploy-bot", role: "PROMOTER" } });
    expect(createApiToken).toEqual({
      __typename: "CreateApiTokenSuccess",
      token: expect.stringMatching(/^jpt_/),
      apiToken: { id: expect.any(String), name: "deploy-bot", role: "PROMOTER", createdAt: expect.any(String), revokedAt: null },
    });
    const viewer = await gql(server.endpoint, createApiToken.token, VIEWER);
    expect(viewer.data.viewer.role).toBe("PROMOTER");
  });

  it("revokes a token: its record shows when, and its next request is refused", async () => {
    const { api } = await tenantWithApi("tokens");
    const token = await createApiToken(api, { name: "old", role: "VIEWER" });
    const { revokeApiToken } = await api.data(REVOKE_API_TOKEN, { input: { apiTokenId: token.id } });
    expect(revokeApiToken).toEqual({
      __typename: "RevokeApiTokenSuccess",
      apiToken: { id: token.id, name: "old", revokedAt: expect.any(String) },
    });
    expect((await gql(server.endpoint, token.token, VIEWER)).status).toBe(401);
  });

  it("frees a token's name when it is revoked, and lets another organization use any name", async () => {
    const { api } = await tenantWithApi("tokens");
    const { api: otherApi } = await tenantWithApi("tokens-other");
    const first = await createApiToken(api, { name: "ci-bot", role: "VIEWER" });
    await api.data(REVOKE_API_TOKEN, { input: { apiTokenId: first.id } });
    const second = await api.data(CREATE_API_TOKEN, { input: { name: "ci-bot", role: "EDITOR" } });
    expect(second.createApiToken).toMatchObject({ __typename: "CreateApiTokenSuccess", apiToken: { name: "ci-bot", role: "EDITOR" } });
    const elsewhere = await otherApi.data(CREATE_API_TOKEN, { input: { name: "ci-bot", role: "VIEWER" } });
    expect(elsewhere.createApiToken).toMatchObject({ __typename: "CreateApiTokenSuccess", apiToken: { name: "ci-bot" } });
  });
});

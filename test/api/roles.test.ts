import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { globalId } from "../../src/graphql/ids.js";
import {
  apiAs,
  type Api,
  type Catalogue,
  createApiToken,
  createApplication,
  createCatalogue,
  operation,
  tenantRows,
} from "../support/fixtures.js";
import { gql } from "../support/graphql.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";

/**
 * The role matrix of DESIGN §4: every mutation × every role is either allowed or refused with a
 * typed ForbiddenError (HTTP 200) that writes nothing; every query field is readable by every role.
 */

const ROLES = ["VIEWER", "EDITOR", "PROMOTER", "ADMIN"] as const;
type Role = (typeof ROLES)[number];

const RESULT_FIELDS = `__typename ... on Error { code message }`;

const MUTATIONS = {
  createEnvironment: operation(`
    mutation CreateEnvironment($input: CreateEnvironmentInput!) { createEnvironment(input: $input) { ${RESULT_FIELDS} } }
  `),
  createDatabase: operation(`
    mutation CreateDatabase($input: CreateDatabaseInput!) { createDatabase(input: $input) { ${RESULT_FIELDS} } }
  `),
  createApplication: operation(`
    mutation CreateApplication($input: CreateApplicationInput!) { createApplication(input: $input) { ${RESULT_FIELDS} } }
  `),
  createClient: operation(`
    mutation CreateClient($input: CreateClientInput!) { createClient(input: $input) { ${RESULT_FIELDS} } }
  `),
  createJourney: operation(`
    mutation CreateJourney($input: CreateJourneyInput!) { createJourney(input: $input) { ${RESULT_FIELDS} } }
  `),
  createApiToken: operation(`
    mutation CreateApiToken($input: CreateApiTokenInput!) { createApiToken(input: $input) { ${RESULT_FIELDS} } }
  `),
  revokeApiToken: operation(`
    mutation RevokeApiToken($input: RevokeApiTokenInput!) { revokeApiToken(input: $input) { ${RESULT_FIELDS} } }
  `),
};
type MutationName = keyof typeof MUTATIONS;

let server: TestServer;
let tenant: Tenant;
let admin: Api;
let catalogue: Catalogue;
let calls = 0;

beforeAll(async () => {
  server = await startTestServer();
  tenant = await createTenant("roles");
  admin = apiAs(server.endpoint, tenant);
  catalogue = await createCatalogue(admin);
});
afterAll(() => server.stop());

/** Who may call each mutation, and a valid input for one call (prepared by an ADMIN, unique per call). */
const MATRIX: Record<MutationName, { allowed: Role[]; input: (n: number) => Promise<Record<string, unknown>> }> = {
  createEnvironment: { allowed: ["ADMIN"], input: async (n) => ({ key: `env-${n}`, name: `Environment ${n}`, rank: 1000 }) },
  createDatabase: {
    allowed: ["ADMIN"],
    input: async (n) => ({ environmentId: catalogue.environments.development, name: `users-${n}` }),
  },
  createApplication: { allowed: ["ADMIN"], input: async (n) => ({ name: `Application ${n}` }) },
  createClient: {
    allowed: ["ADMIN"],
    input: async (n) => ({
      applicationId: await createApplication(admin, `Client application ${n}`),
      environmentId: catalogue.environments.development,
      databaseId: catalogue.databases.development,
      redirectUris: ["https://portal.example.com/callback"],
      allowedOrigins: [],
    }),
  },
  createJourney: {
    allowed: ["EDITOR", "PROMOTER", "ADMIN"],
    input: async (n) => ({ applicationId: catalogue.applicationId, key: `journey-${n}`, name: `Journey ${n}`, type: "LOGIN" }),
  },
  createApiToken: { allowed: ["ADMIN"], input: async (n) => ({ name: `token-${n}`, role: "VIEWER" }) },
  revokeApiToken: {
    allowed: ["ADMIN"],
    input: async (n) => ({ apiTokenId: (await createApiToken(admin, { name: `to-revoke-${n}`, role: "VIEWER" })).id }),
  },
};

const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

describe.each(Object.keys(MATRIX) as MutationName[])("%s by role", (mutation) => {
  for (const role of ROLES.filter((r) => MATRIX[mutation].allowed.includes(r))) {
    it(`lets a ${role} token ${mutation}`, async () => {
      const input = await MATRIX[mutation].input(++calls);
      const before = await tenantRows(tenant.organizationId);
      const response = await gql(server.endpoint, tenant.tokens[role], MUTATIONS[mutation], { input });
      expect(response.status).toBe(200);
      expect(response.errors).toBeUndefined();
      expect(response.data[mutation]).toEqual({ __typename: `${upperFirst(mutation)}Success` });
      expect(await tenantRows(tenant.organizationId)).not.toEqual(before);
    });
  }

  for (const role of ROLES.filter((r) => !MATRIX[mutation].allowed.includes(r))) {
    it(`refuses a ${role} token ${mutation} with FORBIDDEN and writes nothing`, async () => {
      const input = await MATRIX[mutation].input(++calls);
      const before = await tenantRows(tenant.organizationId);
      const response = await gql(server.endpoint, tenant.tokens[role], MUTATIONS[mutation], { input });
      expect(response.status).toBe(200);
      expect(response.errors).toBeUndefined();
      expect(response.data[mutation]).toEqual({ __typename: "ForbiddenError", code: "FORBIDDEN", message: expect.stringMatching(/\S/) });
      expect(await tenantRows(tenant.organizationId)).toEqual(before);
    });
  }
});

describe("role refusals", () => {
  it("refuses a role before looking at the input: a VIEWER learns nothing about IDs", async () => {
    const other = await createTenant("roles-other");
    const foreign = await createCatalogue(apiAs(server.endpoint, other));
    const response = await gql(server.endpoint, tenant.tokens.VIEWER, MUTATIONS.createDatabase, {
      input: { environmentId: foreign.environments.development, name: "probe" },
    });
    expect(response.data.createDatabase).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
  });

  it("refuses a VIEWER even an invalid input with FORBIDDEN, not VALIDATION_FAILED", async () => {
    const response = await gql(server.endpoint, tenant.tokens.VIEWER, MUTATIONS.createApplication, { input: { name: "" } });
    expect(response.data.createApplication).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
  });
});

const READS: [string, string, () => Record<string, unknown>][] = [
  ["viewer", operation(`query { viewer { role organization { id name } } }`), () => ({})],
  [
    "environments",
    operation(`query { environments { id key name rank isProduction editable lower { id } upper { id } databases { id name environment { id } } } }`),
    () => ({}),
  ],
  [
    "applications",
    operation(`query { applications(first: 10) { edges { cursor node { id name } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`),
    () => ({}),
  ],
  [
    "Application fields",
    operation(`
      query ($id: ID!, $environmentId: ID!) {
        node(id: $id) { id ... on Application { name clients { id } client(environmentId: $environmentId) { id } journeys { id } journey(key: "login") { id } } }
      }
    `),
    () => ({ id: catalogue.applicationId, environmentId: catalogue.environments.development }),
  ],
  [
    "Client fields",
    operation(`
      query ($id: ID!) {
        node(id: $id) { id ... on Client { clientId name redirectUris allowedOrigins settings application { id } environment { id } database { id } } }
      }
    `),
    () => ({ id: catalogue.clientId }),
  ],
  [
    "Journey fields",
    operation(`
      query ($id: ID!, $environmentId: ID!) {
        node(id: $id) {
          id
          ... on Journey {
            key name type application { id }
            configuration(environmentId: $environmentId) {
              version hash start document origin savedAt savedBy comment steps { key type name enabled settings transitions { outcome to } }
            }
            versions(environmentId: $environmentId, first: 5) { edges { cursor node { version } } pageInfo { hasNextPage endCursor } }
          }
        }
      }
    `),
    () => ({ id: catalogue.journeys.login, environmentId: catalogue.environments.development }),
  ],
  ["Environment node", operation(`query ($id: ID!) { node(id: $id) { id ... on Environment { key } } }`), () => ({ id: catalogue.environments.production })],
  ["Database node", operation(`query ($id: ID!) { node(id: $id) { id ... on Database { name environment { id } } } }`), () => ({ id: catalogue.databases.staging })],
  ["Organization node", operation(`query ($id: ID!) { node(id: $id) { id ... on Organization { name } } }`), () => ({ id: globalId("Organization", tenant.organizationId) })],
];

const API_TOKEN_NODE = operation(`query ($id: ID!) { node(id: $id) { id ... on ApiToken { name role createdAt revokedAt } } }`);

describe.each(ROLES)("reads by a %s token", (role) => {
  it.each(READS)("reads %s", async (_label, query, variables) => {
    const response = await gql(server.endpoint, tenant.tokens[role], query, variables());
    expect(response.status).toBe(200);
    expect(response.errors).toBeUndefined();
    for (const value of Object.values(response.data)) expect(value).not.toBeNull();
  });

  it("reads an ApiToken node", async () => {
    const token = await createApiToken(admin, { name: `readable-by-${role.toLowerCase()}`, role: "VIEWER" });
    const response = await gql(server.endpoint, tenant.tokens[role], API_TOKEN_NODE, { id: token.id });
    expect(response.errors).toBeUndefined();
    expect(response.data.node).toMatchObject({ id: token.id, name: `readable-by-${role.toLowerCase()}`, role: "VIEWER", revokedAt: null });
  });
});

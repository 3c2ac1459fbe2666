import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/server/app.js";
import { createLogger } from "../../src/server/logger.js";
import { testDatabase } from "../support/database.js";
import { apiAs, createCatalogue } from "../support/fixtures.js";
import { gql } from "../support/graphql.js";
import { subscribeWs, wsClient } from "../support/subscriptions.js";
import { createTenant, type Tenant } from "../support/tenant.js";

let app: App;
let endpoint: string;
let tenant: Tenant;
beforeAll(async () => {
  // A budget already spent when the first field resolves: every query runs out of it.
  app = createApp({ database: await testDatabase(), logger: createLogger("silent"), queryTimeMs: 0, responseCache: false });
  endpoint = `${await app.start(0, "127.0.0.1")}/graphql`;
  tenant = await createTenant("budget");
});
afterAll(() => app.stop());

describe("the query time budget", () => {
  it("answers a query that outlives it with OPERATION_TIMEOUT alone, no partial data", async () => {
    const result = await gql(
      endpoint,
      tenant.tokens.VIEWER,
      "{ environments { key databases { name } } applications { edges { node { name } } } }",
    );
    expect(result.data ?? null).toBeNull();
    expect(result.errors).toHaveLength(1);
    expect(result.errors?.[0].extensions).toMatchObject({ code: "OPERATION_TIMEOUT", budgetMs: 0 });
  });

  it("never cuts a mutation short: a write that commits is reported as done", async () => {
    const result = await gql(
      endpoint,
      tenant.tokens.ADMIN,
      `mutation { createApplication(input: { name: "Within budget" }) { __typename ... on CreateApplicationSuccess { application { name } } } }`,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data.createApplication).toEqual({ __typename: "CreateApplicationSuccess", application: { name: "Within budget" } });
  });
});

describe("the result size budget", () => {
  let small: App;
  let smallEndpoint: string;
  let smallWs: string;
  beforeAll(async () => {
    small = createApp({ database: await testDatabase(), logger: createLogger("silent"), resolvedFields: 6, responseCache: false });
    const url = await small.start(0, "127.0.0.1");
    smallEndpoint = `${url}/graphql`;
    smallWs = `${url.replace("http", "ws")}/graphql`;
  });
  afterAll(() => small.stop());

  it("answers a query that would resolve more objects than allowed with RESULT_TOO_LARGE alone", async () => {
    // 3 environments with their lower and upper: 7 objects and lists, one too many.
    const result = await gql(smallEndpoint, tenant.tokens.VIEWER, "{ environments { lower { key } upper { key } } }");
    expect(result.data ?? null).toBeNull();
    expect(result.errors).toHaveLength(1);
    expect(result.errors?.[0].extensions).toMatchObject({ code: "RESULT_TOO_LARGE", maxFields: 6 });
    const within = await gql(smallEndpoint, tenant.tokens.VIEWER, "{ environments { lower { key } } }");
    expect(within.errors).toBeUndefined();
  });

  it("bounds a live event's execution the same way, for every subscriber", async () => {
    const api = apiAs(smallEndpoint, tenant);
    const catalogue = await createCatalogue(api, { application: "Budgeted events" });
    const client = wsClient(smallWs, tenant.tokens.VIEWER);
    try {
      const events = await subscribeWs(
        client,
        "subscription { syncStatusChanged { environment { lower { key } upper { key } databases { name } } sourceEnvironment { key } application { name } } }",
      );
      await api.data(`mutation($input: CreateClientInput!) { createClient(input: $input) { __typename } }`, {
        input: {
          applicationId: catalogue.applicationId,
          environmentId: catalogue.environments.staging,
          databaseId: catalogue.databases.staging,
          redirectUris: [],
          allowedOrigins: [],
        },
      });
      await expect(events.completed).rejects.toThrow(/RESULT_TOO_LARGE/);
    } finally {
      await client.dispose();
    }
  });
});

describe("the JSON bytes budget", () => {
  let app: App;
  let endpoint: string;
  beforeAll(async () => {
    app = createApp({ database: await testDatabase(), logger: createLogger("silent"), jsonBytes: 2_000, responseCache: false });
    endpoint = `${await app.start(0, "127.0.0.1")}/graphql`;
  });
  afterAll(() => app.stop());

  it("answers a query whose documents and settings weigh more than allowed with RESULT_TOO_LARGE alone", async () => {
    const api = apiAs(endpoint, tenant);
    const catalogue = await createCatalogue(api, { application: "Weighed documents", databasePrefix: "weighed" });
    const query = `query($j: ID!, $e: ID!) { node(id: $j) { ... on Journey { configuration(environmentId: $e) { version document } } } }`;
    const variables = { j: catalogue.journeys.login, e: catalogue.environments.development };
    const one = await gql(endpoint, tenant.tokens.VIEWER, query, variables);
    expect(one.errors).toBeUndefined();
    const size = JSON.stringify(one.data.node.configuration.document).length;
    const aliases = Math.ceil(2_000 / size) + 1;
    const many = `query($j: ID!, $e: ID!) { node(id: $j) { ... on Journey { ${Array.from({ length: aliases }, (_, i) => `c${i}: configuration(environmentId: $e) { document }`).join(" ")} } } }`;
    const result = await gql(endpoint, tenant.tokens.VIEWER, many, variables);
    expect(result.data ?? null).toBeNull();
    expect(result.errors?.[0].extensions).toMatchObject({ code: "RESULT_TOO_LARGE", maxJsonBytes: 2_000 });
  });
});

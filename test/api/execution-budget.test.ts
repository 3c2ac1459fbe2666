import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/server/app.js";
import { createLogger } from "../../src/server/logger.js";
import { testDatabase } from "../support/database.js";
import { gql } from "../support/graphql.js";
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

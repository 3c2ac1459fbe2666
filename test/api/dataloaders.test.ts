import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventHub } from "../../src/events/hub.js";
import { createServices } from "../../src/services/index.js";
import type { Actor } from "../../src/services/index.js";
import { countQueries, testDatabase } from "../support/database.js";
import { gql } from "../support/graphql.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant } from "../support/tenant.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const DASHBOARD = `query Dashboard($env: ID!) {
  applications(first: 50) { edges { node { name
    clients { environment { key } clientId }
    journeys { key configuration(environmentId: $env) { version hash } } } } } }`;

/** A tenant with `count` applications, each with clients in all three environments and two journeys. */
async function tenantWithApplications(count: number) {
  const tenant = await createTenant(`dashboard-${count}`);
  const { db } = await testDatabase();
  const services = createServices(db, new EventHub());
  const actor: Actor = { organizationId: tenant.organizationId, tokenId: "", role: "ADMIN", name: "fixture" };
  const environments = await services.loaders(actor).environments();
  const databases = await Promise.all(
    environments.map((e) => services.createDatabase(actor, { environmentId: e.id, name: `users-${e.key}` })),
  );
  for (let i = 0; i < count; i++) {
    const application = await services.createApplication(actor, { name: `App ${String(i).padStart(3, "0")}` });
    await services.createClient(actor, {
      applicationId: application.id,
      environmentId: environments[0].id,
      databaseId: databases[0].id,
      redirectUris: [],
      allowedOrigins: [],
    });
    for (const key of ["login", "registration"]) {
      await services.createJourney(actor, { applicationId: application.id, key, name: key, type: "LOGIN" });
    }
    for (const index of [1, 2]) {
      await services.createClient(actor, {
        applicationId: application.id,
        environmentId: environments[index].id,
        databaseId: databases[index].id,
        redirectUris: [],
        allowedOrigins: [],
      });
    }
  }
  const production = await gql(server.endpoint, tenant.tokens.VIEWER, `{ environments { id key } }`);
  return { tenant, productionId: production.data.environments.find((e: { key: string }) => e.key === "production").id };
}

async function dashboardStatements(count: number) {
  const { tenant, productionId } = await tenantWithApplications(count);
  const { result, queries } = await countQueries(() => gql(server.endpoint, tenant.tokens.VIEWER, DASHBOARD, { env: productionId }));
  expect(result.errors).toBeUndefined();
  const edges = result.data.applications.edges;
  expect(edges).toHaveLength(count);
  for (const { node } of edges) {
    expect(node.clients.map((c: { environment: { key: string } }) => c.environment.key)).toEqual(["development", "staging", "production"]);
    expect(node.journeys.map((j: { configuration: { version: number } }) => j.configuration.version)).toEqual([1, 1]);
  }
  return queries;
}

describe("the dashboard query", () => {
  it("runs the same number of SQL statements for 5 and for 50 applications", async () => {
    const five = await dashboardStatements(5);
    const fifty = await dashboardStatements(50);
    expect(fifty.length).toBe(five.length);
    // token lookup, page of applications, clients, journeys, environments, head versions
    expect(five.length).toBeLessThanOrEqual(6);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventHub } from "../../src/events/hub.js";
import type { Actor } from "../../src/services/index.js";
import { createServices } from "../../src/services/index.js";
import { issueToken } from "../../src/services/tokens.js";
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
  // Audit records reference the token that wrote them: the fixture writes with a token of its own.
  const { apiToken } = await issueToken(db, { organizationId: tenant.organizationId, name: "fixture", role: "ADMIN" });
  const actor: Actor = { organizationId: tenant.organizationId, tokenId: apiToken.id, role: "ADMIN", name: apiToken.name };
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

/** The README's dashboard: the clients' settings and URI lists too (loaded by id, in one batch). */
const DASHBOARD_WITH_SETTINGS = `query Dashboard($env: ID!) {
  applications(first: 50) { edges { node { name
    clients { environment { key } clientId settings redirectUris allowedOrigins syncStatus }
    journeys { key configuration(environmentId: $env) { version hash } } } } } }`;

async function dashboardStatements(world: Awaited<ReturnType<typeof tenantWithApplications>>, count: number, query: string) {
  const { tenant, productionId } = world;
  const { result, queries } = await countQueries(() => gql(server.endpoint, tenant.tokens.VIEWER, query, { env: productionId }));
  expect(result.errors).toBeUndefined();
  const edges = result.data.applications.edges;
  expect(edges).toHaveLength(count);
  for (const { node } of edges) {
    expect(node.clients.map((c: { environment: { key: string } }) => c.environment.key)).toEqual(["development", "staging", "production"]);
    expect(node.journeys.map((j: { configuration: { version: number } }) => j.configuration.version)).toEqual([1, 1]);
    for (const client of node.clients)
      if ("settings" in client) expect(client.settings).toMatchObject({ pkceRequired: expect.any(Boolean) });
  }
  return queries;
}

describe("the dashboard query", () => {
  it("runs the same number of SQL statements for 5 and for 50 applications", async () => {
    const five = await tenantWithApplications(5);
    const fifty = await tenantWithApplications(50);
    const statements = {
      five: await dashboardStatements(five, 5, DASHBOARD),
      fifty: await dashboardStatements(fifty, 50, DASHBOARD),
      fiveWithSettings: await dashboardStatements(five, 5, DASHBOARD_WITH_SETTINGS),
      fiftyWithSettings: await dashboardStatements(fifty, 50, DASHBOARD_WITH_SETTINGS),
    };
    // A failure shows both lists of statements: which one is extra.
    const both = (a: string[], b: string[]) => [...a, "-- and --", ...b].map((q) => q.slice(0, 120)).join("\n");
    expect(statements.fifty.length, both(statements.five, statements.fifty)).toBe(statements.five.length);
    // token lookup, page of applications, client summaries, journeys, environments, head versions
    expect(statements.five.length).toBeLessThanOrEqual(6);
    // …and the clients' whole rows, in one batch
    expect(statements.fiftyWithSettings.length, both(statements.fiveWithSettings, statements.fiftyWithSettings)).toBe(
      statements.fiveWithSettings.length,
    );
    expect(statements.fiveWithSettings.length).toBeLessThanOrEqual(7);
  });
});

describe("a list of variables with their references and histories", () => {
  const VARIABLES = `{ variables { key values { value fingerprint } references { path } history(first: 5) { edges { node { version value } } } } }`;

  async function tenantWithVariables(count: number) {
    const tenant = await createTenant(`variables-${count}`);
    const { db } = await testDatabase();
    const services = createServices(db, new EventHub());
    const { apiToken } = await issueToken(db, { organizationId: tenant.organizationId, name: "fixture", role: "ADMIN" });
    const actor: Actor = { organizationId: tenant.organizationId, tokenId: apiToken.id, role: "ADMIN", name: apiToken.name };
    const [development] = await services.loaders(actor).environments();
    for (let i = 0; i < count; i++) {
      const variable = await services.createVariable(actor, { key: `var.n${i}`, kind: i % 2 ? "SECRET" : "STRING" });
      for (const n of [1, 2])
        await services.setVariableValue(actor, { variableId: variable.id, environmentId: development.id, value: `v${n}` });
    }
    return tenant;
  }

  it("reads them in a number of statements that does not grow with the variables (one reference scan, one history read)", async () => {
    const few = await tenantWithVariables(3);
    const many = await tenantWithVariables(30);
    const statements = async (token: string) => {
      const { result, queries } = await countQueries(() => gql(server.endpoint, token, VARIABLES));
      expect(result.errors).toBeUndefined();
      return { queries: queries.length, variables: result.data.variables };
    };
    const a = await statements(few.tokens.VIEWER);
    const b = await statements(many.tokens.VIEWER);
    expect(b.variables).toHaveLength(30);
    expect(b.variables[0].history.edges).toHaveLength(2);
    expect(b.queries).toBe(a.queries);
  });
});

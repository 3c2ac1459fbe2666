import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiAs, createApplication } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";

/**
 * Queries and mutations of single-operation documents run compiled (graphql-jit) from their
 * document's second execution; the first runs on graphql-js, as do documents of several operations
 * (src/server/graphql-handler.ts), the one named each time. Both engines must answer the same, errors
 * included. The response cache is off here, so every request executes.
 */
let server: TestServer;
let tenant: Tenant;
beforeAll(async () => {
  server = await startTestServer({ responseCache: false });
  tenant = await createTenant("compiled-execution");
  await createApplication(apiAs(server.endpoint, tenant), "Portal");
});
afterAll(() => server.stop());

async function post(body: Record<string, unknown>) {
  const response = await fetch(server.endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${tenant.tokens.VIEWER}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] } };
}

describe("compiled execution", () => {
  it("answers a document the same on its first execution (graphql-js) and its later ones (compiled)", async () => {
    const query = `query Apps($first: Int!) { viewer { role } applications(first: $first) { edges { node { name journeys { key } } } } missing: node(id: "QXBwbGljYXRpb246bm9uZQ") { id } }`;
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await post({ query, variables: { first: 5 } }));
    expect(answers[0].status, JSON.stringify(answers[0].body)).toBe(200);
    expect(answers[0].body.data).toMatchObject({ viewer: { role: "VIEWER" }, applications: { edges: [{ node: { name: "Portal" } }] } });
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    // A variable that does not fit its type: the same error both ways.
    const wrong = [await post({ query, variables: { first: "five" } }), await post({ query, variables: { first: "five" } })];
    expect(wrong[0].body.errors?.[0]?.extensions?.code).toBeDefined();
    expect(wrong[1]).toEqual(wrong[0]);
  });

  it("answers errors the same on both engines: locations, paths, codes and messages", async () => {
    const missingEnvironment = "RW52aXJvbm1lbnQ6MDAwMDAwMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAw";
    const documents: { query: string; variables?: Record<string, unknown>; codes: string[] }[] = [
      { query: `{ syncNotifications(environmentId: "${missingEnvironment}") { edges { cursor } } }`, codes: ["NOT_FOUND"] },
      {
        query: "query N($env: ID) {\n  viewer { role }\n  syncNotifications(environmentId: $env) { edges { cursor } }\n}",
        variables: { env: missingEnvironment },
        codes: ["NOT_FOUND"],
      },
      { query: "{ applications(first: -1) { edges { cursor } } }", codes: ["VALIDATION_FAILED"] },
      { query: '{ applications(after: "!!!") { edges { cursor } } }', codes: ["VALIDATION_FAILED"] },
      {
        query: `{ one: syncNotifications(environmentId: "${missingEnvironment}") { edges { cursor } } apps: applications(first: 1) { edges { node { name } } } two: syncNotifications(environmentId: "${missingEnvironment}") { edges { cursor } } }`,
        // syncNotifications is not nullable: the first error makes data null.
        codes: ["NOT_FOUND"],
      },
    ];
    for (const { query, variables, codes } of documents) {
      const first = await post({ query, variables });
      const errors = first.body.errors ?? [];
      expect(errors.map((e) => e.extensions?.code).sort(), query).toEqual(codes);
      // Every error says where in the document it is (graphql-js's do; graphql-jit's lost it to the masking).
      for (const error of errors) expect((error as { locations?: unknown }).locations, query).toBeDefined();
      for (let i = 0; i < 2; i++) expect(await post({ query, variables }), query).toEqual(first);
    }
  });

  it("runs the operation named, whichever ran before it, in a document of several", async () => {
    const query = "query Role { viewer { role } } query Apps { applications(first: 1) { edges { node { name } } } }";
    for (let i = 0; i < 3; i++) {
      expect((await post({ query, operationName: "Role" })).body).toEqual({ data: { viewer: { role: "VIEWER" } } });
      expect((await post({ query, operationName: "Apps" })).body).toEqual({
        data: { applications: { edges: [{ node: { name: "Portal" } }] } },
      });
    }
  });
});

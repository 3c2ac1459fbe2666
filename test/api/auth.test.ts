import { createClient as createWsClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { gql } from "../support/graphql.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";

let server: TestServer;
let tenant: Tenant;

beforeAll(async () => {
  server = await startTestServer();
  tenant = await createTenant("auth");
});
afterAll(() => server.stop());

const VIEWER = "{ viewer { role organization { name } } }";

/** Opens a graphql-ws connection and resolves with the close code, or "connected" on acknowledgement. */
function wsOutcome(connectionParams: Record<string, unknown> | undefined): Promise<number | "connected"> {
  return new Promise((resolve) => {
    const ws = createWsClient({
      url: server.wsEndpoint,
      webSocketImpl: WebSocket,
      connectionParams,
      retryAttempts: 0,
      lazy: false,
      on: {
        connected: () => {
          resolve("connected");
          void ws.dispose();
        },
        closed: (event) => resolve((event as { code: number }).code),
      },
      onNonLazyError: () => {},
    });
  });
}

describe("bearer tokens over HTTP", () => {
  it("answers with the token's organization and role", async () => {
    const result = await gql(server.endpoint, tenant.tokens.EDITOR, VIEWER);
    expect(result.status).toBe(200);
    expect(result.data.viewer).toEqual({ role: "EDITOR", organization: { name: tenant.name } });
  });

  it("refuses a request without a token with HTTP 401 and a GraphQL error", async () => {
    const result = await gql(server.endpoint, null, VIEWER);
    expect(result.status).toBe(401);
    expect(result.data).toBeUndefined();
    expect(result.errors?.[0].extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("refuses an unknown token with HTTP 401", async () => {
    const result = await gql(server.endpoint, "jpt_not-a-real-token", VIEWER);
    expect(result.status).toBe(401);
    expect(result.errors?.[0].message).toMatch(/invalid or revoked/i);
  });

  it("refuses a token on its next request once revoked over the API", async () => {
    const created = await gql(
      server.endpoint,
      tenant.tokens.ADMIN,
      `mutation { createApiToken(input: { name: "short-lived", role: VIEWER }) {
         __typename ... on CreateApiTokenSuccess { token apiToken { id name role revokedAt } } } }`,
    );
    const { token, apiToken } = created.data.createApiToken;
    expect(apiToken).toMatchObject({ name: "short-lived", role: "VIEWER", revokedAt: null });
    expect((await gql(server.endpoint, token, VIEWER)).status).toBe(200);

    const revoked = await gql(
      server.endpoint,
      tenant.tokens.ADMIN,
      `mutation($id: ID!) { revokeApiToken(input: { apiTokenId: $id }) {
         __typename ... on RevokeApiTokenSuccess { apiToken { id revokedAt } } } }`,
      { id: apiToken.id },
    );
    expect(revoked.data.revokeApiToken.apiToken.revokedAt).not.toBeNull();
    expect((await gql(server.endpoint, token, VIEWER)).status).toBe(401);
  });

  it("serves GraphiQL to a browser without a token", async () => {
    const response = await fetch(server.endpoint, { headers: { accept: "text/html" } });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("GraphiQL");
  });

  it("never writes a token into the logs", async () => {
    await gql(server.endpoint, tenant.tokens.ADMIN, VIEWER);
    await gql(server.endpoint, "jpt_wrong", VIEWER);
    const text = JSON.stringify(server.logs);
    for (const token of Object.values(tenant.tokens)) expect(text).not.toContain(token);
    expect(text).not.toContain("jpt_wrong");
  });
});

describe("bearer tokens over WebSocket", () => {
  it("acknowledges a connection with a valid token in connectionParams", async () => {
    expect(await wsOutcome({ authorization: `Bearer ${tenant.tokens.VIEWER}` })).toBe("connected");
  });

  it("closes with 4401 without a token", async () => {
    expect(await wsOutcome(undefined)).toBe(4401);
  });

  it("closes with 4401 for an unknown token", async () => {
    expect(await wsOutcome({ authorization: "Bearer jpt_nope" })).toBe(4401);
  });

  it("runs operations with the same context as HTTP", async () => {
    const ws = createWsClient({
      url: server.wsEndpoint,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${tenant.tokens.PROMOTER}` },
      retryAttempts: 0,
    });
    try {
      const result = await new Promise<unknown>((resolve, reject) => {
        let value: unknown;
        ws.subscribe({ query: VIEWER }, { next: (v) => (value = v), error: reject, complete: () => resolve(value) });
      });
      expect(result).toEqual({ data: { viewer: { role: "PROMOTER", organization: { name: tenant.name } } } });
    } finally {
      await ws.dispose();
    }
  });
});

describe("health, readiness and request ids", () => {
  it("answers /health and /ready while the database answers", async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
  });

  it("gives every operation a request id, echoed in the response and on its log line", async () => {
    const response = await fetch(server.endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${tenant.tokens.VIEWER}`, "x-request-id": "trace-abc-123" },
      body: JSON.stringify({ query: VIEWER, operationName: null }),
    });
    expect(response.headers.get("x-request-id")).toBe("trace-abc-123");
    expect(server.logs.some((line) => line.requestId === "trace-abc-123" && line.msg === "operation")).toBe(true);
    const generated = await fetch(server.endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${tenant.tokens.VIEWER}` },
      body: JSON.stringify({ query: VIEWER }),
    });
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { REFUSAL_ALLOWANCE } from "../../src/server/refusal-throttle.js";
import { gql } from "../support/graphql.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";

let server: TestServer;
let tenant: Tenant;
beforeAll(async () => {
  server = await startTestServer();
  tenant = await createTenant("throttle");
});
afterAll(() => server.stop());

/** Over the cost limit: every list of environments inside another. */
const TOO_COSTLY = "{ a: environments { databases { environment { databases { environment { databases { environment { databases { environment { key } } } } } } } } } }";

describe("a token that keeps meeting the limits", () => {
  it(`is answered 429 TOO_MANY_REQUESTS with Retry-After once its ${REFUSAL_ALLOWANCE.burst} refusals are spent, while other tokens go on`, async () => {
    for (let i = 0; i < REFUSAL_ALLOWANCE.burst; i++) {
      const refused = await gql(server.endpoint, tenant.tokens.EDITOR, TOO_COSTLY);
      expect(refused.errors?.[0].extensions?.code).toBe("QUERY_TOO_COMPLEX");
    }
    const response = await fetch(server.endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${tenant.tokens.EDITOR}` },
      body: JSON.stringify({ query: "{ viewer { role } }" }),
    });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await response.json()).errors[0].extensions.code).toBe("TOO_MANY_REQUESTS");
    // Another token of the organization is not slowed down.
    expect((await gql(server.endpoint, tenant.tokens.VIEWER, "{ viewer { role } }")).data.viewer.role).toBe("VIEWER");
    // The allowance refills.
    await new Promise((resolve) => setTimeout(resolve, 1_100 / REFUSAL_ALLOWANCE.perSecond));
    expect((await gql(server.endpoint, tenant.tokens.EDITOR, "{ viewer { role } }")).data.viewer.role).toBe("EDITOR");
  });

  it("is slowed down over WebSocket too, and never for requests within the limits", async () => {
    for (let i = 0; i < 3 * REFUSAL_ALLOWANCE.burst; i++) {
      expect((await gql(server.endpoint, tenant.tokens.ADMIN, "{ viewer { role } }")).status).toBe(200);
    }
    const socket = new WebSocket(server.wsEndpoint, "graphql-transport-ws");
    const messages: Record<string, any>[] = [];
    socket.on("message", (data) => messages.push(JSON.parse(String(data))));
    await new Promise((resolve) => socket.on("open", resolve));
    socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${tenant.tokens.PROMOTER}` } }));
    await expect.poll(() => messages.some((m) => m.type === "connection_ack")).toBe(true);
    for (let i = 0; i <= REFUSAL_ALLOWANCE.burst; i++) socket.send(JSON.stringify({ id: `q${i}`, type: "subscribe", payload: { query: TOO_COSTLY } }));
    await expect.poll(() => messages.filter((m) => m.id?.startsWith("q") && m.type !== "complete").length).toBe(REFUSAL_ALLOWANCE.burst + 1);
    const codes = messages.filter((m) => m.id?.startsWith("q") && m.type !== "complete").map((m) => (m.type === "error" ? m.payload : m.payload.errors)[0].extensions.code);
    expect(codes.slice(0, REFUSAL_ALLOWANCE.burst).every((c) => c === "QUERY_TOO_COMPLEX")).toBe(true);
    expect(codes.at(-1)).toBe("TOO_MANY_REQUESTS");
    socket.close();
  });
});

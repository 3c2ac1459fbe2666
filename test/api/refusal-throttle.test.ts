import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ORGANIZATION_REFUSAL_ALLOWANCE, REFUSAL_ALLOWANCE } from "../../src/server/refusal-throttle.js";
import { apiAs, createApiToken } from "../support/fixtures.js";
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
const TOO_COSTLY =
  "{ a: environments { databases { environment { databases { environment { databases { environment { databases { environment { key } } } } } } } } } }";

describe("a token that keeps meeting the limits", () => {
  it(`is answered 429 TOO_MANY_REQUESTS with Retry-After once its ${REFUSAL_ALLOWANCE.burst} refusals are spent, while other tokens go on`, async () => {
    // The allowance refills as the refusals come: they are refused with their own code until it is spent.
    let refusals = 0;
    let response: Response | undefined;
    for (let i = 0; i < 3 * REFUSAL_ALLOWANCE.burst && !response; i++) {
      const answer = await fetch(server.endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${tenant.tokens.EDITOR}` },
        body: JSON.stringify({ query: TOO_COSTLY }),
      });
      if (answer.status === 429) response = answer;
      else {
        expect((await answer.json()).errors[0].extensions.code).toBe("QUERY_TOO_COMPLEX");
        refusals++;
      }
    }
    expect(refusals).toBeGreaterThanOrEqual(REFUSAL_ALLOWANCE.burst);
    if (!response) throw new Error("never throttled");
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
    const sent = 2 * REFUSAL_ALLOWANCE.burst;
    for (let i = 0; i < sent; i++) socket.send(JSON.stringify({ id: `q${i}`, type: "subscribe", payload: { query: TOO_COSTLY } }));
    const answers = () => messages.filter((m) => m.id?.startsWith("q") && m.type !== "complete");
    await expect.poll(() => answers().length, { timeout: 20_000 }).toBe(sent);
    const codes = answers().map((m) => (m.type === "error" ? m.payload : m.payload.errors)[0].extensions.code);
    expect(codes.slice(0, REFUSAL_ALLOWANCE.burst).every((c) => c === "QUERY_TOO_COMPLEX")).toBe(true);
    expect(codes).toContain("TOO_MANY_REQUESTS");
    socket.close();
  });

  it(`counts every token of an organization together: minting tokens does not multiply the ${ORGANIZATION_REFUSAL_ALLOWANCE.burst} refusals`, async () => {
    const minted = await createTenant("throttle-minted");
    const admin = apiAs(server.endpoint, minted, "ADMIN");
    const tokens: string[] = [];
    const count = Math.ceil((2 * ORGANIZATION_REFUSAL_ALLOWANCE.burst) / REFUSAL_ALLOWANCE.burst) + 1;
    for (let i = 0; i < count; i++) tokens.push((await createApiToken(admin, { name: `minted-${i}`, role: "VIEWER" })).token);
    // Each token is seen once within the limits, then all of them meet the limit in turn.
    for (const token of tokens) expect((await gql(server.endpoint, token, "{ viewer { role } }")).status).toBe(200);
    const statuses = { refused: 0, throttled: 0 };
    const started = performance.now();
    // Up to 90 each: below a token's own allowance, far above the organization's share of each
    // (300 in all, refilled at 30 a second while the loop runs).
    for (let round = 0; round < REFUSAL_ALLOWANCE.burst * 0.9; round++) {
      for (const token of tokens) {
        const answer = await fetch(server.endpoint, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: TOO_COSTLY }),
        });
        if (answer.status === 429) statuses.throttled++;
        else statuses.refused++;
        await answer.arrayBuffer();
      }
      if (statuses.throttled > 2 * tokens.length) break;
    }
    // Without the organization's allowance each token would have had REFUSAL_ALLOWANCE.burst of its own.
    expect(statuses.throttled).toBeGreaterThan(0);
    expect(statuses.refused).toBeLessThan(count * REFUSAL_ALLOWANCE.burst);
    // The organization's burst, and what it refilled while the loop ran (a slow machine runs it longer).
    const refilled = ((performance.now() - started) / 1_000) * ORGANIZATION_REFUSAL_ALLOWANCE.perSecond;
    expect(statuses.refused).toBeLessThanOrEqual(ORGANIZATION_REFUSAL_ALLOWANCE.burst + Math.ceil(refilled));
    // Another organization is not slowed down.
    expect((await gql(server.endpoint, tenant.tokens.VIEWER, "{ viewer { role } }")).data.viewer.role).toBe("VIEWER");
  });
});

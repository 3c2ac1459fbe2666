import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type App, createApp } from "../../src/server/app.js";
import { createLogger } from "../../src/server/logger.js";
import { SUBSCRIPTION_LIMITS } from "../../src/server/subscription-limits.js";
import { testDatabase } from "../support/database.js";
import { apiAs, createCatalogue } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";

let server: TestServer;
let tenant: Tenant;
beforeAll(async () => {
  server = await startTestServer();
  tenant = await createTenant("subscription-limits");
});
afterAll(() => server.stop());

const SUBSCRIPTION = "subscription($after: String) { syncStatusChanged(after: $after) { cursor status } }";

/** A raw graphql-transport-ws connection, acknowledged, collecting what it receives. */
async function connection(wsEndpoint: string, token: string) {
  const socket = new WebSocket(wsEndpoint, "graphql-transport-ws");
  const messages: Record<string, any>[] = [];
  let closeCode: number | undefined;
  socket.on("message", (data) => messages.push(JSON.parse(String(data))));
  socket.on("close", (code) => (closeCode = code));
  await new Promise((resolve) => socket.on("open", resolve));
  socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } }));
  await expect.poll(() => messages.some((m) => m.type === "connection_ack")).toBe(true);
  return {
    messages,
    subscribe: (id: string, variables: Record<string, unknown> = {}) =>
      socket.send(JSON.stringify({ id, type: "subscribe", payload: { query: SUBSCRIPTION, variables } })),
    complete: (id: string) => socket.send(JSON.stringify({ id, type: "complete" })),
    /** The error code the server answered a subscription with, if it refused it. */
    refusal: (id: string) => {
      const answer = messages.find((m) => m.id === id && (m.type === "error" || (m.type === "next" && m.payload.errors)));
      const errors = answer?.type === "error" ? answer.payload : answer?.payload.errors;
      return errors?.[0]?.extensions?.code as string | undefined;
    },
    close: () => socket.close(),
    /** The code the socket was closed with, once it is. */
    closedWith: () => closeCode,
  };
}

describe("subscriptions per connection", () => {
  it(`opens ${SUBSCRIPTION_LIMITS.perConnection} on one socket, refuses the next with TOO_MANY_SUBSCRIPTIONS, and frees room as one completes`, async () => {
    const ws = await connection(server.wsEndpoint, tenant.tokens.VIEWER);
    for (let i = 0; i < SUBSCRIPTION_LIMITS.perConnection; i++) ws.subscribe(`s${i}`);
    ws.subscribe("over");
    await expect.poll(() => ws.refusal("over")).toBe("TOO_MANY_SUBSCRIPTIONS");
    expect(Array.from({ length: SUBSCRIPTION_LIMITS.perConnection }, (_, i) => ws.refusal(`s${i}`)).filter(Boolean)).toEqual([]);
    ws.complete("s0");
    await new Promise((resolve) => setTimeout(resolve, 100));
    ws.subscribe("again");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(ws.refusal("again")).toBeUndefined();
    ws.close();
  });

  it("gives every one of many resumed subscriptions on one socket the whole history, read in turn", async () => {
    const own = await createTenant("resumes");
    const api = apiAs(server.endpoint, own);
    const catalogue = await createCatalogue(api);
    // A client in staging: its journeys' states are written as notifications.
    await api.data(`mutation($input: CreateClientInput!) { createClient(input: $input) { __typename } }`, {
      input: {
        applicationId: catalogue.applicationId,
        environmentId: catalogue.environments.staging,
        databaseId: catalogue.databases.staging,
        redirectUris: [],
        allowedOrigins: [],
      },
    });
    const history = await api.data(`{ syncNotifications(first: 100) { edges { cursor } } }`);
    const count = history.syncNotifications.edges.length;
    expect(count).toBeGreaterThan(0);
    const ws = await connection(server.wsEndpoint, own.tokens.VIEWER);
    for (let i = 0; i < 100; i++) ws.subscribe(`r${i}`, { after: "0" });
    await expect.poll(() => ws.messages.filter((m) => m.type === "next").length, { timeout: 20_000 }).toBe(100 * count);
    for (let i = 0; i < 100; i++) {
      const cursors = ws.messages.filter((m) => m.id === `r${i}`).map((m) => m.payload.data.syncStatusChanged.cursor);
      expect(cursors).toEqual(history.syncNotifications.edges.map((e: { cursor: string }) => e.cursor));
    }
    ws.close();
  });
});

describe("subscriptions per token", () => {
  let app: App;
  let endpoint: string;
  let wsEndpoint: string;
  beforeAll(async () => {
    app = createApp({
      database: await testDatabase(),
      logger: createLogger("silent"),
      subscriptionLimits: { perConnection: 100, perToken: 3, perOrganization: 5 },
    });
    const url = await app.start(0, "127.0.0.1");
    endpoint = `${url}/graphql`;
    wsEndpoint = `${url.replace("http", "ws")}/graphql`;
  });
  afterAll(() => app.stop());

  it("closes with 4409 a socket that sends an operation id again while the one it completed still sets up, and nothing of either stays counted", async () => {
    const own = await createTenant("subscription-id-again");
    const ws = await connection(wsEndpoint, own.tokens.VIEWER);
    // graphql-ws forgets an id completed during its setup: the same id again would subscribe too,
    // and the first, out of reach of complete and of the socket's close, would count forever.
    ws.subscribe("x");
    ws.complete("x");
    ws.subscribe("x");
    await expect.poll(() => ws.closedWith(), { timeout: 5_000 }).toBe(4409);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The token's whole cap (3) is free again.
    const fresh = await connection(wsEndpoint, own.tokens.VIEWER);
    for (const id of ["a", "b", "c"]) fresh.subscribe(id);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(["a", "b", "c"].map((id) => fresh.refusal(id))).toEqual([undefined, undefined, undefined]);
    fresh.close();
  });

  it("counts a token's subscriptions over all its sockets and SSE, refusing the one over the cap on either", async () => {
    const first = await connection(wsEndpoint, tenant.tokens.EDITOR);
    const second = await connection(wsEndpoint, tenant.tokens.EDITOR);
    first.subscribe("a");
    first.subscribe("b");
    second.subscribe("c");
    await new Promise((resolve) => setTimeout(resolve, 300));
    second.subscribe("d");
    await expect.poll(() => second.refusal("d")).toBe("TOO_MANY_SUBSCRIPTIONS");

    const sse = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${tenant.tokens.EDITOR}` },
      body: JSON.stringify({ query: SUBSCRIPTION }),
    });
    const text = await sse.text();
    expect(text).toContain("TOO_MANY_SUBSCRIPTIONS");

    // Another token of the organization is not held back by this one's subscriptions.
    const other = await connection(wsEndpoint, tenant.tokens.PROMOTER);
    other.subscribe("e");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(other.refusal("e")).toBeUndefined();

    // The organization's fifth is its last, whichever token asks: minting tokens does not multiply the cap.
    other.subscribe("e2");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(other.refusal("e2")).toBeUndefined();
    other.subscribe("e3");
    await expect.poll(() => other.refusal("e3")).toBe("TOO_MANY_SUBSCRIPTIONS");
    const refusal = other.messages.find((m) => m.id === "e3" && m.type !== "complete");
    expect(JSON.stringify(refusal)).toMatch(/per organization/);

    first.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    second.subscribe("f");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(second.refusal("f")).toBeUndefined();
    second.close();
    other.close();
  });
});

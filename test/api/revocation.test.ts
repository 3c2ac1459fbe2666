import { and, eq } from "drizzle-orm";
import { createClient as createWsClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { revokeApiTokenRow } from "../../src/db/repositories/tokens.js";
import { apiTokens } from "../../src/db/schema.js";
import { inTransaction } from "../../src/services/transaction.js";
import { testDatabase } from "../support/database.js";
import { apiAs, createApiToken, localIdOf } from "../support/fixtures.js";
import { gql } from "../support/graphql.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { subscribeSse, subscribeWs, wsClient } from "../support/subscriptions.js";
import { createTenant, type Tenant } from "../support/tenant.js";

let server: TestServer;
let tenant: Tenant;
beforeAll(async () => {
  server = await startTestServer();
  tenant = await createTenant("revocation");
});
afterAll(() => server.stop());

const REVOKE = `mutation($id: ID!) { revokeApiToken(input: { apiTokenId: $id }) { __typename ... on Error { code message } } }`;
const MINT = `mutation { createApiToken(input: { name: "minted-on-a-revoked-socket", role: ADMIN }) { __typename ... on CreateApiTokenSuccess { token } } }`;
const SUBSCRIPTION = "subscription { syncStatusChanged { cursor } }";

/** A raw graphql-transport-ws connection, to send on a socket after the server was told to close it. */
async function rawSocket(token: string) {
  const socket = new WebSocket(server.wsEndpoint, "graphql-transport-ws");
  const messages: Record<string, unknown>[] = [];
  const closed = new Promise<{ code: number; at: number }>((resolve) =>
    socket.on("close", (code) => resolve({ code, at: performance.now() })),
  );
  socket.on("message", (data) => messages.push(JSON.parse(String(data))));
  await new Promise((resolve) => socket.on("open", resolve));
  socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } }));
  await expect.poll(() => messages.some((m) => m.type === "connection_ack")).toBe(true);
  return { socket, messages, closed };
}

describe("a token revoked while its sockets are open", () => {
  it("closes each of its WebSockets with 4401 within a second", async () => {
    const admin = apiAs(server.endpoint, tenant);
    const minted = await createApiToken(admin, { name: "to-revoke-socket", role: "ADMIN" });
    const { closed } = await rawSocket(minted.token);
    const revokedAt = performance.now();
    expect((await admin.data(REVOKE, { id: minted.id })).revokeApiToken.__typename).toBe("RevokeApiTokenSuccess");
    const { code, at } = await closed;
    expect(code).toBe(4401);
    expect(at - revokedAt).toBeLessThan(1_000);
  });

  it("refuses an operation sent on the socket after the revocation, without running it", async () => {
    const admin = apiAs(server.endpoint, tenant);
    const minted = await createApiToken(admin, { name: "to-revoke-operation", role: "ADMIN" });
    const { socket, messages, closed } = await rawSocket(minted.token);
    // Revoked in a transaction of the organization without the event that closes sockets: the
    // operation itself must find the token revoked, whichever arrives first in production.
    const { db } = await testDatabase();
    await inTransaction(db, tenant.organizationId, (tx) => revokeApiTokenRow(tx, tenant.organizationId, localIdOf(minted.id)));
    socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: MINT } }));
    expect((await closed).code).toBe(4401);
    expect(messages.filter((m) => m.type === "next")).toEqual([]);
    const minted2 = await db
      .select()
      .from(apiTokens)
      .where(and(eq(apiTokens.organizationId, tenant.organizationId), eq(apiTokens.name, "minted-on-a-revoked-socket")));
    expect(minted2).toEqual([]);
  });

  it("ends the token's SSE subscriptions and its graphql-ws subscriptions", async () => {
    const admin = apiAs(server.endpoint, tenant);
    const minted = await createApiToken(admin, { name: "to-revoke-streams", role: "VIEWER" });
    const sse = await subscribeSse(server.endpoint, minted.token, SUBSCRIPTION);
    const ws = wsClient(server.wsEndpoint, minted.token);
    const live = await subscribeWs(ws, SUBSCRIPTION);
    await admin.data(REVOKE, { id: minted.id });
    await sse.completed;
    await live.completed.catch(() => {});
    expect((await gql(server.endpoint, minted.token, "{ viewer { role } }")).status).toBe(401);
    await ws.dispose();
  });

  it("keeps other tokens' sockets open", async () => {
    const admin = apiAs(server.endpoint, tenant);
    const minted = await createApiToken(admin, { name: "to-revoke-other", role: "VIEWER" });
    const other = createWsClient({
      url: server.wsEndpoint,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${tenant.tokens.VIEWER}` },
      retryAttempts: 0,
      lazy: false,
    });
    const stays = await subscribeWs(other, SUBSCRIPTION);
    await admin.data(REVOKE, { id: minted.id });
    const result = await new Promise((resolve, reject) => {
      let value: unknown;
      other.subscribe({ query: "{ viewer { role } }" }, { next: (v) => (value = v), error: reject, complete: () => resolve(value) });
    });
    expect(result).toEqual({ data: { viewer: { role: "VIEWER" } } });
    await stays.stop();
    await other.dispose();
  });
});

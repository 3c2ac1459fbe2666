import type { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { insertNotifications } from "../../src/db/repositories/sync-notifications.js";
import { MAX_RUNNING_OPERATIONS_PER_SOCKET, SEND_WITHOUT_WAITING_BYTES } from "../../src/server/websocket.js";
import { atCommit, inTransaction } from "../../src/services/transaction.js";
import { testDatabase } from "../support/database.js";
import { apiAs, createCatalogue, outOfSyncNotification } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";

/**
 * A WebSocket client that does not read its socket, end to end: the server runs no more of its
 * operations once results wait for it, so what it holds for the client is bounded by
 * MAX_RUNNING_OPERATIONS_PER_SOCKET results and SEND_WITHOUT_WAITING_BYTES, however many operations
 * the client sends; everything arrives, in order, once it reads again.
 */
let server: TestServer;
let tenant: Tenant;
/** The server's TCP sockets of upgraded connections, and the most each held unsent, sampled every 10 ms. */
const held = new Map<Socket, number>();
const sampler = setInterval(() => {
  for (const [socket, most] of held) held.set(socket, Math.max(most, socket.writableLength));
}, 10);

beforeAll(async () => {
  server = await startTestServer();
  server.app.server.on("upgrade", (_request, socket) => held.set(socket as Socket, 0));
  tenant = await createTenant("ws-backpressure");
  const catalogue = await createCatalogue(apiAs(server.endpoint, tenant, "ADMIN"));
  const { db } = await testDatabase();
  const organizationId = tenant.organizationId;
  const rows = Array.from({ length: 1_000 }, (_, i) =>
    outOfSyncNotification(organizationId, catalogue, `Journey Configuration out of Sync ${i}`),
  );
  await inTransaction(db, organizationId, async (tx) => {
    atCommit(tx, () => insertNotifications(tx, organizationId, rows));
  });
});

afterAll(async () => {
  clearInterval(sampler);
  await server.stop();
});

const NODE = "id cursor status message changeCount occurredAt application { name } journey { key } environment { key }";
/** ~200 KB of result. */
const BIG = `query Big($after: String) { ${Array.from({ length: 5 }, (_, i) => `a${i}: syncNotifications(first: 100, after: $after) { edges { cursor node { ${NODE} } } }`).join(" ")} }`;

describe("a WebSocket client that does not read", () => {
  it("gets no more operations run for it than the server may hold, and every answer in order once it reads", {
    timeout: 60_000,
  }, async () => {
    const socket = new WebSocket(server.wsEndpoint, "graphql-transport-ws");
    const messages: { id?: string; type: string; payload?: { data?: unknown } }[] = [];
    socket.on("message", (data) => messages.push(JSON.parse(String(data))));
    await new Promise((resolve) => socket.once("open", resolve));
    socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${tenant.tokens.VIEWER}` } }));
    await expect.poll(() => messages.some((m) => m.type === "connection_ack")).toBe(true);
    // One answer read, for its size.
    socket.send(JSON.stringify({ id: "probe", type: "subscribe", payload: { query: BIG, variables: { after: "0" } } }));
    await expect.poll(() => messages.some((m) => m.id === "probe" && m.type === "complete"), { timeout: 20_000 }).toBe(true);
    const size = JSON.stringify(messages.find((m) => m.id === "probe" && m.type === "next")).length;
    expect(size).toBeGreaterThan(100_000);
    const tcp = [...held.keys()].at(-1)!;
    held.set(tcp, 0);

    socket.pause();
    const count = 40;
    for (let i = 0; i < count; i++) {
      socket.send(JSON.stringify({ id: `q${i}`, type: "subscribe", payload: { query: BIG, variables: { after: String(i) } } }));
    }
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    // 40 answers of ~200 KB would be ~8 MB; the server ran at most a few of them.
    expect(held.get(tcp)).toBeLessThanOrEqual(SEND_WITHOUT_WAITING_BYTES + (MAX_RUNNING_OPERATIONS_PER_SOCKET + 1) * (size + 1_024));

    socket.resume();
    await expect.poll(() => messages.filter((m) => m.type === "complete").length, { timeout: 30_000 }).toBe(count + 1);
    for (let i = 0; i < count; i++) expect(messages.filter((m) => m.id === `q${i}`).map((m) => m.type)).toEqual(["next", "complete"]);
    socket.close();
  });

  it("that resets its connection while answers wait for it is no error of the server's", { timeout: 60_000 }, async () => {
    const before = server.logs.length;
    for (let round = 0; round < 3; round++) {
      const socket = new WebSocket(server.wsEndpoint, "graphql-transport-ws");
      const messages: { type: string }[] = [];
      socket.on("message", (data) => messages.push(JSON.parse(String(data))));
      socket.on("error", () => {});
      await new Promise((resolve) => socket.once("open", resolve));
      socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${tenant.tokens.VIEWER}` } }));
      await expect.poll(() => messages.some((m) => m.type === "connection_ack")).toBe(true);
      const tcp = [...held.keys()].at(-1)!;
      socket.pause();
      for (let i = 0; i < 60; i++) {
        socket.send(JSON.stringify({ id: `q${i}`, type: "subscribe", payload: { query: BIG, variables: { after: String(i) } } }));
      }
      await expect.poll(() => tcp.writableLength, { timeout: 20_000, interval: 20 }).toBeGreaterThan(SEND_WITHOUT_WAITING_BYTES);
      // A reset (RST), as a client that crashed or lost its network: the writes waiting fail.
      (socket as unknown as { _socket: Socket })._socket.resetAndDestroy();
      await expect.poll(() => tcp.destroyed, { timeout: 10_000 }).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(server.logs.slice(before).filter((line) => Number(line.level) >= 50)).toEqual([]);
  });
});

import type { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { insertNotifications } from "../../src/db/repositories/sync-notifications.js";
import { atCommit, inTransaction } from "../../src/services/transaction.js";
import { testDatabase } from "../support/database.js";
import { apiAs, type Catalogue, createCatalogue, outOfSyncNotification } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";

/**
 * An operation id used again right after its `complete` (graphql-transport-ws allows it): the
 * first operation's stream ends in its own time, and what graphql-ws did then was for whichever
 * operation held the id — it sent a `complete` for the new one and forgot it, so the new
 * subscription never delivered. graphql-ws is patched for it (src/patches/graphql-ws+6.4.2.patch).
 */
let server: TestServer;
let tenant: Tenant;
let catalogue: Catalogue;

beforeAll(async () => {
  server = await startTestServer();
  tenant = await createTenant("ws-ids");
  catalogue = await createCatalogue(apiAs(server.endpoint, tenant, "ADMIN"));
});

afterAll(() => server.stop());

/** Commits one sync notification of the tenant (delivered live through the event relay). */
async function notify(text: string) {
  const { db } = await testDatabase();
  const organizationId = tenant.organizationId;
  await inTransaction(db, organizationId, async (tx) => {
    atCommit(tx, () => insertNotifications(tx, organizationId, [outOfSyncNotification(organizationId, catalogue, text)]));
  });
}

interface Message {
  id?: string;
  type: string;
  payload?: { data?: { syncStatusChanged?: { message: string } } };
}

const SUBSCRIPTION = "subscription { syncStatusChanged { message } }";

describe("an operation id used again right after its complete", () => {
  it("is the new operation's: no complete for it from the old one, and its events arrive", { timeout: 30_000 }, async () => {
    const socket = new WebSocket(server.wsEndpoint, "graphql-transport-ws");
    const messages: Message[] = [];
    socket.on("message", (data) => messages.push(JSON.parse(String(data))));
    await new Promise((resolve) => socket.once("open", resolve));
    const send = (message: object) => socket.send(JSON.stringify(message));
    send({ type: "connection_init", payload: { authorization: `Bearer ${tenant.tokens.VIEWER}` } });
    await expect.poll(() => messages.some((m) => m.type === "connection_ack")).toBe(true);

    for (let round = 0; round < 5; round++) {
      send({ id: "x", type: "subscribe", payload: { query: SUBSCRIPTION } });
      // Live: an event of its own arrives.
      for (let i = 0; !messages.some((m) => m.payload?.data?.syncStatusChanged?.message === `before ${round}`); i++) {
        if (i > 0) await new Promise((resolve) => setTimeout(resolve, 50));
        if (i % 10 === 0) await notify(`before ${round}`);
        if (i > 100) throw new Error("the first subscription got nothing");
      }
      const from = messages.length;
      // Both in one TCP segment: the server reads them in one go.
      const tcp = (socket as unknown as { _socket: Socket })._socket;
      tcp.cork();
      send({ id: "x", type: "complete" });
      send({ id: "x", type: "subscribe", payload: { query: SUBSCRIPTION } });
      tcp.uncork();
      for (let i = 0; !messages.slice(from).some((m) => m.payload?.data?.syncStatusChanged?.message === `after ${round}`); i++) {
        if (i > 0) await new Promise((resolve) => setTimeout(resolve, 50));
        if (i % 10 === 0) await notify(`after ${round}`);
        if (i > 100) throw new Error(`the reused id got nothing: ${JSON.stringify(messages.slice(from))}`);
      }
      // Nothing ended the new operation.
      expect(messages.slice(from).filter((m) => m.type === "complete" || m.type === "error")).toEqual([]);
      send({ id: "x", type: "complete" });
      // Read to the end of the round: the server has handled the complete once it answers a ping.
      send({ type: "ping" });
      await expect.poll(() => messages.slice(from).some((m) => m.type === "pong")).toBe(true);
    }
    socket.close();
  });
});

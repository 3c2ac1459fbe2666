import { serverAudits } from "graphql-http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { MAX_WS_MESSAGE_BYTES } from "../../src/server/limits.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";

let server: TestServer;
let tenant: Tenant;
beforeAll(async () => {
  server = await startTestServer();
  tenant = await createTenant("spec");
});
afterAll(() => server.stop());

describe("GraphQL over HTTP (graphql-http's server audits)", () => {
  // Built lazily: the URL is only known once the server listens.
  const audits = serverAudits({
    url: () => server.endpoint,
    fetchFn: (input: RequestInfo | URL, init?: RequestInit) =>
      fetch(input, {
        ...init,
        headers: { ...Object.fromEntries(new Headers(init?.headers).entries()), authorization: `Bearer ${tenant.tokens.VIEWER}` },
      }),
  });

  for (const audit of audits.filter((a) => a.name.startsWith("MUST") || a.name.startsWith("SHOULD"))) {
    it(audit.name, async () => {
      const result = await audit.fn();
      expect(result.status, "message" in result ? String(result.message) : "").toBe("ok");
    });
  }
});

describe("the graphql-transport-ws protocol", () => {
  /** A raw socket speaking the protocol by hand; resolves with the close code. */
  async function rawSession(
    steps: (ws: WebSocket, acked: Promise<void>) => Promise<void> | void,
  ): Promise<{ code: number; reason: string }> {
    const ws = new WebSocket(server.wsEndpoint, "graphql-transport-ws");
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.on("close", (code, reason) => resolve({ code, reason: String(reason) })),
    );
    const acked = new Promise<void>((resolve) =>
      ws.on("message", (data) => {
        if (JSON.parse(String(data)).type === "connection_ack") resolve();
      }),
    );
    await new Promise((resolve) => ws.once("open", resolve));
    await steps(ws, acked);
    return closed;
  }
  const init = (ws: WebSocket) =>
    ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${tenant.tokens.VIEWER}` } }));
  const subscribe = (ws: WebSocket, id: string) =>
    ws.send(JSON.stringify({ id, type: "subscribe", payload: { query: "subscription { syncStatusChanged { id } }" } }));

  it("closes with 4400 on an unknown message type", async () => {
    const { code } = await rawSession(async (ws, acked) => {
      init(ws);
      await acked;
      ws.send(JSON.stringify({ type: "bogus" }));
    });
    expect(code).toBe(4400);
  });

  it("closes with 4429 on a second connection_init", async () => {
    const { code } = await rawSession(async (ws, acked) => {
      init(ws);
      await acked;
      init(ws);
    });
    expect(code).toBe(4429);
  });

  it("closes with 4409 on a duplicate subscription id", async () => {
    const { code } = await rawSession(async (ws, acked) => {
      init(ws);
      await acked;
      subscribe(ws, "same");
      subscribe(ws, "same");
    });
    expect(code).toBe(4409);
  });

  it("closes with 4401 when a subscribe comes before connection_init is acknowledged", async () => {
    const { code } = await rawSession((ws) => subscribe(ws, "early"));
    expect(code).toBe(4401);
  });

  it(`closes with 1009 on a message over ${MAX_WS_MESSAGE_BYTES} bytes`, async () => {
    const { code } = await rawSession(async (ws, acked) => {
      init(ws);
      await acked;
      ws.send(
        JSON.stringify({ id: "big", type: "subscribe", payload: { query: `{ viewer { role } } #${"x".repeat(MAX_WS_MESSAGE_BYTES)}` } }),
      );
    });
    expect(code).toBe(1009);
  });

  it("closes with 4408 a connection that never initialises", { timeout: 20_000 }, async () => {
    const started = Date.now();
    const { code } = await rawSession(() => {});
    expect(code).toBe(4408);
    expect(Date.now() - started).toBeGreaterThanOrEqual(9_000);
  });
});

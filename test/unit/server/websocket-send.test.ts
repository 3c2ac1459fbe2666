import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { SEND_WITHOUT_WAITING_BYTES, sendTo } from "../../../src/server/websocket.js";

/**
 * How graphql-ws sends on our sockets (`sendTo`, src/server/websocket.ts), on real sockets over
 * loopback: messages go out without waiting while little is unsent, and a client that does not read
 * holds back only its own messages, with at most the bound plus two messages kept for it.
 */
const opened: { server: WebSocketServer; client: WebSocket }[] = [];

async function pair(): Promise<{ server: WebSocket; client: WebSocket }> {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  const accepted = new Promise<WebSocket>((resolve) => wss.once("connection", resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  await new Promise<void>((resolve, reject) => {
    client.once("open", () => resolve());
    client.once("error", reject);
  });
  opened.push({ server: wss, client });
  return { server: await accepted, client };
}

afterEach(async () => {
  for (const { server, client } of opened.splice(0)) {
    client.terminate();
    for (const socket of server.clients) socket.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

describe("sending on a socket", () => {
  it("sends without waiting while little is unsent, every message in order", async () => {
    const { server, client } = await pair();
    const received: string[] = [];
    const all = new Promise<void>((resolve) =>
      client.on("message", (data) => {
        received.push(String(data));
        if (received.length === 100) resolve();
      }),
    );
    const send = sendTo(server);
    const answers = Array.from({ length: 100 }, (_, i) => send(`message ${i}`));
    // Small messages on a socket that is read: none of them waited for its write.
    expect(answers.every((answer) => answer === undefined)).toBe(true);
    await all;
    expect(received).toEqual(Array.from({ length: 100 }, (_, i) => `message ${i}`));
  });

  it("holds back a client that does not read, keeping at most the bound and two messages for it, and delivers all once it reads", async () => {
    const { server, client } = await pair();
    const received: string[] = [];
    client.on("message", (data) => received.push(String(data).slice(0, 12)));
    client.pause();
    const send = sendTo(server);
    const message = (i: number) => `message ${String(i).padStart(4, "0")} ${"x".repeat(64 * 1024)}`;
    // Sent one after the other, as graphql-ws sends a stream: each waits for what the last returned.
    let sent = 0;
    let mostUnsent = 0;
    let held = false;
    for (; sent < 2_000; ) {
      const answer = send(message(sent));
      sent++;
      mostUnsent = Math.max(mostUnsent, server.bufferedAmount);
      if (answer === undefined) continue;
      // Waiting: once the kernel's buffers are full, the write does not finish while the client does not read.
      const finished = await Promise.race([answer.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 300))]);
      if (!finished) {
        held = true;
        break;
      }
    }
    expect(held).toBe(true);
    expect(sent).toBeLessThan(2_000);
    // What this process keeps for the socket: under the bound, then the message that went over it,
    // then the one that waits for its write.
    expect(mostUnsent).toBeLessThanOrEqual(SEND_WITHOUT_WAITING_BYTES + 2 * (message(0).length + 1_024));
    client.resume();
    await expect.poll(() => received.length, { timeout: 10_000 }).toBe(sent);
    expect(received).toEqual(Array.from({ length: sent }, (_, i) => message(i).slice(0, 12)));
  });

  it("sends nothing on a socket that is closing or closed", async () => {
    const { server, client } = await pair();
    const closed = new Promise<void>((resolve) => server.once("close", () => resolve()));
    client.close();
    await closed;
    expect(sendTo(server)("late")).toBeUndefined();
  });
});

import { createServer, request as httpRequest, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { RequestsUnderWay } from "../../../src/server/requests-under-way.js";

/** A real HTTP server whose handler holds each response until the test lets it go. */
async function serverHolding(requests: RequestsUnderWay) {
  const held: ServerResponse[] = [];
  const arrived: (() => void)[] = [];
  const server = createServer((request, response) => {
    requests.track(request, response);
    held.push(response);
    arrived.shift()?.();
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const nextArrival = () => new Promise<void>((resolve) => arrived.push(resolve));
  return { server, held, port, nextArrival };
}

const until = async (condition: () => boolean) => {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
};

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe("RequestsUnderWay", () => {
  it("counts a request from its arrival until its response is sent, on a kept-alive connection too", async () => {
    const requests = new RequestsUnderWay();
    const { server, held, port, nextArrival } = await serverHolding(requests);
    close = () => new Promise((resolve) => server.close(() => resolve()));
    const agent = new (await import("node:http")).Agent({ keepAlive: true });
    const get = () =>
      new Promise<string>((resolve, reject) => {
        httpRequest({ port, host: "127.0.0.1", agent }, (response) => {
          let body = "";
          response.on("data", (chunk) => (body += chunk));
          response.on("end", () => resolve(body));
        })
          .on("error", reject)
          .end();
      });
    for (const round of [1, 2]) {
      const arrived = nextArrival();
      const answer = get();
      await arrived;
      expect(requests.size).toBe(1);
      held.shift()?.end(`round ${round}`);
      expect(await answer).toBe(`round ${round}`);
      await until(() => requests.size === 0);
    }
    agent.destroy();
  });

  it("stops counting a request whose client went away before the answer", async () => {
    const requests = new RequestsUnderWay();
    const { server, port, nextArrival } = await serverHolding(requests);
    close = () => new Promise((resolve) => server.close(() => resolve()));
    const arrived = nextArrival();
    const abandoned = httpRequest({ port, host: "127.0.0.1" }).on("error", () => {});
    abandoned.end();
    await arrived;
    expect(requests.size).toBe(1);
    abandoned.destroy();
    await until(() => requests.size === 0);
  });

  it("does not count a request that accepts an event stream: a subscription, open as long as it listens", async () => {
    const requests = new RequestsUnderWay();
    const { server, held, port, nextArrival } = await serverHolding(requests);
    close = () => new Promise((resolve) => server.close(() => resolve()));
    const arrived = nextArrival();
    const stream = httpRequest({ port, host: "127.0.0.1", headers: { accept: "text/event-stream" } }).on("error", () => {});
    stream.end();
    await arrived;
    expect(requests.size).toBe(0);
    held.shift()?.end();
    stream.destroy();
  });
});

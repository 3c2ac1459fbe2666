import { Writable } from "node:stream";
import { type App, type AppOptions, createApp } from "../../src/server/app.js";
import { createLogger } from "../../src/server/logger.js";
import { testDatabase } from "./database.js";

export interface TestServer {
  app: App;
  url: string;
  /** `http://…/graphql` */
  endpoint: string;
  /** `ws://…/graphql` */
  wsEndpoint: string;
  /** Every log line the server wrote, parsed. */
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

/** The real server (HTTP and WebSocket) on a free port, over the worker's shared database; `options` as main.ts passes them. */
export async function startTestServer(
  options: Partial<Omit<AppOptions, "database" | "logger">> & { logLevel?: "info" | "debug" | "trace" } = {},
): Promise<TestServer> {
  const database = await testDatabase();
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line) logs.push(JSON.parse(line));
      done();
    },
  });
  const { logLevel = "info", ...appOptions } = options;
  const app = createApp({ ...appOptions, database, logger: createLogger(logLevel, sink) });
  const url = await app.start(0, "127.0.0.1");
  return {
    app,
    url,
    endpoint: `${url}/graphql`,
    wsEndpoint: `${url.replace("http", "ws")}/graphql`,
    logs,
    stop: () => app.stop(),
  };
}

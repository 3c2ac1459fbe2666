import { type ChildProcess, spawn } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { databaseUrl } from "../support/database.js";
import { SAVE, SAVE_STEP } from "../support/documents.js";
import { type Api, apiAs, type Catalogue, createCatalogue, createClient, operation } from "../support/fixtures.js";
import { subscribeWs, wsClient } from "../support/subscriptions.js";
import { createTenant, type Tenant } from "../support/tenant.js";

/** Real server processes (npm start's entry point) on the one PostgreSQL server. */

const root = new URL("../..", import.meta.url).pathname;
const running = new Set<ChildProcess>();
afterAll(() => {
  for (const p of running) p.kill("SIGKILL");
});

async function startProcess(): Promise<{ url: string; stop(): Promise<number | null> }> {
  const child = spawn(`${root}node_modules/.bin/tsx`, [`${root}src/server/main.ts`], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", SEED_DEMO: "false" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  for (let i = 0; i < 300; i++) {
    const match = /GraphiQL: (http:\/\/\S+)\/graphql/.exec(output);
    if (match) {
      return {
        url: match[1],
        stop: async () => {
          child.kill("SIGTERM");
          const code = await exited;
          running.delete(child);
          return code;
        },
      };
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the server process did not start:\n${output}`);
}

const SUBSCRIPTION = operation(
  `subscription($after: String) { syncStatusChanged(after: $after) { cursor status changeCount environment { key } } }`,
);
const LATEST = operation(`query($after: String) { syncNotifications(after: $after, first: 100) { pageInfo { endCursor hasNextPage } } }`);
const STATES = operation(`query($journey: ID!) { node(id: $journey) { ... on Journey { syncStates { environment { key } status } } } }`);

async function latest(api: Api): Promise<string> {
  let after: string | undefined;
  for (;;) {
    const page = (await api.data(LATEST, { after })).syncNotifications.pageInfo;
    after = page.endCursor ?? after;
    if (!page.hasNextPage) return after ?? "0";
  }
}

async function save(api: Api, c: Catalogue, minLength: number) {
  const edit = { journeyId: c.journeys.login, environmentId: c.environments.development };
  const step = {
    key: "password",
    type: "PASSWORD",
    name: "Password",
    enabled: true,
    settings: { minLength },
    transitions: [
      { outcome: "success", to: "email-otp" },
      { outcome: "failure", to: "DENY" },
    ],
  };
  const revision = (await api.data(SAVE_STEP, { input: { ...edit, step } })).saveJourneyStep.draft.revision;
  expect((await api.data(SAVE, { input: { ...edit, draftRevision: revision } })).saveJourney.__typename).toBe("SaveJourneySuccess");
}

async function tenantWorld(url: string): Promise<{ tenant: Tenant; api: Api; catalogue: Catalogue }> {
  const tenant = await createTenant("processes");
  const api = apiAs(`${url}/graphql`, tenant);
  const catalogue = await createCatalogue(api);
  await createClient(api, {
    applicationId: catalogue.applicationId,
    environmentId: catalogue.environments.staging,
    databaseId: catalogue.databases.staging,
  });
  return { tenant, api, catalogue };
}

describe.runIf(databaseUrl)("server processes on one PostgreSQL server", () => {
  it("delivers a mutation sent to one process to the subscribers of another, and to its next query", { timeout: 60_000 }, async () => {
    const [a, b] = await Promise.all([startProcess(), startProcess()]);
    try {
      const { tenant, api, catalogue } = await tenantWorld(a.url);
      const ws = wsClient(`${b.url.replace("http", "ws")}/graphql`, tenant.tokens.VIEWER);
      const sub = await subscribeWs(ws, SUBSCRIPTION, { after: await latest(api) });
      // Process b answers (and caches) the states before the save…
      const viewerOfB = apiAs(`${b.url}/graphql`, tenant, "VIEWER");
      const staging = async () =>
        (await viewerOfB.data(STATES, { journey: catalogue.journeys.login })).node.syncStates.find(
          (s: { environment: { key: string } }) => s.environment.key === "staging",
        ).status;
      expect(await staging()).toBe("IN_SYNC");
      expect(await staging()).toBe("IN_SYNC");
      await save(api, catalogue, 18);
      // …and answers the new state as soon as process a's save has committed.
      expect(await staging()).toBe("OUT_OF_SYNC");
      const [event] = await sub.waitFor(1);
      expect(event.syncStatusChanged).toMatchObject({ status: "OUT_OF_SYNC", environment: { key: "staging" } });
      await sub.stop();
      await ws.dispose();
    } finally {
      expect(await a.stop()).toBe(0);
      expect(await b.stop()).toBe(0);
    }
  });

  it("loses nothing for a subscriber that resumes after its server process was stopped and started again", {
    timeout: 60_000,
  }, async () => {
    let server = await startProcess();
    const writer = await startProcess();
    try {
      const { tenant, api, catalogue } = await tenantWorld(writer.url);
      let ws = wsClient(`${server.url.replace("http", "ws")}/graphql`, tenant.tokens.VIEWER);
      let sub = await subscribeWs(ws, SUBSCRIPTION, { after: await latest(api) });
      await save(api, catalogue, 18);
      const [first] = await sub.waitFor(1);
      await sub.stop();
      await ws.dispose();
      expect(await server.stop()).toBe(0);

      await save(api, catalogue, 19);
      await save(api, catalogue, 20);
      server = await startProcess();
      ws = wsClient(`${server.url.replace("http", "ws")}/graphql`, tenant.tokens.VIEWER);
      sub = await subscribeWs(ws, SUBSCRIPTION, { after: first.syncStatusChanged.cursor });
      const missed = await sub.waitFor(2);
      expect(missed.map((e) => Number(e.syncStatusChanged.cursor) > Number(first.syncStatusChanged.cursor))).toEqual([true, true]);
      await save(api, catalogue, 21);
      await sub.waitFor(3);
      await sub.stop();
      await ws.dispose();
    } finally {
      await server.stop();
      await writer.stop();
    }
  });
});

import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/client.js";
import { createApp } from "../../src/server/app.js";
import { createLogger } from "../../src/server/logger.js";
import { databaseUrl } from "../support/database.js";
import { PROMOTE_NOW, SAVE, SAVE_STEP, UPDATE_CLIENT } from "../support/documents.js";
import { type Api, apiAs, type Catalogue, createCatalogue, createClient, operation } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { subscribeSse, subscribeWs, wsClient } from "../support/subscriptions.js";
import { createTenant, type Tenant } from "../support/tenant.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const SUBSCRIPTION = operation(`subscription Sync($env: ID, $app: ID, $after: String) {
  syncStatusChanged(environmentId: $env, applicationId: $app, after: $after) {
    id cursor status message changeCount occurredAt
    application { name } journey { key } environment { key } sourceEnvironment { key } } }`);

const NOTIFICATIONS = operation(`query Notifications($env: ID, $app: ID, $after: String, $first: Int) {
  syncNotifications(environmentId: $env, applicationId: $app, after: $after, first: $first) {
    edges { cursor node { cursor status changeCount journey { key } environment { key } } }
    pageInfo { hasNextPage endCursor } } }`);

const REVOKE = operation(`mutation Revoke($id: ID!) { revokeApiToken(input: { apiTokenId: $id }) { __typename } }`);
const CREATE_TOKEN = operation(`mutation Token { createApiToken(input: { name: "dashboard", role: VIEWER }) {
  ... on CreateApiTokenSuccess { token apiToken { id } } } }`);

interface World {
  tenant: Tenant;
  admin: Api;
  catalogue: Catalogue;
  env: Catalogue["environments"];
}

async function world(endpoint = server.endpoint): Promise<World> {
  const tenant = await createTenant("realtime");
  const admin = apiAs(endpoint, tenant, "ADMIN");
  const catalogue = await createCatalogue(admin);
  await createClient(admin, {
    applicationId: catalogue.applicationId,
    environmentId: catalogue.environments.staging,
    databaseId: catalogue.databases.staging,
  });
  return { tenant, admin, catalogue, env: catalogue.environments };
}

/** Saves a new minLength for the login journey's password step in development. */
async function saveLogin(w: World, minLength: number, api = w.admin) {
  const ids = { journeyId: w.catalogue.journeys.login, environmentId: w.env.development };
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
  const revision = (await api.data(SAVE_STEP, { input: { ...ids, step } })).saveJourneyStep.draft.revision;
  expect((await api.data(SAVE, { input: { ...ids, draftRevision: revision } })).saveJourney.__typename).toBe("SaveJourneySuccess");
}

const promote = (w: World, from: string, to: string, api = w.admin) =>
  api.data(PROMOTE_NOW, { input: { applicationId: w.catalogue.applicationId, fromEnvironmentId: from, toEnvironmentId: to } });

/** The cursor of the organization's latest notification ("0" when there is none). */
async function latestCursor(w: World): Promise<string> {
  let after: string | undefined;
  for (;;) {
    const page = (await w.admin.data(NOTIFICATIONS, { after, first: 100 })).syncNotifications;
    if (page.edges.length === 0) return after ?? "0";
    after = page.pageInfo.endCursor;
    if (!page.pageInfo.hasNextPage) return after!;
  }
}

describe("sync notifications over graphql-ws", () => {
  it("notifies a save that puts staging out of sync, and the propagation that brings it back", async () => {
    const w = await world();
    const ws = wsClient(server.wsEndpoint, w.tenant.tokens.VIEWER);
    const sub = await subscribeWs(ws, SUBSCRIPTION, { env: w.env.staging, after: await latestCursor(w) });
    try {
      await saveLogin(w, 16);
      const [outOfSync] = await sub.waitFor(1);
      expect(outOfSync.syncStatusChanged).toMatchObject({
        status: "OUT_OF_SYNC",
        message: "Journey Configuration out of Sync",
        changeCount: 1,
        application: { name: "Customer Portal" },
        journey: { key: "login" },
        environment: { key: "staging" },
        sourceEnvironment: { key: "development" },
      });
      await promote(w, w.env.development, w.env.staging);
      const [, inSync] = await sub.waitFor(2);
      expect(inSync.syncStatusChanged).toMatchObject({ status: "IN_SYNC", message: "Journey Configuration in Sync", changeCount: 0 });
      expect(Number(inSync.syncStatusChanged.cursor)).toBeGreaterThan(Number(outOfSync.syncStatusChanged.cursor));
    } finally {
      await sub.stop();
      await ws.dispose();
    }
  });

  it("does not notify a state that did not change, filters by environment and application, and never leaks across organizations", async () => {
    const w = await world();
    const stranger = await world();
    const ws = wsClient(server.wsEndpoint, w.tenant.tokens.VIEWER);
    const strangerWs = wsClient(server.wsEndpoint, stranger.tenant.tokens.VIEWER);
    const all = await subscribeWs(ws, SUBSCRIPTION, { after: await latestCursor(w) });
    const production = await subscribeWs(ws, SUBSCRIPTION, { env: w.env.production, after: await latestCursor(w) });
    const otherApp = await subscribeWs(ws, SUBSCRIPTION, { app: w.catalogue.applicationId });
    const strangers = await subscribeWs(strangerWs, SUBSCRIPTION, {});
    try {
      await saveLogin(w, 16); // staging: out of sync
      await saveLogin(w, 17); // staging: still out of sync, other content: notifies
      // Client settings in sync are untouched by a journey save; production has no client: unchanged.
      await w.admin.data(UPDATE_CLIENT, { input: { clientId: w.catalogue.clientId, name: "renamed" } });
      const events = await all.waitFor(2);
      await new Promise((r) => setTimeout(r, 300));
      expect(all.events).toHaveLength(2);
      expect(events.map((e) => [e.syncStatusChanged.environment.key, e.syncStatusChanged.status])).toEqual([
        ["staging", "OUT_OF_SYNC"],
        ["staging", "OUT_OF_SYNC"],
      ]);
      expect(production.events).toHaveLength(0);
      expect(otherApp.events).toHaveLength(2);
      expect(strangers.events).toHaveLength(0);
    } finally {
      await Promise.all([all.stop(), production.stop(), otherApp.stop(), strangers.stop()]);
      await ws.dispose();
      await strangerWs.dispose();
    }
  });

  it("notifies the states an environment inserted below them changes, and nothing for one appended on top", async () => {
    const w = await world();
    const ws = wsClient(server.wsEndpoint, w.tenant.tokens.VIEWER);
    const sub = await subscribeWs(ws, SUBSCRIPTION, { after: await latestCursor(w) });
    const CREATE_ENVIRONMENT = operation(`mutation CreateEnvironment($input: CreateEnvironmentInput!) {
      createEnvironment(input: $input) { __typename ... on Error { code message } } }`);
    try {
      // Appended above production: nothing compares with it, nothing changes.
      const appended = await w.admin.data(CREATE_ENVIRONMENT, { input: { key: "archive", name: "Archive", rank: 99 } });
      expect(appended.createEnvironment.__typename).toBe("CreateEnvironmentSuccess");
      // Between development and staging: staging's journeys are now compared with an empty "qa".
      const inserted = await w.admin.data(CREATE_ENVIRONMENT, { input: { key: "qa", name: "QA", rank: 1 } });
      expect(inserted.createEnvironment.__typename).toBe("CreateEnvironmentSuccess");
      const events = await sub.waitFor(2);
      await new Promise((r) => setTimeout(r, 300));
      expect(sub.events).toHaveLength(2);
      expect(
        events
          .map((e) => [
            e.syncStatusChanged.journey?.key,
            e.syncStatusChanged.environment.key,
            e.syncStatusChanged.sourceEnvironment.key,
            e.syncStatusChanged.status,
          ])
          .sort(),
      ).toEqual([
        ["login", "staging", "qa", "OUT_OF_SYNC"],
        ["registration", "staging", "qa", "OUT_OF_SYNC"],
      ]);
      for (const event of events) expect(event.syncStatusChanged.changeCount).toBeGreaterThan(0);
    } finally {
      await sub.stop();
      await ws.dispose();
    }
  });

  it("refuses a filter naming another organization's environment", async () => {
    const w = await world();
    const stranger = await world();
    const ws = wsClient(server.wsEndpoint, w.tenant.tokens.VIEWER);
    const sub = await subscribeWs(ws, SUBSCRIPTION, { env: stranger.env.staging });
    await expect(sub.completed).rejects.toThrow(/NOT_FOUND|No environment/);
    await ws.dispose();
  });
});

describe("resuming without loss", () => {
  it("after a disconnect and three writes, the resumed subscriber gets exactly those three, then live ones", async () => {
    const w = await world();
    let ws = wsClient(server.wsEndpoint, w.tenant.tokens.VIEWER);
    let sub = await subscribeWs(ws, SUBSCRIPTION, { after: await latestCursor(w) });
    await saveLogin(w, 16);
    const [first] = await sub.waitFor(1);
    const cursor = first.syncStatusChanged.cursor;
    await sub.stop();
    await ws.dispose();

    await saveLogin(w, 17);
    await promote(w, w.env.development, w.env.staging);
    await saveLogin(w, 18);

    ws = wsClient(server.wsEndpoint, w.tenant.tokens.VIEWER);
    sub = await subscribeWs(ws, SUBSCRIPTION, { after: cursor });
    try {
      const missed = await sub.waitFor(3);
      expect(missed.map((e) => e.syncStatusChanged.status)).toEqual(["OUT_OF_SYNC", "IN_SYNC", "OUT_OF_SYNC"]);
      await saveLogin(w, 19);
      const [, , , live] = await sub.waitFor(4);
      expect(live.syncStatusChanged).toMatchObject({ status: "OUT_OF_SYNC", changeCount: 1 });
      const cursors = sub.events.map((e) => Number(e.syncStatusChanged.cursor));
      expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
      expect(new Set(cursors).size).toBe(cursors.length);
      expect(cursors[0]).toBeGreaterThan(Number(cursor));
    } finally {
      await sub.stop();
      await ws.dispose();
    }
  });

  it("loses nothing across a server restart between writes", async () => {
    const w = await world();
    const cursor = await latestCursor(w);
    await server.stop();
    // Writes while the subscriber's server is down, through another instance on the same database.
    const other = await startTestServer();
    const viaOther = apiAs(other.endpoint, w.tenant, "ADMIN");
    await saveLogin(w, 21, viaOther);
    await saveLogin(w, 22, viaOther);
    await other.stop();
    server = await startTestServer();
    const ws = wsClient(server.wsEndpoint, w.tenant.tokens.VIEWER);
    const sub = await subscribeWs(ws, SUBSCRIPTION, { after: cursor });
    try {
      const events = await sub.waitFor(2);
      expect(events.map((e) => e.syncStatusChanged.changeCount)).toEqual([1, 1]);
    } finally {
      await sub.stop();
      await ws.dispose();
    }
  });

  it("pages through stored notifications with syncNotifications", async () => {
    const w = await world();
    const start = await latestCursor(w);
    await saveLogin(w, 16);
    await promote(w, w.env.development, w.env.staging);
    await saveLogin(w, 17);
    const first = (await w.admin.data(NOTIFICATIONS, { after: start, first: 2 })).syncNotifications;
    expect(first.edges.map((e: { node: { status: string } }) => e.node.status)).toEqual(["OUT_OF_SYNC", "IN_SYNC"]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = (await w.admin.data(NOTIFICATIONS, { after: first.pageInfo.endCursor, first: 2 })).syncNotifications;
    expect(second.edges.map((e: { node: { status: string } }) => e.node.status)).toEqual(["OUT_OF_SYNC"]);
    expect(second.pageInfo.hasNextPage).toBe(false);
    const bad = await w.admin.request(NOTIFICATIONS, { after: "not-a-cursor" });
    expect(bad.errors?.[0].extensions?.code).toBe("VALIDATION_FAILED");

    // Backward from the newest: the same three, oldest first within each page.
    const BACKWARD = operation(`query Backward($last: Int, $before: String, $first: Int) {
      syncNotifications(last: $last, before: $before, first: $first) {
        edges { cursor node { status } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`);
    const newest = (await w.admin.data(BACKWARD, { last: 2 })).syncNotifications;
    expect(newest.edges.map((e: { node: { status: string } }) => e.node.status)).toEqual(["IN_SYNC", "OUT_OF_SYNC"]);
    expect(newest.edges.map((e: { cursor: string }) => e.cursor)).toEqual(
      [...first.edges.slice(1), ...second.edges].map((e: { cursor: string }) => e.cursor),
    );
    expect(newest.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    const older = (await w.admin.data(BACKWARD, { last: 1, before: newest.pageInfo.startCursor })).syncNotifications;
    expect(older.edges.map((e: { cursor: string }) => e.cursor)).toEqual([first.edges[0].cursor]);
    expect(older.pageInfo.hasNextPage).toBe(true);
    const both = await w.admin.request(BACKWARD, { last: 1, first: 1 });
    expect(both.errors?.[0].extensions?.code).toBe("VALIDATION_FAILED");
  });
});

/** Every notification of the organization, oldest first: cursors and node IDs. */
async function allNotifications(w: World): Promise<{ cursor: string; id: string }[]> {
  const ALL = operation(`query AllNotifications($after: String) {
    syncNotifications(after: $after, first: 100) { edges { cursor node { id cursor } } pageInfo { hasNextPage endCursor } } }`);
  const found: { cursor: string; id: string }[] = [];
  for (let after: string | undefined; ; ) {
    const page = (await w.admin.data(ALL, { after })).syncNotifications;
    for (const edge of page.edges) {
      expect(edge.node.cursor).toBe(edge.cursor);
      found.push({ cursor: edge.cursor, id: edge.node.id });
    }
    if (!page.pageInfo.hasNextPage) return found;
    after = page.pageInfo.endCursor;
  }
}

describe("cursors per organization", () => {
  it("numbers each organization's notifications 1, 2, 3… however their writes interleave", async () => {
    const [a, b] = [await world(), await world()];
    for (const minLength of [16, 17, 18]) {
      await saveLogin(a, minLength);
      await saveLogin(b, minLength);
      await promote(b, b.env.development, b.env.staging);
      await promote(a, a.env.development, a.env.staging);
    }
    for (const w of [a, b]) {
      const cursors = (await allNotifications(w)).map((n) => n.cursor);
      expect(cursors.length).toBeGreaterThanOrEqual(6);
      expect(cursors).toEqual(cursors.map((_, i) => String(i + 1)));
    }
  });

  it("resumes a subscription from the organization's own cursor, whatever the other organization writes", async () => {
    const [a, b] = [await world(), await world()];
    await saveLogin(a, 16);
    const cursor = await latestCursor(a);
    const ws = wsClient(server.wsEndpoint, a.tenant.tokens.VIEWER);
    const sub = await subscribeWs(ws, SUBSCRIPTION, { after: cursor });
    try {
      await saveLogin(b, 16);
      await promote(a, a.env.development, a.env.staging);
      await promote(b, b.env.development, b.env.staging);
      await saveLogin(a, 17);
      const events = await sub.waitFor(2);
      expect(events.map((e) => e.syncStatusChanged.cursor)).toEqual([String(Number(cursor) + 1), String(Number(cursor) + 2)]);
      await new Promise((r) => setTimeout(r, 200));
      expect(sub.events).toHaveLength(2);
    } finally {
      await sub.stop();
      await ws.dispose();
    }
  });

  it("finds a notification by its node ID only in its own organization", async () => {
    const [a, b] = [await world(), await world()];
    const NODE = operation(`query NotificationNode($id: ID!) { node(id: $id) { id ... on SyncNotification { cursor } } }`);
    const [own] = await allNotifications(a);
    expect((await a.admin.data(NODE, { id: own.id })).node).toEqual({ id: own.id, cursor: own.cursor });
    expect((await b.admin.data(NODE, { id: own.id })).node).toBeNull();
    // b has a notification with the same cursor: a's ID does not name it.
    expect((await allNotifications(b)).map((n) => n.cursor)).toContain(own.cursor);
  });
});

describe("sync notifications over server-sent events", () => {
  it("delivers the same events to an SSE subscriber", async () => {
    const w = await world();
    const sub = await subscribeSse(server.endpoint, w.tenant.tokens.VIEWER, SUBSCRIPTION, {
      env: w.env.staging,
      after: await latestCursor(w),
    });
    try {
      await saveLogin(w, 16);
      const [event] = await sub.waitFor(1);
      expect(event.syncStatusChanged).toMatchObject({ status: "OUT_OF_SYNC", environment: { key: "staging" }, journey: { key: "login" } });
    } finally {
      await sub.stop();
    }
  });
});

describe("connection auth", () => {
  it("ends a revoked token's subscriptions", async () => {
    const w = await world();
    const { createApiToken } = await w.admin.data(CREATE_TOKEN);
    const ws = wsClient(server.wsEndpoint, createApiToken.token);
    const sub = await subscribeWs(ws, SUBSCRIPTION, {});
    const sse = await subscribeSse(server.endpoint, createApiToken.token, SUBSCRIPTION, {});
    await w.admin.data(REVOKE, { id: createApiToken.apiToken.id });
    // The stream ends, and the socket is closed with 4401: whichever the client sees first.
    await sub.completed.catch((closed: { code?: number }) => expect(closed.code).toBe(4401));
    await sse.completed;
    await ws.dispose();
  });
});

describe.runIf(databaseUrl)("two instances on one PostgreSQL server", () => {
  it("delivers a mutation sent to one instance to the subscribers of the other", async () => {
    const databases = await Promise.all([openDatabase({ url: databaseUrl }), openDatabase({ url: databaseUrl })]);
    const apps = databases.map((database) => createApp({ database, logger: createLogger("silent") }));
    const [urlA, urlB] = await Promise.all(apps.map((app) => app.start(0, "127.0.0.1")));
    try {
      const w = await world(`${urlA}/graphql`);
      const ws = wsClient(`${urlB.replace("http", "ws")}/graphql`, w.tenant.tokens.VIEWER);
      const sub = await subscribeWs(ws, SUBSCRIPTION, { after: await latestCursor(w) });
      await saveLogin(w, 30);
      const [event] = await sub.waitFor(1);
      expect(event.syncStatusChanged).toMatchObject({ status: "OUT_OF_SYNC", environment: { key: "staging" } });
      await sub.stop();
      await ws.dispose();
    } finally {
      await Promise.all(apps.map((app) => app.stop()));
      await Promise.all(databases.map((d) => d.close()));
    }
  });
});

describe.runIf(databaseUrl)("revocation from the command line", () => {
  it("ends the token's open subscriptions and refuses its next request", async () => {
    const w = await world();
    const { createApiToken } = await w.admin.data(CREATE_TOKEN);
    const token: string = createApiToken.token;
    const ws = wsClient(server.wsEndpoint, token);
    const sub = await subscribeWs(ws, SUBSCRIPTION, {});
    const root = new URL("../..", import.meta.url).pathname;
    const cli = spawnSync(`${root}node_modules/.bin/tsx`, [`${root}src/cli/token.ts`, "--revoke", token], {
      env: { ...process.env, DATABASE_URL: databaseUrl },
      encoding: "utf8",
    });
    expect(cli.status, cli.stderr).toBe(0);
    await sub.completed.catch((closed: { code?: number }) => expect(closed.code).toBe(4401));
    expect(
      (
        await apiAs(server.endpoint, { ...w.tenant, tokens: { ...w.tenant.tokens, VIEWER: token } }, "VIEWER").request(
          "{ viewer { role } }",
        )
      ).status,
    ).toBe(401);
    await ws.dispose();
  });
});

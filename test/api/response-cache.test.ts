import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString } from "graphql";
import { createYoga, type Plugin } from "graphql-yoga";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { rowsOf } from "../../src/db/client.js";
import { noteStatement } from "../../src/db/read-tracking.js";
import { organizations } from "../../src/db/schema.js";
import { globalId } from "../../src/graphql/ids.js";
import { createApp } from "../../src/server/app.js";
import { createLogger } from "../../src/server/logger.js";
import { type CacheScope, useResponseCache } from "../../src/server/response-cache.js";
import { countQueries, databaseUrl, testDatabase } from "../support/database.js";
import { PROMOTE_NOW, passwordStep, SAVE, SAVE_STEP } from "../support/documents.js";
import {
  type Api,
  apiAs,
  type Catalogue,
  createApiToken,
  createApplication,
  createCatalogue,
  createClient,
  localIdOf,
  operation,
} from "../support/fixtures.js";
import { client, gql } from "../support/graphql.js";
import { holdOpen, track, waitForBlockedOrDone } from "../support/locks.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";

/**
 * Query responses are cached per audience (organization and role) and organization revision
 * (src/server/response-cache.ts). Two servers over one database stand for two instances: what one
 * writes, the other's next query shows. That every mutation call that writes raises the revision,
 * and a refused one does not, is checked for every generated input in test/api/fuzz/.
 */
let one: TestServer;
let two: TestServer;
beforeAll(async () => {
  one = await startTestServer();
  two = await startTestServer();
});
afterAll(async () => {
  await one.stop();
  await two.stop();
});

const DASHBOARD = operation(`query Dashboard($env: ID!) {
  applications(first: 50) { edges { node { name
    clients { environment { key } clientId }
    journeys { key configuration(environmentId: $env) { version hash } } } } } }`);

const REQUEST_PROMOTION = operation(`mutation RequestPromotion($input: RequestPromotionInput!) {
  requestPromotion(input: $input) { __typename ... on Error { code message } } }`);

const UPDATE_CLIENT = operation(`mutation UpdateClient($input: UpdateClientInput!) {
  updateClient(input: $input) { __typename ... on UpdateClientSuccess { client { id } } ... on Error { code message } } }`);

const LOGIN_PASSWORD = operation(`query Login($journey: ID!, $env: ID!) {
  node(id: $journey) { ... on Journey { configuration(environmentId: $env) { version
    steps { key settings } } } } }`);

interface World {
  tenant: Tenant;
  admin: Api;
  catalogue: Catalogue;
}

async function world(label: string): Promise<World> {
  const tenant = await createTenant(label);
  const admin = apiAs(one.endpoint, tenant);
  return { tenant, admin, catalogue: await createCatalogue(admin) };
}

async function revisionOf(tenant: Tenant): Promise<number> {
  const { db } = await testDatabase();
  const [row] = await db
    .select({ revision: organizations.revision })
    .from(organizations)
    .where(eq(organizations.id, tenant.organizationId));
  return row.revision;
}

/** The statements but the token lookups (kept on the embedded database after the first: authentication-cache.test.ts). */
const requestStatements = (queries: string[]) => queries.filter((q) => !/from "api_tokens"/.test(q));

const dashboard = (server: TestServer, w: World, token = w.tenant.tokens.VIEWER) =>
  gql(server.endpoint, token, DASHBOARD, { env: w.catalogue.environments.development });

/** A new password step in the journey's draft, saved as its next version in the environment. */
async function saveVersion(editor: Api, ids: { journeyId: string; environmentId: string }, password: number) {
  const draft = (await editor.data(SAVE_STEP, { input: { ...ids, step: passwordStep(password) } })).saveJourneyStep.draft;
  expect((await editor.data(SAVE, { input: { ...ids, draftRevision: draft.revision } })).saveJourney.__typename).toBe("SaveJourneySuccess");
}

/** A diff of an application between two environments, with an alias of its own each time (a new text: the response cache does not answer it). */
function differ(server: TestServer, token: string, from: string, to: string) {
  let sent = 0;
  return (applicationId: string) =>
    gql(
      server.endpoint,
      token,
      `query D($app: ID!, $from: ID!, $to: ID!) { d${sent++}: diff(applicationId: $app, fromEnvironmentId: $from, toEnvironmentId: $to) { status changes { id path newValue } bundles { id } } }`,
      { app: applicationId, from, to },
    ).then((result) => Object.values(result.data as Record<string, unknown>)[0] as { status: string; changes: { path: string }[] });
}

/** A world with a second application, both with a client in staging, and an EDITOR to save with. */
async function twoApplications(label: string) {
  const w = await world(label);
  const other = await createCatalogue(w.admin, { application: "Other Portal", databasePrefix: "other" });
  for (const catalogue of [w.catalogue, other]) {
    await createClient(w.admin, {
      applicationId: catalogue.applicationId,
      environmentId: w.catalogue.environments.staging,
      databaseId: catalogue.databases.staging,
    });
  }
  return { w, other, editor: apiAs(one.endpoint, w.tenant, "EDITOR") };
}

/**
 * The organization's one place in the diffs' queue held: a promotion request of `application` (its
 * plan is a diff, computed in the queue) blocked behind the test holding the application's row — only
 * this organization's row, so the other test files run on. Resolves once the request is blocked.
 */
async function diffQueueHeld(w: World, application: string) {
  const held = await holdOpen(sql`select id from applications where id = ${localIdOf(application)} for update`);
  const { development, staging } = w.catalogue.environments;
  const requesting = track(
    apiAs(one.endpoint, w.tenant, "PROMOTER").request(REQUEST_PROMOTION, {
      input: { applicationId: application, fromEnvironmentId: development, toEnvironmentId: staging, selectAll: true },
    }),
  );
  try {
    await waitForBlockedOrDone(held.pid, 1, [requesting]);
  } catch (error) {
    await held.release();
    throw error;
  }
  return { held, requesting };
}

describe("the query response cache", () => {
  it("answers a repeated query with only the token lookup (none on the embedded database), and the same response", async () => {
    const w = await world("cache-repeat");
    const first = await countQueries(() => dashboard(one, w));
    expect(first.result.errors).toBeUndefined();
    expect(first.queries.length).toBeGreaterThan(1);
    const again = await countQueries(() => dashboard(one, w));
    expect(again.result).toEqual(first.result);
    if (databaseUrl) {
      expect(again.queries).toHaveLength(1);
      expect(again.queries[0]).toMatch(/from "api_tokens"/);
    } else {
      // The embedded database has one writer, this process: the token checked is kept (authentication-cache.test.ts).
      expect(again.queries).toEqual([]);
    }
  });

  it("executes identical queries asked at once right after a write once, the others answered with its result", async () => {
    const w = await world("cache-together");
    const ids = { journeyId: w.catalogue.journeys.login, environmentId: w.catalogue.environments.development };
    const editor = apiAs(one.endpoint, w.tenant, "EDITOR");
    const save = async (password: number) => {
      const draft = (await editor.data(SAVE_STEP, { input: { ...ids, step: passwordStep(password) } })).saveJourneyStep.draft;
      await editor.data(SAVE, { input: { ...ids, draftRevision: draft.revision } });
    };
    await dashboard(one, w);
    await save(21);
    const single = requestStatements((await countQueries(() => dashboard(one, w))).queries).length;
    expect(single).toBeGreaterThan(0);
    await save(22);
    const together = await countQueries(() => Promise.all(Array.from({ length: 5 }, () => dashboard(one, w))));
    for (const result of together.result) {
      expect(result.errors).toBeUndefined();
      expect(result).toEqual(together.result[0]);
    }
    const login = together.result[0].data.applications.edges[0].node.journeys.find((j: { key: string }) => j.key === "login");
    expect(login.configuration.version).toBe(3);
    expect(requestStatements(together.queries)).toHaveLength(single);
  });

  it("shows a write made through another instance in the very next query", async () => {
    const w = await world("cache-instances");
    const before = await dashboard(one, w);
    expect(before.data.applications.edges.map((e: { node: { name: string } }) => e.node.name)).toEqual(["Customer Portal"]);
    await dashboard(one, w);
    await createApplication(apiAs(two.endpoint, w.tenant), "Billing");
    const after = await dashboard(one, w);
    expect(after.data.applications.edges.map((e: { node: { name: string } }) => e.node.name)).toEqual(["Billing", "Customer Portal"]);
  });

  it("shows a saved journey version at once, on both instances", async () => {
    const w = await world("cache-save");
    const variables = { journey: w.catalogue.journeys.login, env: w.catalogue.environments.development };
    const viewerOne = client(one.endpoint, w.tenant.tokens.VIEWER);
    const viewerTwo = client(two.endpoint, w.tenant.tokens.VIEWER);
    const password = (result: { node: { configuration: { steps: { key: string; settings: { minLength?: number } }[] } } }) =>
      result.node.configuration.steps.find((s) => s.key === "password")!.settings.minLength;
    const initial = password(await viewerOne.data(LOGIN_PASSWORD, variables));
    expect(password(await viewerTwo.data(LOGIN_PASSWORD, variables))).toBe(initial);

    const ids = { journeyId: w.catalogue.journeys.login, environmentId: w.catalogue.environments.development };
    const step = passwordStep(initial! + 3);
    const editor = apiAs(two.endpoint, w.tenant, "EDITOR");
    const draft = (await editor.data(SAVE_STEP, { input: { ...ids, step } })).saveJourneyStep.draft;
    // A draft is not a version yet: both instances answer (and cache) the unchanged configuration…
    expect(password(await viewerOne.data(LOGIN_PASSWORD, variables))).toBe(initial);
    expect(password(await viewerTwo.data(LOGIN_PASSWORD, variables))).toBe(initial);
    // …until the save.
    expect((await editor.data(SAVE, { input: { ...ids, draftRevision: draft.revision } })).saveJourney.__typename).toBe(
      "SaveJourneySuccess",
    );

    expect(password(await viewerOne.data(LOGIN_PASSWORD, variables))).toBe(initial! + 3);
    expect(password(await viewerTwo.data(LOGIN_PASSWORD, variables))).toBe(initial! + 3);
  });

  it("keeps a dashboard through writes to tables it does not read, on both instances, and not through one it reads", async () => {
    const w = await world("cache-unrelated");
    const ids = { journeyId: w.catalogue.journeys.login, environmentId: w.catalogue.environments.development };
    const editor = apiAs(two.endpoint, w.tenant, "EDITOR");
    const first = await dashboard(one, w);
    expect((await dashboard(two, w)).data).toEqual(first.data);
    const draft = (await editor.data(SAVE_STEP, { input: { ...ids, step: passwordStep(19) } })).saveJourneyStep.draft;
    // A draft is no version: both instances answer from their caches, with only the token read.
    for (const server of [one, two]) {
      const again = await countQueries(() => dashboard(server, w));
      expect(again.result.data).toEqual(first.data);
      expect(requestStatements(again.queries)).toEqual([]);
    }
    // Saving it writes a version and the head the dashboard reads: executed again, the new version shown.
    expect((await editor.data(SAVE, { input: { ...ids, draftRevision: draft.revision } })).saveJourney.__typename).toBe(
      "SaveJourneySuccess",
    );
    for (const server of [one, two]) {
      const after = await countQueries(() => dashboard(server, w));
      expect(requestStatements(after.queries).length).toBeGreaterThan(0);
      const login = after.result.data.applications.edges[0].node.journeys.find((j: { key: string }) => j.key === "login");
      expect(login.configuration.version).toBe(2);
    }
  });

  it("keeps a dashboard of one environment's configurations through a journey saved in another, and not through a promotion into it", async () => {
    const w = await world("cache-environments");
    await createClient(w.admin, {
      applicationId: w.catalogue.applicationId,
      environmentId: w.catalogue.environments.staging,
      databaseId: w.catalogue.databases.staging,
    });
    const ids = { journeyId: w.catalogue.journeys.login, environmentId: w.catalogue.environments.development };
    const editor = apiAs(two.endpoint, w.tenant, "EDITOR");
    const staging = (server: TestServer) =>
      gql(server.endpoint, w.tenant.tokens.VIEWER, DASHBOARD, { env: w.catalogue.environments.staging });
    const loginOf = (result: { data?: any }) =>
      result.data.applications.edges[0].node.journeys.find((j: { key: string }) => j.key === "login").configuration;
    const first = await staging(one);
    expect(loginOf(first).version).toBe(1);
    expect((await staging(two)).data).toEqual(first.data);
    // A new version in development: development's heads and versions are written, staging's are not.
    const draft = (await editor.data(SAVE_STEP, { input: { ...ids, step: passwordStep(21) } })).saveJourneyStep.draft;
    expect((await editor.data(SAVE, { input: { ...ids, draftRevision: draft.revision } })).saveJourney.__typename).toBe(
      "SaveJourneySuccess",
    );
    for (const server of [one, two]) {
      const again = await countQueries(() => staging(server));
      expect(again.result.data).toEqual(first.data);
      expect(requestStatements(again.queries)).toEqual([]);
    }
    // Development's own dashboard shows the new version at once.
    const development = await dashboard(one, w);
    expect(development.data.applications.edges[0].node.journeys.find((j: { key: string }) => j.key === "login").configuration.version).toBe(
      2,
    );
    // Promoted into staging: staging's heads are written, and both instances execute and show it.
    const promoter = apiAs(one.endpoint, w.tenant, "PROMOTER");
    const promoted = await promoter.data(PROMOTE_NOW, {
      input: {
        applicationId: w.catalogue.applicationId,
        fromEnvironmentId: ids.environmentId,
        toEnvironmentId: w.catalogue.environments.staging,
      },
    });
    expect(promoted.promoteNow.__typename).toBe("PromoteNowSuccess");
    for (const server of [one, two]) {
      const after = await countQueries(() => staging(server));
      expect(requestStatements(after.queries).length).toBeGreaterThan(0);
      expect(loginOf(after.result).hash).not.toBe(loginOf(first).hash);
    }
  });

  it("keeps each organization's and each role's responses to themselves", async () => {
    const w = await world("cache-audience");
    const other = await world("cache-audience-other");
    const second = await createApiToken(w.admin, { name: "second viewer", role: "VIEWER" });
    const VIEWER = operation(`{ viewer { role organization { name } } }`);
    const viewerOf = async (token: string) => (await gql(one.endpoint, token, VIEWER)).data.viewer;
    for (let round = 0; round < 2; round++) {
      expect(await viewerOf(w.tenant.tokens.VIEWER)).toEqual({ role: "VIEWER", organization: { name: w.tenant.name } });
      expect(await viewerOf(w.tenant.tokens.ADMIN)).toEqual({ role: "ADMIN", organization: { name: w.tenant.name } });
      expect(await viewerOf(other.tenant.tokens.VIEWER)).toEqual({ role: "VIEWER", organization: { name: other.tenant.name } });
    }
    // Another token of the same organization and role: the same response, from the cache.
    const shared = await countQueries(() => viewerOf(second.token));
    expect(shared.result).toEqual({ role: "VIEWER", organization: { name: w.tenant.name } });
    expect(shared.queries).toHaveLength(1);
  });

  it("refuses a revoked token before any cached response is looked up", async () => {
    const w = await world("cache-revoked");
    const spare = await createApiToken(w.admin, { name: "spare", role: "VIEWER" });
    expect((await dashboard(one, w, spare.token)).errors).toBeUndefined();
    const revoke = operation(`mutation Revoke($id: ID!) { revokeApiToken(input: { apiTokenId: $id }) { __typename } }`);
    expect((await w.admin.data(revoke, { id: spare.id })).revokeApiToken.__typename).toBe("RevokeApiTokenSuccess");
    const refused = await dashboard(one, w, spare.token);
    expect(refused.status).toBe(401);
    expect(refused.data ?? null).toBeNull();
  });

  it("does not cache responses with errors, nor mutations", async () => {
    const w = await world("cache-errors");
    const NOTIFICATIONS = operation(`query Notifications($env: ID) { syncNotifications(environmentId: $env) { edges { cursor } } }`);
    const variables = { env: globalId("Environment", randomUUID()) };
    const failed = await gql(one.endpoint, w.tenant.tokens.VIEWER, NOTIFICATIONS, variables);
    expect(failed.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    const again = await countQueries(() => gql(one.endpoint, w.tenant.tokens.VIEWER, NOTIFICATIONS, variables));
    expect(again.result.errors).toEqual(failed.errors);
    // Executed again: more than the token lookup.
    expect(requestStatements(again.queries).length).toBeGreaterThan(0);

    const revision = await revisionOf(w.tenant);
    const create = operation(`mutation Create($input: CreateApplicationInput!) { createApplication(input: $input) { __typename } }`);
    const input = { input: { name: "Twice" } };
    expect((await w.admin.data(create, input)).createApplication.__typename).toBe("CreateApplicationSuccess");
    expect((await w.admin.data(create, input)).createApplication.__typename).toBe("AlreadyExistsError");
    // One committed write: the refused one rolled back its revision with the rest…
    expect(await revisionOf(w.tenant)).toBe(revision + 1);
    // …so the refused mutation, sent again at the same revision, runs again rather than being answered from a cache.
    const repeated = await countQueries(() => w.admin.data(create, input));
    expect(repeated.result.createApplication.__typename).toBe("AlreadyExistsError");
    expect(requestStatements(repeated.queries).length).toBeGreaterThan(0);
  });

  it("never answers variables JSON cannot tell apart from the cache, nor keeps a response under a long key", async () => {
    const w = await world("cache-keys");
    const post = async (body: string) => {
      const response = await fetch(one.endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${w.tenant.tokens.VIEWER}` },
        body,
      });
      return (await response.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
    };
    const PAGE = "query Page($n: Int) { applications(first: $n) { edges { node { name } } } }";
    // { n: null } is answered and kept; { n: 1e400 } (Infinity, which JSON writes as null) is not an Int.
    expect((await post(JSON.stringify({ query: PAGE, variables: { n: null } }))).errors).toBeUndefined();
    expect((await post(`{"query": ${JSON.stringify(PAGE)}, "variables": {"n": 1e400}}`)).errors?.[0].extensions?.code).toBe(
      "BAD_USER_INPUT",
    );
    // A long operation name: answered each time by executing, never kept.
    const name = `Page${"x".repeat(300)}`;
    const long = JSON.stringify({ query: PAGE.replace("Page", name), operationName: name, variables: { n: 1 } });
    expect((await post(long)).errors).toBeUndefined();
    const again = await countQueries(() => post(long));
    expect(requestStatements(again.queries).length).toBeGreaterThan(0);
  });

  it("can be turned off: every request executes", async () => {
    const w = await world("cache-off");
    const app = createApp({ database: await testDatabase(), logger: createLogger("silent"), responseCache: false });
    const endpoint = `${await app.start(0, "127.0.0.1")}/graphql`;
    try {
      const query = () => gql(endpoint, w.tenant.tokens.VIEWER, DASHBOARD, { env: w.catalogue.environments.development });
      const first = await countQueries(query);
      const again = await countQueries(query);
      expect(again.result).toEqual(first.result);
      expect(requestStatements(again.queries)).toEqual(requestStatements(first.queries));
      expect(requestStatements(again.queries).length).toBeGreaterThan(0);
    } finally {
      await app.stop();
    }
  });

  it("keeps a diff across requests of other texts while what it read is unchanged, through a write to a third environment, not through one to its own", async () => {
    const w = await world("cache-diffs");
    for (const key of ["staging", "production"] as const) {
      await createClient(w.admin, {
        applicationId: w.catalogue.applicationId,
        environmentId: w.catalogue.environments[key],
        databaseId: w.catalogue.databases[key],
      });
    }
    const { development, staging, production } = w.catalogue.environments;
    const login = w.catalogue.journeys.login;
    const editor = apiAs(one.endpoint, w.tenant, "EDITOR");
    const promoter = apiAs(one.endpoint, w.tenant, "PROMOTER");
    const save = async (password: number) => {
      const ids = { journeyId: login, environmentId: development };
      const draft = (await editor.data(SAVE_STEP, { input: { ...ids, step: passwordStep(password) } })).saveJourneyStep.draft;
      expect((await editor.data(SAVE, { input: { ...ids, draftRevision: draft.revision } })).saveJourney.__typename).toBe(
        "SaveJourneySuccess",
      );
    };
    const promote = async (from: string, to: string) => {
      const input = { applicationId: w.catalogue.applicationId, fromEnvironmentId: from, toEnvironmentId: to, journeyId: login };
      // Into production takes an ADMIN.
      const api = to === w.catalogue.environments.production ? w.admin : promoter;
      expect((await api.data(PROMOTE_NOW, { input })).promoteNow.__typename).toBe("PromoteNowSuccess");
    };
    // Login differs development → staging, and staging → production.
    await save(23);
    await promote(development, staging);
    await save(24);
    // Each request names its alias anew: the response cache never answers, the diff's own does.
    let sent = 0;
    const diffOf = (server: TestServer) =>
      gql(
        server.endpoint,
        w.tenant.tokens.VIEWER,
        `query D($app: ID!, $from: ID!, $to: ID!) { d${sent++}: diff(applicationId: $app, fromEnvironmentId: $from, toEnvironmentId: $to) { status changes { id path newValue } missingVariables { key } } }`,
        { app: w.catalogue.applicationId, from: development, to: staging },
      ).then((result) => Object.values(result.data as Record<string, unknown>)[0] as { status: string; changes: unknown[] });
    const first = await diffOf(one);
    expect(first.status).toBe("OUT_OF_SYNC");
    expect(first.changes.length).toBeGreaterThan(0);
    await diffOf(two);
    for (const server of [one, two]) {
      const again = await countQueries(() => diffOf(server));
      expect(again.result).toEqual(first);
      expect(requestStatements(again.queries)).toEqual([]);
    }
    // Production's rows written: staging and development are not, and the diff holds.
    await promote(staging, production);
    for (const server of [one, two]) {
      const again = await countQueries(() => diffOf(server));
      expect(again.result).toEqual(first);
      expect(requestStatements(again.queries)).toEqual([]);
    }
    // Staging's rows written: computed again, in sync now, on both instances.
    await promote(development, staging);
    for (const server of [one, two]) {
      const after = await countQueries(() => diffOf(server));
      expect(requestStatements(after.queries).length).toBeGreaterThan(0);
      expect(after.result.status).toBe("IN_SYNC");
    }
    // And a new version in development: computed again, out of sync.
    await save(25);
    for (const server of [one, two]) {
      const after = await countQueries(() => diffOf(server));
      expect(requestStatements(after.queries).length).toBeGreaterThan(0);
      expect(after.result.status).toBe("OUT_OF_SYNC");
    }
    // Identical diffs asked at once wait in the organization's queue behind the first (the third
    // and fourth join the second): when the second's turn comes, it is answered from what the
    // first kept. One computation's statements in all.
    await save(26);
    const single = requestStatements((await countQueries(() => diffOf(one))).queries).length;
    expect(single).toBeGreaterThan(0);
    await save(27);
    const together = await countQueries(() => Promise.all(Array.from({ length: 4 }, () => diffOf(one))));
    expect(together.result.map((result) => result.status)).toEqual(Array(4).fill("OUT_OF_SYNC"));
    expect(requestStatements(together.queries)).toHaveLength(single);
  });

  it("keeps a diff through writes to another application's heads and clients in its environments, checking what it was computed from in one statement", async () => {
    const w = await world("cache-diff-other-app");
    const { development, staging } = w.catalogue.environments;
    await createClient(w.admin, {
      applicationId: w.catalogue.applicationId,
      environmentId: staging,
      databaseId: w.catalogue.databases.staging,
    });
    // Another application with its clients and a journey in both environments.
    const other = await createCatalogue(w.admin, { application: "Other Portal", databasePrefix: "other" });
    await createClient(w.admin, { applicationId: other.applicationId, environmentId: staging, databaseId: other.databases.staging });
    const editor = apiAs(one.endpoint, w.tenant, "EDITOR");
    const promoter = apiAs(one.endpoint, w.tenant, "PROMOTER");
    const save = (journeyId: string, password: number) => saveVersion(editor, { journeyId, environmentId: development }, password);
    const promote = async (applicationId: string) => {
      const input = { applicationId, fromEnvironmentId: development, toEnvironmentId: staging };
      expect((await promoter.data(PROMOTE_NOW, { input })).promoteNow.__typename).toBe("PromoteNowSuccess");
    };
    // A client created in staging starts with development's configuration: in sync until a save.
    await save(w.catalogue.journeys.login, 31);
    const diffs = new Map([one, two].map((server) => [server, differ(server, w.tenant.tokens.VIEWER, development, staging)]));
    const diffOf = (server: TestServer) => diffs.get(server)!(w.catalogue.applicationId);
    const first = await diffOf(one);
    expect(first.status).toBe("OUT_OF_SYNC");
    await diffOf(two);
    // The other application's journey saved in development and promoted to staging, its client's
    // settings changed: both environments' heads and the clients table revised, this diff unchanged.
    await save(other.journeys.login, 32);
    await promote(other.applicationId);
    expect(
      (await w.admin.data(UPDATE_CLIENT, { input: { clientId: other.clientId, settings: { accessTokenTtlSeconds: 901 } } })).updateClient
        .__typename,
    ).toBe("UpdateClientSuccess");
    for (const server of [one, two]) {
      const again = await countQueries(() => diffOf(server));
      expect(again.result).toEqual(first);
      const statements = requestStatements(again.queries);
      // One statement, one snapshot: heads and clients (a promotion writes both at once).
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatch(/from "journey_heads".*union all.*from "clients"/s);
      // Kept again at the new revisions: nothing read the next time.
      expect(requestStatements((await countQueries(() => diffOf(server))).queries)).toEqual([]);
    }
    // This application's client settings changed in development: computed again, the change shown.
    expect(
      (await w.admin.data(UPDATE_CLIENT, { input: { clientId: w.catalogue.clientId, settings: { accessTokenTtlSeconds: 902 } } }))
        .updateClient.__typename,
    ).toBe("UpdateClientSuccess");
    for (const server of [one, two]) {
      const after = await countQueries(() => diffOf(server));
      expect(requestStatements(after.queries).length).toBeGreaterThan(1);
      expect(after.result.changes.length).toBe(first.changes.length + 1);
    }
    // Its journey promoted: computed again, in sync.
    await promote(w.catalogue.applicationId);
    for (const server of [one, two]) expect((await diffOf(server)).status).toBe("IN_SYNC");
    // And saved again in development: out of sync, as a fresh computation says.
    await save(w.catalogue.journeys.login, 33);
    for (const server of [one, two]) expect((await diffOf(server)).status).toBe("OUT_OF_SYNC");
  });

  it.runIf(databaseUrl)("checks a kept diff against what it was computed from without waiting behind a diff being computed", async () => {
    const { w, other, editor } = await twoApplications("cache-diff-check-first");
    const { development, staging } = w.catalogue.environments;
    const diffOf = differ(one, w.tenant.tokens.VIEWER, development, staging);
    await saveVersion(editor, { journeyId: w.catalogue.journeys.login, environmentId: development }, 51);
    const first = await diffOf(w.catalogue.applicationId);
    expect(first.status).toBe("OUT_OF_SYNC");
    // The other application saved in development: the kept diff's tables revised, what it was
    // computed from unchanged. The other application's promotion request holds the diffs' queue.
    await saveVersion(editor, { journeyId: other.journeys.login, environmentId: development }, 52);
    const { held, requesting } = await diffQueueHeld(w, other.applicationId);
    try {
      expect(requesting.done()).toBe(false);
      let timer: NodeJS.Timeout | undefined;
      const checked = await Promise.race([
        countQueries(() => diffOf(w.catalogue.applicationId)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("the kept diff waited behind the diff being computed")), 5_000);
        }),
      ]).finally(() => clearTimeout(timer));
      expect(checked.result).toEqual(first);
      expect(requestStatements(checked.queries)).toHaveLength(1);
      expect(requesting.done()).toBe(false);
    } finally {
      await held.release();
    }
    expect((await requesting.promise).data?.requestPromotion.__typename).toBe("RequestPromotionSuccess");
  });

  it.runIf(databaseUrl)(
    "checks a diff that waited behind an identical one of an earlier revision against it, not computing it again",
    async () => {
      const { w, other, editor } = await twoApplications("cache-diff-waited");
      const { development, staging } = w.catalogue.environments;
      const third = await createCatalogue(w.admin, { application: "Third Portal", databasePrefix: "third" });
      await saveVersion(editor, { journeyId: w.catalogue.journeys.login, environmentId: development }, 53);
      await saveVersion(editor, { journeyId: other.journeys.login, environmentId: development }, 54);
      const diffOf = differ(one, w.tenant.tokens.VIEWER, development, staging);
      // A promotion request of the other application holds the organization's place in the diffs' queue.
      const { held, requesting } = await diffQueueHeld(w, other.applicationId);
      let waited: { result: Awaited<ReturnType<typeof diffOf>>[]; queries: string[] };
      try {
        // The diff asked, then — after a save in a third application — asked again: both wait.
        const before = diffOf(w.catalogue.applicationId);
        await new Promise((resolve) => setTimeout(resolve, 100));
        await saveVersion(editor, { journeyId: third.journeys.login, environmentId: development }, 55);
        const after = diffOf(w.catalogue.applicationId);
        await new Promise((resolve) => setTimeout(resolve, 100));
        waited = await countQueries(async () => {
          await held.release();
          return Promise.all([before, after]);
        });
      } finally {
        await held.release();
      }
      const [first, second] = waited.result;
      expect(first.status).toBe("OUT_OF_SYNC");
      expect(second).toEqual(first);
      // The first computed it; the second, its turn come, checked what the first computed from (one
      // statement of heads and clients) instead of computing it again.
      expect(requestStatements(waited.queries).filter((q) => /from "journey_heads".*union all.*from "clients"/s.test(q))).toHaveLength(1);
      expect((await requesting.promise).data?.requestPromotion.__typename).toBe("RequestPromotionSuccess");
    },
  );

  // A lock held from another connection stops a diff half-way: PostgreSQL only.
  it.skipIf(!databaseUrl)(
    "computes a diff from one snapshot: a promotion committed between its reads of clients and heads is not half seen",
    async () => {
      const w = await world("diff-snapshot");
      const { development, staging } = w.catalogue.environments;
      const stagingClient = await createClient(w.admin, {
        applicationId: w.catalogue.applicationId,
        environmentId: staging,
        databaseId: w.catalogue.databases.staging,
      });
      const ids = { journeyId: w.catalogue.journeys.login, environmentId: development };
      const editor = apiAs(one.endpoint, w.tenant, "EDITOR");
      const draft = (await editor.data(SAVE_STEP, { input: { ...ids, step: passwordStep(41) } })).saveJourneyStep.draft;
      expect((await editor.data(SAVE, { input: { ...ids, draftRevision: draft.revision } })).saveJourney.__typename).toBe(
        "SaveJourneySuccess",
      );
      const signedIn = await one.app.services.authenticate(w.tenant.tokens.VIEWER);
      if (!signedIn) throw new Error("not authenticated");
      const request = {
        applicationId: localIdOf(w.catalogue.applicationId),
        fromEnvironmentId: localIdOf(development),
        toEnvironmentId: localIdOf(staging),
        journeyId: null,
      };
      const paths = async (diff: Promise<{ changes: { path: string }[] }>) => (await diff).changes.map((c) => c.path);
      // Before: the login journey differs, the clients' settings do not.
      const before = await paths(one.app.services.diff(signedIn.actor, request));
      expect(before.length).toBeGreaterThan(0);
      expect(before.every((path) => path.startsWith("/journeys/login"))).toBe(true);
      // What a promotion of login with a client change would write, in one transaction that holds the
      // heads' table until the diff has read the clients and waits for the heads.
      const { db } = await testDatabase();
      const login = localIdOf(w.catalogue.journeys.login);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let started!: (pid: number) => void;
      const pid = new Promise<number>((resolve) => (started = resolve));
      const writer = db.transaction(async (tx) => {
        await tx.execute(sql`lock table journey_heads in access exclusive mode`);
        await tx.execute(
          sql`update clients set settings = settings || '{"accessTokenTtlSeconds": 777}'::jsonb, settings_hash = 'changed' where id = ${localIdOf(stagingClient)}`,
        );
        await tx.execute(sql`update journey_heads set hash = (select h.hash from journey_heads h where h.journey_id = ${login} and h.environment_id = ${localIdOf(development)})
        where journey_id = ${login} and environment_id = ${localIdOf(staging)}`);
        started(rowsOf<{ pid: number }>(await tx.execute(sql`select pg_backend_pid() as pid`))[0].pid);
        await gate;
      });
      const held = await pid;
      const during = track(paths(one.app.services.diff(signedIn.actor, request)));
      await waitForBlockedOrDone(held, 1, [during]);
      release();
      await writer;
      // The state it started in, whole: not the heads after the write with the clients before it (in sync).
      expect(await during.promise).toEqual(before);
      // And asked again, the state after the write: the client's settings, and login in sync.
      expect(await paths(one.app.services.diff(signedIn.actor, request))).toEqual(["/client/settings/accessTokenTtlSeconds"]);
    },
  );

  it.skipIf(!databaseUrl)(
    "gives a diff asked after a write what is true after it, while an identical diff from before the write waits in the queue",
    async () => {
      const w = await world("cache-diff-after-write");
      const { development, staging } = w.catalogue.environments;
      await createClient(w.admin, {
        applicationId: w.catalogue.applicationId,
        environmentId: staging,
        databaseId: w.catalogue.databases.staging,
      });
      const editor = apiAs(one.endpoint, w.tenant, "EDITOR");
      // Development's login references a variable, so its diff reads the variables' table.
      const created = await w.admin.data(
        `mutation($input: CreateVariableInput!) { createVariable(input: $input) { ... on CreateVariableSuccess { variable { id } } } }`,
        { input: { key: "password.min", kind: "NUMBER" } },
      );
      await w.admin.data(`mutation($input: SetVariableValueInput!) { setVariableValue(input: $input) { __typename } }`, {
        input: { variableId: created.createVariable.variable.id, environmentId: development, value: 15 },
      });
      const ids = { journeyId: w.catalogue.journeys.login, environmentId: development };
      const draftOf = async (step: unknown) => (await editor.data(SAVE_STEP, { input: { ...ids, step } })).saveJourneyStep.draft.revision;
      const byReference = await draftOf({ ...passwordStep(0), settings: { minLength: "&{password.min}" } });
      expect((await editor.data(SAVE, { input: { ...ids, draftRevision: byReference } })).saveJourney.__typename).toBe(
        "SaveJourneySuccess",
      );
      const literal = await draftOf(passwordStep(20));
      const request = {
        applicationId: localIdOf(w.catalogue.applicationId),
        fromEnvironmentId: localIdOf(development),
        toEnvironmentId: localIdOf(staging),
        journeyId: null,
      };
      const signIn = async () => {
        const signedIn = await one.app.services.authenticate(w.tenant.tokens.VIEWER);
        if (!signedIn) throw new Error("not authenticated");
        return { actor: signedIn.actor, revisions: { revision: signedIn.organizationRevision, tables: signedIn.tableRevisions } };
      };
      const before = await signIn();
      // The first diff stops at the variables; an identical one, from before the write too, waits behind it.
      const held = await holdOpen(sql`lock table variables in access exclusive mode`);
      const first = track(one.app.services.diff(before.actor, request, before.revisions));
      await waitForBlockedOrDone(held.pid, 1, [first]);
      const waiting = one.app.services.diff(before.actor, request, before.revisions);
      // The write: development's login takes a literal (nothing of it reads the variables).
      expect((await editor.data(SAVE, { input: { ...ids, draftRevision: literal } })).saveJourney.__typename).toBe("SaveJourneySuccess");
      const after = await signIn();
      expect(after.revisions.revision).toBeGreaterThan(before.revisions.revision);
      const asked = one.app.services.diff(after.actor, request, after.revisions);
      const QUERY = `query D($app: ID!, $from: ID!, $to: ID!) { d: diff(applicationId: $app, fromEnvironmentId: $from, toEnvironmentId: $to) { changes { path newValue } missingVariables { key } } }`;
      const variables = { app: w.catalogue.applicationId, from: development, to: staging };
      const overHttp = gql(one.endpoint, w.tenant.tokens.VIEWER, QUERY, variables);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await held.release();
      const [old, alsoOld, fresh, answered] = await Promise.all([first.promise, waiting, asked, overHttp]);
      const minLengths = (changes: { path: string; newValue: unknown }[]) =>
        changes.filter((change) => change.path.endsWith("minLength")).map((change) => change.newValue);
      expect(minLengths(old.changes)).toEqual(["&{password.min}"]);
      expect(minLengths(alsoOld.changes)).toEqual(["&{password.min}"]);
      // After the write: the literal, and no variable missing — over HTTP, and again from the response cache.
      expect(minLengths(fresh.changes)).toEqual([20]);
      expect(fresh.missingVariables).toEqual([]);
      for (const response of [answered, await gql(one.endpoint, w.tenant.tokens.VIEWER, QUERY, variables)]) {
        expect(minLengths(response.data.d.changes)).toEqual([20]);
        expect(response.data.d.missingVariables).toEqual([]);
      }
    },
  );
});

/**
 * What the cache keeps, on a yoga instance of its own whose context takes the scope from request
 * headers and whose one field counts its executions and runs the statements it is told to (their
 * texts only pass through the tables-read tracking: nothing is run).
 */
describe("what the response cache keeps", () => {
  function cacheWorld({ maxEntries, tracking = true, plugins = [] }: { maxEntries?: number; tracking?: boolean; plugins?: Plugin[] } = {}) {
    let executions = 0;
    /** Executions of "held" and "fails" wait for it; the next execution of "fails" throws. */
    let gate: Promise<void> = Promise.resolve();
    let failNext = false;
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({
        name: "Query",
        fields: {
          value: {
            type: GraphQLString,
            args: { name: { type: GraphQLString }, reads: { type: new GraphQLList(new GraphQLNonNull(GraphQLString)) } },
            resolve: async (
              _root,
              args: { name?: string; reads?: string[] },
              context: { scope: CacheScope & { organization: string } },
            ) => {
              executions++;
              if (args.name === "held" || args.name === "fails") await gate;
              if (args.name === "fails" && failNext) {
                failNext = false;
                throw new Error("a passing failure");
              }
              for (const table of args.reads ?? []) {
                await Promise.resolve();
                noteStatement(`select "id" from "${table}" where "organization_id" = $1`);
              }
              return `${context.scope.organization}@${context.scope.revision}:${args.name ?? ""}`;
            },
          },
        },
      }),
    });
    let restarted = 0;
    const cache = useResponseCache({
      scopeOf: (context) => (context as { scope: CacheScope }).scope,
      maxEntries,
      executesAfterWaiting: () => restarted++,
    });
    const yoga = createYoga({
      schema,
      plugins: [...plugins, ...(tracking ? [cache, cache.tracking] : [cache])],
      context: ({ request }) => ({
        scope: {
          organization: request.headers.get("x-organization")!,
          audience: `${request.headers.get("x-organization")}:VIEWER`,
          revision: Number(request.headers.get("x-revision")),
          tables: JSON.parse(request.headers.get("x-tables")!),
        },
      }),
    });
    /** Asks for `value` as of `revision`, when each table of `tables` was last written at its number: the response's body. */
    async function askText(
      organization: string,
      revision: number,
      name: string,
      reads: string[] = [],
      tables: Record<string, number> = {},
    ) {
      const response = await yoga.fetch("http://yoga/graphql", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-organization": organization,
          "x-revision": String(revision),
          "x-tables": JSON.stringify(tables),
        },
        body: JSON.stringify({
          query: "query Value($name: String, $reads: [String!]) { value(name: $name, reads: $reads) }",
          variables: { name, reads },
        }),
      });
      return response.text();
    }
    /** Asks for `value` as of `revision`, when each table of `tables` was last written at its number. */
    async function ask(organization: string, revision: number, name: string, reads: string[] = [], tables: Record<string, number> = {}) {
      return (JSON.parse(await askText(organization, revision, name, reads, tables)) as { data: { value: string } }).data.value;
    }
    /** Asks any query of the field as organization "a" at revision 1. */
    async function askQuery(query: string, variables: Record<string, unknown>) {
      const response = await yoga.fetch("http://yoga/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", "x-organization": "a", "x-revision": "1", "x-tables": "{}" },
        body: JSON.stringify({ query, variables }),
      });
      return ((await response.json()) as { data: { value: string } }).data.value;
    }
    /** Holds the executions of "held" and "fails" until the returned function is called. */
    const hold = () => {
      let release = () => {};
      gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      return release;
    };
    const failOnce = () => {
      failNext = true;
    };
    return {
      ask,
      askText,
      askQuery,
      hold,
      failOnce,
      entries: () => cache.entries(),
      executions: () => executions,
      restarted: () => restarted,
    };
  }

  it("keeps a response while the tables it read are unchanged, whatever else was written", async () => {
    const w = cacheWorld();
    const reads = ["journeys", "journey_heads"];
    expect(await w.ask("a", 1, "x", reads, { journeys: 1, journey_heads: 1 })).toBe("a@1:x");
    // A draft saved and a variable set since: the response still holds.
    expect(await w.ask("a", 3, "x", reads, { journeys: 1, journey_heads: 1, journey_drafts: 2, variables: 3 })).toBe("a@1:x");
    expect(w.executions()).toBe(1);
    // A promotion wrote the heads: executed again.
    expect(await w.ask("a", 4, "x", reads, { journeys: 1, journey_heads: 4, journey_drafts: 2, variables: 3 })).toBe("a@4:x");
    expect(w.executions()).toBe(2);
    // Another organization, and the same one's other request, are other entries.
    expect(await w.ask("b", 4, "x", reads, { journeys: 1, journey_heads: 4 })).toBe("b@4:x");
    expect(await w.ask("a", 4, "y", reads, { journeys: 1, journey_heads: 4 })).toBe("a@4:y");
    expect(w.executions()).toBe(4);
  });

  it("takes a table never written as revision 0, and the organizations table by the organization's revision", async () => {
    const w = cacheWorld();
    await w.ask("a", 1, "x", ["journeys"]);
    expect(await w.ask("a", 2, "x", ["journeys"], { variables: 2 })).toBe("a@1:x");
    expect(await w.ask("a", 3, "x", ["journeys"], { journeys: 3 })).toBe("a@3:x");
    expect(w.executions()).toBe(2);
    // A response that read the organizations table holds for one revision only.
    await w.ask("a", 3, "o", ["organizations"]);
    expect(await w.ask("a", 3, "o", ["organizations"])).toBe("a@3:o");
    expect(await w.ask("a", 4, "o", ["organizations"])).toBe("a@4:o");
    expect(w.executions()).toBe(4);
  });

  it("does not let a request that authenticated before a write replace the response computed after it", async () => {
    const w = cacheWorld();
    expect(await w.ask("a", 5, "x", ["journeys"], { journeys: 5 })).toBe("a@5:x");
    // Authenticated before revision 5: answered, not kept over the newer response.
    expect(await w.ask("a", 4, "x", ["journeys"], { journeys: 4 })).toBe("a@4:x");
    expect(await w.ask("a", 5, "x", ["journeys"], { journeys: 5 })).toBe("a@5:x");
    expect(w.executions()).toBe(2);
  });

  it("lets identical requests at one revision share an execution under way, and none of another revision, organization or text", async () => {
    const w = cacheWorld();
    const reads = ["journeys"];
    const release = w.hold();
    const asked = [
      w.ask("a", 5, "held", reads, { journeys: 5 }),
      w.ask("a", 5, "held", reads, { journeys: 5 }),
      w.ask("a", 5, "held", reads, { journeys: 5 }),
      // Authenticated after a write: waits for no execution from before it.
      w.ask("a", 6, "held", reads, { journeys: 6 }),
      w.ask("b", 5, "held", reads, { journeys: 5 }),
      w.ask("a", 5, "held", ["variables"], { journeys: 5 }),
    ];
    await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    expect(await Promise.all(asked)).toEqual(["a@5:held", "a@5:held", "a@5:held", "a@6:held", "b@5:held", "a@5:held"]);
    expect(w.executions()).toBe(4);
  });

  it("runs again for each waiting request an execution under way whose result is not kept (an error)", async () => {
    const w = cacheWorld();
    w.failOnce();
    const release = w.hold();
    const asked = [w.ask("a", 1, "fails", ["journeys"]), w.ask("a", 1, "fails", ["journeys"])];
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The second waits for the first…
    expect(w.executions()).toBe(1);
    release();
    // The first answers with the error (value null); the second, which waited for it, runs and
    // answers, its execution budget's clock started again (its wait is not its run).
    expect(await Promise.all(asked)).toEqual([null, "a@1:fails"]);
    expect(w.restarted()).toBe(1);
    expect(w.executions()).toBe(2);
  });

  it("tells a variable left out (its default applies) from one given as null", async () => {
    const w = cacheWorld();
    const query = 'query Defaulted($name: String = "default") { value(name: $name) }';
    expect(await w.askQuery(query, {})).toBe("a@1:default");
    expect(await w.askQuery(query, { name: null })).toBe("a@1:");
    expect(await w.askQuery(query, { name: "default" })).toBe("a@1:default");
    expect(await w.askQuery(query, {})).toBe("a@1:default");
    expect(w.executions()).toBe(3);
  });

  it("keeps nothing of an execution whose reads were not tracked", async () => {
    const w = cacheWorld({ tracking: false });
    await w.ask("a", 1, "x", ["journeys"]);
    await w.ask("a", 1, "x", ["journeys"]);
    expect([w.executions(), w.entries()]).toEqual([2, 0]);
  });

  it("writes a kept response's JSON once, and a copy of it with more in it afresh", async () => {
    const w = cacheWorld();
    const stringify = vi.spyOn(JSON, "stringify");
    const ofResults = () => stringify.mock.calls.filter(([value]) => typeof value === "object" && value !== null && "data" in value).length;
    try {
      const bodies = [];
      for (let i = 0; i < 5; i++) bodies.push(await w.askText("a", 1, "x", ["journeys"]));
      expect(bodies).toEqual(Array(5).fill('{"data":{"value":"a@1:x"}}'));
      expect([w.executions(), ofResults()]).toEqual([1, 1]);
    } finally {
      stringify.mockRestore();
    }
    // A plugin that answers a copy of the kept result with an extension added: the copy is written
    // whole, not as the kept text.
    const extended = cacheWorld({
      plugins: [
        {
          onExecute: () => ({
            onExecuteDone: ({ result, setResult }) => {
              if (!(Symbol.asyncIterator in result)) setResult({ ...result, extensions: { served: true } });
            },
          }),
        },
      ],
    });
    for (let i = 0; i < 2; i++)
      expect(await extended.askText("a", 1, "x", ["journeys"])).toBe('{"data":{"value":"a@1:x"},"extensions":{"served":true}}');
    expect(extended.executions()).toBe(1);
  });

  it("stays as large as the distinct queries, however many writes", async () => {
    const w = cacheWorld();
    for (let revision = 1; revision <= 200; revision++) {
      for (const name of ["dashboard", "diff", "notifications"]) await w.ask("a", revision, name, ["journeys"], { journeys: revision });
    }
    expect(w.entries()).toBe(3);
    const bounded = cacheWorld({ maxEntries: 2 });
    for (const name of ["dashboard", "diff", "notifications"]) await bounded.ask("a", 1, name);
    expect(bounded.entries()).toBe(2);
  });
});

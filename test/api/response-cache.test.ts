import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { GraphQLObjectType, GraphQLSchema, GraphQLString } from "graphql";
import { createYoga } from "graphql-yoga";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { organizations } from "../../src/db/schema.js";
import { globalId } from "../../src/graphql/ids.js";
import { createApp } from "../../src/server/app.js";
import { createLogger } from "../../src/server/logger.js";
import { type CacheScope, useResponseCache } from "../../src/server/response-cache.js";
import { countQueries, databaseUrl, testDatabase } from "../support/database.js";
import { SAVE, SAVE_STEP } from "../support/documents.js";
import { type Api, apiAs, type Catalogue, createApiToken, createApplication, createCatalogue, operation } from "../support/fixtures.js";
import { client, gql } from "../support/graphql.js";
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
const withoutTokenReads = (queries: string[]) => queries.filter((q) => !/from "api_tokens"/.test(q));

const dashboard = (server: TestServer, w: World, token = w.tenant.tokens.VIEWER) =>
  gql(server.endpoint, token, DASHBOARD, { env: w.catalogue.environments.development });

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
    const step = {
      key: "password",
      type: "PASSWORD",
      name: "Password",
      enabled: true,
      settings: { minLength: initial! + 3 },
      transitions: [
        { outcome: "success", to: "email-otp" },
        { outcome: "failure", to: "DENY" },
      ],
    };
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
    expect(withoutTokenReads(again.queries).length).toBeGreaterThan(0);

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
    expect(withoutTokenReads(repeated.queries).length).toBeGreaterThan(0);
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
      expect(withoutTokenReads(again.queries)).toEqual(withoutTokenReads(first.queries));
      expect(withoutTokenReads(again.queries).length).toBeGreaterThan(0);
    } finally {
      await app.stop();
    }
  });
});

/**
 * What the cache keeps, on a yoga instance of its own whose context takes the scope from request
 * headers and whose one field counts its executions.
 */
describe("what the response cache keeps", () => {
  function cacheWorld(maxEntries?: number) {
    let executions = 0;
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({
        name: "Query",
        fields: {
          value: {
            type: GraphQLString,
            args: { name: { type: GraphQLString } },
            resolve: (_root, args: { name?: string }, context: { scope: CacheScope }) => {
              executions++;
              return `${context.scope.organization}@${context.scope.revision}:${args.name ?? ""}`;
            },
          },
        },
      }),
    });
    const cache = useResponseCache({ scopeOf: (context) => (context as { scope: CacheScope }).scope, maxEntries });
    const yoga = createYoga({
      schema,
      plugins: [cache],
      context: ({ request }) => ({
        scope: {
          organization: request.headers.get("x-organization")!,
          audience: `${request.headers.get("x-organization")}:VIEWER`,
          revision: Number(request.headers.get("x-revision")),
        },
      }),
    });
    async function ask(organization: string, revision: number, name: string) {
      const response = await yoga.fetch("http://yoga/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", "x-organization": organization, "x-revision": String(revision) },
        body: JSON.stringify({ query: "query Value($name: String) { value(name: $name) }", variables: { name } }),
      });
      return ((await response.json()) as { data: { value: string } }).data.value;
    }
    return { ask, entries: () => cache.entries(), organizations: () => cache.organizations(), executions: () => executions };
  }

  it("keeps the latest revision of each organization only", async () => {
    const w = cacheWorld();
    expect(await w.ask("a", 1, "x")).toBe("a@1:x");
    expect(await w.ask("a", 1, "y")).toBe("a@1:y");
    expect(await w.ask("b", 5, "x")).toBe("b@5:x");
    expect(await w.ask("a", 1, "x")).toBe("a@1:x");
    expect(w.executions()).toBe(3);
    expect(w.entries()).toBe(3);

    // Organization a wrote: its revision-1 responses go, b's stay.
    expect(await w.ask("a", 2, "x")).toBe("a@2:x");
    expect(w.entries()).toBe(2);
    expect(await w.ask("b", 5, "x")).toBe("b@5:x");
    expect(w.executions()).toBe(4);

    // A request that authenticated before the write: answered, not kept, and it drops nothing.
    expect(await w.ask("a", 1, "y")).toBe("a@1:y");
    expect(await w.ask("a", 1, "y")).toBe("a@1:y");
    expect(w.executions()).toBe(6);
    expect(w.entries()).toBe(2);
    expect(await w.ask("a", 2, "x")).toBe("a@2:x");
    expect(w.executions()).toBe(6);
  });

  it("keeps track of what it keeps when storing evicts other responses", async () => {
    const w = cacheWorld(1);
    await w.ask("a", 1, "x");
    // Storing b's response evicts a's only one: a is forgotten, b kept.
    await w.ask("b", 1, "x");
    expect([w.entries(), w.organizations()]).toEqual([1, 1]);
    // Storing a's second response evicts its first: a still has one, tracked.
    await w.ask("a", 1, "x");
    await w.ask("a", 1, "y");
    expect([w.entries(), w.organizations()]).toEqual([1, 1]);
    // a writes: its tracked response goes, nothing of an older revision is left behind.
    await w.ask("a", 2, "x");
    expect([w.entries(), w.organizations()]).toEqual([1, 1]);
    const before = w.executions();
    expect(await w.ask("a", 2, "x")).toBe("a@2:x");
    expect(w.executions()).toBe(before);
  });

  it("stays as large as the current state's distinct queries, however many writes", async () => {
    const w = cacheWorld();
    for (let revision = 1; revision <= 200; revision++) {
      for (const name of ["dashboard", "diff", "notifications"]) await w.ask("a", revision, name);
    }
    expect(w.entries()).toBe(3);
  });
});

import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/server/app.js";
import { createLogger } from "../../src/server/logger.js";
import { databaseUrl } from "../support/database.js";
import { PROMOTE_NOW, passwordStep, SAVE, SAVE_STEP } from "../support/documents.js";
import { apiAs, createCatalogue, createClient, localIdOf, operation, tenantRows } from "../support/fixtures.js";
import { gql } from "../support/graphql.js";
import { databaseThroughRelay, isCommit, type relay } from "../support/relay.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant } from "../support/tenant.js";

const SET_POLICY = operation(`mutation FaultsPolicy($input: SetApprovalPolicyInput!) {
  setApprovalPolicy(input: $input) { __typename ... on Error { code message } } }`);
const REQUEST_PROMOTION = operation(`mutation FaultsRequest($input: RequestPromotionInput!) {
  requestPromotion(input: $input) { __typename ... on Error { code message } } }`);
const LIST_REQUESTS = operation(`query FaultsRequests { promotionRequests(first: 5) { edges { node { status } } } }`);

/** A server of its own whose database connections go through a relay (`configure` sees it before any connects). */
async function serverThroughRelay(configure: (proxy: ReturnType<typeof relay>) => void = () => {}, clock?: () => Date) {
  const { proxy, database } = await databaseThroughRelay(databaseUrl!, 2, configure);
  const app = createApp({ database, logger: createLogger("silent"), clock });
  const url = await app.start(0, "127.0.0.1");
  return { app, database, proxy, url };
}

describe.runIf(databaseUrl)("faults on the PostgreSQL server", () => {
  let server: TestServer;
  let admin: postgres.Sql;
  beforeAll(async () => {
    server = await startTestServer();
    admin = postgres(databaseUrl!, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await server.stop();
    await admin.end();
  });

  it("kills a propagation's connection mid-way: nothing of it remains, the caller gets a clean error, and the retry succeeds", async () => {
    const tenant = await createTenant("faults");
    const api = apiAs(server.endpoint, tenant);
    const catalogue = await createCatalogue(api);
    await createClient(api, {
      applicationId: catalogue.applicationId,
      environmentId: catalogue.environments.staging,
      databaseId: catalogue.databases.staging,
    });
    const edit = { journeyId: catalogue.journeys.login, environmentId: catalogue.environments.development };
    const step = {
      key: "password",
      type: "PASSWORD",
      name: "Password",
      enabled: true,
      settings: { minLength: 20 },
      transitions: [
        { outcome: "success", to: "email-otp" },
        { outcome: "failure", to: "DENY" },
      ],
    };
    const revision = (await api.data(SAVE_STEP, { input: { ...edit, step } })).saveJourneyStep.draft.revision;
    await api.data(SAVE, { input: { ...edit, draftRevision: revision } });
    const input = {
      applicationId: catalogue.applicationId,
      fromEnvironmentId: catalogue.environments.development,
      toEnvironmentId: catalogue.environments.staging,
      comment: "fault",
    };
    const before = await tenantRows(tenant.organizationId);

    // Hold the target's lock so the propagation's transaction waits, mid-way, where we can find it.
    const rows = await tenantRows(tenant.organizationId);
    const app = rows.applications[0].id;
    const staging = rows.environments.find((e) => e.key === "staging")!.id;
    const lockName = `configuration:${app}:${staging}`;
    await admin`select pg_advisory_lock(hashtextextended(${lockName}, 0))`;
    const pending = api.request(PROMOTE_NOW, { input });
    let victim: number | undefined;
    for (let i = 0; i < 100 && victim === undefined; i++) {
      await new Promise((r) => setTimeout(r, 50));
      // The backend waiting for this very lock (an advisory lock's 64-bit key is classid, objid):
      // other test workers' transactions wait for locks of their own on the same server.
      const [row] = await admin<{ pid: number }[]>`
        select pid from pg_locks where locktype = 'advisory' and not granted and pid <> pg_backend_pid()
          and (classid::bigint << 32) | objid::bigint = hashtextextended(${lockName}, 0)`;
      victim = row?.pid;
    }
    expect(victim).toBeDefined();
    await admin`select pg_terminate_backend(${victim!})`;
    await admin`select pg_advisory_unlock(hashtextextended(${lockName}, 0))`;

    const failed = await pending;
    expect(failed.status).toBeLessThan(500);
    expect(failed.errors?.[0].extensions?.code).toBe("DATABASE_UNAVAILABLE");
    expect(failed.errors?.[0].message).not.toMatch(/terminat|postgres|57P01/i);
    expect(await tenantRows(tenant.organizationId)).toEqual(before);

    // The server keeps serving, and the same call succeeds when retried.
    expect((await gql(server.endpoint, tenant.tokens.VIEWER, "{ viewer { role } }")).data.viewer.role).toBe("VIEWER");
    const retried = await api.data(PROMOTE_NOW, { input });
    expect(retried.promoteNow.__typename).toBe("PromoteNowSuccess");
  });

  it("says the outcome is unknown, not that nothing was applied, when the connection is lost as a change commits", async () => {
    // Watching every connection from its start (postgres.js prepares COMMIT once per connection).
    let armed = false;
    const { app, database, proxy, url } = await serverThroughRelay((proxy) =>
      proxy.loseAnswerTo((chunk, connection) => isCommit(chunk, connection) && armed),
    );
    try {
      const tenant = await createTenant("commit-lost");
      const api = apiAs(`${url}/graphql`, tenant);
      const catalogue = await createCatalogue(api);
      const edit = { journeyId: catalogue.journeys.login, environmentId: catalogue.environments.development };
      const step = { key: "password", type: "PASSWORD", name: "Answer lost", enabled: true, settings: {}, transitions: [] };
      // The next COMMIT: its answer never comes back.
      armed = true;
      const lost = await api.request(SAVE_STEP, { input: { ...edit, step } });
      expect(lost.errors?.[0].extensions).toEqual({ code: "DATABASE_UNAVAILABLE", outcome: "UNKNOWN" });
      expect(lost.errors?.[0].message).toMatch(/may have been applied/);
      // It was: the database committed what the server never heard it commit.
      const [draft] = await admin<{ document: { steps: Record<string, { name: string }> } }[]>`
        select document from journey_drafts
        where journey_id = ${localIdOf(edit.journeyId)} and environment_id = ${localIdOf(edit.environmentId)}`;
      expect(draft.document.steps.password.name).toBe("Answer lost");
      // The server goes on: the next change commits and says so.
      const again = await api.data(SAVE_STEP, { input: { ...edit, step: { ...step, name: "Heard" } } });
      expect(again.saveJourneyStep.__typename).toBe("SaveJourneyStepSuccess");
    } finally {
      await app.stop();
      await database.close();
      await proxy.stop().catch(() => {});
    }
  });

  it("says nothing was applied to a read whose housekeeping (requests expiring) lost its COMMIT's answer", async () => {
    let armed = false;
    let now = Date.now();
    const { app, database, proxy, url } = await serverThroughRelay(
      (proxy) => proxy.loseAnswerTo((chunk, connection) => isCommit(chunk, connection) && armed),
      () => new Date(now),
    );
    try {
      const tenant = await createTenant("expiry-commit-lost");
      const api = apiAs(`${url}/graphql`, tenant);
      const catalogue = await createCatalogue(api);
      const { development, staging } = catalogue.environments;
      await createClient(api, { applicationId: catalogue.applicationId, environmentId: staging, databaseId: catalogue.databases.staging });
      const edit = { journeyId: catalogue.journeys.login, environmentId: development };
      const draft = (await api.data(SAVE_STEP, { input: { ...edit, step: passwordStep(30) } })).saveJourneyStep.draft;
      expect((await api.data(SAVE, { input: { ...edit, draftRevision: draft.revision } })).saveJourney.__typename).toBe(
        "SaveJourneySuccess",
      );
      const policy = {
        environmentId: staging,
        requiredApprovals: 1,
        allowSelfApproval: false,
        requireComment: false,
        expiresAfterHours: 1,
      };
      expect((await api.data(SET_POLICY, { input: policy })).setApprovalPolicy.__typename).toBe("SetApprovalPolicySuccess");
      const input = { applicationId: catalogue.applicationId, fromEnvironmentId: development, toEnvironmentId: staging, selectAll: true };
      expect((await api.data(REQUEST_PROMOTION, { input })).requestPromotion.__typename).toBe("RequestPromotionSuccess");
      // Past its expiry, the next read of requests stores it EXPIRED first: that COMMIT's answer is lost.
      now += 2 * 3_600_000;
      armed = true;
      const lost = await api.request(LIST_REQUESTS);
      expect(lost.errors?.[0].extensions).toEqual({ code: "DATABASE_UNAVAILABLE" });
      expect(lost.errors?.[0].message).toMatch(/nothing was applied/);
      // Read again, the request is EXPIRED (the expiry was stored).
      const listed = (await api.data(LIST_REQUESTS)).promotionRequests.edges.map((e: { node: { status: string } }) => e.node.status);
      expect(listed).toEqual(["EXPIRED"]);
    } finally {
      await app.stop();
      await database.close();
      await proxy.stop().catch(() => {});
    }
  });

  it("answers /ready false while the database is away and true once it is back, without a restart", async () => {
    const { app, database, proxy, url } = await serverThroughRelay();
    try {
      expect((await fetch(`${url}/ready`)).status).toBe(200);
      const port = proxy.port;
      await proxy.stop();
      expect((await fetch(`${url}/ready`)).status).toBe(503);
      expect((await fetch(`${url}/health`)).status).toBe(200);
      await proxy.start(port);
      let ready = 0;
      for (let i = 0; i < 50 && ready !== 200; i++) {
        ready = (await fetch(`${url}/ready`)).status;
        if (ready !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ready).toBe(200);
    } finally {
      await app.stop();
      await database.close();
      await proxy.stop().catch(() => {});
    }
  });
});

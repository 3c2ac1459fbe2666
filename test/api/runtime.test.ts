import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "../../src/db/schema.js";
import { RUNTIME_READS } from "../../src/services/index.js";
import { databaseUrl, testDatabase } from "../support/database.js";
import { type Api, apiAs, type Catalogue, createCatalogue, createClient, errorCodes, localIdOf, operation } from "../support/fixtures.js";
import { gql } from "../support/graphql.js";
import { readAcrossWrite } from "../support/locks.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { subscribeWs, wsClient } from "../support/subscriptions.js";
import { createTenant, type Tenant } from "../support/tenant.js";

/**
 * RUNTIME tokens (DESIGN.md §6): bound to one environment, they read `runtimeConfiguration` — the
 * resolved configuration, secrets included, each read audited — and nothing else; no other token
 * reads it.
 */

const SECRET_DEV = "runtime-sentinel-dev-7Hq";
const SECRET_STAGING = "runtime-sentinel-staging-3Kp";

let server: TestServer;
let tenant: Tenant;
let admin: Api;
let catalogue: Catalogue;
const runtimeTokens: Record<"development" | "staging", string> = { development: "", staging: "" };

const CREATE_TOKEN = operation(`mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) {
  __typename ... on Error { code message } ... on ValidationError { problems { path message } }
  ... on CreateApiTokenSuccess { token apiToken { id role environment { key } } } } }`);
const RUNTIME = operation(`query($a: ID!) { runtimeConfiguration(applicationId: $a) {
  environment { key } application { name } client journeys resolvedAt } }`);

async function step(input: Record<string, unknown>) {
  const result = await admin.data(
    `mutation($input: SaveJourneyStepInput!) { saveJourneyStep(input: $input) { __typename ... on SaveJourneyStepSuccess { draft { revision problems { message } } } } }`,
    { input },
  );
  return result.saveJourneyStep;
}

beforeAll(async () => {
  server = await startTestServer({ logLevel: "debug" });
  tenant = await createTenant("runtime");
  admin = apiAs(server.endpoint, tenant);
  catalogue = await createCatalogue(admin);
  const env = catalogue.environments;
  await createClient(admin, {
    applicationId: catalogue.applicationId,
    environmentId: env.staging,
    databaseId: catalogue.databases.staging,
  });
  const create = async (key: string, kind: string) =>
    (
      await admin.data(
        `mutation($input: CreateVariableInput!) { createVariable(input: $input) { ... on CreateVariableSuccess { variable { id } } } }`,
        { input: { key, kind } },
      )
    ).createVariable.variable.id as string;
  const set = (variableId: string, environmentId: string, value: unknown) =>
    admin.data(`mutation($input: SetVariableValueInput!) { setVariableValue(input: $input) { __typename } }`, {
      input: { variableId, environmentId, value },
    });
  const host = await create("webhook.host", "STRING");
  const secret = await create("webhook.signing-secret", "SECRET");
  const ttl = await create("token.ttl", "NUMBER");
  for (const [id, dev, staging] of [
    [host, "hooks.dev.example.com", "hooks.staging.example.com"],
    [secret, SECRET_DEV, SECRET_STAGING],
    [ttl, 900, 1200],
  ] as const) {
    await set(id, env.development, dev);
    await set(id, env.staging, staging);
  }
  const edited = await step({
    journeyId: catalogue.journeys.login,
    environmentId: env.development,
    step: {
      key: "risk-hook",
      type: "WEBHOOK",
      name: "Risk hook",
      enabled: true,
      settings: { url: "https://&{webhook.host}/risk", signingSecret: "&{webhook.signing-secret}" },
      transitions: [{ outcome: "success", to: "COMPLETE" }],
    },
  });
  expect(edited.draft.problems).toEqual([]);
  await admin.data(`mutation($input: SaveJourneyInput!) { saveJourney(input: $input) { __typename } }`, {
    input: { journeyId: catalogue.journeys.login, environmentId: env.development, draftRevision: edited.draft.revision },
  });
  await admin.data(`mutation($input: UpdateClientInput!) { updateClient(input: $input) { __typename } }`, {
    input: { clientId: catalogue.clientId, settings: { accessTokenTtlSeconds: "&{token.ttl}" } },
  });
  const promoted = await admin.data(`mutation($input: PromoteNowInput!) { promoteNow(input: $input) { __typename } }`, {
    input: { applicationId: catalogue.applicationId, fromEnvironmentId: env.development, toEnvironmentId: env.staging },
  });
  expect(promoted.promoteNow.__typename).toBe("PromoteNowSuccess");
  for (const key of ["development", "staging"] as const) {
    const created = (await admin.data(CREATE_TOKEN, { input: { name: `runtime-${key}`, role: "RUNTIME", environmentId: env[key] } }))
      .createApiToken;
    expect(created.apiToken).toMatchObject({ role: "RUNTIME", environment: { key } });
    runtimeTokens[key] = created.token;
  }
});
afterAll(() => server.stop());

describe("a RUNTIME token", () => {
  it("is created only with an environment, and only it has one", async () => {
    const without = (await admin.data(CREATE_TOKEN, { input: { name: "runtime-nowhere", role: "RUNTIME" } })).createApiToken;
    expect(without).toMatchObject({ __typename: "ValidationError", problems: [{ path: "environmentId" }] });
    const viewer = (
      await admin.data(CREATE_TOKEN, {
        input: { name: "viewer-somewhere", role: "VIEWER", environmentId: catalogue.environments.development },
      })
    ).createApiToken;
    expect(viewer).toMatchObject({ __typename: "ValidationError", problems: [{ path: "environmentId" }] });
    const other = await createTenant("runtime-other");
    const foreign = await createCatalogue(apiAs(server.endpoint, other));
    const elsewhere = (
      await admin.data(CREATE_TOKEN, {
        input: { name: "runtime-foreign", role: "RUNTIME", environmentId: foreign.environments.development },
      })
    ).createApiToken;
    expect(elsewhere.__typename).toBe("NotFoundError");
  });

  it("reads its environment's configuration resolved, secrets included, each read audited without the secret", async () => {
    const { db } = await testDatabase();
    const before = await db.select().from(auditEvents).where(eq(auditEvents.organizationId, tenant.organizationId));
    const expected = {
      development: { host: "hooks.dev.example.com", secret: SECRET_DEV, ttl: 900 },
      staging: { host: "hooks.staging.example.com", secret: SECRET_STAGING, ttl: 1200 },
    };
    for (const key of ["development", "staging"] as const) {
      for (let read = 0; read < 2; read++) {
        const response = await gql(server.endpoint, runtimeTokens[key], RUNTIME, { a: catalogue.applicationId });
        expect(response.errors).toBeUndefined();
        const configuration = response.data.runtimeConfiguration;
        expect(configuration.environment.key).toBe(key);
        expect(configuration.journeys.login.steps["risk-hook"].settings).toEqual({
          url: `https://${expected[key].host}/risk`,
          signingSecret: expected[key].secret,
          timeoutMs: 3000,
        });
        expect(configuration.client.settings.accessTokenTtlSeconds).toBe(expected[key].ttl);
        expect(configuration.client.clientId).toEqual(expect.any(String));
      }
    }
    const after = await db.select().from(auditEvents).where(eq(auditEvents.organizationId, tenant.organizationId));
    const reads = after.filter((event) => !before.some((b) => b.id === event.id));
    expect(reads).toHaveLength(4);
    for (const event of reads) {
      expect(event).toMatchObject({
        action: "runtimeConfiguration",
        subjectId: catalogue.applicationId,
        actor: expect.stringMatching(/^runtime-/),
      });
      expect(event.summary).toMatchObject({ journeys: ["login", "registration"], secrets: ["webhook.signing-secret"] });
      expect(JSON.stringify(event)).not.toContain(SECRET_DEV);
      expect(JSON.stringify(event)).not.toContain(SECRET_STAGING);
    }
    // Nothing but the responses to the runtime holds the secrets: not the log, at debug level.
    expect(JSON.stringify(server.logs)).not.toContain(SECRET_DEV);
    expect(JSON.stringify(server.logs)).not.toContain(SECRET_STAGING);
  });

  it("shows each read in the audit log at once, however often the log was asked before", async () => {
    const LOG = operation(`query { auditLog(action: "runtimeConfiguration", first: 100) { edges { node { id } } } }`);
    const count = async () => (await admin.data(LOG)).auditLog.edges.length;
    const before = await count();
    expect(await count()).toBe(before);
    expect((await gql(server.endpoint, runtimeTokens.staging, RUNTIME, { a: catalogue.applicationId })).errors).toBeUndefined();
    expect(await count()).toBe(before + 1);
  });

  it("reads nothing else: every other query, every mutation and every subscription is FORBIDDEN", async () => {
    const token = runtimeTokens.staging;
    const documents = [
      "{ viewer { role } }",
      "{ environments { key } }",
      "{ applications(first: 5) { edges { node { name } } } }",
      "{ variables { key values { value fingerprint } } }",
      "{ stepTypes { type } }",
      `{ node(id: "${catalogue.applicationId}") { id } }`,
      `{ __typename runtimeConfiguration(applicationId: "${catalogue.applicationId}") { resolvedAt } viewer { role } }`,
      `query { ... on Query { runtimeConfiguration(applicationId: "${catalogue.applicationId}") { resolvedAt } } }`,
      'mutation { createApplication(input: { name: "Runtime app" }) { __typename } }',
      'mutation { createVariable(input: { key: "runtime.made", kind: STRING }) { __typename } }',
      // Nothing leads on from the configuration's environment and application: not other environments, clients, journeys or tokens.
      `{ runtimeConfiguration(applicationId: "${catalogue.applicationId}") { environment { upper { key } } } }`,
      `{ runtimeConfiguration(applicationId: "${catalogue.applicationId}") { environment { databases { name } } } }`,
      `{ runtimeConfiguration(applicationId: "${catalogue.applicationId}") { application { clients { clientId settings } } } }`,
      `{ runtimeConfiguration(applicationId: "${catalogue.applicationId}") { application { journeys { key configuration(environmentId: "${catalogue.environments.development}") { resolvedDocument } } } } }`,
      `{ runtimeConfiguration(applicationId: "${catalogue.applicationId}") { application { ...A } } } fragment A on Application { client(environmentId: "${catalogue.environments.development}") { clientId } }`,
    ];
    for (const document of documents) {
      const response = await gql(server.endpoint, token, document);
      expect(errorCodes(response), document).toEqual(["FORBIDDEN"]);
      expect(response.data ?? null, document).toBeNull();
    }
    const client = wsClient(server.wsEndpoint, token);
    try {
      const events = await subscribeWs(client, "subscription { syncStatusChanged { cursor } }");
      await expect(events.completed).rejects.toThrow(/FORBIDDEN/);
    } finally {
      await client.dispose();
    }
  });

  it("may select the plain values of its environment and application", async () => {
    const response = await gql(
      server.endpoint,
      runtimeTokens.staging,
      `{ runtimeConfiguration(applicationId: "${catalogue.applicationId}") { __typename environment { id key name rank isProduction editable } application { ...A } resolvedAt } } fragment A on Application { id name }`,
    );
    expect(response.errors).toBeUndefined();
    expect(response.data.runtimeConfiguration).toMatchObject({ environment: { key: "staging" }, application: { name: "Customer Portal" } });
  });

  it("is the only token that reads runtimeConfiguration", async () => {
    for (const role of ["VIEWER", "EDITOR", "PROMOTER", "ADMIN"] as const) {
      const response = await gql(server.endpoint, tenant.tokens[role], RUNTIME, { a: catalogue.applicationId });
      expect(errorCodes(response), role).toEqual(["FORBIDDEN"]);
      expect(JSON.stringify(response)).not.toContain(SECRET_DEV);
    }
  });

  it(`reads at most ${RUNTIME_READS.burst} times at once, then ${RUNTIME_READS.perSecond} a second: TOO_MANY_REQUESTS past it, nothing audited`, async () => {
    const created = (
      await admin.data(CREATE_TOKEN, {
        input: { name: "runtime-flood", role: "RUNTIME", environmentId: catalogue.environments.development },
      })
    ).createApiToken;
    const { db } = await testDatabase();
    const audited = async () =>
      (await db.select().from(auditEvents).where(eq(auditEvents.organizationId, tenant.organizationId))).filter(
        (e) => e.actor === "runtime-flood",
      ).length;
    // All at once; the bucket refills while they are answered (slowly, on a loaded machine): what
    // may pass is the burst and the refill of the time they took.
    const started = performance.now();
    const responses = await Promise.all(
      Array.from({ length: RUNTIME_READS.burst + 5 }, () => gql(server.endpoint, created.token, RUNTIME, { a: catalogue.applicationId })),
    );
    const seconds = (performance.now() - started) / 1000;
    const codes = responses.map((response) => response.errors?.[0]?.extensions?.code ?? "read");
    const reads = codes.filter((c) => c === "read").length;
    expect(reads).toBeGreaterThanOrEqual(RUNTIME_READS.burst);
    expect(reads).toBeLessThanOrEqual(RUNTIME_READS.burst + Math.floor(RUNTIME_READS.perSecond * seconds) + 1);
    if (seconds < 0.8) expect(reads).toBeLessThan(RUNTIME_READS.burst + 5);
    expect(codes.filter((c) => c !== "read").every((c) => c === "TOO_MANY_REQUESTS")).toBe(true);
    expect(await audited()).toBe(codes.filter((c) => c === "read").length);
  });

  it("reads only its organization's applications", async () => {
    const other = await createTenant("runtime-foreign-app");
    const foreign = await createCatalogue(apiAs(server.endpoint, other));
    const response = await gql(server.endpoint, runtimeTokens.development, RUNTIME, { a: foreign.applicationId });
    expect(errorCodes(response)).toEqual(["NOT_FOUND"]);
  });

  // A lock held from another connection stops the read half-way: PostgreSQL only. Last in the file:
  // it changes staging's client and a value behind the services' back, and puts them back.
  it.skipIf(!databaseUrl)(
    "reads its configuration from one snapshot: a write committed between its reads of the client and of the values is not half seen",
    async () => {
      const created = (
        await admin.data(CREATE_TOKEN, {
          input: { name: "runtime-snapshot", role: "RUNTIME", environmentId: catalogue.environments.staging },
        })
      ).createApiToken;
      const read = async () => {
        const response = await gql(server.endpoint, created.token, RUNTIME, { a: catalogue.applicationId });
        expect(response.errors).toBeUndefined();
        return response.data.runtimeConfiguration.client.settings.accessTokenTtlSeconds;
      };
      // Staging's client reads its token lifetime from the variable token.ttl: 1200 in staging.
      expect(await read()).toBe(1200);
      const { db } = await testDatabase();
      const staging = localIdOf(catalogue.environments.staging);
      const application = localIdOf(catalogue.applicationId);
      const ttl = sql`(select id from variables where organization_id = ${tenant.organizationId} and key = 'token.ttl' and deleted_at is null)`;
      // One write: the client's lifetime set to a literal 777 and the variable's value to 1300, holding
      // the variables' table until the read has read the client and waits for the variables.
      try {
        const during = await readAcrossWrite(
          sql`lock table variables in access exclusive mode`,
          async (tx) => {
            await tx.execute(
              sql`update clients set settings = jsonb_set(settings, '{accessTokenTtlSeconds}', '777') where application_id = ${application} and environment_id = ${staging}`,
            );
            await tx.execute(sql`update variable_values set value = '1300' where variable_id = ${ttl} and environment_id = ${staging}`);
          },
          read,
        );
        // The state it started in, whole: not the value after the write through the client before it (1300).
        expect(during).toBe(1200);
        // Read again: the state after the write.
        expect(await read()).toBe(777);
      } finally {
        await db.execute(
          sql`update clients set settings = jsonb_set(settings, '{accessTokenTtlSeconds}', '"&{token.ttl}"') where application_id = ${application} and environment_id = ${staging}`,
        );
        await db.execute(sql`update variable_values set value = '1200' where variable_id = ${ttl} and environment_id = ${staging}`);
      }
      expect(await read()).toBe(1200);
    },
  );
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SAVE, SAVE_STEP, UPDATE_CLIENT } from "../support/documents.js";
import {
  type Api,
  apiAs,
  type Catalogue,
  createApplication,
  createCatalogue,
  createClient,
  createJourney,
  operation,
} from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant } from "../support/tenant.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const DIFF = operation(`query Diff($a: ID!, $from: ID!, $to: ID!, $j: ID) {
  diff(applicationId: $a, fromEnvironmentId: $from, toEnvironmentId: $to, journeyId: $j) {
    status message from { key } to { key }
    changes { id path kind summary oldValue newValue requires bundleId journey { key } stepKey }
    bundles { id label changeIds } } }`);

const STATES = operation(`query States($a: ID!) { node(id: $a) { ... on Application {
  clients { environment { key } syncStatus }
  journeys { key syncStates { environment { key } sourceEnvironment { key } status message changeCount } } } } }`);

async function world(): Promise<{ api: Api; catalogue: Catalogue }> {
  const tenant = await createTenant("diff");
  const api = apiAs(server.endpoint, tenant);
  const catalogue = await createCatalogue(api);
  await createClient(api, {
    applicationId: catalogue.applicationId,
    environmentId: catalogue.environments.staging,
    databaseId: catalogue.databases.staging,
  });
  return { api, catalogue };
}

describe("the diff query", () => {
  it("is IN_SYNC with no changes right after the upper client was created", async () => {
    const { api, catalogue: c } = await world();
    const { diff } = await api.data(DIFF, { a: c.applicationId, from: c.environments.development, to: c.environments.staging });
    expect(diff).toMatchObject({
      status: "IN_SYNC",
      message: "Journey Configuration in Sync",
      from: { key: "development" },
      to: { key: "staging" },
      changes: [],
      bundles: [],
    });
  });

  it("lists client settings, whole journeys and step changes with old and new values, stable ids and bundles", async () => {
    const { api, catalogue: c } = await world();
    await api.data(UPDATE_CLIENT, {
      input: { clientId: c.clientId, settings: { accessTokenTtlSeconds: 900, grantTypes: ["authorization_code"] } },
    });
    await createJourney(api, { applicationId: c.applicationId, key: "recovery", name: "Recovery", type: "PASSWORD_RECOVERY" });
    const edit = { journeyId: c.journeys.login, environmentId: c.environments.development };
    const step = {
      key: "email-otp",
      type: "EMAIL_OTP",
      name: "Email code",
      enabled: true,
      settings: { codeLength: 8 },
      transitions: [
        { outcome: "success", to: "COMPLETE" },
        { outcome: "failure", to: "DENY" },
      ],
    };
    const revision = (await api.data(SAVE_STEP, { input: { ...edit, step } })).saveJourneyStep.draft.revision;
    await api.data(SAVE, { input: { ...edit, draftRevision: revision } });

    const args = { a: c.applicationId, from: c.environments.development, to: c.environments.staging };
    const { diff } = await api.data(DIFF, args);
    expect(diff.status).toBe("OUT_OF_SYNC");
    const byPath = Object.fromEntries(diff.changes.map((ch: { path: string }) => [ch.path, ch]));
    expect(byPath["/client/settings/accessTokenTtlSeconds"]).toMatchObject({
      kind: "MODIFIED",
      oldValue: 3600,
      newValue: 900,
      journey: null,
      stepKey: null,
    });
    expect(byPath["/client/settings/grantTypes"]).toMatchObject({
      oldValue: ["authorization_code", "refresh_token"],
      newValue: ["authorization_code"],
    });
    expect(byPath["/journeys/recovery"]).toMatchObject({ kind: "ADDED", oldValue: null, journey: { key: "recovery" } });
    expect(byPath["/journeys/login/steps/email-otp/settings/codeLength"]).toMatchObject({
      kind: "MODIFIED",
      summary: "Email code · code length: 6 → 8",
      oldValue: 6,
      newValue: 8,
      journey: { key: "login" },
      stepKey: "email-otp",
    });
    // Every change is in exactly one bundle, and bundles name their changes.
    const bundled = diff.bundles.flatMap((b: { changeIds: string[] }) => b.changeIds).sort();
    expect(bundled).toEqual(diff.changes.map((ch: { id: string }) => ch.id).sort());
    // The same difference always has the same id.
    expect((await api.data(DIFF, args)).diff.changes).toEqual(diff.changes);

    // Limited to one journey: only its changes, without client settings.
    const { diff: login } = await api.data(DIFF, { ...args, j: c.journeys.login });
    expect(login.changes.map((ch: { path: string }) => ch.path)).toEqual(["/journeys/login/steps/email-otp/settings/codeLength"]);
    expect(login.changes[0].id).toBe(byPath["/journeys/login/steps/email-otp/settings/codeLength"].id);
  });

  it("answers NOT_CREATED with no changes where the target has no client", async () => {
    const { api, catalogue: c } = await world();
    const { diff } = await api.data(DIFF, { a: c.applicationId, from: c.environments.staging, to: c.environments.production });
    expect(diff).toMatchObject({ status: "NOT_CREATED", changes: [], bundles: [] });
  });

  it("refuses a source below which nothing is promoted (INVALID_DIRECTION) and a source without a client (NOT_FOUND)", async () => {
    const { api, catalogue: c } = await world();
    for (const [from, to] of [
      [c.environments.staging, c.environments.development],
      [c.environments.staging, c.environments.staging],
    ]) {
      const response = await api.request(DIFF, { a: c.applicationId, from, to });
      expect(response.errors?.[0].extensions?.code).toBe("INVALID_DIRECTION");
    }
    const bare = await createApplication(api, "No clients");
    const response = await api.request(DIFF, { a: bare, from: c.environments.development, to: c.environments.staging });
    expect(response.errors?.[0].extensions?.code).toBe("NOT_FOUND");
  });

  it("answers aliased diffs, identical and not, each as it answers alone (they run one at a time, identical ones once)", async () => {
    const { api, catalogue: c } = await world();
    await api.data(UPDATE_CLIENT, { input: { clientId: c.clientId, settings: { accessTokenTtlSeconds: 900 } } });
    const fields = "status changes { id path oldValue newValue } bundles { id changeIds }";
    const alone = (await api.data(DIFF, { a: c.applicationId, from: c.environments.development, to: c.environments.staging })).diff;
    const aloneLogin = (
      await api.data(DIFF, { a: c.applicationId, from: c.environments.development, to: c.environments.staging, j: c.journeys.login })
    ).diff;
    const aliases = Array.from({ length: 18 }, (_, i) =>
      i % 3 === 2
        ? `d${i}: diff(applicationId: $a, fromEnvironmentId: $from, toEnvironmentId: $to, journeyId: $j) { ${fields} }`
        : `d${i}: diff(applicationId: $a, fromEnvironmentId: $from, toEnvironmentId: $to) { ${fields} }`,
    );
    const data = await api.data(`query($a: ID!, $from: ID!, $to: ID!, $j: ID) { ${aliases.join(" ")} }`, {
      a: c.applicationId,
      from: c.environments.development,
      to: c.environments.staging,
      j: c.journeys.login,
    });
    const pick = (d: typeof alone) => ({ status: d.status, changes: d.changes.map((x: { id: string }) => x.id), bundles: d.bundles });
    expect(alone.changes.length).toBeGreaterThan(0);
    for (let i = 0; i < 18; i++) {
      const expected = i % 3 === 2 ? aloneLogin : alone;
      expect(data[`d${i}`].status).toBe(expected.status);
      expect(data[`d${i}`].changes.map((x: { id: string }) => x.id)).toEqual(pick(expected).changes);
    }
  });
});

describe("sync states", () => {
  it("shows each journey and client per environment against its lower one, with change counts", async () => {
    const { api, catalogue: c } = await world();
    await api.data(UPDATE_CLIENT, { input: { clientId: c.clientId, settings: { pkceRequired: false } } });
    const edit = { journeyId: c.journeys.login, environmentId: c.environments.development };
    const step = {
      key: "password",
      type: "PASSWORD",
      name: "Password",
      enabled: false,
      settings: { minLength: 16 },
      transitions: [{ outcome: "success", to: "email-otp" }],
    };
    const revision = (await api.data(SAVE_STEP, { input: { ...edit, step } })).saveJourneyStep.draft.revision;
    await api.data(SAVE, { input: { ...edit, draftRevision: revision } });

    const { node } = await api.data(STATES, { a: c.applicationId });
    expect(node.clients).toEqual([
      { environment: { key: "development" }, syncStatus: "IN_SYNC" },
      { environment: { key: "staging" }, syncStatus: "OUT_OF_SYNC" },
    ]);
    const login = node.journeys.find((j: { key: string }) => j.key === "login");
    expect(login.syncStates).toEqual([
      {
        environment: { key: "staging" },
        sourceEnvironment: { key: "development" },
        status: "OUT_OF_SYNC",
        message: "Journey Configuration out of Sync",
        changeCount: 3,
      },
      {
        environment: { key: "production" },
        sourceEnvironment: { key: "staging" },
        status: "NOT_CREATED",
        message: "No client in Production: create it first",
        changeCount: 0,
      },
    ]);
    const registration = node.journeys.find((j: { key: string }) => j.key === "registration");
    expect(registration.syncStates[0]).toMatchObject({ status: "IN_SYNC", changeCount: 0 });
  });
});

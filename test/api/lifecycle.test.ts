import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROMOTE_NOW, SAVE_STEP } from "../support/documents.js";
import {
  type Api,
  apiAs,
  type Catalogue,
  createApplication,
  createCatalogueWithStaging,
  createClient,
  createDatabase,
  operation,
} from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { subscribeWs, wsClient } from "../support/subscriptions.js";
import { createTenant, type Tenant } from "../support/tenant.js";

/*
 * Lifecycle (DESIGN.md §10), over HTTP, on the database the suite runs on: a journey retired in
 * development is one REMOVED change upstream, promoted like any change, and comes back by a restore;
 * an archived application is read-only; clients, databases and environments are deleted only when
 * nothing depends on them (IN_USE says what does); names change, keys never.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const RESULT = "__typename ... on Error { code message }";
const DELETE_RESULT = `${RESULT} ... on InUseError { references }`;

const RETIRE = operation(`mutation LifecycleRetire($input: RetireJourneyInput!, $env: ID!) {
  retireJourney(input: $input) { ${RESULT} ... on RetireJourneySuccess { journey { key configuration(environmentId: $env) { version } } } } }`);

const JOURNEY = operation(`query LifecycleJourney($id: ID!, $dev: ID!, $staging: ID!) {
  node(id: $id) { ... on Journey {
    key name
    dev: configuration(environmentId: $dev) { version }
    staging: configuration(environmentId: $staging) { version }
    devVersions: versions(environmentId: $dev, first: 3) { edges { node { version origin retired comment document } } }
    stagingVersions: versions(environmentId: $staging, first: 3) { edges { node { version origin retired } } }
    syncStates { environment { key } status changeCount }
  } } }`);

const DIFF = operation(`query LifecycleDiff($a: ID!, $from: ID!, $to: ID!) {
  diff(applicationId: $a, fromEnvironmentId: $from, toEnvironmentId: $to) {
    status changes { id path kind oldValue newValue requires bundleId journey { key } } } }`);

const PROPAGATE = operation(`mutation LifecyclePropagate($input: PropagateChangesInput!) {
  propagateChanges(input: $input) { ${RESULT} ... on PropagateChangesSuccess { propagation { items { path kind } } } } }`);

const JOURNEYS = operation(`query LifecycleJourneys($a: ID!) {
  node(id: $a) { ... on Application {
    live: journeys { key }
    all: journeys(includeRetired: true) { key }
  } } }`);

const CREATE_JOURNEY = operation(
  `mutation LifecycleCreateJourney($input: CreateJourneyInput!) { createJourney(input: $input) { ${RESULT} } }`,
);

const RESTORE = operation(`mutation LifecycleRestore($input: RestoreJourneyVersionInput!) {
  restoreJourneyVersion(input: $input) { ${RESULT} ... on RestoreJourneyVersionSuccess { draft { revision baseVersion restoredFromVersion } } } }`);

const LOCAL_SAVE = operation(`mutation LifecycleSave($input: SaveJourneyInput!) {
  saveJourney(input: $input) { ${RESULT} ... on SaveJourneySuccess { version { version origin retired } } } }`);

const ARCHIVE = operation(`mutation LifecycleArchive($input: ArchiveApplicationInput!) {
  archiveApplication(input: $input) { ${RESULT} ... on ArchiveApplicationSuccess { application { name archived } } } }`);

const UNARCHIVE = operation(`mutation LifecycleUnarchive($input: UnarchiveApplicationInput!) {
  unarchiveApplication(input: $input) { ${RESULT} ... on UnarchiveApplicationSuccess { application { archived } } } }`);

const APPLICATIONS = operation(`query LifecycleApplications($all: Boolean) {
  applications(first: 50, includeArchived: $all) { edges { node { name archived } } } }`);

const DELETE_CLIENT = operation(`mutation LifecycleDeleteClient($input: DeleteClientInput!) {
  deleteClient(input: $input) { ${DELETE_RESULT} ... on DeleteClientSuccess { application { clients { environment { key } } } } } }`);

const DELETE_DATABASE = operation(`mutation LifecycleDeleteDatabase($input: DeleteDatabaseInput!) {
  deleteDatabase(input: $input) { ${DELETE_RESULT} ... on DeleteDatabaseSuccess { environment { key databases { name } } } } }`);

const DELETE_ENVIRONMENT = operation(`mutation LifecycleDeleteEnvironment($input: DeleteEnvironmentInput!) {
  deleteEnvironment(input: $input) { ${DELETE_RESULT} ... on DeleteEnvironmentSuccess { environments { key rank lower { key } upper { key } } } } }`);

const CREATE_ENVIRONMENT = operation(`mutation LifecycleCreateEnvironment($input: CreateEnvironmentInput!) {
  createEnvironment(input: $input) { ${RESULT} ... on CreateEnvironmentSuccess { environment { id } } } }`);

const UPDATE_APPLICATION = operation(`mutation LifecycleUpdateApplication($input: UpdateApplicationInput!) {
  updateApplication(input: $input) { ${RESULT} ... on UpdateApplicationSuccess { application { name } } } }`);

const UPDATE_JOURNEY = operation(`mutation LifecycleUpdateJourney($input: UpdateJourneyInput!) {
  updateJourney(input: $input) { ${RESULT} ... on UpdateJourneySuccess { journey { key name } } } }`);

const UPDATE_ENVIRONMENT = operation(`mutation LifecycleUpdateEnvironment($input: UpdateEnvironmentInput!) {
  updateEnvironment(input: $input) { ${RESULT} ... on UpdateEnvironmentSuccess { environment { key name } } } }`);

const CLIENTS = operation(`query LifecycleClients($a: ID!) {
  node(id: $a) { ... on Application { clients { id environment { key } } } } }`);

const SYNC_CHANGED = operation(`subscription LifecycleSync($a: ID, $e: ID) {
  syncStatusChanged(applicationId: $a, environmentId: $e) { status environment { key } } }`);

const AUDIT = operation(
  `query LifecycleAudit($action: String) { auditLog(action: $action, first: 5) { edges { node { action subjectId summary } } } }`,
);

interface World {
  tenant: Tenant;
  admin: Api;
  catalogue: Catalogue;
}

async function world(label: string, promote = true): Promise<World> {
  const tenant = await createTenant(label);
  const admin = apiAs(server.endpoint, tenant);
  const catalogue = await createCatalogueWithStaging(admin);
  if (promote) {
    const promoted = await admin.data(PROMOTE_NOW, {
      input: {
        applicationId: catalogue.applicationId,
        fromEnvironmentId: catalogue.environments.development,
        toEnvironmentId: catalogue.environments.staging,
      },
    });
    // A client created in staging copied development: nothing to promote yet.
    expect(["PromoteNowSuccess", "NothingToPropagateError"]).toContain(promoted.promoteNow.__typename);
  }
  return { tenant, admin, catalogue };
}

const first = <T>(data: Record<string, T>): T => Object.values(data)[0];

describe("retiring a journey", () => {
  it("retire in development → staging out of sync by one REMOVED change → promote → in sync, gone there → restore → staging sees it ADDED", async () => {
    const { admin, catalogue } = await world("lifecycle-retire");
    const { environments: env, journeys } = catalogue;
    const journey = () => admin.data(JOURNEY, { id: journeys.login, dev: env.development, staging: env.staging });
    const before = (await journey()).node;
    expect(before.staging).not.toBeNull();

    const retired = first(
      await admin.data(RETIRE, {
        input: { journeyId: journeys.login, environmentId: env.development, comment: "legacy login" },
        env: env.development,
      }),
    );
    expect(retired).toMatchObject({ __typename: "RetireJourneySuccess", journey: { key: "login", configuration: null } });

    const afterRetire = (await journey()).node;
    expect(afterRetire.dev).toBeNull();
    expect(afterRetire.devVersions.edges[0].node).toMatchObject({
      origin: "SAVE",
      retired: true,
      comment: "legacy login",
      document: before.devVersions.edges[0].node.document,
    });
    expect(afterRetire.syncStates.find((s: { environment: { key: string } }) => s.environment.key === "staging")).toMatchObject({
      status: "OUT_OF_SYNC",
      changeCount: 1,
    });

    const diff = (await admin.data(DIFF, { a: catalogue.applicationId, from: env.development, to: env.staging })).diff;
    expect(diff.changes).toEqual([
      expect.objectContaining({ path: "/journeys/login", kind: "REMOVED", newValue: null, requires: [], journey: { key: "login" } }),
    ]);
    expect(diff.changes[0].oldValue).toEqual(before.devVersions.edges[0].node.document);

    // Editing a retired journey says how to bring it back; retiring it again is refused.
    const edit = first(
      await admin.data(SAVE_STEP, {
        input: {
          journeyId: journeys.login,
          environmentId: env.development,
          step: { key: "extra", type: "IDENTIFIER", name: "Extra", enabled: true, settings: {}, transitions: [] },
        },
      }),
    ) as { __typename: string; code: string; message: string };
    expect(edit).toMatchObject({ code: "VALIDATION_FAILED", message: expect.stringMatching(/retired.*restoreJourneyVersion/) });
    expect(
      first(await admin.data(RETIRE, { input: { journeyId: journeys.login, environmentId: env.development }, env: env.development })),
    ).toMatchObject({
      code: "VALIDATION_FAILED",
    });

    const promoted = first(
      await admin.data(PROPAGATE, {
        input: {
          applicationId: catalogue.applicationId,
          fromEnvironmentId: env.development,
          toEnvironmentId: env.staging,
          changeIds: [diff.changes[0].id],
          comment: "retire the legacy login",
        },
      }),
    );
    expect(promoted).toMatchObject({
      __typename: "PropagateChangesSuccess",
      propagation: { items: [{ path: "/journeys/login", kind: "REMOVED" }] },
    });

    const afterPromote = (await journey()).node;
    expect(afterPromote.staging).toBeNull();
    expect(afterPromote.stagingVersions.edges[0].node).toMatchObject({ origin: "PROPAGATION", retired: true });
    expect(afterPromote.syncStates.find((s: { environment: { key: string } }) => s.environment.key === "staging")).toMatchObject({
      status: "IN_SYNC",
      changeCount: 0,
    });
    expect((await admin.data(DIFF, { a: catalogue.applicationId, from: env.development, to: env.staging })).diff.status).toBe("IN_SYNC");

    // Retired everywhere: listed only on request; the key is not reusable.
    const listed = (await admin.data(JOURNEYS, { a: catalogue.applicationId })).node;
    expect(listed.live.map((j: { key: string }) => j.key)).toEqual(["registration"]);
    expect(listed.all.map((j: { key: string }) => j.key)).toEqual(["login", "registration"]);
    const reused = first(
      await admin.data(CREATE_JOURNEY, { input: { applicationId: catalogue.applicationId, key: "login", name: "Login", type: "LOGIN" } }),
    );
    expect(reused).toMatchObject({ code: "ALREADY_EXISTS", message: expect.stringMatching(/retired.*restore/) });

    // Restore the version before the tombstone: a draft on the tombstone, saved with origin RESTORE.
    const restoredDraft = first(
      await admin.data(RESTORE, { input: { journeyId: journeys.login, environmentId: env.development, version: 1 } }),
    );
    const tombstone = afterRetire.devVersions.edges[0].node.version;
    expect(restoredDraft).toMatchObject({
      __typename: "RestoreJourneyVersionSuccess",
      draft: { baseVersion: tombstone, restoredFromVersion: 1 },
    });
    const saved = first(
      await admin.data(LOCAL_SAVE, {
        input: {
          journeyId: journeys.login,
          environmentId: env.development,
          draftRevision: (restoredDraft as { draft: { revision: number } }).draft.revision,
        },
      }),
    );
    expect(saved).toMatchObject({
      __typename: "SaveJourneySuccess",
      version: { version: tombstone + 1, origin: "RESTORE", retired: false },
    });

    const back = (await admin.data(DIFF, { a: catalogue.applicationId, from: env.development, to: env.staging })).diff;
    expect(back.changes).toEqual([expect.objectContaining({ path: "/journeys/login", kind: "ADDED", oldValue: null })]);
    expect(back.changes[0].newValue).toEqual(before.devVersions.edges[0].node.document);
    expect((await admin.data(JOURNEYS, { a: catalogue.applicationId })).node.live.map((j: { key: string }) => j.key)).toEqual([
      "login",
      "registration",
    ]);
    // And it goes up again, after the tombstone there.
    expect(
      first(
        await admin.data(PROMOTE_NOW, {
          input: { applicationId: catalogue.applicationId, fromEnvironmentId: env.development, toEnvironmentId: env.staging },
        }),
      ),
    ).toMatchObject({ __typename: "PromoteNowSuccess" });
    const again = (await journey()).node;
    expect(again.staging.version).toBe(afterPromote.stagingVersions.edges[0].node.version + 1);
  });

  it("is refused outside editable environments, while a draft holds edits, and for another role", async () => {
    const { admin, tenant, catalogue } = await world("lifecycle-retire-refusals");
    const { environments: env, journeys } = catalogue;
    const locked = first(await admin.data(RETIRE, { input: { journeyId: journeys.login, environmentId: env.staging }, env: env.staging }));
    expect(locked).toMatchObject({ code: "ENVIRONMENT_LOCKED" });
    await admin.data(SAVE_STEP, {
      input: {
        journeyId: journeys.registration,
        environmentId: env.development,
        step: { key: "extra", type: "IDENTIFIER", name: "Extra", enabled: true, settings: {}, transitions: [] },
      },
    });
    const drafted = first(
      await admin.data(RETIRE, { input: { journeyId: journeys.registration, environmentId: env.development }, env: env.development }),
    );
    expect(drafted).toMatchObject({ code: "DRAFT_CONFLICT", message: expect.stringMatching(/save or discard/) });
    const viewer = apiAs(server.endpoint, tenant, "VIEWER");
    const forbidden = await viewer.request(RETIRE, {
      input: { journeyId: journeys.login, environmentId: env.development },
      env: env.development,
    });
    expect(JSON.stringify(forbidden)).toMatch(/FORBIDDEN/);
    expect((await admin.data(JOURNEY, { id: journeys.login, dev: env.development, staging: env.staging })).node.dev).not.toBeNull();
  });
});

describe("archiving an application", () => {
  it("hides it, refuses every write with ARCHIVED, ends subscriptions filtered on it, and unarchiving undoes it", async () => {
    const { admin, tenant, catalogue } = await world("lifecycle-archive");
    const { environments: env, journeys } = catalogue;
    const ws = wsClient(server.wsEndpoint, tenant.tokens.VIEWER);
    const watching = await subscribeWs(ws, SYNC_CHANGED, { a: catalogue.applicationId });

    const archived = first(await admin.data(ARCHIVE, { input: { applicationId: catalogue.applicationId } }));
    expect(archived).toMatchObject({ __typename: "ArchiveApplicationSuccess", application: { name: "Customer Portal", archived: true } });
    await watching.completed;

    expect((await admin.data(APPLICATIONS, {})).applications.edges).toEqual([]);
    expect((await admin.data(APPLICATIONS, { all: true })).applications.edges).toEqual([
      { node: { name: "Customer Portal", archived: true } },
    ]);

    const writes = [
      await admin.data(SAVE_STEP, {
        input: {
          journeyId: journeys.login,
          environmentId: env.development,
          step: { key: "extra", type: "IDENTIFIER", name: "Extra", enabled: true, settings: {}, transitions: [] },
        },
      }),
      await admin.data(PROMOTE_NOW, {
        input: { applicationId: catalogue.applicationId, fromEnvironmentId: env.development, toEnvironmentId: env.staging },
      }),
      await admin.data(RETIRE, { input: { journeyId: journeys.login, environmentId: env.development }, env: env.development }),
      await admin.data(UPDATE_JOURNEY, { input: { journeyId: journeys.login, name: "Old login" } }),
      await admin.data(UPDATE_APPLICATION, { input: { applicationId: catalogue.applicationId, name: "Renamed" } }),
      await admin.data(CREATE_JOURNEY, { input: { applicationId: catalogue.applicationId, key: "new", name: "New", type: "LOGIN" } }),
      await admin.data(ARCHIVE, { input: { applicationId: catalogue.applicationId } }),
    ];
    for (const write of writes)
      expect(first(write)).toMatchObject({ code: "ARCHIVED", message: expect.stringMatching(/Customer Portal is archived/) });

    // A new subscription on it is refused; reads still answer.
    const refused = await subscribeWs(ws, SYNC_CHANGED, { a: catalogue.applicationId });
    await expect(refused.completed).rejects.toBeDefined();
    expect((await admin.data(JOURNEY, { id: journeys.login, dev: env.development, staging: env.staging })).node.dev).not.toBeNull();
    await ws.dispose();

    expect(
      first(await apiAs(server.endpoint, tenant, "EDITOR").data(UNARCHIVE, { input: { applicationId: catalogue.applicationId } })),
    ).toMatchObject({
      code: "FORBIDDEN",
    });
    expect(first(await admin.data(UNARCHIVE, { input: { applicationId: catalogue.applicationId } }))).toMatchObject({
      application: { archived: false },
    });
    expect(first(await admin.data(UNARCHIVE, { input: { applicationId: catalogue.applicationId } }))).toMatchObject({
      code: "VALIDATION_FAILED",
    });
    expect(first(await admin.data(UPDATE_JOURNEY, { input: { journeyId: journeys.login, name: "Old login" } }))).toMatchObject({
      journey: { key: "login", name: "Old login" },
    });
  });
});

describe("deleting", () => {
  it("a client from the top down, saying what still depends on it; its journeys leave that environment", async () => {
    const { admin, catalogue } = await world("lifecycle-client");
    const clients = (await admin.data(CLIENTS, { a: catalogue.applicationId })).node.clients;
    const [development, staging] = clients;
    const refused = first(await admin.data(DELETE_CLIENT, { input: { clientId: development.id } }));
    expect(refused).toMatchObject({ code: "IN_USE", references: [expect.stringMatching(/in Staging: delete it first/)] });

    const deleted = first(await admin.data(DELETE_CLIENT, { input: { clientId: staging.id } }));
    expect(deleted).toMatchObject({
      __typename: "DeleteClientSuccess",
      application: { clients: [{ environment: { key: "development" } }] },
    });
    const journey = (
      await admin.data(JOURNEY, {
        id: catalogue.journeys.login,
        dev: catalogue.environments.development,
        staging: catalogue.environments.staging,
      })
    ).node;
    expect(journey.staging).toBeNull();
    expect(journey.syncStates.find((s: { environment: { key: string } }) => s.environment.key === "staging").status).toBe("NOT_CREATED");
    // Its versions stay as history; the audit log keeps the client's last settings.
    expect(journey.stagingVersions.edges.length).toBeGreaterThan(0);
    const [event] = (await admin.data(AUDIT, { action: "deleteClient" })).auditLog.edges;
    expect(event.node).toMatchObject({ subjectId: staging.id, summary: { environment: "staging", settings: expect.any(Object) } });

    // Created again, the client copies development; each journey's history there continues after what it kept.
    await createClient(admin, {
      applicationId: catalogue.applicationId,
      environmentId: catalogue.environments.staging,
      databaseId: catalogue.databases.staging,
    });
    const again = (
      await admin.data(JOURNEY, {
        id: catalogue.journeys.login,
        dev: catalogue.environments.development,
        staging: catalogue.environments.staging,
      })
    ).node;
    expect(again.staging.version).toBe(journey.stagingVersions.edges[0].node.version + 1);
    expect(again.stagingVersions.edges[0].node).toMatchObject({ origin: "CLIENT_CREATION", retired: false });
  });

  it("a database only when no client uses it", async () => {
    const { admin, catalogue } = await world("lifecycle-database", false);
    const refused = first(await admin.data(DELETE_DATABASE, { input: { databaseId: catalogue.databases.development } }));
    expect(refused).toMatchObject({ code: "IN_USE", references: [expect.stringMatching(/^client ".*" uses it$/)] });
    const deleted = first(await admin.data(DELETE_DATABASE, { input: { databaseId: catalogue.databases.production } }));
    expect(deleted).toMatchObject({ __typename: "DeleteDatabaseSuccess", environment: { key: "production", databases: [] } });
    expect(first(await admin.data(DELETE_DATABASE, { input: { databaseId: catalogue.databases.production } }))).toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("an environment only when nothing is in it, closing up the pipeline and ending subscriptions filtered on it", async () => {
    const { admin, tenant, catalogue } = await world("lifecycle-environment", false);
    const qa = first(await admin.data(CREATE_ENVIRONMENT, { input: { key: "qa", name: "QA", rank: 1 } })) as {
      environment: { id: string };
    };
    const ws = wsClient(server.wsEndpoint, tenant.tokens.VIEWER);
    const watching = await subscribeWs(ws, SYNC_CHANGED, { e: qa.environment.id });

    const staging = first(await admin.data(DELETE_ENVIRONMENT, { input: { environmentId: catalogue.environments.staging } }));
    expect(staging).toMatchObject({ code: "IN_USE" });
    expect((staging as { references: string[] }).references).toEqual(
      expect.arrayContaining([expect.stringMatching(/^client ".*" of Customer Portal$/), 'database "acme-users-staging"']),
    );

    const deleted = first(await admin.data(DELETE_ENVIRONMENT, { input: { environmentId: qa.environment.id } }));
    expect(deleted).toMatchObject({
      __typename: "DeleteEnvironmentSuccess",
      environments: [
        { key: "development", rank: 0, lower: null, upper: { key: "staging" } },
        { key: "staging", rank: 1, lower: { key: "development" }, upper: { key: "production" } },
        { key: "production", rank: 2, lower: { key: "staging" }, upper: null },
      ],
    });
    await watching.completed;
    await ws.dispose();
    // Gone from writes; a new environment may take its place in the pipeline (not its key).
    const database = await admin.request(
      `mutation($input: CreateDatabaseInput!) { createDatabase(input: $input) { __typename ... on Error { code } } }`,
      {
        input: { environmentId: qa.environment.id, name: "qa-users" },
      },
    );
    expect(database.data.createDatabase.__typename).toBe("NotFoundError");
    expect(first(await admin.data(CREATE_ENVIRONMENT, { input: { key: "uat", name: "UAT", rank: 1 } }))).toMatchObject({
      __typename: "CreateEnvironmentSuccess",
    });
  });

  it("keeps the history that names a deleted environment readable", async () => {
    const { admin, catalogue } = await world("lifecycle-environment-history", false);
    const qa = first(await admin.data(CREATE_ENVIRONMENT, { input: { key: "qa", name: "QA", rank: 9 } })) as {
      environment: { id: string };
    };
    const database = await createDatabase(admin, { environmentId: qa.environment.id, name: "qa-users" });
    const client = await createClient(admin, {
      applicationId: catalogue.applicationId,
      environmentId: qa.environment.id,
      databaseId: database,
    });
    await admin.data(SAVE_STEP, {
      input: {
        journeyId: catalogue.journeys.login,
        environmentId: catalogue.environments.development,
        step: {
          key: "extra",
          type: "IDENTIFIER",
          name: "Extra",
          enabled: true,
          settings: {},
          transitions: [{ outcome: "success", to: "COMPLETE" }],
        },
      },
    });
    expect(first(await admin.data(DELETE_CLIENT, { input: { clientId: client } }))).toMatchObject({ __typename: "DeleteClientSuccess" });
    expect(first(await admin.data(DELETE_DATABASE, { input: { databaseId: database } }))).toMatchObject({
      __typename: "DeleteDatabaseSuccess",
    });
    expect(first(await admin.data(DELETE_ENVIRONMENT, { input: { environmentId: qa.environment.id } }))).toMatchObject({
      __typename: "DeleteEnvironmentSuccess",
    });
    const history = await admin.data(
      `query($qa: ID!) {
        node(id: $qa) { ... on Environment { key deletedAt lower { key } } }
        environments { key }
        syncNotifications(first: 50, environmentId: $qa) { edges { node { environment { key deletedAt } status } } }
      }`,
      { qa: qa.environment.id },
    );
    expect(history.node).toMatchObject({ key: "qa", deletedAt: expect.any(String), lower: null });
    expect(history.environments.map((e: { key: string }) => e.key)).toEqual(["development", "staging", "production"]);
    expect(history.syncNotifications.edges.length).toBeGreaterThan(0);
    for (const edge of history.syncNotifications.edges)
      expect(edge.node.environment).toMatchObject({ key: "qa", deletedAt: expect.any(String) });
  });

  it("never the last editable environment", async () => {
    const tenant = await createTenant("lifecycle-last-editable");
    const admin = apiAs(server.endpoint, tenant);
    const environments = (await admin.data(`{ environments { id key } }`)).environments as { id: string; key: string }[];
    const development = environments.find((e) => e.key === "development")!;
    const refused = first(await admin.data(DELETE_ENVIRONMENT, { input: { environmentId: development.id } }));
    expect(refused).toMatchObject({ code: "IN_USE", references: [expect.stringMatching(/last editable environment/)] });
    // Another editable environment on top does not make development deletable: changes start at the lowest.
    const sandbox = first(
      await admin.data(CREATE_ENVIRONMENT, { input: { key: "sandbox", name: "Sandbox", rank: 9, editable: true } }),
    ) as {
      environment: { id: string };
    };
    const lowest = first(await admin.data(DELETE_ENVIRONMENT, { input: { environmentId: development.id } }));
    expect(lowest).toMatchObject({ code: "IN_USE", references: [expect.stringMatching(/lowest environment.*Staging.*is not editable/)] });
    expect(first(await admin.data(DELETE_ENVIRONMENT, { input: { environmentId: sandbox.environment.id } }))).toMatchObject({
      __typename: "DeleteEnvironmentSuccess",
    });
    // Production holds nothing: it goes, and staging is the top.
    const production = environments.find((e) => e.key === "production")!;
    const deleted = first(await admin.data(DELETE_ENVIRONMENT, { input: { environmentId: production.id } })) as {
      environments: { key: string }[];
    };
    expect(deleted.environments.map((e) => e.key)).toEqual(["development", "staging"]);
  });
});

describe("renaming", () => {
  it("changes names, never keys, and keeps names unique", async () => {
    const { admin, catalogue } = await world("lifecycle-rename", false);
    await createApplication(admin, "Partner Portal");
    expect(
      first(await admin.data(UPDATE_APPLICATION, { input: { applicationId: catalogue.applicationId, name: "Partner Portal" } })),
    ).toMatchObject({
      code: "ALREADY_EXISTS",
    });
    expect(
      first(await admin.data(UPDATE_APPLICATION, { input: { applicationId: catalogue.applicationId, name: "Customer Hub" } })),
    ).toMatchObject({
      application: { name: "Customer Hub" },
    });
    expect(first(await admin.data(UPDATE_JOURNEY, { input: { journeyId: catalogue.journeys.login, name: "Sign in" } }))).toMatchObject({
      journey: { key: "login", name: "Sign in" },
    });
    expect(
      first(await admin.data(UPDATE_ENVIRONMENT, { input: { environmentId: catalogue.environments.staging, name: "Pre-production" } })),
    ).toMatchObject({
      environment: { key: "staging", name: "Pre-production" },
    });
    expect(
      first(await admin.data(UPDATE_ENVIRONMENT, { input: { environmentId: catalogue.environments.staging, name: " " } })),
    ).toMatchObject({
      code: "VALIDATION_FAILED",
    });
  });
});

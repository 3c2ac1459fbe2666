import { randomBytes, randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Db, rowsOf } from "../../src/db/client.js";
import { appendClientSettingsVersion, deleteClientRow, findClientsByApplicationIds } from "../../src/db/repositories/clients.js";
import { deleteDraft } from "../../src/db/repositories/drafts.js";
import { appendVersion, deleteHeads } from "../../src/db/repositories/journeys.js";
import { raiseOrganizationRevision } from "../../src/db/repositories/organizations.js";
import { canonicalHash } from "../../src/domain/canonical-json.js";
import type { JourneyDocument } from "../../src/domain/journey-document.js";
import { lockConfigurations } from "../../src/services/locks.js";
import { databaseUrl } from "../support/database.js";
import { type Catalogue, localIdOf, operation } from "../support/fixtures.js";
import { client } from "../support/graphql.js";
import { heldWhile, readAcrossWrite } from "../support/locks.js";
import { runScript, waitFor } from "../support/processes.js";
import { identify, must, productionClient, saveIdentifyName, serverWithPool, type World, world as worldAt } from "../support/worlds.js";

/*
 * Torn reads: use-cases that read several statements, so that a write committed between two of them
 * could give them a combination of states that never existed — the defect runtimeConfiguration had
 * (87e0961, test/api/runtime.test.ts). Every test here failed before 1fe55ca, which reads these in one
 * snapshot or under the locks the competing writers take. PostgreSQL only: a writer holds a
 * table lock that the use-case's later statement needs (its earlier ones do not), writes, and commits
 * once the use-case is blocked behind it; so the earlier statements saw the state before the write
 * and the later ones the state after it. The writes are made "by hand" (the repositories' own
 * functions, in a transaction of the test's) where the competing writer must hold a table lock, as the
 * runtime test does; through the API where a lock the test holds orders two real mutations.
 */

let endpoint = "";
let stopServer: () => Promise<void> = async () => {};

beforeAll(async () => {
  if (!databaseUrl) return;
  // A server of its own, its pool large enough for the competitors.
  ({ endpoint, stop: stopServer } = await serverWithPool(12));
});
afterAll(() => stopServer());

// --- Operations -----------------------------------------------------------------------------------

const RESULT = "__typename ... on Error { code message }";

const SAVE_STEP = operation(`mutation TornSaveStep($input: SaveJourneyStepInput!) {
  saveJourneyStep(input: $input) { ${RESULT} ... on SaveJourneyStepSuccess { draft { revision problems { message } } } } }`);
const SAVE = operation(`mutation TornSave($input: SaveJourneyInput!) {
  saveJourney(input: $input) { ${RESULT} ... on SaveJourneySuccess { version { version hash } } } }`);
const RESTORE = operation(`mutation TornRestore($input: RestoreJourneyVersionInput!) {
  restoreJourneyVersion(input: $input) { ${RESULT} ... on RestoreJourneyVersionSuccess { draft { revision } } } }`);
const UPDATE_CLIENT = operation(`mutation TornUpdateClient($input: UpdateClientInput!) {
  updateClient(input: $input) { ${RESULT} } }`);
const CREATE_CLIENT = operation(`mutation TornCreateClient($input: CreateClientInput!) {
  createClient(input: $input) { ${RESULT} ... on CreateClientSuccess { client { id } } } }`);
const DELETE_CLIENT = operation(`mutation TornDeleteClient($input: DeleteClientInput!) {
  deleteClient(input: $input) { ${RESULT} ... on InUseError { references } } }`);
const PROMOTE_NOW = operation(`mutation TornPromoteNow($input: PromoteNowInput!) {
  promoteNow(input: $input) { ${RESULT} ... on PromoteNowSuccess { propagation { id } } } }`);
const PROPAGATE = operation(`mutation TornPropagate($input: PropagateChangesInput!) {
  propagateChanges(input: $input) { ${RESULT} ... on PropagateChangesSuccess { propagation { id items { path } } } } }`);
const REQUEST = operation(`mutation TornRequest($input: RequestPromotionInput!) {
  requestPromotion(input: $input) { ${RESULT}
    ... on RequestPromotionSuccess { request { id status planHash isStale changes { path } } } } }`);
const CREATE_VARIABLE = operation(`mutation TornCreateVariable($input: CreateVariableInput!) {
  createVariable(input: $input) { ${RESULT} ... on CreateVariableSuccess { variable { id } } } }`);
const SET_VALUE = operation(`mutation TornSetValue($input: SetVariableValueInput!) {
  setVariableValue(input: $input) { ${RESULT} } }`);

const DIFF = operation(`query TornDiff($a: ID!, $from: ID!, $to: ID!) {
  diff(applicationId: $a, fromEnvironmentId: $from, toEnvironmentId: $to) { status changes { path } } }`);
const SYNC_STATES = operation(`query TornSyncStates($j: ID!) {
  node(id: $j) { ... on Journey { syncStates { environment { key } status changeCount } } } }`);
const NOTIFICATIONS = operation(`query TornNotifications($a: ID!) {
  syncNotifications(applicationId: $a, first: 100) {
    edges { node { cursor status changeCount journey { key } environment { key } } } } }`);
const CLIENTS = operation(`query TornClients($a: ID!) {
  node(id: $a) { ... on Application {
    clients { id environment { key } settings syncStatus } } } }`);
const LOGIN_IN = operation(`query TornLogin($j: ID!, $env: ID!) {
  node(id: $j) { ... on Journey { configuration(environmentId: $env) { version hash } } } }`);
const PREVIEW = operation(`query TornPreview($id: ID!) {
  revertPreview(propagationId: $id) { changes { path } conflicts { path } } }`);
const REFERENCES = operation(`query TornReferences($key: String!) {
  variable(key: $key) { references { draft path journey { key } environment { key } } } }`);
/*
 * The reads made across a write are documents of their own: the same document sent before by the same
 * audience, at the revision the write has not raised yet, is answered from the response cache.
 */
const PREVIEW_ACROSS = operation(`query TornPreviewAcross($id: ID!) {
  revertPreview(propagationId: $id) { changes { path } conflicts { path } } }`);
const SYNC_STATES_ACROSS = operation(`query TornSyncStatesAcross($j: ID!) {
  node(id: $j) { ... on Journey { syncStates { environment { key } status changeCount } } } }`);
const REFERENCES_ACROSS = operation(`query TornReferencesAcross($key: String!) {
  variable(key: $key) { references { draft path journey { key } environment { key } } } }`);

// --- A tenant's world -----------------------------------------------------------------------------

const world = (label: string) => worldAt(endpoint, label);

const diffOf = async (w: World, from: string, to: string) =>
  (await w.api.data(DIFF, { a: w.catalogue.applicationId, from, to })).diff as { status: string; changes: { path: string }[] };

const stateIn = (states: { environment: { key: string }; status: string; changeCount: number }[], key: string) =>
  states.find((s) => s.environment.key === key)!;

const keyOf = (w: World, environment: keyof Catalogue["environments"]) => ({
  journeyId: localIdOf(w.catalogue.journeys.login),
  environmentId: localIdOf(w.env[environment]),
});

/** The document and hash of the login journey's head (or of one of its versions) in an environment, read in `tx`. */
async function loginVersion(tx: Db, w: World, environment: keyof Catalogue["environments"], version?: number) {
  const key = keyOf(w, environment);
  const rows = rowsOf<{ version: number; document: JourneyDocument; hash: string }>(
    await tx.execute(
      version === undefined
        ? sql`select v.version, v.document, v.hash from journey_heads h join journey_versions v
              on v.journey_id = h.journey_id and v.environment_id = h.environment_id and v.version = h.version
              where h.journey_id = ${key.journeyId} and h.environment_id = ${key.environmentId}`
        : sql`select version, document, hash from journey_versions
              where journey_id = ${key.journeyId} and environment_id = ${key.environmentId} and version = ${version}`,
    ),
  );
  return rows[0];
}

/** A second instance of the server (its own process, its own memory) on the same database, as deployments on PostgreSQL run. */
async function anotherInstance(): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const server = runScript("src/server/main.ts", [], {
    ...process.env,
    DATABASE_URL: databaseUrl!,
    SECRETS_KEY: process.env.SECRETS_KEY || randomBytes(32).toString("base64"),
    SECRETS_KEY_PREVIOUS: "",
    SEED_DEMO: "false",
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "warn",
  });
  try {
    const [, graphql] = await waitFor(server.output, /GraphiQL: (http:\/\/\S+)/, server.child);
    return {
      endpoint: graphql,
      stop: async () => {
        if (server.child.exitCode === null) server.child.kill("SIGTERM");
        await server.exited;
      },
    };
  } catch (error) {
    if (server.child.exitCode === null) server.child.kill("SIGTERM");
    throw error;
  }
}

// --- 1. A change count computed from two reads, kept for its pair of hashes ------------------------

describe("JourneySyncState.changeCount (src/services/sync.ts, changeCountOf)", () => {
  it.skipIf(!databaseUrl)(
    "counts the documents of the hashes it reports: a save committed between its read of the heads and of the head versions is not counted under the old pair of hashes, nor kept for later requests, notifications and other organizations",
    { timeout: 120_000 },
    async () => {
      const marker = randomUUID();
      const renamed = `Enter email ${marker}`;
      const w = await world("torn-count");
      // Development's login saved on another instance: this process has never counted the pair (it
      // would have, had it recorded that save's notification; after a restart it has counted none).
      const other = await anotherInstance();
      try {
        await saveIdentifyName(client(other.endpoint, w.tenant.tokens.ADMIN), w, renamed);
      } finally {
        await other.stop();
      }
      expect((await diffOf(w, w.env.development, w.env.staging)).changes.map((c) => c.path)).toEqual([
        "/journeys/login/steps/identify/name",
      ]);

      // A save in development (a restore of version 1, as restoreJourneyVersion + saveJourney write
      // it), committed while the read has read the heads and waits for the head versions.
      const during = await readAcrossWrite(
        sql`lock table journey_versions in access exclusive mode`,
        async (tx) => {
          const first = await loginVersion(tx, w, "development", 1);
          const head = await loginVersion(tx, w, "development");
          const written = await appendVersion(tx, keyOf(w, "development"), head.version, {
            document: first.document,
            hash: first.hash,
            origin: "RESTORE",
            savedBy: "admin-token",
            savedByTokenId: null,
            comment: "Restored version 1",
          });
          expect(written).not.toBeNull();
          await raiseOrganizationRevision(tx, w.tenant.organizationId);
        },
        () => w.api.data(SYNC_STATES, { j: w.catalogue.journeys.login }),
      );
      const staging = stateIn(during.node.syncStates, "staging");
      // The state before the save (out of sync by one change) or after it (in sync): not out of sync by none.
      expect
        .soft([staging.status, staging.changeCount], "the torn response")
        .toSatisfy(
          ([status, count]: [string, number]) => (status === "OUT_OF_SYNC" && count === 1) || (status === "IN_SYNC" && count === 0),
        );

      // Development saved back to the renamed document (restore version 2, save) through this instance:
      // staging is out of sync by that one change again — the same pair of hashes as before.
      const ids = { journeyId: w.catalogue.journeys.login, environmentId: w.env.development };
      const { draft } = await must(w.api, RESTORE, { ...ids, version: 2 });
      await must(w.api, SAVE, { ...ids, draftRevision: draft.revision });
      const diff = await diffOf(w, w.env.development, w.env.staging);
      expect(diff.changes).toHaveLength(1);
      const after = stateIn((await w.api.data(SYNC_STATES, { j: w.catalogue.journeys.login })).node.syncStates, "staging");
      expect.soft(after, "a later request").toEqual({ environment: { key: "staging" }, status: "OUT_OF_SYNC", changeCount: 1 });
      // The save's stored notification carries the count too: every instance and dashboard reads it.
      const notifications = (await w.api.data(NOTIFICATIONS, { a: w.catalogue.applicationId })).syncNotifications.edges.map(
        (e: {
          node: { cursor: string; status: string; changeCount: number; journey: { key: string } | null; environment: { key: string } };
        }) => e.node,
      );
      const last = notifications
        .filter(
          (n: { journey: { key: string } | null; environment: { key: string } }) =>
            n.journey?.key === "login" && n.environment.key === "staging",
        )
        .sort((a: { cursor: string }, b: { cursor: string }) => Number(a.cursor) - Number(b.cursor))
        .at(-1);
      expect.soft(last, "the stored notification").toMatchObject({ status: "OUT_OF_SYNC", changeCount: 1 });

      // Another organization whose login holds the same two documents (counts are memoized by content).
      const v = await world("torn-count-other");
      await saveIdentifyName(v.api, v, renamed);
      expect((await diffOf(v, v.env.development, v.env.staging)).changes).toHaveLength(1);
      const theirs = stateIn((await v.api.data(SYNC_STATES, { j: v.catalogue.journeys.login })).node.syncStates, "staging");
      expect(theirs, "another organization's state").toEqual({ environment: { key: "staging" }, status: "OUT_OF_SYNC", changeCount: 1 });
    },
  );
});

// --- 2. createClient: settings copied before its locks, journeys after them -----------------------

describe("createClient above another environment (src/services/clients.ts)", () => {
  it.skipIf(!databaseUrl)(
    "copies the lower environment's settings and journeys of one moment: a promotion into it that commits while the creation waits for its lock is copied whole or not at all",
    { timeout: 60_000 },
    async () => {
      const w = await world("torn-create-client");
      await must(w.api, UPDATE_CLIENT, { clientId: w.catalogue.clientId, settings: { accessTokenTtlSeconds: 1234 } });
      await saveIdentifyName(w.api, w, `Enter email ${randomUUID()}`);
      const { changes } = await diffOf(w, w.env.development, w.env.staging);
      expect(changes.map((c) => c.path).sort()).toEqual(["/client/settings/accessTokenTtlSeconds", "/journeys/login/steps/identify/name"]);
      const stagingBefore = await w.api.data(LOGIN_IN, { j: w.catalogue.journeys.login, env: w.env.staging });

      // The promotion into staging holds staging's configuration and waits to commit (behind the
      // organization's row, which only a transaction's last statements take); production's client is
      // created meanwhile, and waits for staging's configuration: the promotion commits first.
      const [promoted, created] = await heldWhile(
        sql`select 1 from organizations where id = ${w.tenant.organizationId} for no key update`,
        [
          () =>
            w.api.data(PROMOTE_NOW, {
              input: { applicationId: w.catalogue.applicationId, fromEnvironmentId: w.env.development, toEnvironmentId: w.env.staging },
            }),
          () =>
            w.api.data(CREATE_CLIENT, {
              input: productionClient(w),
            }),
        ],
      );
      expect(promoted.promoteNow.__typename).toBe("PromoteNowSuccess");
      expect(created.createClient.__typename).toBe("CreateClientSuccess");

      const application = (await w.api.data(CLIENTS, { a: w.catalogue.applicationId })).node;
      const clientIn = (key: string) => application.clients.find((c: { environment: { key: string } }) => c.environment.key === key);
      const stagingLogin = (await w.api.data(LOGIN_IN, { j: w.catalogue.journeys.login, env: w.env.staging })).node.configuration;
      const productionLogin = (await w.api.data(LOGIN_IN, { j: w.catalogue.journeys.login, env: w.env.production })).node.configuration;
      const copied = {
        ttl: clientIn("production").settings.accessTokenTtlSeconds,
        login: productionLogin.hash,
      };
      // Staging's settings and login of one moment: the promotion committed before the creation took
      // staging's lock, so staging's state after it (1234, the new login) — not its old settings with its new login.
      expect.soft(copied, "production's copy of staging").toEqual({
        ttl: clientIn("staging").settings.accessTokenTtlSeconds,
        login: stagingLogin.hash,
      });
      expect(stagingLogin.hash).not.toBe(stagingBefore.node.configuration.hash);
      // So production starts in sync with staging, as a client created above another does.
      expect(clientIn("production").syncStatus).toBe("IN_SYNC");
    },
  );
});

describe("createClient above another environment, while that environment's client is deleted (src/services/clients.ts)", () => {
  it.skipIf(!databaseUrl)(
    "copies from the environment that has a client when it takes its locks: a deletion of the nearest one that commits while the creation waits does not leave production with the deleted client's settings and no journeys",
    { timeout: 60_000 },
    async () => {
      const w = await world("torn-create-after-delete");
      await must(w.api, UPDATE_CLIENT, { clientId: w.catalogue.clientId, settings: { accessTokenTtlSeconds: 1234 } });
      const developmentLogin = await saveIdentifyName(w.api, w, `Enter email ${randomUUID()}`);
      const before = (await w.api.data(CLIENTS, { a: w.catalogue.applicationId })).node;
      const staging = before.clients.find((c: { environment: { key: string } }) => c.environment.key === "staging");

      // Staging's client deleted (it has none above it yet): the deletion holds staging's configuration
      // and waits to commit; production's client is created meanwhile and waits for staging's configuration.
      const [deleted, created] = await heldWhile(sql`select 1 from organizations where id = ${w.tenant.organizationId} for no key update`, [
        () => w.api.data(DELETE_CLIENT, { input: { clientId: staging.id } }),
        () =>
          w.api.data(CREATE_CLIENT, {
            input: productionClient(w),
          }),
      ]);
      expect(deleted.deleteClient.__typename, JSON.stringify(deleted)).toBe("DeleteClientSuccess");

      const application = (await w.api.data(CLIENTS, { a: w.catalogue.applicationId })).node;
      const production = application.clients.find((c: { environment: { key: string } }) => c.environment.key === "production");
      if (created.createClient.__typename !== "CreateClientSuccess") {
        // Refused (the environment it copied from went away meanwhile): typed, and nothing created.
        expect(created.createClient.code, JSON.stringify(created)).toEqual(expect.any(String));
        expect(production).toBeUndefined();
        return;
      }
      expect(application.clients.map((c: { environment: { key: string } }) => c.environment.key)).toEqual(["development", "production"]);
      const productionLogin = (await w.api.data(LOGIN_IN, { j: w.catalogue.journeys.login, env: w.env.production })).node.configuration;
      // Created after the deletion committed, it copies from development, the nearest environment below
      // with a client then: its settings and its journeys — not the deleted client's settings and no journey.
      expect({ ttl: production.settings.accessTokenTtlSeconds, login: productionLogin?.hash ?? null }, "production's copy").toEqual({
        ttl: 1234,
        login: developmentLogin.hash,
      });
    },
  );
});

// --- 3. requestPromotion: a plan from the clients before a write and the heads after it ------------

/** Development's client settings and login changed: the diff to staging is one setting and one step name. */
async function twoChanges(w: World): Promise<void> {
  await must(w.api, UPDATE_CLIENT, { clientId: w.catalogue.clientId, settings: { accessTokenTtlSeconds: 1234 } });
  await saveIdentifyName(w.api, w, `Enter email ${randomUUID()}`);
  const { changes } = await diffOf(w, w.env.development, w.env.staging);
  expect(changes.map((c) => c.path).sort()).toEqual(["/client/settings/accessTokenTtlSeconds", "/journeys/login/steps/identify/name"]);
}

/** Staging's client settings and login head set, as a propagation (or revert) into staging writes them, in `tx`. */
async function writeStaging(
  tx: Db,
  w: World,
  settings: { settings: object; hash: string },
  login: { document: JourneyDocument; hash: string },
) {
  // The configuration locks every promotion (and revert) into staging takes, in its order.
  await lockConfigurations(tx, localIdOf(w.catalogue.applicationId), {
    read: localIdOf(w.env.development),
    write: localIdOf(w.env.staging),
  });
  const clients = await findClientsByApplicationIds(tx, w.tenant.organizationId, [localIdOf(w.catalogue.applicationId)]);
  const staging = clients.find((c) => c.environmentId === localIdOf(w.env.staging))!;
  const by = { origin: "PROPAGATION" as const, savedBy: "promoter-token", savedByTokenId: null, comment: "by another promoter" };
  expect(
    await appendClientSettingsVersion(tx, staging, { settings: settings.settings as never, hash: settings.hash, ...by }),
  ).not.toBeNull();
  const head = await loginVersion(tx, w, "staging");
  expect(await appendVersion(tx, keyOf(w, "staging"), head.version, { document: login.document, hash: login.hash, ...by })).not.toBeNull();
  await raiseOrganizationRevision(tx, w.tenant.organizationId);
}

describe("requestPromotion (src/services/promotion-requests.ts)", () => {
  it.skipIf(!databaseUrl)(
    "stores a plan of one state of the target: a promotion committed between its read of the clients and of the heads gives neither half a plan nor its hash",
    { timeout: 60_000 },
    async () => {
      const w = await world("torn-request");
      await twoChanges(w);
      // Another promoter's promotion of both changes, committed while the request has read the clients
      // and waits for the heads.
      const answer = await readAcrossWrite(
        sql`lock table journey_heads in access exclusive mode`,
        async (tx) => {
          const clients = await findClientsByApplicationIds(tx, w.tenant.organizationId, [localIdOf(w.catalogue.applicationId)]);
          const development = clients.find((c) => c.environmentId === localIdOf(w.env.development))!;
          await writeStaging(
            tx,
            w,
            { settings: development.settings, hash: development.settingsHash },
            await loginVersion(tx, w, "development"),
          );
        },
        () =>
          w.api.data(REQUEST, {
            input: {
              applicationId: w.catalogue.applicationId,
              fromEnvironmentId: w.env.development,
              toEnvironmentId: w.env.staging,
              selectAll: true,
              comment: "everything",
            },
          }),
      );
      expect((await diffOf(w, w.env.development, w.env.staging)).status).toBe("IN_SYNC");
      const result = answer.requestPromotion;
      const planned = result.request?.changes.map((c: { path: string }) => c.path).sort();
      // Before the promotion: both changes; after it: nothing to promote. Never the client's change alone.
      expect({ typename: result.__typename, code: result.code, planned }, `the request: ${JSON.stringify(result)}`).toSatisfy(
        (r: { typename: string; code?: string; planned?: string[] }) =>
          r.code === "NOTHING_TO_PROPAGATE" ||
          JSON.stringify(r.planned) === JSON.stringify(["/client/settings/accessTokenTtlSeconds", "/journeys/login/steps/identify/name"]),
      );
    },
  );
});

// --- 4. revertPreview: the client from before a revert, the heads after it -------------------------

describe("revertPreview (src/services/reverts.ts)", () => {
  it.skipIf(!databaseUrl)(
    "previews the revert against one state of the target: a revert committed between its read of the clients and of the heads is seen whole or not at all",
    { timeout: 60_000 },
    async () => {
      const w = await world("torn-preview");
      const stagingSettings = (await w.api.data(CLIENTS, { a: w.catalogue.applicationId })).node.clients.find(
        (c: { environment: { key: string } }) => c.environment.key === "staging",
      ).settings;
      await twoChanges(w);
      const propagated = await must(w.api, PROPAGATE, {
        applicationId: w.catalogue.applicationId,
        fromEnvironmentId: w.env.development,
        toEnvironmentId: w.env.staging,
        selectAll: true,
      });
      const propagationId = propagated.propagation.id;
      const both = ["/client/settings/accessTokenTtlSeconds", "/journeys/login/steps/identify/name"];
      expect(
        ((await w.api.data(PREVIEW, { id: propagationId })).revertPreview.changes as { path: string }[]).map((c) => c.path).sort(),
      ).toEqual(both);
      // The propagation reverted whole by another promoter (staging's settings and login back to what
      // they were), committed while the preview has read the clients and waits for the heads.
      const during = await readAcrossWrite(
        sql`lock table journey_heads in access exclusive mode`,
        async (tx) => {
          await writeStaging(
            tx,
            w,
            { settings: stagingSettings, hash: canonicalHash(stagingSettings) },
            await loginVersion(tx, w, "staging", 1),
          );
        },
        () => w.api.data(PREVIEW_ACROSS, { id: propagationId }),
      );
      expect((await w.api.data(PREVIEW, { id: propagationId })).revertPreview.changes).toEqual([]);
      const previewed = (during.revertPreview.changes as { path: string }[]).map((c) => c.path).sort();
      // Before the revert: both changes to revert; after it: none. Never the client's alone.
      expect([[], both], `the preview: ${JSON.stringify(during.revertPreview)}`).toContainEqual(previewed);
    },
  );
});

// --- 5. Variable.references: three scans, a save between two of them -------------------------------

describe("Variable.references (src/services/variable-references.ts)", () => {
  it.skipIf(!databaseUrl)(
    "finds a reference that is in a draft before a save and in the saved version after it: a save committed between its scan of the heads and of the drafts does not hide it",
    { timeout: 60_000 },
    async () => {
      const w = await world("torn-references");
      const key = "torn.host";
      const variable = (await must(w.api, CREATE_VARIABLE, { key, kind: "STRING" })).variable;
      await must(w.api, SET_VALUE, { variableId: variable.id, environmentId: w.env.development, value: "hooks.dev.example.com" });
      const ids = { journeyId: w.catalogue.journeys.login, environmentId: w.env.development };
      await must(w.api, SAVE_STEP, {
        ...ids,
        step: {
          key: "risk-hook",
          type: "WEBHOOK",
          name: "Risk hook",
          enabled: true,
          settings: { url: `https://&{${key}}/risk` },
          transitions: [{ outcome: "success", to: "password" }],
        },
      });
      const { draft } = await must(w.api, SAVE_STEP, {
        ...ids,
        step: { ...identify("Enter email"), transitions: [{ outcome: "success", to: "risk-hook" }] },
      });
      expect(draft.problems).toEqual([]);
      const where = (references: { draft: boolean; environment: { key: string } }[]) =>
        references.map((r) => `${r.environment.key}:${r.draft ? "draft" : "saved"}`);
      expect(where((await w.api.data(REFERENCES, { key })).variable.references)).toEqual(["development:draft"]);

      // The draft saved (as saveJourney writes it: the next version, the draft dropped), committed
      // while the scan has read the heads and waits for the drafts.
      const during = await readAcrossWrite(
        sql`lock table journey_drafts in access exclusive mode`,
        async (tx) => {
          const key = keyOf(w, "development");
          const [row] = rowsOf<{ document: JourneyDocument }>(
            await tx.execute(
              sql`select document from journey_drafts where journey_id = ${key.journeyId} and environment_id = ${key.environmentId}`,
            ),
          );
          const head = await loginVersion(tx, w, "development");
          const saved = await appendVersion(tx, key, head.version, {
            document: row.document,
            hash: canonicalHash(row.document),
            origin: "SAVE",
            savedBy: "editor-token",
            savedByTokenId: null,
          });
          expect(saved).not.toBeNull();
          await deleteDraft(tx, key);
          await raiseOrganizationRevision(tx, w.tenant.organizationId);
        },
        () => w.api.data(REFERENCES_ACROSS, { key }),
      );
      expect(where((await w.api.data(REFERENCES, { key })).variable.references)).toEqual(["development:saved"]);
      // Before the save: in the draft; after it: in the saved version. Never nowhere.
      expect([["development:draft"], ["development:saved"]], "the references read across the save").toContainEqual(
        where(during.variable.references),
      );
    },
  );
});

// --- 6. Journey.syncStates: a status computed from the clients and the heads, read apart ----------

describe("Journey.syncStates status (src/services/sync.ts, syncStatesOfJourney)", () => {
  it.skipIf(!databaseUrl)(
    "computes a status from one state: a client's deletion committed between its read of the clients and of the heads is not OUT_OF_SYNC",
    { timeout: 60_000 },
    async () => {
      const w = await world("torn-status");
      const before = stateIn((await w.api.data(SYNC_STATES, { j: w.catalogue.journeys.login })).node.syncStates, "staging");
      expect(before.status).toBe("IN_SYNC");
      // Staging's client deleted, as deleteClient writes it (its journeys' heads there, its settings
      // versions, its row), committed while the read has read the clients and waits for the heads.
      const during = await readAcrossWrite(
        sql`lock table journey_heads in access exclusive mode`,
        async (tx) => {
          const clients = await findClientsByApplicationIds(tx, w.tenant.organizationId, [localIdOf(w.catalogue.applicationId)]);
          const staging = clients.find((c) => c.environmentId === localIdOf(w.env.staging))!;
          const environmentId = localIdOf(w.env.staging);
          await deleteHeads(tx, [
            { journeyId: localIdOf(w.catalogue.journeys.login), environmentId },
            { journeyId: localIdOf(w.catalogue.journeys.registration), environmentId },
          ]);
          await deleteClientRow(tx, staging.id);
          await raiseOrganizationRevision(tx, w.tenant.organizationId);
        },
        () => w.api.data(SYNC_STATES_ACROSS, { j: w.catalogue.journeys.login }),
      );
      const after = stateIn((await w.api.data(SYNC_STATES, { j: w.catalogue.journeys.login })).node.syncStates, "staging");
      expect(after.status).toBe("NOT_CREATED");
      const torn = stateIn(during.node.syncStates, "staging");
      // In sync before the deletion, no client after it: never out of sync (by the whole journey).
      expect(["IN_SYNC", "NOT_CREATED"], `the state read across the deletion: ${JSON.stringify(torn)}`).toContain(torn.status);
    },
  );
});

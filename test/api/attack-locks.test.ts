import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseUrl } from "../support/database.js";
import { type Api, createJourney, operation } from "../support/fixtures.js";
import { heldWhile } from "../support/locks.js";
import { startTestServer } from "../support/server.js";
import { identify, must, productionClient, saveIdentifyName, serverWithPool, type World, world as worldAt } from "../support/worlds.js";

/*
 * Attacks on the lock orders and snapshot reads of 1fe55ca (createClient locks every lower
 * environment's configuration shared before it chooses its source; requestPromotion locks source
 * and target shared before it plans; revert previews, reference scans and a journey's sync states
 * read in one snapshot; change counts diff versions by number), through the real HTTP API, as an
 * outsider and as concurrent writers of one application would.
 *
 * On PostgreSQL (DATABASE_URL) the server gets a pool of 10 connections, as in production, and
 * transactions truly overlap; a deadlock shows as an INTERNAL_SERVER_ERROR answered and SQLSTATE
 * 40P01 logged. On PGlite (one connection, in this thread) the read tests check that a snapshot
 * transaction beside the same request's other loaders neither hangs nor errs.
 */

let endpoint = "";
let stopServer: () => Promise<void> = async () => {};
/** Every log line of the PostgreSQL server of this file (the unexpected errors carry their SQLSTATE). */
const logs: Record<string, any>[] = [];

beforeAll(async () => {
  if (!databaseUrl) {
    const server = await startTestServer();
    endpoint = server.endpoint;
    stopServer = () => server.stop();
    return;
  }
  // A server of its own with production's pool size.
  ({ endpoint, stop: stopServer } = await serverWithPool(10, (line) => logs.push(line)));
});
afterAll(() => stopServer());

// --- Operations -----------------------------------------------------------------------------------

const RESULT = "__typename ... on Error { code message }";

const SAVE_STEP = operation(`mutation AtkSaveStep($input: SaveJourneyStepInput!) {
  saveJourneyStep(input: $input) { ${RESULT} ... on SaveJourneyStepSuccess { draft { revision } } } }`);
const SAVE = operation(`mutation AtkSave($input: SaveJourneyInput!) {
  saveJourney(input: $input) { ${RESULT} ... on SaveJourneySuccess { version { version hash } } } }`);
const PROMOTE_NOW = operation(`mutation AtkPromoteNow($input: PromoteNowInput!) {
  promoteNow(input: $input) { ${RESULT} ... on PromoteNowSuccess { propagation { id } } } }`);
const PROPAGATE = operation(`mutation AtkPropagate($input: PropagateChangesInput!) {
  propagateChanges(input: $input) { ${RESULT} ... on PropagateChangesSuccess { propagation { id } } } }`);
const REQUEST = operation(`mutation AtkRequest($input: RequestPromotionInput!) {
  requestPromotion(input: $input) { ${RESULT} ... on RequestPromotionSuccess { request { id status planHash } } } }`);
const APPROVE = operation(`mutation AtkApprove($input: ApprovePromotionRequestInput!) {
  approvePromotionRequest(input: $input) { ${RESULT} } }`);
const EXECUTE = operation(`mutation AtkExecute($input: ExecutePromotionRequestInput!) {
  executePromotionRequest(input: $input) { ${RESULT} ... on ExecutePromotionRequestSuccess { propagation { id } } } }`);
const POLICY = operation(`mutation AtkPolicy($input: SetApprovalPolicyInput!) {
  setApprovalPolicy(input: $input) { ${RESULT} ... on SetApprovalPolicySuccess { environment { approvalPolicy { requiredApprovals } } } } }`);
const CREATE_CLIENT = operation(`mutation AtkCreateClient($input: CreateClientInput!) {
  createClient(input: $input) { ${RESULT} ... on CreateClientSuccess { client { id } } } }`);
const DELETE_CLIENT = operation(`mutation AtkDeleteClient($input: DeleteClientInput!) {
  deleteClient(input: $input) { ${RESULT} } }`);
const CREATE_ENVIRONMENT = operation(`mutation AtkCreateEnvironment($input: CreateEnvironmentInput!) {
  createEnvironment(input: $input) { ${RESULT} ... on CreateEnvironmentSuccess { environment { id } } } }`);
const DELETE_ENVIRONMENT = operation(`mutation AtkDeleteEnvironment($input: DeleteEnvironmentInput!) {
  deleteEnvironment(input: $input) { ${RESULT} } }`);
const CREATE_APPLICATION = operation(`mutation AtkCreateApplication($input: CreateApplicationInput!) {
  createApplication(input: $input) { ${RESULT} ... on CreateApplicationSuccess { application { id } } } }`);
const CREATE_VARIABLE = operation(`mutation AtkCreateVariable($input: CreateVariableInput!) {
  createVariable(input: $input) { ${RESULT} ... on CreateVariableSuccess { variable { id } } } }`);
const SET_VALUE = operation(`mutation AtkSetValue($input: SetVariableValueInput!) {
  setVariableValue(input: $input) { ${RESULT} } }`);

const CLIENTS = operation(`query AtkClients($a: ID!) {
  node(id: $a) { ... on Application { clients { id environment { key } } } } }`);

// --- A tenant's world -----------------------------------------------------------------------------

const world = (label: string) => worldAt(endpoint, label);

/**
 * A mutation's answer as the client got it: the payload's type (and code), or "errors: <codes>" for
 * GraphQL errors — a deadlock is "errors: INTERNAL_SERVER_ERROR".
 */
async function outcome(api: Api, query: string, input: object): Promise<string> {
  const response = await api.request(query, { input });
  if (response.errors?.length) return `errors: ${response.errors.map((e) => e.extensions?.code ?? e.message).join(", ")}`;
  const payload = Object.values(response.data as object)[0] as { __typename: string; code?: string };
  return payload.code ? `${payload.__typename} ${payload.code}` : payload.__typename;
}

/** A typed answer: a success or a domain refusal, never a GraphQL error (a deadlock, a 500). */
const TYPED = /^[A-Za-z]+(Success|Error [A-Z_]+)$/;

/** The unexpected errors the server logged since `since` (index into `logs`): a deadlock shows 40P01 here. */
const serverErrors = (since: number) =>
  logs
    .slice(since)
    .filter((l) => l.level >= 50)
    .map((l) => ({ msg: l.msg, code: l.err?.code, message: l.err?.message }));

const policyOf = (environmentId: string, requiredApprovals: number) => ({
  environmentId,
  requiredApprovals,
  allowSelfApproval: false,
  requireComment: false,
  expiresAfterHours: 72,
});

const toStagingOf = (w: World) => ({
  applicationId: w.catalogue.applicationId,
  fromEnvironmentId: w.env.development,
  toEnvironmentId: w.env.staging,
});

// --- 1. requestPromotion: the target's row locked after its configuration locks ------------------

describe("requestPromotion beside executePromotionRequest and setApprovalPolicy into its target (src/services/promotion-requests.ts)", () => {
  /*
   * Until 10c4cc7 requestPromotion took the source's and target's configuration locks shared, planned,
   * and only then read the target's approval policy with its row locked FOR SHARE (`lockedApprovalPolicy`): a row
   * lock after a configuration lock, against ARCHITECTURE.md's order (rows first). setApprovalPolicy
   * holds that row FOR NO KEY UPDATE and then locks the open requests into it; an execution holds its
   * request's row and then waits for the target's configuration exclusively: request → policy →
   * execution → request, a cycle (it passed before 1fe55ca, when the request took no configuration
   * lock). Now the row comes first, as in every writer.
   */
  it.skipIf(!databaseUrl)(
    "forced: the request holds the target's configuration shared while it plans, the execution waits for it, the policy waits for the executed request's row: no deadlock, all three answered",
    { timeout: 60_000 },
    async () => {
      const w = await world("atk-request-policy");
      await saveIdentifyName(w.api, w, `Enter email ${randomUUID()}`);
      // An approved request into staging (no approvals required there yet), to execute.
      const approved = (await must(w.api, REQUEST, { ...toStagingOf(w), selectAll: true })).request;
      expect(approved.status).toBe("APPROVED");
      const since = logs.length;

      // The new request takes staging's configuration shared and is held up at its read of the heads;
      // the execution locks its request's row and waits for staging's configuration; the policy locks
      // staging's row and waits for the open request's row. Let go, the request plans and asks for
      // staging's row FOR SHARE.
      const [requested, executed, policy] = await heldWhile(sql`lock table journey_heads in access exclusive mode`, [
        () => outcome(w.api, REQUEST, { ...toStagingOf(w), selectAll: true, comment: "second" }),
        () => outcome(w.api, EXECUTE, { requestId: approved.id }),
        () => outcome(w.api, POLICY, policyOf(w.env.staging, 1)),
      ]);
      expect({ requested, executed, policy, serverErrors: serverErrors(since) }).toEqual({
        requested: "RequestPromotionSuccess",
        executed: "ExecutePromotionRequestSuccess",
        policy: "SetApprovalPolicySuccess",
        serverErrors: [],
      });
    },
  );

  it.skipIf(!databaseUrl)(
    "unforced: requests, an execution, an approval and a policy into one target sent at once, round after round: every answer typed, no deadlock",
    { timeout: 120_000 },
    async () => {
      const w = await world("atk-request-race");
      const since = logs.length;
      const rounds: string[][] = [];
      for (let round = 0; round < 8; round++) {
        await saveIdentifyName(w.api, w, `Enter email ${randomUUID()}`);
        await must(w.api, POLICY, policyOf(w.env.staging, 0));
        const approved = (await must(w.api, REQUEST, { ...toStagingOf(w), selectAll: true })).request;
        rounds.push(
          await Promise.all([
            outcome(w.api, REQUEST, { ...toStagingOf(w), selectAll: true }),
            outcome(w.api, REQUEST, { ...toStagingOf(w), selectAll: true }),
            outcome(w.api, EXECUTE, { requestId: approved.id }),
            outcome(w.api, APPROVE, { requestId: approved.id, planHash: approved.planHash }),
            outcome(w.api, POLICY, policyOf(w.env.staging, 1)),
          ]),
        );
      }
      const report = JSON.stringify({ rounds, serverErrors: serverErrors(since) });
      for (const answer of rounds.flat()) expect(answer, report).toMatch(TYPED);
      expect(serverErrors(since), report).toEqual([]);
    },
  );
});

// --- 2. createClient above other environments: every lower one locked shared ---------------------

describe("createClient in production beside writers of the environments below it (src/services/clients.ts)", () => {
  /*
   * With the locks as 1fe55ca takes them (the request's policy row after its configuration locks),
   * the four below wait in a cycle whose one edge is a place in a queue (the creation behind the
   * client's deletion, both behind the request's shared lock): PostgreSQL lets the creation go first
   * after deadlock_timeout instead of aborting anyone. Taking every lower environment exclusively, or
   * highest first, would make it a deadlock.
   */
  it.skipIf(!databaseUrl)(
    "forced: a request holding staging shared waits for staging's row, which an environment's deletion holds while it waits for production's row, which the creation holds while it queues for staging behind a client's deletion: no deadlock",
    { timeout: 60_000 },
    async () => {
      const w = await world("atk-create-cycle");
      await saveIdentifyName(w.api, w, `Enter email ${randomUUID()}`);
      const spare = (await must(w.api, CREATE_ENVIRONMENT, { key: "spare", name: "Spare", rank: 100 })).environment.id;
      const staging = (await w.api.data(CLIENTS, { a: w.catalogue.applicationId })).node.clients.find(
        (c: { environment: { key: string } }) => c.environment.key === "staging",
      );
      const since = logs.length;
      const [requested, deletedClient, created, deletedEnvironment] = await heldWhile(
        sql`lock table journey_heads in access exclusive mode`,
        [
          // Staging (and development) shared, held up at the heads.
          () => outcome(w.api, REQUEST, { ...toStagingOf(w), selectAll: true }),
          // Staging exclusively: queued behind the request.
          () => outcome(w.api, DELETE_CLIENT, { clientId: staging.id }),
          // Production's row, development shared, then staging shared: queued behind the deletion.
          () => outcome(w.api, CREATE_CLIENT, productionClient(w)),
          // Every environment's row: development's and staging's taken, production's waited for.
          () => outcome(w.api, DELETE_ENVIRONMENT, { environmentId: spare }),
        ],
      );
      expect({ requested, deletedClient, created, deletedEnvironment, serverErrors: serverErrors(since) }).toEqual({
        requested: "RequestPromotionSuccess",
        // Production's client created first, or the request still open: staging's client stays either way.
        deletedClient: "InUseError IN_USE",
        created: "CreateClientSuccess",
        deletedEnvironment: "DeleteEnvironmentSuccess",
        serverErrors: [],
      });
    },
  );

  it.skipIf(!databaseUrl)(
    "unforced: creations in production sent with promotions, requests, an execution, policies, a client's deletion, environments created and deleted and a save: one creation, every answer typed, no deadlock",
    { timeout: 180_000 },
    async () => {
      const since = logs.length;
      const rounds: string[][] = [];
      for (let round = 0; round < 6; round++) {
        const w = await world(`atk-create-storm-${round}`);
        await saveIdentifyName(w.api, w, `Enter email ${randomUUID()}`);
        const application = w.catalogue.applicationId;
        const toProduction = { applicationId: application, fromEnvironmentId: w.env.staging, toEnvironmentId: w.env.production };
        const approved = (await must(w.api, REQUEST, { ...toStagingOf(w), selectAll: true })).request;
        const staging = (await w.api.data(CLIENTS, { a: application })).node.clients.find(
          (c: { environment: { key: string } }) => c.environment.key === "staging",
        );
        const spare = (await must(w.api, CREATE_ENVIRONMENT, { key: `spare${round}`, name: `Spare ${round}`, rank: 100 })).environment.id;
        const createInProduction = () =>
          outcome(w.api, CREATE_CLIENT, {
            applicationId: application,
            environmentId: w.env.production,
            databaseId: w.catalogue.databases.production,
            redirectUris: [],
            allowedOrigins: [],
          });
        const answers = await Promise.all([
          createInProduction(),
          createInProduction(),
          createInProduction(),
          outcome(w.api, PROMOTE_NOW, toStagingOf(w)),
          outcome(w.api, PROMOTE_NOW, toProduction),
          outcome(w.api, REQUEST, { ...toStagingOf(w), selectAll: true }),
          outcome(w.api, REQUEST, { ...toProduction, selectAll: true }),
          outcome(w.api, EXECUTE, { requestId: approved.id }),
          // The row's policy rewritten, still requiring none (so one creation succeeds whatever the order).
          outcome(w.api, POLICY, { ...policyOf(w.env.production, 0), allowSelfApproval: true }),
          outcome(w.api, DELETE_CLIENT, { clientId: staging.id }),
          outcome(w.api, CREATE_ENVIRONMENT, { key: `mid${round}`, name: `Mid ${round}`, rank: 1 }),
          outcome(w.api, DELETE_ENVIRONMENT, { environmentId: spare }),
          saveIdentifyName(w.api, w, `Enter email ${randomUUID()}`).then(
            () => "SaveJourneySuccess",
            (error: Error) => `save: ${error.message}`,
          ),
        ]);
        rounds.push(answers);
        expect(
          answers.slice(0, 3).filter((a) => a === "CreateClientSuccess"),
          JSON.stringify(answers),
        ).toHaveLength(1);
      }
      const report = JSON.stringify({ rounds, serverErrors: serverErrors(since) });
      for (const answer of rounds.flat()) expect(answer, report).toMatch(TYPED);
      expect(serverErrors(since), report).toEqual([]);
    },
  );

  it("refuses as before its locks moved: NOT_FOUND and VALIDATION_FAILED for bad or foreign IDs before APPROVAL_REQUIRED, and no approval asked where nothing is copied", async () => {
    const w = await world("atk-create-refusals");
    const other = await world("atk-create-refusals-other");
    await must(w.api, POLICY, policyOf(w.env.production, 1));
    const base = productionClient(w);
    const unknownDatabase = Buffer.from(`Database:${randomUUID()}`).toString("base64");
    const answers = {
      valid: await outcome(w.api, CREATE_CLIENT, base),
      unknownDatabase: await outcome(w.api, CREATE_CLIENT, { ...base, databaseId: unknownDatabase }),
      stagingDatabase: await outcome(w.api, CREATE_CLIENT, { ...base, databaseId: w.catalogue.databases.staging }),
      foreignDatabase: await outcome(w.api, CREATE_CLIENT, { ...base, databaseId: other.catalogue.databases.production }),
      foreignEnvironment: await outcome(w.api, CREATE_CLIENT, { ...base, environmentId: other.env.production }),
      foreignApplication: await outcome(w.api, CREATE_CLIENT, { ...base, applicationId: other.catalogue.applicationId }),
    };
    expect(answers).toEqual({
      valid: "ApprovalRequiredError APPROVAL_REQUIRED",
      unknownDatabase: "NotFoundError NOT_FOUND",
      stagingDatabase: "ValidationError VALIDATION_FAILED",
      foreignDatabase: "NotFoundError NOT_FOUND",
      foreignEnvironment: "NotFoundError NOT_FOUND",
      foreignApplication: "NotFoundError NOT_FOUND",
    });
    // An application with no client below production copies nothing: no approval to ask for.
    const bare = (await must(w.api, CREATE_APPLICATION, { name: `Bare ${randomUUID()}` })).application.id;
    expect(await outcome(w.api, CREATE_CLIENT, { ...base, applicationId: bare })).toBe("CreateClientSuccess");
  });
});

// --- 3. requestPromotion's locks by name: IDs of nothing, of other organizations, odd strings ------

describe("requestPromotion with environment IDs that name nothing of the caller's (locked by name before they are refused)", () => {
  it("answers NOT_FOUND alike for an unknown UUID, a foreign environment and ids that are no UUID (quotes, backslashes, commas, braces in the lock's name)", async () => {
    const w = await world("atk-request-ids");
    const other = await world("atk-request-ids-other");
    const gid = (local: string) => Buffer.from(`Environment:${local}`).toString("base64");
    const ask = async (toEnvironmentId: string) => {
      const response = await w.api.request(REQUEST, { input: { ...toStagingOf(w), toEnvironmentId, selectAll: true } });
      expect(response.errors, JSON.stringify(response)).toBeUndefined();
      return response.data.requestPromotion as { __typename: string; code: string; message: string };
    };
    const unknown = randomUUID();
    expect(await ask(gid(unknown))).toEqual({
      __typename: "NotFoundError",
      code: "NOT_FOUND",
      message: `No environment with id "${unknown}"`,
    });
    const foreign = await ask(other.env.staging);
    expect(foreign.code).toBe("NOT_FOUND");
    expect(foreign.message).toMatch(/^No environment with id "[0-9a-f-]{36}"$/);
    for (const odd of ['a"b', "a\\b", "a,b", "{a}", "a}{b", '\\"},{"']) {
      expect(await ask(gid(odd)), odd).toEqual({
        __typename: "NotFoundError",
        code: "NOT_FOUND",
        message: `No environment with id ${JSON.stringify(odd)}`,
      });
    }
    expect((await ask(w.env.development)).code).toBe("INVALID_DIRECTION");
  });
});

// --- 4. Reads in a snapshot beside the same request's other loaders -------------------------------

const MIXED = operation(`query AtkMixed($a: ID!, $p: ID!, $key: String!, $from: ID!, $to: ID!, $j: ID!) {
  one: node(id: $a) { ... on Application { journeys { key syncStates { environment { key } status changeCount } } clients { syncStatus } } }
  two: applications(first: 5) { edges { node { journeys { key again: syncStates { status changeCount message } } } } }
  journey: node(id: $j) { ... on Journey { syncStates { status changeCount } } }
  p1: revertPreview(propagationId: $p) { changes { path } conflicts { path } }
  p2: revertPreview(propagationId: $p) { changes { id } }
  v1: variable(key: $key) { references { draft path journey { key } environment { key } } }
  v2: variable(key: $key) { id references { path } }
  d: diff(applicationId: $a, fromEnvironmentId: $from, toEnvironmentId: $to) { status changes { path } }
}`);

interface State {
  status: string;
  changeCount: number;
}

describe("a request reading sync states, change counts, revert previews and references under aliases, beside writes", () => {
  it("answers every field without error or hang, and every change count agrees with its status (on PGlite: snapshots on the one connection)", {
    timeout: 120_000,
  }, async () => {
    const w = await world("atk-mixed");
    const key = `hook${randomUUID().slice(0, 8)}`;
    const variable = (await must(w.api, CREATE_VARIABLE, { key, kind: "STRING" })).variable;
    for (const environmentId of [w.env.development, w.env.staging]) {
      await must(w.api, SET_VALUE, { variableId: variable.id, environmentId, value: "hooks.example.com" });
    }
    const ids = { journeyId: w.catalogue.journeys.login, environmentId: w.env.development };
    const hook = {
      key: "risk-hook",
      type: "WEBHOOK",
      name: "Risk hook",
      enabled: true,
      settings: { url: `https://&{${key}}/risk` },
      transitions: [{ outcome: "success", to: "password" }],
    };
    await must(w.api, SAVE_STEP, { ...ids, step: hook });
    const { draft } = await must(w.api, SAVE_STEP, {
      ...ids,
      step: { ...identify("Enter email"), transitions: [{ outcome: "success", to: "risk-hook" }] },
    });
    await must(w.api, SAVE, { ...ids, draftRevision: draft.revision });
    for (let i = 0; i < 12; i++) await createJourney(w.api, { applicationId: w.catalogue.applicationId, key: `extra-${i}` });
    const { propagation } = await must(w.api, PROPAGATE, { ...toStagingOf(w), selectAll: true });
    // Out of sync again before the reads start (a change count to compute), and more writes during them.
    await saveIdentifyName(w.api, w, "Renamed 0");
    const variables = {
      a: w.catalogue.applicationId,
      p: propagation.id,
      key,
      from: w.env.development,
      to: w.env.staging,
      j: w.catalogue.journeys.login,
    };
    const read = () => w.api.request(MIXED, variables);
    const [a, b, , c, , d, e] = await Promise.all([
      read(),
      read(),
      saveIdentifyName(w.api, w, "Renamed 1").then(() => saveIdentifyName(w.api, w, "Renamed 2")),
      read(),
      outcome(w.api, PROMOTE_NOW, toStagingOf(w)),
      read(),
      read(),
    ]);
    for (const response of [a, b, c, d, e]) {
      expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
      const states: State[] = [
        ...response.data.one.journeys.flatMap((j: { syncStates: State[] }) => j.syncStates),
        ...response.data.two.edges.flatMap((edge: { node: { journeys: { again: State[] }[] } }) =>
          edge.node.journeys.flatMap((j) => j.again),
        ),
        ...response.data.journey.syncStates,
      ];
      expect(states.length).toBeGreaterThan(28);
      for (const s of states) expect(s.status === "OUT_OF_SYNC" ? s.changeCount > 0 : s.changeCount === 0, JSON.stringify(s)).toBe(true);
      expect(response.data.v1.references.length).toBeGreaterThan(0);
    }
  });
});

// --- 5. Many at once on a pool of 10 --------------------------------------------------------------

const SYNC_AND_DIFF = operation(`query AtkSyncAndDiff($a: ID!, $from: ID!, $to: ID!) {
  node(id: $a) { ... on Application { journeys { key syncStates { status changeCount } } } }
  diff(applicationId: $a, fromEnvironmentId: $from, toEnvironmentId: $to) { status changes { path } }
}`);

describe("fifty requests of five organizations at once on a pool of 10 connections", () => {
  it.skipIf(!databaseUrl)(
    "requests holding configurations shared while they plan, promotions and saves waiting for them, creations and reads: every answer typed, no deadlock, no request left hanging",
    { timeout: 180_000 },
    async () => {
      const worlds = await Promise.all([0, 1, 2, 3, 4].map((i) => world(`atk-pool-${i}`)));
      for (const w of worlds) {
        for (let i = 0; i < 6; i++) await createJourney(w.api, { applicationId: w.catalogue.applicationId, key: `extra-${i}` });
        await saveIdentifyName(w.api, w, `Enter email ${randomUUID()}`);
      }
      const since = logs.length;
      const rounds: string[][] = [];
      for (let round = 0; round < 3; round++) {
        const answers: Promise<string>[] = [];
        for (const w of worlds) {
          for (let i = 0; i < 5; i++) answers.push(outcome(w.api, REQUEST, { ...toStagingOf(w), selectAll: true }));
          answers.push(outcome(w.api, PROMOTE_NOW, toStagingOf(w)));
          answers.push(
            saveIdentifyName(w.api, w, `Enter email ${randomUUID()}`).then(
              () => "SaveJourneySuccess",
              (error: Error) => `save: ${error.message}`,
            ),
          );
          answers.push(outcome(w.api, CREATE_CLIENT, productionClient(w)));
          answers.push(outcome(w.api, PROMOTE_NOW, toStagingOf(w)));
          answers.push(
            w.api
              .request(SYNC_AND_DIFF, { a: w.catalogue.applicationId, from: w.env.development, to: w.env.staging })
              .then((r) => (r.errors ? `errors: ${JSON.stringify(r.errors)}` : "ReadSuccess")),
          );
        }
        rounds.push(await Promise.all(answers));
      }
      const report = JSON.stringify({ rounds, serverErrors: serverErrors(since) });
      for (const answer of rounds.flat()) expect(answer, report).toMatch(TYPED);
      expect(serverErrors(since), report).toEqual([]);
    },
  );
});

// --- 6. The same node under two aliases ------------------------------------------------------------

const SAME_NODE_TWICE = operation(`query AtkSameNodeTwice($a: ID!) {
  first: node(id: $a) { id ... on Application { name } }
  second: node(id: $a) { id }
}`);

describe("node(id:) asked twice for one ID in one request (src/graphql/schema/node.ts)", () => {
  /*
   * The relay plugin's resolveNodes caches the first alias's load while it is pending; the second
   * alias gets that promise and resolves to the row before the first brands it with its type, so
   * graphql-js cannot tell its type: "Abstract type Node must resolve to an Object type at runtime".
   * (Older than 1fe55ca: found while sending aliases of the sync-state reads.)
   */
  it("answers both aliases", async () => {
    const w = await world("atk-same-node");
    const response = await w.api.request(SAME_NODE_TWICE, { a: w.catalogue.applicationId });
    expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
    expect(response.data).toEqual({
      first: { id: w.catalogue.applicationId, name: "Customer Portal" },
      second: { id: w.catalogue.applicationId },
    });
  });
});

import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openDatabase, rowsOf } from "../../src/db/client.js";
import { createApp } from "../../src/server/app.js";
import { createLogger } from "../../src/server/logger.js";
import { databaseUrl, testDatabase } from "../support/database.js";
import { passwordStep, SAVE, SAVE_STEP } from "../support/documents.js";
import { type Api, apiAs, type Catalogue, createApiToken, createCatalogueWithStaging, localIdOf, operation } from "../support/fixtures.js";
import { client } from "../support/graphql.js";
import { holdOpen } from "../support/locks.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";

/*
 * Four eyes under competing writers (DESIGN.md §8), through the real HTTP API. On PGlite (one
 * connection) the transactions serialize in arrival order, so these only check the outcomes of
 * those orders; on a PostgreSQL server (DATABASE_URL) they truly overlap, which is what the request
 * row lock, the idempotency key lock, the configuration locks and the policy row's FOR SHARE are
 * for. There the server gets a pool of its own, large enough for ten transactions at once, and some
 * rounds force an interleaving with a lock held from outside (never on PGlite, whose one connection
 * an open outside transaction would block).
 */

/** The clock requests expire by: tests move it instead of sleeping. */
let now = Date.parse("2026-12-04T12:00:00.000Z");
const clock = () => new Date(now);

let endpoint: string;
let stop: () => Promise<void>;
beforeAll(async () => {
  if (!databaseUrl) {
    const server: TestServer = await startTestServer({ clock });
    endpoint = server.endpoint;
    stop = () => server.stop();
    return;
  }
  await testDatabase(); // migrated
  const database: Database = await openDatabase({ url: databaseUrl, poolSize: 24 });
  const app = createApp({ database, logger: createLogger("silent"), clock });
  endpoint = `${await app.start(0, "127.0.0.1")}/graphql`;
  stop = async () => {
    await app.stop();
    await database.close();
  };
});
afterAll(() => stop());

const N = 10;

const POLICY = operation(`mutation ConcPolicy($input: SetApprovalPolicyInput!) {
  setApprovalPolicy(input: $input) {
    __typename
    ... on SetApprovalPolicySuccess { environment { approvalPolicy { requiredApprovals } } }
    ... on Error { code message }
  } }`);

const PROPAGATE = operation(`mutation ConcPropagate($input: PropagateChangesInput!) {
  propagateChanges(input: $input) {
    __typename
    ... on PropagateChangesSuccess { propagation { id mode } }
    ... on Error { code message }
  } }`);

const DIFF = operation(`query ConcDiff($a: ID!, $from: ID!, $to: ID!) {
  diff(applicationId: $a, fromEnvironmentId: $from, toEnvironmentId: $to) { status changes { id path oldValue newValue } } }`);

const REQUEST = operation(`mutation ConcRequest($input: RequestPromotionInput!) {
  requestPromotion(input: $input) {
    __typename
    ... on RequestPromotionSuccess { request { id status planHash changes { id path oldValue newValue } } }
    ... on Error { code message }
  } }`);

const APPROVE = operation(`mutation ConcApprove($input: ApprovePromotionRequestInput!) {
  approvePromotionRequest(input: $input) {
    __typename
    ... on ApprovePromotionRequestSuccess { request { id status } }
    ... on PlanStaleError { changeIds }
    ... on InvalidRequestStateError { status }
    ... on Error { code message }
  } }`);

const EXECUTE = operation(`mutation ConcExecute($input: ExecutePromotionRequestInput!) {
  executePromotionRequest(input: $input) {
    __typename
    ... on ExecutePromotionRequestSuccess {
      request { id status propagation { id } }
      propagation { id mode request { id } items { id path newValue } }
    }
    ... on PlanStaleError { changeIds }
    ... on InvalidRequestStateError { status }
    ... on Error { code message }
  } }`);

const NODE = operation(`query ConcNode($id: ID!) {
  node(id: $id) { ... on PromotionRequest { id status isStale propagation { id } } } }`);

const HISTORY = operation(`query ConcHistory($a: ID!, $after: String) {
  propagations(applicationId: $a, first: 100, after: $after) {
    edges { node { id mode to { key } request { id } items { path newValue } } }
    pageInfo { hasNextPage endCursor } } }`);

const LIST = operation(`query ConcList { promotionRequests(first: 20) { edges { node { id status } } } }`);

const CONFIGURATION = operation(`query ConcConfiguration($id: ID!, $env: ID!) {
  node(id: $id) { ... on Journey { configuration(environmentId: $env) { version document } } } }`);

type Result = { __typename: string; code?: string; message?: string; status?: string; changeIds?: string[] } & Record<string, any>;

interface World {
  tenant: Tenant;
  admin: Api;
  promoter: Api;
  /** A second PROMOTER: a reviewer who is not the requester. */
  reviewer: Api;
  editor: Api;
  catalogue: Catalogue;
  env: Catalogue["environments"];
}

async function world(label: string): Promise<World> {
  const tenant = await createTenant(label);
  const admin = apiAs(endpoint, tenant, "ADMIN");
  const catalogue = await createCatalogueWithStaging(admin);
  const second = await createApiToken(admin, { name: "second-promoter", role: "PROMOTER" });
  return {
    tenant,
    admin,
    promoter: apiAs(endpoint, tenant, "PROMOTER"),
    reviewer: client(endpoint, second.token),
    editor: apiAs(endpoint, tenant, "EDITOR"),
    catalogue,
    env: catalogue.environments,
  };
}

/** A mutation's typed result; a GraphQL error (anything but a typed result) fails the test with the whole response. */
async function call(api: Api, query: string, input: object): Promise<Result> {
  const response = await api.request(query, { input });
  expect(response.errors, JSON.stringify(response)).toBeUndefined();
  return Object.values(response.data as Record<string, Result>)[0];
}

async function setPolicy(w: World, requiredApprovals: number, expiresAfterHours = 72): Promise<Result> {
  return call(w.admin, POLICY, {
    environmentId: w.env.staging,
    requiredApprovals,
    allowSelfApproval: false,
    requireComment: false,
    expiresAfterHours,
  });
}

const loginInDevelopment = (w: World) => ({ journeyId: w.catalogue.journeys.login, environmentId: w.env.development });

/** Puts minLength in login's development draft; returns the revision "Save" must name. */
async function editPassword(w: World, minLength: number): Promise<number> {
  const step = await call(w.editor, SAVE_STEP, { ...loginInDevelopment(w), step: passwordStep(minLength) });
  expect(step.__typename, JSON.stringify(step)).toBe("SaveJourneyStepSuccess");
  return step.draft.revision;
}

const saveDraft = (w: World, revision: number, comment: string) =>
  call(w.editor, SAVE, { ...loginInDevelopment(w), draftRevision: revision, comment });

/** Saves minLength in development as the next version. */
async function savePassword(w: World, minLength: number): Promise<void> {
  const saved = await saveDraft(w, await editPassword(w, minLength), `minLength ${minLength}`);
  expect(saved.__typename, JSON.stringify(saved)).toBe("SaveJourneySuccess");
}

const toStaging = (w: World) => ({
  applicationId: w.catalogue.applicationId,
  fromEnvironmentId: w.env.development,
  toEnvironmentId: w.env.staging,
});

/** A request for development's current minLength change to staging, nothing else. */
async function requestMinLength(w: World, planned: number) {
  const { changes } = (await w.admin.data(DIFF, { a: w.catalogue.applicationId, from: w.env.development, to: w.env.staging })).diff;
  const minLength = changes.find((c: { path: string }) => c.path.endsWith("/minLength"));
  expect(minLength?.newValue).toBe(planned);
  const made = await call(w.promoter, REQUEST, { ...toStaging(w), changeIds: [minLength.id], comment: `minLength ${planned}` });
  expect(made.__typename, JSON.stringify(made)).toBe("RequestPromotionSuccess");
  expect(made.request.changes).toEqual([expect.objectContaining({ id: minLength.id, newValue: planned })]);
  return made.request as { id: string; status: string; planHash: string; changes: { id: string; newValue: unknown }[] };
}

async function approve(w: World, request: { id: string; planHash: string }): Promise<Result> {
  return call(w.reviewer, APPROVE, { requestId: request.id, planHash: request.planHash });
}

/** Staging's saved login configuration: its version and minLength. */
async function stagingLogin(w: World): Promise<{ version: number; minLength: unknown }> {
  const { configuration } = (await w.admin.data(CONFIGURATION, { id: w.catalogue.journeys.login, env: w.env.staging })).node;
  return { version: configuration.version, minLength: configuration.document.steps.password.settings.minLength };
}

interface HistoryEntry {
  id: string;
  mode: string;
  to: { key: string };
  request: { id: string } | null;
  items: { path: string; newValue: unknown }[];
}

/** The application's whole propagation history, newest first. */
async function history(w: World): Promise<HistoryEntry[]> {
  const found: HistoryEntry[] = [];
  for (let after: string | undefined; ; ) {
    const page = (await w.admin.data(HISTORY, { a: w.catalogue.applicationId, after })).propagations;
    found.push(...page.edges.map((e: { node: HistoryEntry }) => e.node));
    if (!page.pageInfo.hasNextPage) return found;
    after = page.pageInfo.endCursor;
  }
}

const executionsOf = (entries: HistoryEntry[], requestId: string) =>
  entries.filter((p) => p.mode === "APPROVED_REQUEST" && p.request?.id === requestId);

/** The server process that waits for a lock process `pid` holds, once there is one. */
async function waiterOf(pid: number): Promise<number> {
  const { db } = await testDatabase();
  for (let attempt = 0; attempt < 400; attempt++) {
    const rows = rowsOf<{ pid: number }>(
      await db.execute(sql`select pid from pg_stat_activity where ${pid}::int = any(pg_blocking_pids(pid))`),
    );
    if (rows.length > 0) return rows[0].pid;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no transaction ever waited for process ${pid}`);
}

/** Waits until `count` server processes wait for a lock that process `pid` holds. */
async function waitForWaiters(pid: number, count: number): Promise<void> {
  const { db } = await testDatabase();
  for (let attempt = 0; attempt < 400; attempt++) {
    const [{ waiting }] = rowsOf<{ waiting: number }>(
      await db.execute(sql`select count(*)::int as waiting from pg_stat_activity where ${pid}::int = any(pg_blocking_pids(pid))`),
    );
    if (waiting >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`fewer than ${count} transactions ever waited for process ${pid}`);
}

const configurationLock = (w: World, environment: string) =>
  sql`select pg_advisory_xact_lock(hashtextextended(${`configuration:${localIdOf(w.catalogue.applicationId)}:${localIdOf(environment)}`}, 0))`;

const organizationRow = (w: World) => sql`select 1 from organizations where id = ${w.tenant.organizationId} for update`;

describe("executing one approved request ten times at once", () => {
  async function approvedRequest(label: string) {
    const w = await world(label);
    expect((await setPolicy(w, 1)).__typename).toBe("SetApprovalPolicySuccess");
    await savePassword(w, 14);
    const before = await stagingLogin(w);
    expect(before.minLength).toBe(12);
    const request = await requestMinLength(w, 14);
    expect((await approve(w, request)).request.status).toBe("APPROVED");
    return { w, request, before };
  }

  async function expectExecutedOnce(w: World, requestId: string, before: { version: number }): Promise<HistoryEntry> {
    const executions = executionsOf(await history(w), requestId);
    expect(executions).toHaveLength(1);
    expect(executions[0]).toMatchObject({ to: { key: "staging" }, items: [{ path: expect.stringMatching(/minLength$/), newValue: 14 }] });
    // Staging as planned, written once.
    expect(await stagingLogin(w)).toEqual({ version: before.version + 1, minLength: 14 });
    const { diff } = await w.admin.data(DIFF, { a: w.catalogue.applicationId, from: w.env.development, to: w.env.staging });
    expect(diff.status).toBe("IN_SYNC");
    const read = (await w.admin.data(NODE, { id: requestId })).node;
    expect(read).toMatchObject({ status: "EXECUTED", isStale: false, propagation: { id: executions[0].id } });
    return executions[0];
  }

  it("without an idempotency key: one succeeds, nine are INVALID_REQUEST_STATE EXECUTED, one propagation", async () => {
    const { w, request, before } = await approvedRequest("approvals-conc-execute");
    const results = await Promise.all(Array.from({ length: N }, () => call(w.promoter, EXECUTE, { requestId: request.id })));
    const winners = results.filter((r) => r.__typename === "ExecutePromotionRequestSuccess");
    const losers = results.filter((r) => r.__typename !== "ExecutePromotionRequestSuccess");
    expect(winners, JSON.stringify(results)).toHaveLength(1);
    expect(losers).toHaveLength(N - 1);
    for (const loser of losers) {
      expect(loser, JSON.stringify(results)).toMatchObject({
        __typename: "InvalidRequestStateError",
        code: "INVALID_REQUEST_STATE",
        status: "EXECUTED",
      });
    }
    const [winner] = winners;
    expect(winner.request).toMatchObject({ id: request.id, status: "EXECUTED", propagation: { id: winner.propagation.id } });
    expect(winner.propagation).toMatchObject({ mode: "APPROVED_REQUEST", request: { id: request.id } });
    const execution = await expectExecutedOnce(w, request.id, before);
    expect(execution.id).toBe(winner.propagation.id);
  });

  it("with one shared idempotency key: all ten succeed with the same propagation, recorded once", async () => {
    const { w, request, before } = await approvedRequest("approvals-conc-execute-key");
    const idempotencyKey = `execute-${request.id.slice(-12)}`;
    const results = await Promise.all(
      Array.from({ length: N }, () => call(w.promoter, EXECUTE, { requestId: request.id, idempotencyKey })),
    );
    for (const result of results) expect(result.__typename, JSON.stringify(results)).toBe("ExecutePromotionRequestSuccess");
    const ids = new Set(results.map((r) => r.propagation.id));
    expect(ids.size, JSON.stringify(results)).toBe(1);
    for (const result of results) {
      expect(result.propagation).toMatchObject({ mode: "APPROVED_REQUEST", request: { id: request.id } });
      expect(result.request.id).toBe(request.id);
    }
    const execution = await expectExecutedOnce(w, request.id, before);
    expect(ids).toEqual(new Set([execution.id]));
    // A retry after the race answers the same again.
    const retry = await call(w.promoter, EXECUTE, { requestId: request.id, idempotencyKey });
    expect(retry.propagation.id).toBe(execution.id);
  });

  /*
   * A retry with the key answers the first execution's propagation — and, as every success does,
   * the request as the execution left it (EXECUTED, with that propagation). On PostgreSQL the retry
   * is forced to wait on the key while the first execution commits (the key's lock held from
   * outside while both read the request); on PGlite it simply comes second.
   */
  it("a retry that waited on the key while the first execution committed answers the request EXECUTED", async () => {
    const { w, request } = await approvedRequest("approvals-conc-execute-replay");
    const idempotencyKey = `replay-${request.id.slice(-12)}`;
    const execute = () => call(w.promoter, EXECUTE, { requestId: request.id, idempotencyKey });
    let results: Result[];
    if (databaseUrl) {
      const key = await holdOpen(
        sql`select pg_advisory_xact_lock(hashtextextended(${`idempotency:${w.tenant.organizationId}:${idempotencyKey}`}, 0))`,
      );
      const first = execute();
      await waiterOf(key.pid);
      const second = execute();
      await waitForWaiters(key.pid, 2);
      await key.release();
      results = await Promise.all([first, second]);
    } else {
      results = [await execute(), await execute()];
    }
    for (const result of results) expect(result.__typename, JSON.stringify(results)).toBe("ExecutePromotionRequestSuccess");
    expect(results[0].propagation.id).toBe(results[1].propagation.id);
    for (const result of results) {
      expect(result.request, JSON.stringify(results.map((r) => r.request))).toEqual({
        id: request.id,
        status: "EXECUTED",
        propagation: { id: result.propagation.id },
      });
    }
  });
});

/*
 * A source edit that moves the planned change (a new minLength in development) racing the review,
 * then the execution. Whatever the order, the request never ends EXECUTED with staging holding the
 * moved value: either the execution applied exactly the plan (staging holds the planned value), or
 * the request is STALE (PLAN_STALE) and staging is unchanged.
 */
describe("a source edit racing the approval and the execution of a plan", () => {
  const ROUNDS = 10;

  interface Round {
    planned: number;
    moved: number;
    approval: Result;
    execution: Result;
  }

  /** Asserts the invariant after a round; returns what staging holds. */
  async function expectPlanOrNothing(w: World, request: { id: string; changes: { id: string }[] }, round: Round, before: unknown) {
    const staging = await stagingLogin(w);
    const read = (await w.admin.data(NODE, { id: request.id })).node;
    const executions = executionsOf(await history(w), request.id);
    const context = JSON.stringify({ round, staging, read, executions });
    expect(staging.minLength, context).not.toBe(round.moved);
    if (round.execution.__typename === "ExecutePromotionRequestSuccess") {
      expect(read, context).toMatchObject({ status: "EXECUTED", propagation: { id: round.execution.propagation.id } });
      expect(staging.minLength, context).toBe(round.planned);
      expect(executions.map((e) => e.id)).toEqual([round.execution.propagation.id]);
      expect(executions[0].items).toEqual([{ path: expect.stringMatching(/minLength$/), newValue: round.planned }]);
    } else {
      expect(read, context).toMatchObject({ status: "STALE", isStale: true, propagation: null });
      expect(staging.minLength, context).toBe(before);
      expect(executions, context).toEqual([]);
      if (round.execution.code === "PLAN_STALE") expect(round.execution.changeIds).toEqual([request.changes[0].id]);
      else expect(round.execution, context).toMatchObject({ code: "INVALID_REQUEST_STATE", status: "STALE" });
    }
    if (round.approval.__typename === "PlanStaleError") {
      expect(round.approval.changeIds, context).toEqual([request.changes[0].id]);
      expect(round.execution, context).toMatchObject({ code: "INVALID_REQUEST_STATE", status: "STALE" });
    } else {
      expect(round.approval.__typename, context).toBe("ApprovePromotionRequestSuccess");
    }
    return staging.minLength;
  }

  it(`the approval races the edit, then the request is executed (${ROUNDS} rounds): never the moved value`, async () => {
    const w = await world("approvals-conc-approve-edit");
    expect((await setPolicy(w, 1)).__typename).toBe("SetApprovalPolicySuccess");
    const outcomes: string[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const planned = 20 + 2 * r;
      const moved = planned + 1;
      await savePassword(w, planned);
      const before = (await stagingLogin(w)).minLength;
      const request = await requestMinLength(w, planned);
      const revision = await editPassword(w, moved);
      // Alternate who is sent first.
      const [approval, saved] =
        r % 2 === 0
          ? await Promise.all([approve(w, request), saveDraft(w, revision, `moved ${moved}`)])
          : await Promise.all([saveDraft(w, revision, `moved ${moved}`), approve(w, request)]).then(([s, a]) => [a, s] as const);
      expect(saved.__typename, JSON.stringify(saved)).toBe("SaveJourneySuccess");
      const execution = await call(w.promoter, EXECUTE, { requestId: request.id });
      // The edit committed before the execution was sent: it cannot apply the plan any more.
      expect(execution.__typename, JSON.stringify({ approval, execution })).not.toBe("ExecutePromotionRequestSuccess");
      await expectPlanOrNothing(w, request, { planned, moved, approval, execution }, before);
      outcomes.push(`${approval.__typename}/${execution.__typename}`);
    }
    expect(outcomes).toHaveLength(ROUNDS);
  });

  it(`the execution races the edit (${ROUNDS} rounds): staging holds the plan exactly, or nothing moved`, async () => {
    const w = await world("approvals-conc-execute-edit");
    expect((await setPolicy(w, 1)).__typename).toBe("SetApprovalPolicySuccess");
    const winners: string[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const planned = 40 + 2 * r;
      const moved = planned + 1;
      await savePassword(w, planned);
      const before = (await stagingLogin(w)).minLength;
      const request = await requestMinLength(w, planned);
      const approval = await approve(w, request);
      expect(approval.request.status).toBe("APPROVED");
      const revision = await editPassword(w, moved);
      const execute = () => call(w.promoter, EXECUTE, { requestId: request.id });
      const save = () => saveDraft(w, revision, `moved ${moved}`);
      let execution: Result;
      let saved: Result;
      if (databaseUrl && r % 4 === 1) {
        // Forced: the execution holds development (shared) and waits for staging; the edit waits for it.
        const staging = await holdOpen(configurationLock(w, w.env.staging));
        const executing = execute();
        const executor = await waiterOf(staging.pid);
        const saving = save();
        await waiterOf(executor);
        await staging.release();
        [execution, saved] = await Promise.all([executing, saving]);
        expect(execution.__typename, JSON.stringify(execution)).toBe("ExecutePromotionRequestSuccess");
      } else if (databaseUrl && r % 4 === 3) {
        // Forced: the edit holds development and waits to commit; the execution waits for it.
        const organization = await holdOpen(organizationRow(w));
        const saving = save();
        const saver = await waiterOf(organization.pid);
        const executing = execute();
        await waiterOf(saver);
        await organization.release();
        [execution, saved] = await Promise.all([executing, saving]);
        expect(execution, JSON.stringify(execution)).toMatchObject({ code: "PLAN_STALE" });
      } else {
        [execution, saved] =
          r % 2 === 0 ? await Promise.all([execute(), save()]) : await Promise.all([save(), execute()]).then(([s, e]) => [e, s]);
      }
      expect(saved.__typename, JSON.stringify(saved)).toBe("SaveJourneySuccess");
      const staging = await expectPlanOrNothing(w, request, { planned, moved, approval, execution }, before);
      winners.push(staging === planned ? "execution" : "edit");
    }
    expect(winners).toHaveLength(ROUNDS);
  });
});

/*
 * An ADMIN requires approvals for staging while a promoter propagates into it. The propagation
 * reads the policy FOR SHARE: either it committed before the policy (success), or it is refused
 * APPROVAL_REQUIRED. A propagation row committed after the policy's commit is what must never be:
 * a poller on a connection of its own reads, in one snapshot, the policy and the number of
 * propagations into staging; once a snapshot shows the policy, the number may never grow.
 */
describe("an approval policy racing a propagation into its environment", () => {
  const ROUNDS = databaseUrl ? 8 : 4;

  interface Snapshot {
    requiredApprovals: number;
    propagations: number;
  }

  async function snapshot(w: World): Promise<Snapshot> {
    const { db } = await testDatabase();
    const staging = localIdOf(w.env.staging);
    const [row] = rowsOf<{ required: number; count: number }>(
      await db.execute(sql`select
        (select required_approvals from environments where id = ${staging}) as required,
        (select count(*)::int from propagations where organization_id = ${w.tenant.organizationId} and to_environment_id = ${staging}) as count`),
    );
    return { requiredApprovals: Number(row.required), propagations: Number(row.count) };
  }

  /** Snapshots taken as fast as one connection allows until `done` settles. */
  async function poll(w: World, done: Promise<unknown>): Promise<Snapshot[]> {
    let finished = false;
    void done.finally(() => (finished = true)).catch(() => {});
    const snapshots: Snapshot[] = [];
    while (!finished) {
      snapshots.push(await snapshot(w));
      if (!databaseUrl) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    snapshots.push(await snapshot(w));
    return snapshots;
  }

  function expectNothingAfterPolicy(snapshots: Snapshot[], context: string) {
    const first = snapshots.findIndex((s) => s.requiredApprovals === 1);
    expect(first, context).toBeGreaterThanOrEqual(0);
    for (const later of snapshots.slice(first)) {
      expect(later, `${context} ${JSON.stringify(snapshots)}`).toEqual(snapshots[first]);
    }
  }

  it(`either the propagation committed first or it is APPROVAL_REQUIRED (${ROUNDS} rounds)`, async () => {
    const w = await world("approvals-conc-policy");
    const outcomes: string[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      expect((await setPolicy(w, 0)).__typename).toBe("SetApprovalPolicySuccess");
      await savePassword(w, 60 + r);
      const known = await history(w);
      const propagate = () => call(w.promoter, PROPAGATE, { ...toStaging(w), selectAll: true, comment: `round ${r}` });
      const policy = () => setPolicy(w, 1);
      let race: Promise<[Result, Result]>;
      let forced: "propagation" | "policy" | null = null;
      if (databaseUrl && r % 4 === 1) {
        // Forced: the propagation has read the policy (0) and waits for staging's configuration; the policy waits for it.
        forced = "propagation";
        const held = await holdOpen(configurationLock(w, w.env.staging));
        const propagating = propagate();
        const propagator = await waiterOf(held.pid);
        const setting = policy();
        await waiterOf(propagator);
        race = Promise.all([propagating, setting]);
        await held.release();
      } else if (databaseUrl && r % 4 === 3) {
        // Forced: the policy is written and waits to commit; the propagation's read of it waits for it.
        forced = "policy";
        const held = await holdOpen(organizationRow(w));
        const setting = policy();
        const setter = await waiterOf(held.pid);
        const propagating = propagate();
        await waiterOf(setter);
        race = Promise.all([propagating, setting]);
        await held.release();
      } else {
        race = r % 2 === 0 ? Promise.all([propagate(), policy()]) : Promise.all([policy(), propagate()]).then(([s, p]) => [p, s]);
      }
      const snapshots = await poll(w, race);
      const [propagation, set] = await race;
      const context = JSON.stringify({ round: r, forced, propagation, set });
      expect(set.__typename, context).toBe("SetApprovalPolicySuccess");
      expect(set.environment.approvalPolicy.requiredApprovals).toBe(1);
      expectNothingAfterPolicy(snapshots, context);

      const after = await history(w);
      const added = after.filter((p) => !known.some((k) => k.id === p.id));
      if (propagation.__typename === "PropagateChangesSuccess") {
        expect(
          added.map((p) => p.id),
          context,
        ).toEqual([propagation.propagation.id]);
        expect(added[0]).toMatchObject({ mode: "REVIEWED", to: { key: "staging" } });
        expect((await stagingLogin(w)).minLength).toBe(60 + r);
        outcomes.push("propagation first");
      } else {
        expect(propagation, context).toMatchObject({ code: "APPROVAL_REQUIRED" });
        expect(added, context).toEqual([]);
        outcomes.push("policy first");
      }
      // The history agrees with the database: every propagation into staging is in it.
      const last = snapshots.at(-1)!;
      expect(after.filter((p) => p.to.key === "staging")).toHaveLength(last.propagations);
      if (forced === "propagation") expect(outcomes.at(-1), context).toBe("propagation first");
      if (forced === "policy") expect(outcomes.at(-1), context).toBe("policy first");
      // From now on, nothing enters staging directly.
      expect((await call(w.promoter, PROPAGATE, { ...toStaging(w), selectAll: true })).code).toBe("APPROVAL_REQUIRED");
    }
    expect(outcomes).toHaveLength(ROUNDS);
  });
});

/*
 * A request reaching its expiry while it is being executed: the execution locked the request
 * before it was due (and is past the check), then waits for staging's configuration; meanwhile the
 * clock passes `expiresAt` and a read runs the organization's expiries, which skip the row the
 * execution holds (it once waited for it, in the opposite lock order: a deadlock). The request ends
 * EXECUTED with staging as planned, or EXPIRED with staging unchanged — both calls answer, and
 * neither fails. PostgreSQL only: the interleaving is forced with a lock held from outside.
 */
describe.runIf(databaseUrl)("an expiry stored while the request is being executed", () => {
  it("both the execution and the read answer; the request ends EXECUTED or EXPIRED, consistently with staging", async () => {
    const w = await world("approvals-conc-expiry");
    expect((await setPolicy(w, 1, 1)).__typename).toBe("SetApprovalPolicySuccess");
    await savePassword(w, 14);
    const request = await requestMinLength(w, 14);
    expect((await approve(w, request)).request.status).toBe("APPROVED");
    const held = await holdOpen(configurationLock(w, w.env.staging));
    const start = now;
    try {
      const executing = w.promoter.request(EXECUTE, { input: { requestId: request.id } });
      const executor = await waiterOf(held.pid);
      now += 2 * 3_600_000;
      // The read's expiry skips the request row the execution holds (that action decides it):
      // the read answers while the execution still waits, and nothing deadlocks.
      const list = await w.admin.request(LIST);
      expect(executor).toBeGreaterThan(0);
      await held.release();
      const execution = await executing;
      const context = JSON.stringify({ execution, list });
      expect(execution.errors, context).toBeUndefined();
      expect(list.errors, context).toBeUndefined();
      const status = (await w.admin.data(NODE, { id: request.id })).node.status;
      const staging = await stagingLogin(w);
      if (execution.data.executePromotionRequest.__typename === "ExecutePromotionRequestSuccess") {
        expect([status, staging.minLength], context).toEqual(["EXECUTED", 14]);
      } else {
        expect([status, staging.minLength], context).toEqual(["EXPIRED", 12]);
      }
    } finally {
      now = start;
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SAVE, SAVE_STEP } from "../support/documents.js";
import {
  type Api,
  apiAs,
  type Catalogue,
  createApiToken,
  createCatalogueWithStaging,
  createClient,
  operation,
} from "../support/fixtures.js";
import { client } from "../support/graphql.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant } from "../support/tenant.js";

/*
 * Four eyes (DESIGN.md §8), over HTTP, on the database the suite runs on: the whole flow of a
 * promotion request, a plan staled after approval, rejection, cancellation, expiry by an injected
 * clock, reverts by request, and production's ADMIN reviewers.
 */

let now = Date.parse("2026-12-04T12:00:00.000Z");
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ clock: () => new Date(now) });
});
afterAll(() => server.stop());

const POLICY = operation(`mutation ApprovalsPolicy($input: SetApprovalPolicyInput!) {
  setApprovalPolicy(input: $input) {
    __typename
    ... on SetApprovalPolicySuccess { environment { key approvalPolicy { requiredApprovals allowSelfApproval requireComment expiresAfterHours } } }
    ... on Error { code message }
  } }`);

const PROPAGATE = operation(`mutation ApprovalsPropagate($input: PropagateChangesInput!) {
  propagateChanges(input: $input) {
    __typename
    ... on PropagateChangesSuccess { propagation { id } }
    ... on Error { code message }
  } }`);

const PROMOTE_NOW = operation(`mutation ApprovalsPromoteNow($input: PromoteNowInput!) {
  promoteNow(input: $input) { __typename ... on Error { code message } } }`);

const DIFF = operation(`query ApprovalsDiff($a: ID!, $from: ID!, $to: ID!) {
  diff(applicationId: $a, fromEnvironmentId: $from, toEnvironmentId: $to) { status changes { id path oldValue newValue } } }`);

const REQUEST_FIELDS = `id status planHash comment requestedBy createdAt expiresAt approvalsNeeded isStale
  from { key } to { key } revertOf { id }
  changes { id path oldValue newValue }
  reviews { reviewer decision comment planHash }
  propagation { id mode comment request { id } items { id } revertOf { id } }`;

const REQUEST = operation(`mutation ApprovalsRequest($input: RequestPromotionInput!) {
  requestPromotion(input: $input) {
    __typename
    ... on RequestPromotionSuccess { addedChangeIds request { ${REQUEST_FIELDS} } }
    ... on Error { code message }
  } }`);

const APPROVE = operation(`mutation ApprovalsApprove($input: ApprovePromotionRequestInput!) {
  approvePromotionRequest(input: $input) {
    __typename
    ... on ApprovePromotionRequestSuccess { request { ${REQUEST_FIELDS} } }
    ... on PlanStaleError { changeIds }
    ... on InvalidRequestStateError { status }
    ... on ValidationError { problems { path message } }
    ... on Error { code message }
  } }`);

const REJECT = operation(`mutation ApprovalsReject($input: RejectPromotionRequestInput!) {
  rejectPromotionRequest(input: $input) {
    __typename
    ... on RejectPromotionRequestSuccess { request { ${REQUEST_FIELDS} } }
    ... on InvalidRequestStateError { status }
    ... on Error { code message }
  } }`);

const CANCEL = operation(`mutation ApprovalsCancel($input: CancelPromotionRequestInput!) {
  cancelPromotionRequest(input: $input) {
    __typename
    ... on CancelPromotionRequestSuccess { request { status } }
    ... on InvalidRequestStateError { status }
    ... on Error { code message }
  } }`);

const EXECUTE = operation(`mutation ApprovalsExecute($input: ExecutePromotionRequestInput!) {
  executePromotionRequest(input: $input) {
    __typename
    ... on ExecutePromotionRequestSuccess {
      request { ${REQUEST_FIELDS} }
      propagation { id mode comment request { id reviews { reviewer } } }
      application { journeys { key syncStates { environment { key } status } } }
    }
    ... on PlanStaleError { changeIds }
    ... on InvalidRequestStateError { status }
    ... on Error { code message }
  } }`);

const LIST = operation(`query ApprovalsList($status: PromotionRequestStatus, $env: ID) {
  promotionRequests(status: $status, environmentId: $env, first: 20) { edges { node { id status isStale } } } }`);

const NODE = operation(`query ApprovalsNode($id: ID!) { node(id: $id) { ... on PromotionRequest { ${REQUEST_FIELDS} } } }`);

const REVERT = operation(`mutation ApprovalsRevert($input: RevertPropagationInput!) {
  revertPropagation(input: $input) { __typename ... on Error { code message } } }`);

const REVERTED_BY = operation(`query ApprovalsRevertedBy($id: ID!) { node(id: $id) { ... on Propagation { revertedBy { id mode } } } }`);

const CONFIGURATION = operation(`query ApprovalsConfiguration($id: ID!, $env: ID!) {
  node(id: $id) { ... on Journey { configuration(environmentId: $env) { version hash } } } }`);

const REVOKE = operation(`mutation ApprovalsRevoke($input: RevokeApiTokenInput!) {
  revokeApiToken(input: $input) { __typename ... on Error { code message } } }`);

const CREATE_CLIENT = operation(`mutation ApprovalsCreateClient($input: CreateClientInput!) {
  createClient(input: $input) { __typename ... on Error { code message } } }`);

interface World {
  admin: Api;
  promoter: Api;
  /** A second PROMOTER: a reviewer who is not the requester. */
  reviewer: Api;
  editor: Api;
  viewer: Api;
  catalogue: Catalogue;
  env: Catalogue["environments"];
}

async function world(name: string): Promise<World> {
  const tenant = await createTenant(name);
  const admin = apiAs(server.endpoint, tenant, "ADMIN");
  const catalogue = await createCatalogueWithStaging(admin);
  const second = await createApiToken(admin, { name: "second-promoter", role: "PROMOTER" });
  return {
    admin,
    promoter: apiAs(server.endpoint, tenant, "PROMOTER"),
    reviewer: client(server.endpoint, second.token),
    editor: apiAs(server.endpoint, tenant, "EDITOR"),
    viewer: apiAs(server.endpoint, tenant, "VIEWER"),
    catalogue,
    env: catalogue.environments,
  };
}

async function setPolicy(w: World, environment: string, policy: Partial<Record<string, unknown>> = {}) {
  const result = await w.admin.data(POLICY, {
    input: {
      environmentId: environment,
      requiredApprovals: 1,
      allowSelfApproval: false,
      requireComment: false,
      expiresAfterHours: 72,
      ...policy,
    },
  });
  expect(result.setApprovalPolicy.__typename).toBe("SetApprovalPolicySuccess");
  return result.setApprovalPolicy.environment.approvalPolicy;
}

const passwordStep = (minLength: number, more: object = {}) => ({
  key: "password",
  type: "PASSWORD",
  name: "Password",
  enabled: true,
  settings: { minLength, ...more },
  transitions: [
    { outcome: "success", to: "email-otp" },
    { outcome: "failure", to: "DENY" },
  ],
});

async function savePassword(w: World, minLength: number, more: object = {}) {
  const ids = { journeyId: w.catalogue.journeys.login, environmentId: w.env.development };
  const { revision } = (await w.editor.data(SAVE_STEP, { input: { ...ids, step: passwordStep(minLength, more) } })).saveJourneyStep.draft;
  const saved = await w.editor.data(SAVE, { input: { ...ids, draftRevision: revision, comment: `minLength ${minLength}` } });
  expect(saved.saveJourney.__typename).toBe("SaveJourneySuccess");
}

const toStaging = (w: World) => ({
  applicationId: w.catalogue.applicationId,
  fromEnvironmentId: w.env.development,
  toEnvironmentId: w.env.staging,
});

async function request(w: World, as: Api, extra: Record<string, unknown> = { selectAll: true }) {
  const result = await as.data(REQUEST, { input: { ...toStaging(w), comment: "Longer passwords", ...extra } });
  expect(result.requestPromotion.__typename).toBe("RequestPromotionSuccess");
  return result.requestPromotion.request;
}

const stagingConfiguration = async (w: World) =>
  (await w.admin.data(CONFIGURATION, { id: w.catalogue.journeys.login, env: w.env.staging })).node.configuration;

const stagingDiff = async (w: World) =>
  (await w.admin.data(DIFF, { a: w.catalogue.applicationId, from: w.env.development, to: w.env.staging })).diff;

describe("promotion requests", () => {
  it("the whole flow: policy, direct promotion refused, request, self-approval, wrong hash, comment, approval, execution once", async () => {
    const w = await world("approvals-flow");
    expect(await setPolicy(w, w.env.staging, { requireComment: true })).toEqual({
      requiredApprovals: 1,
      allowSelfApproval: false,
      requireComment: true,
      expiresAfterHours: 72,
    });
    await savePassword(w, 14);
    const before = await stagingDiff(w);
    expect(before.changes.length).toBeGreaterThan(0);

    // Direct promotion is refused, for every role that could otherwise promote.
    for (const api of [w.promoter, w.admin]) {
      const direct = await api.data(PROPAGATE, { input: { ...toStaging(w), selectAll: true } });
      expect(direct.propagateChanges.code).toBe("APPROVAL_REQUIRED");
      const now = await api.data(PROMOTE_NOW, { input: toStaging(w) });
      expect(now.promoteNow.code).toBe("APPROVAL_REQUIRED");
    }

    const requested = await request(w, w.promoter);
    expect(requested).toMatchObject({
      status: "PENDING",
      approvalsNeeded: 1,
      isStale: false,
      requestedBy: "promoter-token",
      comment: "Longer passwords",
      from: { key: "development" },
      to: { key: "staging" },
      revertOf: null,
      reviews: [],
      propagation: null,
    });
    expect(requested.planHash).toMatch(/^[0-9a-f]{64}$/);
    expect(requested.changes.map((c: { id: string }) => c.id).sort()).toEqual(before.changes.map((c: { id: string }) => c.id).sort());
    expect(Date.parse(requested.expiresAt) - Date.parse(requested.createdAt)).toBe(72 * 3_600_000);
    // Nothing applied.
    expect((await stagingDiff(w)).changes).toEqual(before.changes);

    const id = requested.id;
    // The requester may not approve, an EDITOR may not review, another hash is refused, a comment is required.
    expect(
      (await w.promoter.data(APPROVE, { input: { requestId: id, planHash: requested.planHash, comment: "ok" } })).approvePromotionRequest
        .code,
    ).toBe("SELF_APPROVAL");
    expect(
      (await w.editor.data(APPROVE, { input: { requestId: id, planHash: requested.planHash, comment: "ok" } })).approvePromotionRequest
        .code,
    ).toBe("FORBIDDEN");
    const wrong = (await w.reviewer.data(APPROVE, { input: { requestId: id, planHash: "0".repeat(64), comment: "ok" } }))
      .approvePromotionRequest;
    expect(wrong).toMatchObject({ __typename: "PlanStaleError", code: "PLAN_STALE", changeIds: [] });
    const bare = (await w.reviewer.data(APPROVE, { input: { requestId: id, planHash: requested.planHash } })).approvePromotionRequest;
    expect(bare).toMatchObject({ code: "VALIDATION_FAILED", problems: [{ path: "comment" }] });
    // Executing a pending request is refused with its status.
    expect((await w.promoter.data(EXECUTE, { input: { requestId: id } })).executePromotionRequest).toMatchObject({
      code: "INVALID_REQUEST_STATE",
      status: "PENDING",
    });

    const approved = (
      await w.reviewer.data(APPROVE, { input: { requestId: id, planHash: requested.planHash, comment: "Reviewed with security" } })
    ).approvePromotionRequest;
    expect(approved.__typename).toBe("ApprovePromotionRequestSuccess");
    expect(approved.request).toMatchObject({
      status: "APPROVED",
      approvalsNeeded: 0,
      reviews: [{ reviewer: "second-promoter", decision: "APPROVED", comment: "Reviewed with security", planHash: requested.planHash }],
    });
    // Counted once: approving again is refused (the request is no longer pending).
    expect(
      (await w.reviewer.data(APPROVE, { input: { requestId: id, planHash: requested.planHash, comment: "again" } }))
        .approvePromotionRequest,
    ).toMatchObject({ code: "INVALID_REQUEST_STATE", status: "APPROVED" });

    const executed = (await w.promoter.data(EXECUTE, { input: { requestId: id } })).executePromotionRequest;
    expect(executed.__typename).toBe("ExecutePromotionRequestSuccess");
    expect(executed.request.status).toBe("EXECUTED");
    expect(executed.propagation).toMatchObject({
      mode: "APPROVED_REQUEST",
      comment: "Longer passwords",
      request: { id, reviews: [{ reviewer: "second-promoter" }] },
    });
    expect((await stagingDiff(w)).status).toBe("IN_SYNC");
    const login = executed.application.journeys.find((j: { key: string }) => j.key === "login");
    expect(login.syncStates.find((s: { environment: { key: string } }) => s.environment.key === "staging").status).toBe("IN_SYNC");

    // Executes at most once.
    expect((await w.promoter.data(EXECUTE, { input: { requestId: id } })).executePromotionRequest).toMatchObject({
      code: "INVALID_REQUEST_STATE",
      status: "EXECUTED",
    });
    const read = (await w.viewer.data(NODE, { id })).node;
    expect(read).toMatchObject({
      status: "EXECUTED",
      isStale: false,
      propagation: { id: executed.propagation.id, mode: "APPROVED_REQUEST" },
    });
  });

  it("a plan staled after approval: PLAN_STALE names the moved change, the request is STALE, the target unchanged", async () => {
    const w = await world("approvals-stale");
    await setPolicy(w, w.env.staging);
    await savePassword(w, 14);
    const requested = await request(w, w.promoter);
    const approved = await w.reviewer.data(APPROVE, { input: { requestId: requested.id, planHash: requested.planHash } });
    expect(approved.approvePromotionRequest.request.status).toBe("APPROVED");

    // The source moves: minLength 14 → 15. The planned change (12 → 14) is no longer current.
    await savePassword(w, 15);
    const planned = requested.changes.find((c: { path: string }) => c.path.endsWith("minLength"));
    expect((await w.viewer.data(NODE, { id: requested.id })).node).toMatchObject({ status: "APPROVED", isStale: true });
    const before = await stagingDiff(w);
    const stale = (await w.promoter.data(EXECUTE, { input: { requestId: requested.id } })).executePromotionRequest;
    expect(stale).toMatchObject({ __typename: "PlanStaleError", code: "PLAN_STALE" });
    expect(stale.changeIds).toContain(planned.id);
    expect((await w.viewer.data(NODE, { id: requested.id })).node).toMatchObject({ status: "STALE", isStale: true, propagation: null });
    expect(await stagingDiff(w)).toEqual(before);
    expect(
      (await w.viewer.data(LIST, { status: "STALE" })).promotionRequests.edges.map((e: { node: { id: string } }) => e.node.id),
    ).toEqual([requested.id]);
  });

  it("an edit elsewhere that leaves every planned change current does not stale the plan", async () => {
    const w = await world("approvals-elsewhere");
    await setPolicy(w, w.env.staging);
    await savePassword(w, 14);
    const minLength = (await stagingDiff(w)).changes.find((c: { path: string }) => c.path.endsWith("minLength"));
    const requested = await request(w, w.promoter, { changeIds: [minLength.id] });
    await w.reviewer.data(APPROVE, { input: { requestId: requested.id, planHash: requested.planHash } });
    // Another setting of the same step changes in development: a new change, not a planned one.
    await savePassword(w, 14, { allowReset: false });
    expect((await stagingDiff(w)).changes.map((c: { id: string }) => c.id)).toContain(minLength.id);
    expect((await w.viewer.data(NODE, { id: requested.id })).node.isStale).toBe(false);
    const executed = (await w.promoter.data(EXECUTE, { input: { requestId: requested.id } })).executePromotionRequest;
    expect(executed.__typename).toBe("ExecutePromotionRequestSuccess");
    expect(executed.propagation).toMatchObject({ mode: "APPROVED_REQUEST" });
    // Exactly the plan: the other change is still to promote.
    expect((await stagingDiff(w)).changes.map((c: { path: string }) => c.path)).toEqual([expect.stringMatching(/allowReset$/)]);
  });

  it("rejection: one rejection rejects; a rejected request cannot be approved or executed", async () => {
    const w = await world("approvals-reject");
    await setPolicy(w, w.env.staging, { requiredApprovals: 2 });
    await savePassword(w, 14);
    const requested = await request(w, w.promoter);
    const first = await w.reviewer.data(APPROVE, { input: { requestId: requested.id, planHash: requested.planHash } });
    expect(first.approvePromotionRequest.request).toMatchObject({ status: "PENDING", approvalsNeeded: 1 });
    const rejected = (await w.admin.data(REJECT, { input: { requestId: requested.id, comment: "Not before the release" } }))
      .rejectPromotionRequest;
    expect(rejected.request).toMatchObject({
      status: "REJECTED",
      reviews: [{ decision: "APPROVED" }, { decision: "REJECTED", comment: "Not before the release" }],
    });
    expect(
      (await w.admin.data(APPROVE, { input: { requestId: requested.id, planHash: requested.planHash } })).approvePromotionRequest,
    ).toMatchObject({
      code: "INVALID_REQUEST_STATE",
      status: "REJECTED",
    });
    expect((await w.promoter.data(EXECUTE, { input: { requestId: requested.id } })).executePromotionRequest.status).toBe("REJECTED");
  });

  it("cancellation: by the requester or an ADMIN, not by another promoter", async () => {
    const w = await world("approvals-cancel");
    await setPolicy(w, w.env.staging);
    await savePassword(w, 14);
    const first = await request(w, w.promoter);
    expect((await w.reviewer.data(CANCEL, { input: { requestId: first.id } })).cancelPromotionRequest.code).toBe("FORBIDDEN");
    expect((await w.promoter.data(CANCEL, { input: { requestId: first.id } })).cancelPromotionRequest.request.status).toBe("CANCELLED");
    expect((await w.promoter.data(CANCEL, { input: { requestId: first.id } })).cancelPromotionRequest).toMatchObject({
      code: "INVALID_REQUEST_STATE",
      status: "CANCELLED",
    });
    const second = await request(w, w.promoter);
    expect((await w.admin.data(CANCEL, { input: { requestId: second.id } })).cancelPromotionRequest.request.status).toBe("CANCELLED");
  });

  it("expiry by the clock: EXPIRED on the next read and action, stored once", async () => {
    const w = await world("approvals-expiry");
    await setPolicy(w, w.env.staging, { expiresAfterHours: 2 });
    await savePassword(w, 14);
    const requested = await request(w, w.promoter);
    await w.reviewer.data(APPROVE, { input: { requestId: requested.id, planHash: requested.planHash } });
    expect((await w.viewer.data(NODE, { id: requested.id })).node.status).toBe("APPROVED");
    const second = await request(w, w.promoter);
    now += 2 * 3_600_000;
    try {
      // Shown EXPIRED at once; stored by the next action on it (which refuses) or the next list.
      expect((await w.viewer.data(NODE, { id: requested.id })).node.status).toBe("EXPIRED");
      expect((await w.viewer.data(NODE, { id: second.id })).node.status).toBe("EXPIRED");
      expect((await w.promoter.data(EXECUTE, { input: { requestId: requested.id } })).executePromotionRequest).toMatchObject({
        code: "INVALID_REQUEST_STATE",
        status: "EXPIRED",
      });
      expect((await w.viewer.data(LIST, { status: "EXPIRED" })).promotionRequests.edges).toHaveLength(2);
      expect((await w.viewer.data(LIST, { status: "APPROVED" })).promotionRequests.edges).toHaveLength(0);
      expect((await w.viewer.data(LIST, { status: "PENDING" })).promotionRequests.edges).toHaveLength(0);
      expect((await w.promoter.data(CANCEL, { input: { requestId: second.id } })).cancelPromotionRequest).toMatchObject({
        code: "INVALID_REQUEST_STATE",
        status: "EXPIRED",
      });
    } finally {
      now -= 2 * 3_600_000;
    }
  });

  it("a revert by request: revertPropagation is APPROVAL_REQUIRED; the approved request reverts, recorded as the propagation's revert", async () => {
    const w = await world("approvals-revert");
    await savePassword(w, 14);
    const before = await stagingConfiguration(w);
    const p1 = (await w.promoter.data(PROPAGATE, { input: { ...toStaging(w), selectAll: true } })).propagateChanges.propagation.id;
    await setPolicy(w, w.env.staging);
    expect((await w.admin.data(REVERT, { input: { propagationId: p1, selectAll: true } })).revertPropagation.code).toBe(
      "APPROVAL_REQUIRED",
    );
    // The propagation's own application and environments, and no journey: anything else is refused.
    const mismatched = await w.promoter.data(REQUEST, {
      input: {
        ...toStaging(w),
        fromEnvironmentId: w.env.staging,
        toEnvironmentId: w.env.production,
        revertPropagationId: p1,
        selectAll: true,
      },
    });
    expect(mismatched.requestPromotion.code).toBe("VALIDATION_FAILED");

    const requested = await request(w, w.promoter, { revertPropagationId: p1, selectAll: true, comment: "Back to 12" });
    expect(requested).toMatchObject({ status: "PENDING", revertOf: { id: p1 } });
    expect(requested.changes).toEqual([expect.objectContaining({ oldValue: 14, newValue: 12 })]);
    await w.reviewer.data(APPROVE, { input: { requestId: requested.id, planHash: requested.planHash } });
    const executed = (await w.promoter.data(EXECUTE, { input: { requestId: requested.id } })).executePromotionRequest;
    expect(executed.__typename).toBe("ExecutePromotionRequestSuccess");
    expect(executed.request.propagation).toMatchObject({ mode: "APPROVED_REQUEST", revertOf: { id: p1 }, request: { id: requested.id } });
    expect((await stagingConfiguration(w)).hash).toBe(before.hash);
    const history = await w.viewer.data(REVERTED_BY, { id: p1 });
    expect(history.node.revertedBy).toEqual([{ id: executed.propagation.id, mode: "APPROVED_REQUEST" }]);
  });

  it("a stricter policy reaches open requests: an approved one short of the approvals now required is PENDING again", async () => {
    const w = await world("approvals-tighten");
    await setPolicy(w, w.env.staging, { requiredApprovals: 0 });
    await savePassword(w, 14);
    const atOnce = await request(w, w.promoter);
    expect(atOnce).toMatchObject({ status: "APPROVED", approvalsNeeded: 0 });
    await setPolicy(w, w.env.staging, { requiredApprovals: 1 });
    expect((await w.viewer.data(NODE, { id: atOnce.id })).node).toMatchObject({ status: "PENDING", approvalsNeeded: 1 });
    expect((await w.promoter.data(EXECUTE, { input: { requestId: atOnce.id } })).executePromotionRequest).toMatchObject({
      code: "INVALID_REQUEST_STATE",
      status: "PENDING",
    });
    // Loosening it again does not lower what the request was asked for.
    await setPolicy(w, w.env.staging, { requiredApprovals: 0 });
    expect((await w.viewer.data(NODE, { id: atOnce.id })).node).toMatchObject({ status: "PENDING", approvalsNeeded: 1 });
    await w.reviewer.data(APPROVE, { input: { requestId: atOnce.id, planHash: atOnce.planHash } });
    expect((await w.promoter.data(EXECUTE, { input: { requestId: atOnce.id } })).executePromotionRequest.__typename).toBe(
      "ExecutePromotionRequestSuccess",
    );
  });

  it("self-approval forbidden after the fact no longer counts; a token issued again under the requester's name is the requester", async () => {
    const w = await world("approvals-self");
    await setPolicy(w, w.env.staging, { allowSelfApproval: true });
    await savePassword(w, 14);
    const mine = await request(w, w.promoter);
    const self = await w.promoter.data(APPROVE, { input: { requestId: mine.id, planHash: mine.planHash } });
    expect(self.approvePromotionRequest.request.status).toBe("APPROVED");
    await setPolicy(w, w.env.staging, { allowSelfApproval: false });
    expect((await w.viewer.data(NODE, { id: mine.id })).node).toMatchObject({ status: "PENDING", approvalsNeeded: 1 });

    const alice = await createApiToken(w.admin, { name: "alice", role: "PROMOTER" });
    const asAlice = client(server.endpoint, alice.token);
    const hers = await request(w, asAlice);
    const revoked = await w.admin.data(REVOKE, { input: { apiTokenId: alice.id } });
    expect(revoked.revokeApiToken.__typename).toBe("RevokeApiTokenSuccess");
    const again = client(server.endpoint, (await createApiToken(w.admin, { name: "alice", role: "PROMOTER" })).token);
    expect((await again.data(APPROVE, { input: { requestId: hers.id, planHash: hers.planHash } })).approvePromotionRequest.code).toBe(
      "SELF_APPROVAL",
    );
  });

  it("creating a client in an environment that requires approvals (which copies configuration into it) is APPROVAL_REQUIRED", async () => {
    const w = await world("approvals-client");
    await setPolicy(w, w.env.production, { requiredApprovals: 1 });
    const created = await w.admin.data(CREATE_CLIENT, {
      input: {
        applicationId: w.catalogue.applicationId,
        environmentId: w.env.production,
        databaseId: w.catalogue.databases.production,
        redirectUris: [],
        allowedOrigins: [],
      },
    });
    expect(created.createClient.code).toBe("APPROVAL_REQUIRED");
  });

  it("production needs ADMIN reviewers and an ADMIN to execute", async () => {
    const w = await world("approvals-production");
    await setPolicy(w, w.env.staging, { requiredApprovals: 0 });
    await savePassword(w, 14);
    await createClient(w.admin, {
      applicationId: w.catalogue.applicationId,
      environmentId: w.env.production,
      databaseId: w.catalogue.databases.production,
    });
    // Staging without approvals: a request there is approved at once, and propagations pass.
    const atOnce = await request(w, w.promoter);
    expect(atOnce).toMatchObject({ status: "APPROVED", approvalsNeeded: 0 });
    const direct = await w.promoter.data(PROPAGATE, { input: { ...toStaging(w), selectAll: true } });
    expect(direct.propagateChanges.__typename).toBe("PropagateChangesSuccess");
    await setPolicy(w, w.env.production, { requiredApprovals: 1 });
    const toProduction = { applicationId: w.catalogue.applicationId, fromEnvironmentId: w.env.staging, toEnvironmentId: w.env.production };
    const made = (await w.promoter.data(REQUEST, { input: { ...toProduction, selectAll: true } })).requestPromotion;
    expect(made.__typename, JSON.stringify(made)).toBe("RequestPromotionSuccess");
    const requested = made.request;
    expect(requested.status).toBe("PENDING");
    expect(
      (await w.reviewer.data(APPROVE, { input: { requestId: requested.id, planHash: requested.planHash } })).approvePromotionRequest.code,
    ).toBe("FORBIDDEN");
    const approved = await w.admin.data(APPROVE, { input: { requestId: requested.id, planHash: requested.planHash } });
    expect(approved.approvePromotionRequest.request.status).toBe("APPROVED");
    expect((await w.promoter.data(EXECUTE, { input: { requestId: requested.id } })).executePromotionRequest.code).toBe("FORBIDDEN");
    const executed = await w.admin.data(EXECUTE, { input: { requestId: requested.id } });
    expect(executed.executePromotionRequest.request.status).toBe("EXECUTED");
  });
});

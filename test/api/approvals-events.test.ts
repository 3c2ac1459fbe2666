import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SAVE, SAVE_STEP } from "../support/documents.js";
import {
  type Api,
  apiAs,
  type Catalogue,
  createApiToken,
  createApplication,
  createCatalogueWithStaging,
  createClient,
  createJourney,
  LOGIN_DOCUMENT,
  operation,
} from "../support/fixtures.js";
import { client } from "../support/graphql.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { type Collector, subscribeSse, subscribeWs, wsClient } from "../support/subscriptions.js";
import { createTenant, type Tenant } from "../support/tenant.js";

/*
 * promotionRequestChanged (DESIGN.md §8): every transition of a promotion request is an event,
 * delivered over graphql-ws and SSE, resumable like syncStatusChanged (cursor per organization, no
 * gap, no duplicate), filtered by target environment and application, never across organizations.
 * On the database the suite runs on; the server's clock is injected, so expiry is a move of it.
 */

let now = Date.parse("2026-12-04T12:00:00.000Z");
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ clock: () => new Date(now) });
});
afterAll(() => server.stop());

const SUBSCRIPTION = operation(`subscription RequestEvents($env: ID, $app: ID, $after: String) {
  promotionRequestChanged(environmentId: $env, applicationId: $app, after: $after) {
    cursor status actor occurredAt request { id status } } }`);

const POLICY = operation(`mutation EventsPolicy($input: SetApprovalPolicyInput!) {
  setApprovalPolicy(input: $input) { __typename ... on Error { code message } } }`);

const REQUEST = operation(`mutation EventsRequest($input: RequestPromotionInput!) {
  requestPromotion(input: $input) {
    __typename
    ... on RequestPromotionSuccess { request { id status planHash } }
    ... on Error { code message }
  } }`);

const APPROVE = operation(`mutation EventsApprove($input: ApprovePromotionRequestInput!) {
  approvePromotionRequest(input: $input) {
    __typename
    ... on ApprovePromotionRequestSuccess { request { id status } }
    ... on Error { code message }
  } }`);

const EXECUTE = operation(`mutation EventsExecute($input: ExecutePromotionRequestInput!) {
  executePromotionRequest(input: $input) {
    __typename
    ... on ExecutePromotionRequestSuccess { request { id status } }
    ... on Error { code message }
  } }`);

const CANCEL = operation(`mutation EventsCancel($input: CancelPromotionRequestInput!) {
  cancelPromotionRequest(input: $input) {
    __typename
    ... on CancelPromotionRequestSuccess { request { id status } }
    ... on Error { code message }
  } }`);

const LIST = operation(`query EventsList { promotionRequests(first: 20) { edges { node { id status } } } }`);

interface RequestEvent {
  cursor: string;
  status: string;
  actor: string;
  occurredAt: string;
  request: { id: string; status: string };
}

type Delivery = { promotionRequestChanged: RequestEvent };

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

/** A tenant whose staging needs one approval, with development's login minLength 14 (staging has 12). */
async function world(label: string): Promise<World> {
  const tenant = await createTenant(label);
  const admin = apiAs(server.endpoint, tenant, "ADMIN");
  const catalogue = await createCatalogueWithStaging(admin);
  const second = await createApiToken(admin, { name: "second-promoter", role: "PROMOTER" });
  const w = {
    tenant,
    admin,
    promoter: apiAs(server.endpoint, tenant, "PROMOTER"),
    reviewer: client(server.endpoint, second.token),
    editor: apiAs(server.endpoint, tenant, "EDITOR"),
    catalogue,
    env: catalogue.environments,
  };
  await setPolicy(w, { requiredApprovals: 1 });
  await savePassword(w, w.catalogue.journeys.login, 14);
  return w;
}

async function setPolicy(w: World, policy: { requiredApprovals: number; expiresAfterHours?: number }) {
  const result = await w.admin.data(POLICY, {
    input: { environmentId: w.env.staging, allowSelfApproval: false, requireComment: false, expiresAfterHours: 72, ...policy },
  });
  expect(result.setApprovalPolicy.__typename).toBe("SetApprovalPolicySuccess");
}

/** Saves minLength in a journey's password step in development. */
async function savePassword(w: World, journeyId: string, minLength: number) {
  const ids = { journeyId, environmentId: w.env.development };
  const step = {
    key: "password",
    type: "PASSWORD",
    name: "Password",
    enabled: true,
    settings: { minLength },
    transitions: [
      { outcome: "success", to: "email-otp" },
      { outcome: "failure", to: "DENY" },
    ],
  };
  const drafted = (await w.editor.data(SAVE_STEP, { input: { ...ids, step } })).saveJourneyStep;
  expect(drafted.__typename, JSON.stringify(drafted)).toBe("SaveJourneyStepSuccess");
  const saved = await w.editor.data(SAVE, { input: { ...ids, draftRevision: drafted.draft.revision } });
  expect(saved.saveJourney.__typename, JSON.stringify(saved)).toBe("SaveJourneySuccess");
}

async function request(w: World, applicationId = w.catalogue.applicationId): Promise<{ id: string; status: string; planHash: string }> {
  const result = (
    await w.promoter.data(REQUEST, {
      input: { applicationId, fromEnvironmentId: w.env.development, toEnvironmentId: w.env.staging, selectAll: true },
    })
  ).requestPromotion;
  expect(result.__typename, JSON.stringify(result)).toBe("RequestPromotionSuccess");
  return result.request;
}

async function approve(w: World, requested: { id: string; planHash: string }) {
  const result = (await w.reviewer.data(APPROVE, { input: { requestId: requested.id, planHash: requested.planHash } }))
    .approvePromotionRequest;
  expect(result.__typename, JSON.stringify(result)).toBe("ApprovePromotionRequestSuccess");
  expect(result.request.status).toBe("APPROVED");
}

async function execute(w: World, requested: { id: string }) {
  const result = (await w.promoter.data(EXECUTE, { input: { requestId: requested.id } })).executePromotionRequest;
  expect(result.__typename, JSON.stringify(result)).toBe("ExecutePromotionRequestSuccess");
}

async function cancel(w: World, requested: { id: string }) {
  const result = (await w.promoter.data(CANCEL, { input: { requestId: requested.id } })).cancelPromotionRequest;
  expect(result.__typename, JSON.stringify(result)).toBe("CancelPromotionRequestSuccess");
}

const eventsOf = (sub: Collector<Delivery>) => sub.events.map((e) => e.promotionRequestChanged);
/** What identifies an event, whoever delivers it and whenever (`request.status` is the request as it is at delivery). */
const identity = (e: RequestEvent) => ({ cursor: e.cursor, status: e.status, actor: e.actor, request: e.request.id });
const settle = () => new Promise((resolve) => setTimeout(resolve, 400));

/** Cursors as numbers: strictly consecutive from `first`. */
function expectConsecutive(events: RequestEvent[], first: number) {
  expect(events.map((e) => Number(e.cursor))).toEqual(events.map((_, i) => first + i));
}

/**
 * The whole flow seen by a dashboard: PENDING when requested, APPROVED when approved, EXECUTED when
 * executed, each awaited before the next step (so each event's request is delivered as that step
 * left it), then nothing more.
 */
async function expectFlow(w: World, sub: Collector<Delivery>) {
  const requested = await request(w);
  await sub.waitFor(1);
  await approve(w, requested);
  await sub.waitFor(2);
  await execute(w, requested);
  await sub.waitFor(3);
  await settle();
  const events = eventsOf(sub);
  expect(events.map((e) => [e.status, e.actor, e.request])).toEqual([
    ["PENDING", "promoter-token", { id: requested.id, status: "PENDING" }],
    ["APPROVED", "second-promoter", { id: requested.id, status: "APPROVED" }],
    ["EXECUTED", "promoter-token", { id: requested.id, status: "EXECUTED" }],
  ]);
  // A fresh organization: its request events are numbered 1, 2, 3.
  expectConsecutive(events, 1);
  for (const event of events) expect(Date.parse(event.occurredAt)).toBe(now);
  return { requested, events };
}

describe("promotionRequestChanged over graphql-ws", () => {
  it("a dashboard sees PENDING → APPROVED → EXECUTED in order, with cursor, status, actor and the request", async () => {
    const w = await world("approval-events-ws");
    const ws = wsClient(server.wsEndpoint, w.tenant.tokens.VIEWER);
    // Live only (no cursor), as a dashboard opens.
    const sub = await subscribeWs<Delivery>(ws, SUBSCRIPTION, {});
    try {
      await expectFlow(w, sub);
    } finally {
      await sub.stop();
      await ws.dispose();
    }
  });
});

describe("promotionRequestChanged over server-sent events", () => {
  it("delivers the same events to an SSE subscriber", async () => {
    const w = await world("approval-events-sse");
    const sub = await subscribeSse<Delivery>(server.endpoint, w.tenant.tokens.VIEWER, SUBSCRIPTION, {});
    try {
      await expectFlow(w, sub);
    } finally {
      await sub.stop();
    }
  });
});

describe("resuming promotionRequestChanged", () => {
  it("after the PENDING event's cursor: APPROVED and EXECUTED (the first stored, the second live), nothing missing, no duplicate", async () => {
    const w = await world("approval-events-resume");
    const ws = wsClient(server.wsEndpoint, w.tenant.tokens.VIEWER);
    const dashboard = await subscribeWs<Delivery>(ws, SUBSCRIPTION, { after: "0" });
    const resumed: Collector<Delivery>[] = [];
    try {
      const requested = await request(w);
      const [pending] = (await dashboard.waitFor(1)).map((e) => e.promotionRequestChanged);
      expect(pending).toMatchObject({ status: "PENDING", request: { id: requested.id } });
      await approve(w, requested);
      await dashboard.waitFor(2);
      // Resumes between the approval and the execution: the approval from history, the execution live.
      const seam = await subscribeWs<Delivery>(ws, SUBSCRIPTION, { after: pending.cursor });
      resumed.push(seam);
      await seam.waitFor(1);
      await execute(w, requested);
      await dashboard.waitFor(3);
      await seam.waitFor(2);
      // Resumes once all happened: both from history...
      const late = await subscribeWs<Delivery>(ws, SUBSCRIPTION, { after: pending.cursor });
      resumed.push(late);
      await late.waitFor(2);
      // ...then live: the next request's PENDING reaches every subscriber once.
      await savePassword(w, w.catalogue.journeys.login, 15);
      const next = await request(w);
      await dashboard.waitFor(4);
      await seam.waitFor(3);
      await late.waitFor(3);
      await settle();

      const all = eventsOf(dashboard);
      expect(all.map((e) => [e.status, e.request.id])).toEqual([
        ["PENDING", requested.id],
        ["APPROVED", requested.id],
        ["EXECUTED", requested.id],
        ["PENDING", next.id],
      ]);
      expectConsecutive(all, Number(pending.cursor));
      const expected = all.slice(1).map(identity);
      for (const sub of [seam, late]) {
        const events = eventsOf(sub);
        expect(events.map(identity)).toEqual(expected);
        expect(new Set(events.map((e) => e.cursor)).size).toBe(events.length);
      }
      // A resumed event's request is the request as it is now.
      expect(eventsOf(late)[0].request).toEqual({ id: requested.id, status: "EXECUTED" });
      // Resuming after the last cursor gives nothing until something happens.
      const caughtUp = await subscribeWs<Delivery>(ws, SUBSCRIPTION, { after: all.at(-1)!.cursor });
      resumed.push(caughtUp);
      await settle();
      expect(caughtUp.events).toEqual([]);
      await cancel(w, next);
      const [cancelled] = (await caughtUp.waitFor(1)).map((e) => e.promotionRequestChanged);
      expect(identity(cancelled)).toEqual({
        cursor: String(Number(all.at(-1)!.cursor) + 1),
        status: "CANCELLED",
        actor: "promoter-token",
        request: next.id,
      });
    } finally {
      await Promise.all([dashboard.stop(), ...resumed.map((s) => s.stop())]);
      await ws.dispose();
    }
  });

  it("refuses a cursor that is not one", async () => {
    const w = await world("approval-events-bad-cursor");
    const ws = wsClient(server.wsEndpoint, w.tenant.tokens.VIEWER);
    const sub = await subscribeWs<Delivery>(ws, SUBSCRIPTION, { after: "not-a-cursor" });
    await expect(sub.completed).rejects.toThrow(/VALIDATION_FAILED|not a request event cursor/);
    await ws.dispose();
  });
});

describe("filters", () => {
  it("environmentId and applicationId choose the events that arrive", async () => {
    const w = await world("approval-events-filters");
    // A second application with clients in development and staging and a login journey changed in development.
    const other = await createApplication(w.admin, "Back Office");
    // Its staging client copies configuration into staging: made while staging requires no approvals.
    await setPolicy(w, { requiredApprovals: 0 });
    for (const key of ["development", "staging"] as const) {
      await createClient(w.admin, { applicationId: other, environmentId: w.env[key], databaseId: w.catalogue.databases[key] });
    }
    await setPolicy(w, { requiredApprovals: 1 });
    const otherLogin = await createJourney(w.admin, { applicationId: other, key: "login", name: "Login", document: LOGIN_DOCUMENT });
    await savePassword(w, otherLogin, 16);

    const ws = wsClient(server.wsEndpoint, w.tenant.tokens.VIEWER);
    const app = w.catalogue.applicationId;
    const subs = {
      all: await subscribeWs<Delivery>(ws, SUBSCRIPTION, { after: "0" }),
      staging: await subscribeWs<Delivery>(ws, SUBSCRIPTION, { env: w.env.staging, after: "0" }),
      production: await subscribeWs<Delivery>(ws, SUBSCRIPTION, { env: w.env.production, after: "0" }),
      portal: await subscribeWs<Delivery>(ws, SUBSCRIPTION, { app, after: "0" }),
      backOffice: await subscribeWs<Delivery>(ws, SUBSCRIPTION, { app: other }),
      portalInStaging: await subscribeWs<Delivery>(ws, SUBSCRIPTION, { app, env: w.env.staging }),
      backOfficeInProduction: await subscribeWs<Delivery>(ws, SUBSCRIPTION, { app: other, env: w.env.production }),
    };
    try {
      const portal = await request(w);
      await subs.all.waitFor(1);
      const backOffice = await request(w, other);
      await subs.all.waitFor(2);
      await cancel(w, portal);
      await subs.all.waitFor(3);
      await subs.staging.waitFor(3);
      await subs.portal.waitFor(2);
      await subs.backOffice.waitFor(1);
      await subs.portalInStaging.waitFor(2);
      await settle();
      const seen = (sub: Collector<Delivery>) => eventsOf(sub).map((e) => [e.status, e.request.id]);
      const portalEvents = [
        ["PENDING", portal.id],
        ["CANCELLED", portal.id],
      ];
      expect(seen(subs.all)).toEqual([portalEvents[0], ["PENDING", backOffice.id], portalEvents[1]]);
      expect(seen(subs.staging)).toEqual(seen(subs.all));
      expect(seen(subs.production)).toEqual([]);
      expect(seen(subs.portal)).toEqual(portalEvents);
      expect(seen(subs.portalInStaging)).toEqual(portalEvents);
      expect(seen(subs.backOffice)).toEqual([["PENDING", backOffice.id]]);
      expect(seen(subs.backOfficeInProduction)).toEqual([]);
      // Filtered subscribers see the organization's cursors, with gaps where others' events are.
      expect(eventsOf(subs.portal).map((e) => e.cursor)).toEqual(["1", "3"]);
    } finally {
      await Promise.all(Object.values(subs).map((s) => s.stop()));
      await ws.dispose();
    }
  });
});

describe("expiry", () => {
  it("moving the clock past expiresAt and reading promotionRequests produces an EXPIRED event by `system`", async () => {
    const w = await world("approval-events-expiry");
    await setPolicy(w, { requiredApprovals: 1, expiresAfterHours: 1 });
    const ws = wsClient(server.wsEndpoint, w.tenant.tokens.VIEWER);
    const sub = await subscribeWs<Delivery>(ws, SUBSCRIPTION, { after: "0" });
    const start = now;
    try {
      const requested = await request(w);
      const [pending] = (await sub.waitFor(1)).map((e) => e.promotionRequestChanged);
      expect(pending).toMatchObject({ status: "PENDING", actor: "promoter-token" });
      now += 3_600_000;
      // Any read of requests stores the expiry.
      const listed = (await w.admin.data(LIST)).promotionRequests.edges.map((e: { node: unknown }) => e.node);
      expect(listed).toEqual([{ id: requested.id, status: "EXPIRED" }]);
      const [, expired] = (await sub.waitFor(2)).map((e) => e.promotionRequestChanged);
      expect(expired).toMatchObject({
        cursor: String(Number(pending.cursor) + 1),
        status: "EXPIRED",
        actor: "system",
        request: { id: requested.id, status: "EXPIRED" },
      });
      expect(Date.parse(expired.occurredAt)).toBe(now);
      // Stored once: reading again expires nothing more.
      await w.admin.data(LIST);
      await w.promoter.data(LIST);
      await settle();
      expect(sub.events).toHaveLength(2);
    } finally {
      now = start;
      await sub.stop();
      await ws.dispose();
    }
  });
});

describe("organizations", () => {
  it("never delivers another organization's events, and numbers each organization's own", async () => {
    const a = await world("approval-events-tenant-a");
    const b = await world("approval-events-tenant-b");
    const wsA = wsClient(server.wsEndpoint, a.tenant.tokens.VIEWER);
    const wsB = wsClient(server.wsEndpoint, b.tenant.tokens.VIEWER);
    const subA = await subscribeWs<Delivery>(wsA, SUBSCRIPTION, {});
    const subB = await subscribeWs<Delivery>(wsB, SUBSCRIPTION, {});
    const historyB = await subscribeWs<Delivery>(wsB, SUBSCRIPTION, { after: "0" });
    const sseB = await subscribeSse<Delivery>(server.endpoint, b.tenant.tokens.VIEWER, SUBSCRIPTION, {});
    try {
      const requested = await request(a);
      await approve(a, requested);
      await execute(a, requested);
      await subA.waitFor(3);
      await settle();
      for (const sub of [subB, historyB, sseB]) expect(sub.events).toEqual([]);

      // B's own request: B's first event, and A does not see it.
      const own = await request(b);
      for (const sub of [subB, historyB, sseB]) {
        const [event] = (await sub.waitFor(1)).map((e) => e.promotionRequestChanged);
        expect(identity(event)).toEqual({ cursor: "1", status: "PENDING", actor: "promoter-token", request: own.id });
      }
      await settle();
      expect(eventsOf(subA).map((e) => e.request.id)).toEqual([requested.id, requested.id, requested.id]);
      for (const sub of [subB, historyB, sseB]) expect(sub.events).toHaveLength(1);

      // Nor can B name A's environment or application to filter by.
      const byEnvironment = await subscribeWs<Delivery>(wsB, SUBSCRIPTION, { env: a.env.staging });
      await expect(byEnvironment.completed).rejects.toThrow(/NOT_FOUND|No environment/);
      const byApplication = await subscribeWs<Delivery>(wsB, SUBSCRIPTION, { app: a.catalogue.applicationId });
      await expect(byApplication.completed).rejects.toThrow(/NOT_FOUND|No application/);
    } finally {
      await Promise.all([subA.stop(), subB.stop(), historyB.stop(), sseB.stop()]);
      await wsA.dispose();
      await wsB.dispose();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SAVE, SAVE_STEP } from "../support/documents.js";
import { type Api, apiAs, type Catalogue, createCatalogue, createClient, operation, tenantRows } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";

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

const PROPAGATE = operation(`mutation Propagate($input: PropagateChangesInput!) {
  propagateChanges(input: $input) {
    __typename
    ... on PropagateChangesSuccess { addedChangeIds propagation { id mode comment actor from { key } to { key } items { id path oldValue newValue } } }
    ... on Error { code message }
    ... on StaleSelectionError { changeIds }
    ... on IncompleteSelectionError { missingChangeIds }
    ... on ValidationError { problems { path message } }
  } }`);

const PROMOTE_NOW = operation(`mutation PromoteNow($input: PromoteNowInput!) {
  promoteNow(input: $input) {
    __typename
    ... on PromoteNowSuccess { propagation { id mode comment actor from { key } to { key } items { id path summary } } }
    ... on Error { code message }
  } }`);

const HISTORY = operation(`query History($a: ID, $e: ID) {
  propagations(applicationId: $a, environmentId: $e, first: 20) {
    edges { node { id mode comment actor from { key } to { key } items { id path oldValue newValue } } } } }`);

const PLAN = operation(`query Plan($a: ID!, $e: ID!) {
  clientCreationPlan(applicationId: $a, environmentId: $e) { sourceEnvironment { key } requiredFields mappingNotes { field note } } }`);

const STATES = operation(`query States($id: ID!, $env: ID!) { node(id: $id) { ... on Journey {
  configuration(environmentId: $env) { version origin hash comment savedBy }
  syncStates { environment { key } status changeCount } } } }`);

interface World {
  tenant: Tenant;
  admin: Api;
  editor: Api;
  promoter: Api;
  catalogue: Catalogue;
  env: Catalogue["environments"];
}

async function world(): Promise<World> {
  const tenant = await createTenant("propagation");
  const admin = apiAs(server.endpoint, tenant, "ADMIN");
  const catalogue = await createCatalogue(admin);
  await createClient(admin, {
    applicationId: catalogue.applicationId,
    environmentId: catalogue.environments.staging,
    databaseId: catalogue.databases.staging,
  });
  return {
    tenant,
    admin,
    editor: apiAs(server.endpoint, tenant, "EDITOR"),
    promoter: apiAs(server.endpoint, tenant, "PROMOTER"),
    catalogue,
    env: catalogue.environments,
  };
}

const step = (key: string, type: string, name: string, settings: object, transitions: [string, string][]) => ({
  key,
  type,
  name,
  enabled: true,
  settings,
  transitions: transitions.map(([outcome, to]) => ({ outcome, to })),
});

/** In development: password minLength 12 → 14, a new risk step before the email code, and password → risk. */
async function editAndSaveLogin(w: World) {
  const ids = { journeyId: w.catalogue.journeys.login, environmentId: w.env.development };
  const edits = [
    step("password", "PASSWORD", "Password", { minLength: 14 }, [
      ["success", "email-otp"],
      ["failure", "DENY"],
    ]),
    step("risk", "RISK_CHECK", "Risk check", {}, [
      ["success", "email-otp"],
      ["high-risk", "DENY"],
    ]),
    step("password", "PASSWORD", "Password", { minLength: 14 }, [
      ["success", "risk"],
      ["failure", "DENY"],
    ]),
  ];
  let revision = 0;
  for (const s of edits) revision = (await w.editor.data(SAVE_STEP, { input: { ...ids, step: s } })).saveJourneyStep.draft.revision;
  const saved = await w.editor.data(SAVE, { input: { ...ids, draftRevision: revision, comment: "Risk check" } });
  expect(saved.saveJourney.version.version).toBe(2);
}

const diffOf = async (api: Api, w: World, from: string, to: string, journeyId?: string) =>
  (await api.data(DIFF, { a: w.catalogue.applicationId, from, to, j: journeyId })).diff;

describe("the seed's whole flow", () => {
  it("creates production, edits development, reviews and promotes a subset, then the rest, then to production; the history shows each step", async () => {
    const w = await world();

    // "Create Client in Production": the plan, then the client, in sync with staging.
    const plan = (await w.admin.data(PLAN, { a: w.catalogue.applicationId, e: w.env.production })).clientCreationPlan;
    expect(plan.sourceEnvironment).toEqual({ key: "staging" });
    expect(plan.requiredFields).toEqual(["databaseId", "redirectUris", "allowedOrigins"]);
    expect(plan.mappingNotes.map((n: { field: string }) => n.field)).toEqual(
      expect.arrayContaining(["settings", "journeys", "databaseId", "redirectUris", "allowedOrigins"]),
    );
    await createClient(w.admin, {
      applicationId: w.catalogue.applicationId,
      environmentId: w.env.production,
      databaseId: w.catalogue.databases.production,
      redirectUris: ["https://portal.example.com/callback"],
    });
    expect((await diffOf(w.admin, w, w.env.staging, w.env.production)).status).toBe("IN_SYNC");

    await editAndSaveLogin(w);
    const states = (await w.admin.data(STATES, { id: w.catalogue.journeys.login, env: w.env.staging })).node.syncStates;
    expect(states).toEqual([
      { environment: { key: "staging" }, status: "OUT_OF_SYNC", changeCount: 3 },
      { environment: { key: "production" }, status: "IN_SYNC", changeCount: 0 },
    ]);

    // Review: three changes; the transition to the new step requires the step.
    const review = await diffOf(w.promoter, w, w.env.development, w.env.staging);
    expect(review.status).toBe("OUT_OF_SYNC");
    expect(review.message).toBe("Journey Configuration out of Sync");
    const byPath = Object.fromEntries(review.changes.map((c: { path: string }) => [c.path, c]));
    const minLength = byPath["/journeys/login/steps/password/settings/minLength"];
    const transition = byPath["/journeys/login/steps/password/transitions/success"];
    const addRisk = byPath["/journeys/login/steps/risk"];
    expect(minLength).toMatchObject({ kind: "MODIFIED", oldValue: 12, newValue: 14, journey: { key: "login" }, stepKey: "password" });
    expect(transition.requires).toEqual([addRisk.id]);

    // Promote a subset closed under requires, with a comment.
    const subset = await w.promoter.data(PROPAGATE, {
      input: {
        applicationId: w.catalogue.applicationId,
        fromEnvironmentId: w.env.development,
        toEnvironmentId: w.env.staging,
        changeIds: [transition.id, addRisk.id],
        comment: "Risk check first",
      },
    });
    expect(subset.propagateChanges).toMatchObject({
      __typename: "PropagateChangesSuccess",
      addedChangeIds: [],
      propagation: {
        mode: "REVIEWED",
        comment: "Risk check first",
        actor: "promoter-token",
        from: { key: "development" },
        to: { key: "staging" },
      },
    });
    expect(subset.propagateChanges.propagation.items.map((i: { id: string }) => i.id).sort()).toEqual([transition.id, addRisk.id].sort());

    // Staging's remaining changes keep their ids: exactly what was not promoted.
    const remaining = await diffOf(w.promoter, w, w.env.development, w.env.staging);
    const remainingIds = remaining.changes.map((c: { id: string }) => c.id);
    expect(remainingIds).toContain(minLength.id);
    expect(remainingIds).not.toContain(transition.id);
    expect(remainingIds).not.toContain(addRisk.id);

    // Promote the rest now.
    const rest = await w.promoter.data(PROMOTE_NOW, {
      input: { applicationId: w.catalogue.applicationId, fromEnvironmentId: w.env.development, toEnvironmentId: w.env.staging },
    });
    expect(rest.promoteNow.propagation.mode).toBe("PROMOTE_NOW");
    expect((await diffOf(w.promoter, w, w.env.development, w.env.staging)).status).toBe("IN_SYNC");
    const stagingLogin = (await w.admin.data(STATES, { id: w.catalogue.journeys.login, env: w.env.staging })).node;
    expect(stagingLogin.configuration).toMatchObject({ version: 3, origin: "PROPAGATION", savedBy: "promoter-token" });

    // Production: a PROMOTER may not, an ADMIN may.
    const refused = await w.promoter.data(PROMOTE_NOW, {
      input: { applicationId: w.catalogue.applicationId, fromEnvironmentId: w.env.staging, toEnvironmentId: w.env.production },
    });
    expect(refused.promoteNow.code).toBe("FORBIDDEN");
    const production = await w.admin.data(PROMOTE_NOW, {
      input: {
        applicationId: w.catalogue.applicationId,
        fromEnvironmentId: w.env.staging,
        toEnvironmentId: w.env.production,
        comment: "Release",
      },
    });
    expect(production.promoteNow.propagation.to.key).toBe("production");
    expect((await diffOf(w.admin, w, w.env.staging, w.env.production)).status).toBe("IN_SYNC");
    const productionLogin = (await w.admin.data(STATES, { id: w.catalogue.journeys.login, env: w.env.production })).node;
    expect(productionLogin.configuration.hash).toBe(stagingLogin.configuration.hash);

    // The history, newest first.
    const history = (await w.admin.data(HISTORY, { a: w.catalogue.applicationId })).propagations.edges.map(
      (e: { node: unknown }) => e.node,
    );
    expect(history.map((p: { mode: string; to: { key: string } }) => `${p.mode} ${p.to.key}`)).toEqual([
      "PROMOTE_NOW production",
      "PROMOTE_NOW staging",
      "REVIEWED staging",
    ]);
    expect(history[2].items.find((i: { path: string }) => i.path === transition.path)).toMatchObject({
      oldValue: "email-otp",
      newValue: "risk",
    });
    const intoProduction = (await w.admin.data(HISTORY, { e: w.env.production })).propagations.edges;
    expect(intoProduction).toHaveLength(1);
  });
});

describe("selections", () => {
  it("refuses a selection that lacks what it requires with INCOMPLETE_SELECTION, or adds it with includeRequired", async () => {
    const w = await world();
    await editAndSaveLogin(w);
    const review = await diffOf(w.promoter, w, w.env.development, w.env.staging);
    const transition = review.changes.find((c: { path: string }) => c.path.endsWith("/transitions/success"));
    const addRisk = review.changes.find((c: { path: string }) => c.path.endsWith("/steps/risk"));
    const input = {
      applicationId: w.catalogue.applicationId,
      fromEnvironmentId: w.env.development,
      toEnvironmentId: w.env.staging,
      changeIds: [transition.id],
    };
    const before = await tenantRows(w.tenant.organizationId);
    const refused = await w.promoter.data(PROPAGATE, { input });
    expect(refused.propagateChanges).toMatchObject({
      __typename: "IncompleteSelectionError",
      code: "INCOMPLETE_SELECTION",
      missingChangeIds: [addRisk.id],
    });
    expect(await tenantRows(w.tenant.organizationId)).toEqual(before);

    const included = await w.promoter.data(PROPAGATE, { input: { ...input, includeRequired: true } });
    expect(included.propagateChanges.addedChangeIds).toEqual([addRisk.id]);
  });

  it("refuses an id that is no longer in the diff with STALE_SELECTION and applies nothing", async () => {
    const w = await world();
    await editAndSaveLogin(w);
    const review = await diffOf(w.promoter, w, w.env.development, w.env.staging);
    const minLength = review.changes.find((c: { path: string }) => c.path.endsWith("/minLength"));
    // Development moves on: minLength 14 → 16 replaces the reviewed change.
    const ids = { journeyId: w.catalogue.journeys.login, environmentId: w.env.development };
    const r = (
      await w.editor.data(SAVE_STEP, {
        input: {
          ...ids,
          step: step("password", "PASSWORD", "Password", { minLength: 16 }, [
            ["success", "risk"],
            ["failure", "DENY"],
          ]),
        },
      })
    ).saveJourneyStep.draft.revision;
    await w.editor.data(SAVE, { input: { ...ids, draftRevision: r } });

    const before = await tenantRows(w.tenant.organizationId);
    const stale = await w.promoter.data(PROPAGATE, {
      input: {
        applicationId: w.catalogue.applicationId,
        fromEnvironmentId: w.env.development,
        toEnvironmentId: w.env.staging,
        changeIds: [minLength.id],
      },
    });
    expect(stale.propagateChanges).toMatchObject({ __typename: "StaleSelectionError", code: "STALE_SELECTION", changeIds: [minLength.id] });
    expect(await tenantRows(w.tenant.organizationId)).toEqual(before);
  });

  it("applies a selection still fully present although other parts of the source moved since the review", async () => {
    const w = await world();
    await editAndSaveLogin(w);
    const review = await diffOf(w.promoter, w, w.env.development, w.env.staging);
    const addRisk = review.changes.find((c: { path: string }) => c.path.endsWith("/steps/risk"));
    const ids = { journeyId: w.catalogue.journeys.login, environmentId: w.env.development };
    const r = (
      await w.editor.data(SAVE_STEP, {
        input: { ...ids, step: step("identify", "IDENTIFIER", "Enter email", { rememberMe: false }, [["success", "password"]]) },
      })
    ).saveJourneyStep.draft.revision;
    await w.editor.data(SAVE, { input: { ...ids, draftRevision: r } });
    const applied = await w.promoter.data(PROPAGATE, {
      input: {
        applicationId: w.catalogue.applicationId,
        fromEnvironmentId: w.env.development,
        toEnvironmentId: w.env.staging,
        changeIds: [addRisk.id],
      },
    });
    expect(applied.propagateChanges.__typename).toBe("PropagateChangesSuccess");
  });

  it("answers NOTHING_TO_PROPAGATE when the target already matches", async () => {
    const w = await world();
    const result = await w.promoter.data(PROMOTE_NOW, {
      input: { applicationId: w.catalogue.applicationId, fromEnvironmentId: w.env.development, toEnvironmentId: w.env.staging },
    });
    expect(result.promoteNow.code).toBe("NOTHING_TO_PROPAGATE");
  });
});

describe("direction, target and rights", () => {
  it("refuses a downward propagation, a missing target client, and a VIEWER or EDITOR", async () => {
    const w = await world();
    await editAndSaveLogin(w);
    const app = w.catalogue.applicationId;
    const down = await w.admin.data(PROMOTE_NOW, {
      input: { applicationId: app, fromEnvironmentId: w.env.staging, toEnvironmentId: w.env.development },
    });
    expect(down.promoteNow.code).toBe("INVALID_DIRECTION");
    const same = await w.admin.data(PROMOTE_NOW, {
      input: { applicationId: app, fromEnvironmentId: w.env.staging, toEnvironmentId: w.env.staging },
    });
    expect(same.promoteNow.code).toBe("INVALID_DIRECTION");
    const missing = await w.admin.data(PROMOTE_NOW, {
      input: { applicationId: app, fromEnvironmentId: w.env.staging, toEnvironmentId: w.env.production },
    });
    expect(missing.promoteNow.code).toBe("TARGET_MISSING");
    for (const api of [apiAs(server.endpoint, w.tenant, "VIEWER"), w.editor]) {
      const refused = await api.data(PROMOTE_NOW, {
        input: { applicationId: app, fromEnvironmentId: w.env.development, toEnvironmentId: w.env.staging },
      });
      expect(refused.promoteNow.code).toBe("FORBIDDEN");
    }
  });
});

describe("idempotency", () => {
  it("returns the first call's propagation for a repeated key and refuses the key with another request", async () => {
    const w = await world();
    await editAndSaveLogin(w);
    const input = {
      applicationId: w.catalogue.applicationId,
      fromEnvironmentId: w.env.development,
      toEnvironmentId: w.env.staging,
      idempotencyKey: "deploy-42",
    };
    const first = await w.promoter.data(PROMOTE_NOW, { input });
    const again = await w.promoter.data(PROMOTE_NOW, { input });
    expect(again.promoteNow.propagation.id).toBe(first.promoteNow.propagation.id);
    const other = await w.promoter.data(PROMOTE_NOW, { input: { ...input, comment: "different" } });
    expect(other.promoteNow.code).toBe("VALIDATION_FAILED");
    const history = (await w.admin.data(HISTORY, { a: w.catalogue.applicationId })).propagations.edges;
    expect(history).toHaveLength(1);
  });

  it("applies once when the same key is sent 10 times at once", async () => {
    const w = await world();
    await editAndSaveLogin(w);
    const input = {
      applicationId: w.catalogue.applicationId,
      fromEnvironmentId: w.env.development,
      toEnvironmentId: w.env.staging,
      idempotencyKey: "burst",
    };
    const results = await Promise.all(Array.from({ length: 10 }, () => w.promoter.data(PROMOTE_NOW, { input })));
    const ids = new Set(results.map((r) => r.promoteNow.propagation?.id));
    expect(results.every((r) => r.promoteNow.__typename === "PromoteNowSuccess")).toBe(true);
    expect(ids.size).toBe(1);
    const rows = await tenantRows(w.tenant.organizationId);
    const login = rows.journeys.find((j) => j.key === "login")!;
    const staging = rows.environments.find((e) => e.key === "staging")!;
    const stagingVersions = rows.journeyVersions.filter((v) => v.journeyId === login.id && v.environmentId === staging.id);
    expect(stagingVersions.map((v) => `${v.version} ${v.origin}`)).toEqual(["1 CLIENT_CREATION", "2 PROPAGATION"]);
  });
});

describe("bad input writes nothing", () => {
  it("refuses malformed selections with typed errors", async () => {
    const w = await world();
    await editAndSaveLogin(w);
    const base = { applicationId: w.catalogue.applicationId, fromEnvironmentId: w.env.development, toEnvironmentId: w.env.staging };
    const review = await diffOf(w.promoter, w, w.env.development, w.env.staging);
    const id = review.changes[0].id;
    const before = await tenantRows(w.tenant.organizationId);
    const cases: [object, string][] = [
      [{ ...base, changeIds: [] }, "VALIDATION_FAILED"],
      [{ ...base }, "VALIDATION_FAILED"],
      [{ ...base, changeIds: [id], selectAll: true }, "VALIDATION_FAILED"],
      [{ ...base, changeIds: [id, id] }, "VALIDATION_FAILED"],
      [{ ...base, changeIds: Array.from({ length: 10_000 }, (_, i) => `chg_${i}`) }, "VALIDATION_FAILED"],
      [{ ...base, changeIds: [id], comment: "x".repeat(1024 * 1024) }, "VALIDATION_FAILED"],
      [{ ...base, applicationId: w.env.staging, changeIds: [id] }, "NOT_FOUND"],
      [{ ...base, journeyId: w.env.staging, changeIds: [id] }, "NOT_FOUND"],
      [{ ...base, changeIds: ["chg_000000000000000000000000"] }, "STALE_SELECTION"],
    ];
    for (const [input, code] of cases) {
      const result = await w.promoter.request(PROPAGATE, { input });
      expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
      expect(result.data.propagateChanges.code).toBe(code);
    }
    const stranger = await world();
    const foreign = await stranger.promoter.data(PROPAGATE, { input: { ...base, changeIds: [id] } });
    expect(foreign.propagateChanges.code).toBe("NOT_FOUND");
    expect(await tenantRows(w.tenant.organizationId)).toEqual(before);
  });
});

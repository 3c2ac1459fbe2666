import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SAVE, SAVE_STEP } from "../support/documents.js";
import {
  type Api,
  apiAs,
  type Catalogue,
  createCatalogueWithStaging,
  createClient,
  operation,
  sha256OfCanonical,
} from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant } from "../support/tenant.js";

/*
 * Restore and revert (DESIGN.md §7), over HTTP, on the database the suite runs on: the scenario of
 * the issue (a propagation reverted in part, a later change kept as a conflict, the revert itself
 * reverted), restoring a version, idempotent reverts, and a revert racing a propagation.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const DIFF = operation(`query RevertDiff($a: ID!, $from: ID!, $to: ID!) {
  diff(applicationId: $a, fromEnvironmentId: $from, toEnvironmentId: $to) { status changes { id path oldValue newValue } } }`);

const PROPAGATE = operation(`mutation RevertTestPropagate($input: PropagateChangesInput!) {
  propagateChanges(input: $input) {
    __typename
    ... on PropagateChangesSuccess { propagation { id mode items { id path } } }
    ... on Error { code message }
  } }`);

const PREVIEW = operation(`query Preview($id: ID!) {
  revertPreview(propagationId: $id) {
    propagation { id }
    changes { id path kind oldValue newValue requires bundleId journey { key } stepKey summary }
    bundles { id label changeIds }
    conflicts { path propagatedValue currentValue message }
    missingVariables { key changeIds }
  } }`);

const REVERT = operation(`mutation Revert($input: RevertPropagationInput!) {
  revertPropagation(input: $input) {
    __typename
    ... on RevertPropagationSuccess {
      addedChangeIds
      propagation { id mode comment actor revertOf { id } from { key } to { key } items { id path oldValue newValue } }
      application { journeys { key syncStates { environment { key } status changeCount } } }
    }
    ... on Error { code message }
    ... on StaleSelectionError { changeIds }
    ... on IncompleteSelectionError { missingChangeIds }
    ... on ValidationError { problems { path message } }
  } }`);

const REMOVE_STEP = operation(`mutation RevertTestRemoveStep($input: RemoveJourneyStepInput!) {
  removeJourneyStep(input: $input) { ... on RemoveJourneyStepSuccess { draft { revision } } } }`);

const HISTORY = operation(`query RevertHistory($a: ID) {
  propagations(applicationId: $a, first: 20) {
    edges { node { id mode comment revertOf { id } revertedBy { id mode } } } } }`);

const CONFIGURATION = operation(`query RevertConfiguration($id: ID!, $env: ID!) {
  node(id: $id) { ... on Journey {
    configuration(environmentId: $env) { version hash origin comment document }
    versions(environmentId: $env, first: 10) { edges { node { version origin hash } } }
  } } }`);

const RESTORE = operation(`mutation Restore($input: RestoreJourneyVersionInput!) {
  restoreJourneyVersion(input: $input) {
    __typename
    ... on RestoreJourneyVersionSuccess {
      draft { baseVersion revision restoredFromVersion document changes { path oldValue newValue } problems { path } }
    }
    ... on Error { code message }
  } }`);

interface World {
  admin: Api;
  editor: Api;
  promoter: Api;
  viewer: Api;
  catalogue: Catalogue;
  env: Catalogue["environments"];
}

async function world(name: string): Promise<World> {
  const tenant = await createTenant(name);
  const admin = apiAs(server.endpoint, tenant, "ADMIN");
  const catalogue = await createCatalogueWithStaging(admin);
  return {
    admin,
    editor: apiAs(server.endpoint, tenant, "EDITOR"),
    promoter: apiAs(server.endpoint, tenant, "PROMOTER"),
    viewer: apiAs(server.endpoint, tenant, "VIEWER"),
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

/** Saves steps into development's login journey as one new version. */
async function saveInDevelopment(w: World, steps: ReturnType<typeof step>[], comment: string) {
  const ids = { journeyId: w.catalogue.journeys.login, environmentId: w.env.development };
  let revision = 0;
  for (const s of steps) revision = (await w.editor.data(SAVE_STEP, { input: { ...ids, step: s } })).saveJourneyStep.draft.revision;
  const saved = await w.editor.data(SAVE, { input: { ...ids, draftRevision: revision, comment } });
  expect(saved.saveJourney.__typename).toBe("SaveJourneySuccess");
}

const passwordStep = (minLength: number, success: string) =>
  step("password", "PASSWORD", "Password", { minLength }, [
    ["success", success],
    ["failure", "DENY"],
  ]);
const riskStep = step("risk", "RISK_CHECK", "Risk check", {}, [
  ["success", "email-otp"],
  ["high-risk", "DENY"],
]);

/** Development → staging, everything. */
async function propagateAll(w: World, comment: string): Promise<string> {
  const result = await w.promoter.data(PROPAGATE, {
    input: {
      applicationId: w.catalogue.applicationId,
      fromEnvironmentId: w.env.development,
      toEnvironmentId: w.env.staging,
      selectAll: true,
      comment,
    },
  });
  expect(result.propagateChanges.__typename).toBe("PropagateChangesSuccess");
  return result.propagateChanges.propagation.id;
}

const stagingDiff = async (w: World) =>
  (await w.admin.data(DIFF, { a: w.catalogue.applicationId, from: w.env.development, to: w.env.staging })).diff;

const stagingLogin = async (w: World) =>
  (await w.admin.data(CONFIGURATION, { id: w.catalogue.journeys.login, env: w.env.staging })).node.configuration;

/** P1: a risk step, password → risk, minLength 12 → 14; then P2: minLength 14 → 16. */
async function twoPropagations(w: World) {
  await saveInDevelopment(w, [riskStep, passwordStep(14, "risk")], "Risk check");
  const p1 = await propagateAll(w, "P1");
  await saveInDevelopment(w, [passwordStep(16, "risk")], "Longer passwords");
  const p2 = await propagateAll(w, "P2");
  return { p1, p2 };
}

describe("reverting a propagation", () => {
  it("reverts the step and the transition, reports the setting a later propagation changed as a conflict, and the revert of the revert restores the target exactly", async () => {
    const w = await world("revert-scenario");
    const { p1 } = await twoPropagations(w);
    const before = await stagingLogin(w);
    expect(before.document.steps.password).toMatchObject({ settings: { minLength: 16 }, transitions: { success: "risk" } });

    const preview = (await w.viewer.data(PREVIEW, { id: p1 })).revertPreview;
    expect(preview.propagation.id).toBe(p1);
    const byPath = Object.fromEntries(preview.changes.map((c: { path: string }) => [c.path, c]));
    expect(Object.keys(byPath).sort()).toEqual(["/journeys/login/steps/password/transitions/success", "/journeys/login/steps/risk"]);
    const removal = byPath["/journeys/login/steps/risk"];
    const transition = byPath["/journeys/login/steps/password/transitions/success"];
    expect(removal).toMatchObject({ kind: "REMOVED", newValue: null, journey: { key: "login" }, stepKey: "risk" });
    expect(transition).toMatchObject({ kind: "MODIFIED", oldValue: "risk", newValue: "email-otp" });
    // Removing the step needs what points at it to be reverted first: one bundle.
    expect(removal.requires).toEqual([transition.id]);
    expect(removal.bundleId).toBe(transition.bundleId);
    expect(preview.conflicts).toEqual([
      {
        path: "/journeys/login/steps/password/settings/minLength",
        propagatedValue: 14,
        currentValue: 16,
        message: expect.stringContaining("changed after this propagation"),
      },
    ]);
    expect(preview.missingVariables).toEqual([]);

    // Only the removal: INCOMPLETE_SELECTION names the transition; nothing changed.
    const incomplete = await w.promoter.data(REVERT, { input: { propagationId: p1, changeIds: [removal.id] } });
    expect(incomplete.revertPropagation).toMatchObject({ code: "INCOMPLETE_SELECTION", missingChangeIds: [transition.id] });
    expect((await stagingLogin(w)).hash).toBe(before.hash);

    const reverted = await w.promoter.data(REVERT, { input: { propagationId: p1, selectAll: true, comment: "Risk check broke logins" } });
    expect(reverted.revertPropagation).toMatchObject({
      __typename: "RevertPropagationSuccess",
      addedChangeIds: [],
      propagation: {
        mode: "REVERT",
        comment: "Risk check broke logins",
        actor: "promoter-token",
        revertOf: { id: p1 },
        to: { key: "staging" },
      },
    });
    const revertId = reverted.revertPropagation.propagation.id;
    const login = reverted.revertPropagation.application.journeys.find((j: { key: string }) => j.key === "login");
    expect(login.syncStates.find((s: { environment: { key: string } }) => s.environment.key === "staging")).toMatchObject({
      status: "OUT_OF_SYNC",
      changeCount: 2,
    });

    const after = await stagingLogin(w);
    expect(after).toMatchObject({ origin: "REVERT", comment: "Risk check broke logins" });
    expect(after.document.steps.risk).toBeUndefined();
    expect(after.document.steps.password).toMatchObject({ settings: { minLength: 16 }, transitions: { success: "email-otp" } });
    expect(after.document.order).toEqual(["identify", "password", "email-otp"]);
    expect((await stagingDiff(w)).status).toBe("OUT_OF_SYNC");

    // Reverting again: nothing left but the conflict.
    const again = await w.promoter.data(REVERT, { input: { propagationId: p1, selectAll: true } });
    expect(again.revertPropagation).toMatchObject({ code: "NOTHING_TO_PROPAGATE" });

    // The history shows the revert, linked both ways.
    const history = (await w.viewer.data(HISTORY, { a: w.catalogue.applicationId })).propagations.edges.map(
      (e: { node: unknown }) => e.node,
    );
    expect(history[0]).toMatchObject({ id: revertId, mode: "REVERT", revertOf: { id: p1 }, revertedBy: [] });
    expect(history.find((p: { id: string }) => p.id === p1)).toMatchObject({ revertedBy: [{ id: revertId, mode: "REVERT" }] });

    // The revert of the revert: the step and the transition come back, staging is in sync again, byte for byte.
    const back = (await w.viewer.data(PREVIEW, { id: revertId })).revertPreview;
    expect(back.conflicts).toEqual([]);
    expect(back.changes.map((c: { path: string }) => c.path).sort()).toEqual(Object.keys(byPath).sort());
    const undone = await w.promoter.data(REVERT, { input: { propagationId: revertId, selectAll: true } });
    expect(undone.revertPropagation.propagation).toMatchObject({ mode: "REVERT", revertOf: { id: revertId } });
    const restored = await stagingLogin(w);
    expect(restored.hash).toBe(before.hash);
    expect((await stagingDiff(w)).status).toBe("IN_SYNC");
  });

  it("brings a step the propagation removed back in its place, not last: the target's hash before it exactly", async () => {
    const w = await world("revert-step-place");
    const before = await stagingLogin(w);
    expect(before.document.order).toEqual(["identify", "password", "email-otp"]);
    const ids = { journeyId: w.catalogue.journeys.login, environmentId: w.env.development };
    await w.editor.data(SAVE_STEP, {
      input: {
        ...ids,
        step: step("identify", "IDENTIFIER", "Enter email", { identifiers: ["email"], rememberMe: true }, [["success", "email-otp"]]),
      },
    });
    const removed = await w.editor.data(REMOVE_STEP, { input: { ...ids, stepKey: "password" } });
    const saved = await w.editor.data(SAVE, { input: { ...ids, draftRevision: removed.removeJourneyStep.draft.revision } });
    expect(saved.saveJourney.__typename).toBe("SaveJourneySuccess");
    const p1 = await propagateAll(w, "No passwords");
    expect((await stagingLogin(w)).document.order).toEqual(["identify", "email-otp"]);

    const reverted = await w.promoter.data(REVERT, { input: { propagationId: p1, selectAll: true } });
    expect(reverted.revertPropagation.__typename).toBe("RevertPropagationSuccess");
    const after = await stagingLogin(w);
    expect(after.document.order).toEqual(["identify", "password", "email-otp"]);
    expect(after.hash).toBe(before.hash);
  });

  it("refuses stale ids, a PROMOTER into production, and ids of another organization", async () => {
    const w = await world("revert-refusals");
    const { p1 } = await twoPropagations(w);
    const stale = await w.promoter.data(REVERT, { input: { propagationId: p1, changeIds: ["chg_000000000000000000000000"] } });
    expect(stale.revertPropagation).toMatchObject({ code: "STALE_SELECTION", changeIds: ["chg_000000000000000000000000"] });
    const neither = await w.promoter.data(REVERT, { input: { propagationId: p1 } });
    expect(neither.revertPropagation.code).toBe("VALIDATION_FAILED");
    const viewer = await w.viewer.request(REVERT, { input: { propagationId: p1, selectAll: true } });
    expect(JSON.stringify(viewer)).toContain("FORBIDDEN");

    // Into production only an ADMIN reverts, as only an ADMIN promotes there.
    await createClient(w.admin, {
      applicationId: w.catalogue.applicationId,
      environmentId: w.env.production,
      databaseId: w.catalogue.databases.production,
    });
    await saveInDevelopment(w, [passwordStep(18, "risk")], "18");
    await propagateAll(w, "P3");
    const release = await w.admin.data(PROPAGATE, {
      input: {
        applicationId: w.catalogue.applicationId,
        fromEnvironmentId: w.env.staging,
        toEnvironmentId: w.env.production,
        selectAll: true,
      },
    });
    const releaseId = release.propagateChanges.propagation.id;
    const byPromoter = await w.promoter.data(REVERT, { input: { propagationId: releaseId, selectAll: true } });
    expect(byPromoter.revertPropagation.code).toBe("FORBIDDEN");
    const byAdmin = await w.admin.data(REVERT, { input: { propagationId: releaseId, selectAll: true } });
    expect(byAdmin.revertPropagation.propagation).toMatchObject({ mode: "REVERT", to: { key: "production" } });

    const other = await world("revert-refusals-other");
    const foreign = await other.admin.data(REVERT, { input: { propagationId: p1, selectAll: true } });
    expect(foreign.revertPropagation.code).toBe("NOT_FOUND");
    const foreignPreview = await other.admin.request(PREVIEW, { id: p1 });
    expect(foreignPreview.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect((await stagingLogin(w)).document.steps.risk).toBeDefined();
  });

  it("applies once for ten concurrent reverts with one idempotency key", async () => {
    const w = await world("revert-idempotent");
    const { p1 } = await twoPropagations(w);
    const input = { propagationId: p1, selectAll: true, idempotencyKey: "undo-p1" };
    const results = await Promise.all(Array.from({ length: 10 }, () => w.promoter.data(REVERT, { input })));
    const ids = new Set(results.map((r) => r.revertPropagation.propagation?.id));
    expect(results.map((r) => r.revertPropagation.__typename)).toEqual(Array(10).fill("RevertPropagationSuccess"));
    expect(ids.size).toBe(1);
    const history = (await w.viewer.data(HISTORY, { a: w.catalogue.applicationId })).propagations.edges;
    expect(history.filter((e: { node: { mode: string } }) => e.node.mode === "REVERT")).toHaveLength(1);
  });

  it("a revert racing a propagation on the same path: one applies cleanly, the other is refused as the race left it", async () => {
    const w = await world("revert-race");
    await saveInDevelopment(w, [passwordStep(14, "email-otp")], "14");
    const p1 = await propagateAll(w, "P1");
    await saveInDevelopment(w, [passwordStep(16, "email-otp")], "16");
    const [revertChange] = (await w.viewer.data(PREVIEW, { id: p1 })).revertPreview.changes;
    const [promoteChange] = (await stagingDiff(w)).changes;
    expect(revertChange.path).toBe(promoteChange.path);

    const [revert, propagate] = await Promise.all([
      w.promoter.data(REVERT, { input: { propagationId: p1, changeIds: [revertChange.id] } }),
      w.promoter.data(PROPAGATE, {
        input: {
          applicationId: w.catalogue.applicationId,
          fromEnvironmentId: w.env.development,
          toEnvironmentId: w.env.staging,
          changeIds: [promoteChange.id],
        },
      }),
    ]);
    const winners = [revert.revertPropagation, propagate.propagateChanges].filter((r) => r.__typename.endsWith("Success"));
    const losers = [revert.revertPropagation, propagate.propagateChanges].filter((r) => !r.__typename.endsWith("Success"));
    expect(winners).toHaveLength(1);
    // The revert first: the propagation's change (its old value) is gone, STALE_SELECTION. The
    // propagation first: the revert's one change is now a conflict, nothing left to revert
    // (NOTHING_TO_PROPAGATE, as in concurrency.test.ts's races of reverts and propagations).
    expect(losers.map((r) => r.code)).toEqual([
      winners[0].__typename === "RevertPropagationSuccess" ? "STALE_SELECTION" : "NOTHING_TO_PROPAGATE",
    ]);
    const minLength = (await stagingLogin(w)).document.steps.password.settings.minLength;
    expect(minLength).toBe(winners[0].__typename === "RevertPropagationSuccess" ? 12 : 16);
  });
});

const UPDATE_CLIENT = operation(`mutation RevertTestUpdateClient($input: UpdateClientInput!) {
  updateClient(input: $input) { __typename ... on Error { code message } } }`);

const STAGING_CLIENT = operation(`query RevertTestClient($a: ID!, $env: ID!) {
  node(id: $a) { ... on Application { client(environmentId: $env) { settings syncStatus } } } }`);

const VARIABLE_RESULT = "__typename ... on Error { code message }";
const CREATE_VARIABLE = operation(`mutation RevertTestCreateVariable($input: CreateVariableInput!) {
  createVariable(input: $input) { ${VARIABLE_RESULT} ... on CreateVariableSuccess { variable { id } } } }`);
const SET_VALUE = operation(`mutation RevertTestSetValue($input: SetVariableValueInput!) {
  setVariableValue(input: $input) { ${VARIABLE_RESULT} } }`);
const REMOVE_VALUE = operation(`mutation RevertTestRemoveValue($input: RemoveVariableValueInput!) {
  removeVariableValue(input: $input) { ${VARIABLE_RESULT} } }`);

describe("reverting to values that reference variables", () => {
  it("names a variable the target no longer has, and refuses the revert with MISSING_VARIABLES until it is set", async () => {
    const w = await world("revert-variables");
    const variable = (await w.admin.data(CREATE_VARIABLE, { input: { key: "password.min", kind: "NUMBER" } })).createVariable.variable.id;
    for (const environmentId of [w.env.development, w.env.staging]) {
      const set = await w.admin.data(SET_VALUE, { input: { variableId: variable, environmentId, value: 15 } });
      expect(set.setVariableValue.__typename).toBe("SetVariableValueSuccess");
    }
    const byReference = step("password", "PASSWORD", "Password", { minLength: "&{password.min}" }, [
      ["success", "email-otp"],
      ["failure", "DENY"],
    ]);
    await saveInDevelopment(w, [byReference], "By reference");
    await propagateAll(w, "P0");
    await saveInDevelopment(w, [passwordStep(20, "email-otp")], "Literal again");
    const p1 = await propagateAll(w, "P1");
    // Staging references the variable no more: its value there may go.
    const removed = await w.admin.data(REMOVE_VALUE, { input: { variableId: variable, environmentId: w.env.staging } });
    expect(removed.removeVariableValue.__typename).toBe("RemoveVariableValueSuccess");

    const preview = (await w.viewer.data(PREVIEW, { id: p1 })).revertPreview;
    expect(preview.changes).toMatchObject([{ path: "/journeys/login/steps/password/settings/minLength", newValue: "&{password.min}" }]);
    expect(preview.missingVariables).toEqual([{ key: "password.min", changeIds: [preview.changes[0].id] }]);
    const refused = await w.promoter.data(REVERT, { input: { propagationId: p1, selectAll: true } });
    expect(refused.revertPropagation.code).toBe("MISSING_VARIABLES");
    expect((await stagingLogin(w)).document.steps.password.settings.minLength).toBe(20);

    await w.admin.data(SET_VALUE, { input: { variableId: variable, environmentId: w.env.staging, value: 16 } });
    const reverted = await w.promoter.data(REVERT, { input: { propagationId: p1, selectAll: true } });
    expect(reverted.revertPropagation.__typename).toBe("RevertPropagationSuccess");
    expect((await stagingLogin(w)).document.steps.password.settings.minLength).toBe("&{password.min}");
  });
});

describe("reverting client settings", () => {
  it("puts a propagated client setting back, and leaves the staging client out of sync with development", async () => {
    const w = await world("revert-client");
    const updated = await w.admin.data(UPDATE_CLIENT, {
      input: { clientId: w.catalogue.clientId, settings: { accessTokenTtlSeconds: 900 } },
    });
    expect(updated.updateClient.__typename).toBe("UpdateClientSuccess");
    const before = (await w.admin.data(STAGING_CLIENT, { a: w.catalogue.applicationId, env: w.env.staging })).node.client.settings;
    const p1 = await propagateAll(w, "Shorter tokens");
    const preview = (await w.viewer.data(PREVIEW, { id: p1 })).revertPreview;
    expect(preview.changes).toMatchObject([
      { path: "/client/settings/accessTokenTtlSeconds", oldValue: 900, newValue: before.accessTokenTtlSeconds, journey: null },
    ]);
    const reverted = await w.promoter.data(REVERT, { input: { propagationId: p1, selectAll: true } });
    expect(reverted.revertPropagation.__typename).toBe("RevertPropagationSuccess");
    const after = (await w.admin.data(STAGING_CLIENT, { a: w.catalogue.applicationId, env: w.env.staging })).node.client;
    expect(after).toEqual({ settings: before, syncStatus: "OUT_OF_SYNC" });
  });
});

describe("restoring a version", () => {
  it("makes the draft that version's document; saving it writes a RESTORE version with the exact hash restored", async () => {
    const w = await world("restore");
    await saveInDevelopment(w, [passwordStep(14, "email-otp")], "14");
    await saveInDevelopment(w, [passwordStep(16, "email-otp")], "16");
    const journey = (await w.admin.data(CONFIGURATION, { id: w.catalogue.journeys.login, env: w.env.development })).node;
    expect(journey.configuration.version).toBe(3);
    const first = journey.versions.edges
      .map((e: { node: { version: number; hash: string } }) => e.node)
      .find((v: { version: number }) => v.version === 1);

    const ids = { journeyId: w.catalogue.journeys.login, environmentId: w.env.development };
    const restored = await w.editor.data(RESTORE, { input: { ...ids, version: 1 } });
    expect(restored.restoreJourneyVersion).toMatchObject({
      __typename: "RestoreJourneyVersionSuccess",
      draft: {
        baseVersion: 3,
        restoredFromVersion: 1,
        problems: [],
        changes: [{ path: "/journeys/login/steps/password/settings/minLength", oldValue: 16, newValue: 12 }],
      },
    });
    expect(sha256OfCanonical(restored.restoreJourneyVersion.draft.document)).toBe(first.hash);

    const saved = await w.editor.data(SAVE, {
      input: { ...ids, draftRevision: restored.restoreJourneyVersion.draft.revision },
    });
    expect(saved.saveJourney.version.version).toBe(4);
    const now = (await w.admin.data(CONFIGURATION, { id: w.catalogue.journeys.login, env: w.env.development })).node.configuration;
    expect(now).toMatchObject({ version: 4, origin: "RESTORE", hash: first.hash, comment: "Restored version 1" });
  });

  it("an edit after the restore makes it an ordinary draft; upper environments, unknown and current versions are refused", async () => {
    const w = await world("restore-refusals");
    await saveInDevelopment(w, [passwordStep(14, "email-otp")], "14");
    const ids = { journeyId: w.catalogue.journeys.login, environmentId: w.env.development };
    await w.editor.data(RESTORE, { input: { ...ids, version: 1 } });
    const edited = await w.editor.data(SAVE_STEP, { input: { ...ids, step: passwordStep(20, "email-otp") } });
    const saved = await w.editor.data(SAVE, { input: { ...ids, draftRevision: edited.saveJourneyStep.draft.revision } });
    expect(saved.saveJourney.__typename).toBe("SaveJourneySuccess");
    const now = (await w.admin.data(CONFIGURATION, { id: w.catalogue.journeys.login, env: w.env.development })).node.configuration;
    expect(now.origin).toBe("SAVE");

    const locked = await w.admin.data(RESTORE, {
      input: { journeyId: w.catalogue.journeys.login, environmentId: w.env.staging, version: 1 },
    });
    expect(locked.restoreJourneyVersion.code).toBe("ENVIRONMENT_LOCKED");
    const unknown = await w.editor.data(RESTORE, { input: { ...ids, version: 99 } });
    expect(unknown.restoreJourneyVersion.code).toBe("NOT_FOUND");
    const current = await w.editor.data(RESTORE, { input: { ...ids, version: now.version } });
    expect(current.restoreJourneyVersion.code).toBe("VALIDATION_FAILED");
    const zero = await w.editor.data(RESTORE, { input: { ...ids, version: 0 } });
    expect(zero.restoreJourneyVersion.code).toBe("VALIDATION_FAILED");
    const viewer = await w.viewer.request(RESTORE, { input: { ...ids, version: 1 } });
    expect(JSON.stringify(viewer)).toContain("FORBIDDEN");
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, apiAs, type Catalogue, createCatalogue, createClient, operation, tenantRows } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const SAVE_STEP = operation(`mutation SaveStep($input: SaveJourneyStepInput!) {
  saveJourneyStep(input: $input) {
    __typename
    ... on SaveJourneyStepSuccess { draft { baseVersion revision updatedBy steps { key type settings transitions { outcome to } }
      changes { id path kind summary oldValue newValue requires bundleId } problems { path message } } }
    ... on Error { code message }
    ... on ValidationError { problems { path message } }
  } }`);

const REMOVE_STEP = operation(`mutation RemoveStep($input: RemoveJourneyStepInput!) {
  removeJourneyStep(input: $input) {
    __typename
    ... on RemoveJourneyStepSuccess { draft { revision problems { path message } } }
    ... on Error { code message }
  } }`);

const SET_START = operation(`mutation SetStart($input: SetJourneyStartInput!) {
  setJourneyStart(input: $input) { __typename ... on SetJourneyStartSuccess { draft { revision document } } ... on Error { code message } } }`);

const DISCARD = operation(`mutation Discard($input: DiscardJourneyDraftInput!) {
  discardJourneyDraft(input: $input) { __typename ... on DiscardJourneyDraftSuccess { journey { key } } ... on Error { code message } } }`);

const SAVE = operation(`mutation Save($input: SaveJourneyInput!) {
  saveJourney(input: $input) {
    __typename
    ... on SaveJourneySuccess { version { version hash origin savedBy comment start steps { key } } }
    ... on Error { code message }
    ... on ValidationError { problems { path message } }
    ... on InvalidConfigurationError { problems { path message } }
  } }`);

const JOURNEY = operation(`query Journey($id: ID!, $env: ID!) {
  node(id: $id) { ... on Journey {
    key
    draft(environmentId: $env) { revision baseVersion changes { id path summary } problems { path message } }
    configuration(environmentId: $env) { version hash origin }
    versions(environmentId: $env, first: 10) { edges { node { version origin savedBy comment hash } } }
    syncStates { environment { key } status message changeCount }
  } } }`);

const DIFF = operation(`query Diff($a: ID!, $from: ID!, $to: ID!, $j: ID) {
  diff(applicationId: $a, fromEnvironmentId: $from, toEnvironmentId: $to, journeyId: $j) { status message changes { id path summary } } }`);

const UPDATE_CLIENT = operation(`mutation UpdateClient($input: UpdateClientInput!) {
  updateClient(input: $input) {
    __typename
    ... on UpdateClientSuccess { client { settings syncStatus redirectUris name database { name } } }
    ... on Error { code message }
    ... on ValidationError { problems { path message } }
  } }`);

interface World {
  tenant: Tenant;
  editor: Api;
  admin: Api;
  catalogue: Catalogue;
  stagingClientId: string;
}

/** A tenant whose application has clients in development and staging, in sync. */
async function world(): Promise<World> {
  const tenant = await createTenant("editing");
  const admin = apiAs(server.endpoint, tenant, "ADMIN");
  const catalogue = await createCatalogue(admin);
  const stagingClientId = await createClient(admin, {
    applicationId: catalogue.applicationId,
    environmentId: catalogue.environments.staging,
    databaseId: catalogue.databases.staging,
  });
  return { tenant, admin, editor: apiAs(server.endpoint, tenant, "EDITOR"), catalogue, stagingClientId };
}

const step = (key: string, type: string, name: string, settings: object, transitions: [string, string][]) => ({
  key,
  type,
  name,
  enabled: true,
  settings,
  transitions: transitions.map(([outcome, to]) => ({ outcome, to })),
});

async function saveStep(api: Api, w: World, stepInput: object, extra: object = {}) {
  const result = await api.data(SAVE_STEP, {
    input: { journeyId: w.catalogue.journeys.login, environmentId: w.catalogue.environments.development, step: stepInput, ...extra },
  });
  return result.saveJourneyStep;
}

describe("editing a journey in a draft and saving it in development", () => {
  it("edits three steps, reviews the changes, saves version 2, and staging is then out of sync", async () => {
    const w = await world();
    const dev = w.catalogue.environments.development;
    const before = await w.editor.data(JOURNEY, { id: w.catalogue.journeys.login, env: w.catalogue.environments.staging });
    expect(before.node.syncStates[0]).toMatchObject({ environment: { key: "staging" }, status: "IN_SYNC", changeCount: 0 });

    const first = await saveStep(
      w.editor,
      w,
      step("password", "PASSWORD", "Password", { minLength: 14 }, [
        ["success", "email-otp"],
        ["failure", "DENY"],
      ]),
    );
    expect(first.__typename).toBe("SaveJourneyStepSuccess");
    expect(first.draft).toMatchObject({ baseVersion: 1, revision: 1, updatedBy: "editor-token" });
    await saveStep(
      w.editor,
      w,
      step("risk", "RISK_CHECK", "Risk check", { threshold: 80 }, [
        ["success", "email-otp"],
        ["high-risk", "DENY"],
      ]),
      {
        position: 2,
      },
    );
    const third = await saveStep(
      w.editor,
      w,
      step("password", "PASSWORD", "Password", { minLength: 14 }, [
        ["success", "risk"],
        ["failure", "DENY"],
      ]),
    );
    const draft = third.draft;
    expect(draft.revision).toBe(3);
    expect(draft.steps.map((s: { key: string }) => s.key)).toEqual(["identify", "password", "risk", "email-otp"]);
    expect(draft.problems).toEqual([]);
    const summaries = draft.changes.map((c: { summary: string }) => c.summary);
    expect(summaries).toContain("Password · minimum length: 12 → 14");
    expect(summaries).toContain("Added step Risk check (RISK_CHECK)");
    const transition = draft.changes.find((c: { path: string }) => c.path === "/journeys/login/steps/password/transitions/success");
    const added = draft.changes.find((c: { path: string }) => c.path === "/journeys/login/steps/risk");
    expect(transition.requires).toEqual([added.id]);
    expect(transition.bundleId).toBe(added.bundleId);

    // The review shows the same changes, with the same ids, as the journey's draft field.
    const review = await w.editor.data(JOURNEY, { id: w.catalogue.journeys.login, env: dev });
    expect(review.node.draft.changes.map((c: { id: string }) => c.id)).toEqual(draft.changes.map((c: { id: string }) => c.id));

    const saved = await w.editor.data(SAVE, {
      input: { journeyId: w.catalogue.journeys.login, environmentId: dev, draftRevision: 3, comment: "Risk check before the code" },
    });
    expect(saved.saveJourney).toMatchObject({
      __typename: "SaveJourneySuccess",
      version: { version: 2, origin: "SAVE", savedBy: "editor-token", comment: "Risk check before the code" },
    });

    const after = await w.editor.data(JOURNEY, { id: w.catalogue.journeys.login, env: dev });
    expect(after.node.draft).toBeNull();
    expect(after.node.configuration).toMatchObject({ version: 2, origin: "SAVE", hash: saved.saveJourney.version.hash });
    expect(after.node.versions.edges.map((e: { node: { version: number } }) => e.node.version)).toEqual([2, 1]);
    expect(after.node.syncStates[0]).toMatchObject({
      environment: { key: "staging" },
      status: "OUT_OF_SYNC",
      message: "Journey Configuration out of Sync",
      changeCount: draft.changes.length,
    });

    // The diff to staging lists exactly the reviewed changes, with the reviewed ids.
    const diff = await w.editor.data(DIFF, {
      a: w.catalogue.applicationId,
      from: dev,
      to: w.catalogue.environments.staging,
      j: w.catalogue.journeys.login,
    });
    expect(diff.diff.status).toBe("OUT_OF_SYNC");
    expect(diff.diff.changes.map((c: { id: string }) => c.id).sort()).toEqual(draft.changes.map((c: { id: string }) => c.id).sort());
  });

  it("removes a step, reports what pointed at it as a problem, and refuses to save until it is fixed", async () => {
    const w = await world();
    const ids = { journeyId: w.catalogue.journeys.login, environmentId: w.catalogue.environments.development };
    const removed = await w.editor.data(REMOVE_STEP, { input: { ...ids, stepKey: "email-otp" } });
    expect(removed.removeJourneyStep.draft.revision).toBe(1);
    expect(removed.removeJourneyStep.draft.problems).toEqual([
      expect.objectContaining({ path: "steps.password.transitions.success", message: expect.stringContaining("email-otp") }),
    ]);
    const refused = await w.editor.data(SAVE, { input: { ...ids, draftRevision: 1 } });
    expect(refused.saveJourney.__typename).toBe("InvalidConfigurationError");
    expect(refused.saveJourney.problems[0].path).toBe("steps.password.transitions.success");

    await saveStep(
      w.editor,
      w,
      step("password", "PASSWORD", "Password", {}, [
        ["success", "COMPLETE"],
        ["failure", "DENY"],
      ]),
    );
    const saved = await w.editor.data(SAVE, { input: { ...ids, draftRevision: 2 } });
    expect(saved.saveJourney.version.steps.map((s: { key: string }) => s.key)).toEqual(["identify", "password"]);
  });

  it("sets the start step and discards a draft without touching the saved version", async () => {
    const w = await world();
    const ids = { journeyId: w.catalogue.journeys.login, environmentId: w.catalogue.environments.development };
    const started = await w.editor.data(SET_START, { input: { ...ids, stepKey: "password" } });
    expect(started.setJourneyStart.draft.document.start).toBe("password");
    const discarded = await w.editor.data(DISCARD, { input: ids });
    expect(discarded.discardJourneyDraft).toEqual({ __typename: "DiscardJourneyDraftSuccess", journey: { key: "login" } });
    const after = await w.editor.data(JOURNEY, { id: ids.journeyId, env: ids.environmentId });
    expect(after.node.draft).toBeNull();
    expect(after.node.configuration.version).toBe(1);
  });
});

describe("two editors on one draft", () => {
  it("refuses the second save with DRAFT_CONFLICT when the draft changed after its review, and loses nothing", async () => {
    const w = await world();
    const ids = { journeyId: w.catalogue.journeys.login, environmentId: w.catalogue.environments.development };
    const other = apiAs(server.endpoint, w.tenant, "ADMIN");
    await saveStep(
      w.editor,
      w,
      step("password", "PASSWORD", "Password", { minLength: 16 }, [
        ["success", "email-otp"],
        ["failure", "DENY"],
      ]),
    );
    // The first editor reviews revision 1; meanwhile the second editor edits and saves.
    await saveStep(other, w, step("identify", "IDENTIFIER", "Enter email", { rememberMe: false }, [["success", "password"]]));
    const second = await other.data(SAVE, { input: { ...ids, draftRevision: 2, comment: "both edits" } });
    expect(second.saveJourney.version.version).toBe(2);

    const first = await w.editor.data(SAVE, { input: { ...ids, draftRevision: 1 } });
    expect(first.saveJourney).toMatchObject({ __typename: "DraftConflictError", code: "DRAFT_CONFLICT" });

    const after = await w.editor.data(JOURNEY, { id: ids.journeyId, env: ids.environmentId });
    expect(after.node.versions.edges.map((e: { node: { version: number } }) => e.node.version)).toEqual([2, 1]);
    // Nothing lost: both edits are in version 2.
    const rows = await tenantRows(w.tenant.organizationId);
    const v2 = rows.journeyVersions.find((v) => v.version === 2)!;
    expect(v2.document.steps.password.settings).toMatchObject({ minLength: 16 });
    expect(v2.document.steps.identify.settings).toMatchObject({ rememberMe: false });
  });

  it("refuses a save of a revision that is not the draft's current one", async () => {
    const w = await world();
    const ids = { journeyId: w.catalogue.journeys.login, environmentId: w.catalogue.environments.development };
    await saveStep(
      w.editor,
      w,
      step("password", "PASSWORD", "Password", { minLength: 20 }, [
        ["success", "email-otp"],
        ["failure", "DENY"],
      ]),
    );
    await saveStep(
      w.editor,
      w,
      step("password", "PASSWORD", "Password", { minLength: 21 }, [
        ["success", "email-otp"],
        ["failure", "DENY"],
      ]),
    );
    const stale = await w.editor.data(SAVE, { input: { ...ids, draftRevision: 1 } });
    expect(stale.saveJourney.code).toBe("DRAFT_CONFLICT");
    const after = await w.editor.data(JOURNEY, { id: ids.journeyId, env: ids.environmentId });
    expect(after.node.versions.edges).toHaveLength(1);
    expect(after.node.draft.revision).toBe(2);
  });

  it("accepts 20 concurrent step saves on one draft: every step is in it and the revision counts them all", async () => {
    const w = await world();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        saveStep(w.editor, w, step(`extra-${i}`, "EMAIL_OTP", `Extra ${i}`, { codeLength: 6 + (i % 4) }, [["success", "COMPLETE"]])),
      ),
    );
    expect(results.every((r) => r.__typename === "SaveJourneyStepSuccess")).toBe(true);
    const revisions = results.map((r) => r.draft.revision).sort((a, b) => a - b);
    expect(revisions).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const review = await w.editor.data(JOURNEY, { id: w.catalogue.journeys.login, env: w.catalogue.environments.development });
    expect(review.node.draft.revision).toBe(20);
    const paths = review.node.draft.changes.map((c: { path: string }) => c.path);
    for (let i = 0; i < 20; i++) expect(paths).toContain(`/journeys/login/steps/extra-${i}`);
  });
});

describe("refused edits write nothing", () => {
  const cases: [string, (w: World) => object, string, RegExp | string][] = [
    ["an unknown step type", () => step("magic", "MAGIC_LINK", "Magic", {}, [["success", "COMPLETE"]]), "VALIDATION_FAILED", /MAGIC_LINK/],
    [
      "invalid settings",
      () => step("email-otp", "EMAIL_OTP", "Email code", { codeLength: 3 }, [["success", "COMPLETE"]]),
      "VALIDATION_FAILED",
      "steps.email-otp.settings.codeLength",
    ],
    [
      "an unknown setting",
      () => step("email-otp", "EMAIL_OTP", "Email code", { colour: "red" }, [["success", "COMPLETE"]]),
      "VALIDATION_FAILED",
      "steps.email-otp.settings.colour",
    ],
    [
      "a transition to a missing step",
      () => step("password", "PASSWORD", "Password", {}, [["success", "nowhere"]]),
      "VALIDATION_FAILED",
      "steps.password.transitions.success",
    ],
    [
      "a step key that is not a slug",
      () => step("Not A Slug", "PASSWORD", "Password", {}, [["success", "COMPLETE"]]),
      "VALIDATION_FAILED",
      /invalid step key/,
    ],
    [
      "an outcome given twice",
      () =>
        step("password", "PASSWORD", "Password", {}, [
          ["success", "COMPLETE"],
          ["success", "DENY"],
        ]),
      "VALIDATION_FAILED",
      "step.transitions.1.outcome",
    ],
  ];

  for (const [what, build, code, where] of cases) {
    it(`refuses ${what} with ${code}`, async () => {
      const w = await world();
      const before = await tenantRows(w.tenant.organizationId);
      const result = await saveStep(w.editor, w, build(w));
      expect(result.code).toBe(code);
      const paths = JSON.stringify(result.problems);
      if (typeof where === "string") expect(result.problems.map((p: { path: string }) => p.path)).toContain(where);
      else expect(paths).toMatch(where);
      expect(await tenantRows(w.tenant.organizationId)).toEqual(before);
    });
  }

  it("refuses removing the start step", async () => {
    const w = await world();
    const before = await tenantRows(w.tenant.organizationId);
    const result = await w.editor.data(REMOVE_STEP, {
      input: { journeyId: w.catalogue.journeys.login, environmentId: w.catalogue.environments.development, stepKey: "identify" },
    });
    expect(result.removeJourneyStep.code).toBe("VALIDATION_FAILED");
    expect(await tenantRows(w.tenant.organizationId)).toEqual(before);
  });

  it("refuses every edit in an environment that is not editable with ENVIRONMENT_LOCKED", async () => {
    const w = await world();
    const ids = { journeyId: w.catalogue.journeys.login, environmentId: w.catalogue.environments.staging };
    const before = await tenantRows(w.tenant.organizationId);
    const s = step("password", "PASSWORD", "Password", {}, [["success", "COMPLETE"]]);
    const results = [
      (await w.editor.data(SAVE_STEP, { input: { ...ids, step: s } })).saveJourneyStep,
      (await w.editor.data(REMOVE_STEP, { input: { ...ids, stepKey: "password" } })).removeJourneyStep,
      (await w.editor.data(SET_START, { input: { ...ids, stepKey: "password" } })).setJourneyStart,
      (await w.editor.data(DISCARD, { input: ids })).discardJourneyDraft,
      (await w.editor.data(SAVE, { input: { ...ids, draftRevision: 1 } })).saveJourney,
    ];
    expect(results.map((r) => r.code)).toEqual(Array(5).fill("ENVIRONMENT_LOCKED"));
    expect(await tenantRows(w.tenant.organizationId)).toEqual(before);
  });

  it("refuses a VIEWER with FORBIDDEN", async () => {
    const w = await world();
    const viewer = apiAs(server.endpoint, w.tenant, "VIEWER");
    const result = await saveStep(viewer, w, step("password", "PASSWORD", "Password", {}, [["success", "COMPLETE"]]));
    expect(result.code).toBe("FORBIDDEN");
  });

  it("refuses to save a draft that changes nothing", async () => {
    const w = await world();
    const ids = { journeyId: w.catalogue.journeys.login, environmentId: w.catalogue.environments.development };
    await saveStep(
      w.editor,
      w,
      step("password", "PASSWORD", "Password", { minLength: 12 }, [
        ["success", "email-otp"],
        ["failure", "DENY"],
      ]),
    );
    const result = await w.editor.data(SAVE, { input: { ...ids, draftRevision: 1 } });
    expect(result.saveJourney.code).toBe("VALIDATION_FAILED");
    expect(result.saveJourney.message).toMatch(/nothing to save/i);
  });

  it("refuses a journey of another organization with NOT_FOUND", async () => {
    const w = await world();
    const stranger = await world();
    const result = await saveStep(
      stranger.editor,
      { ...stranger, catalogue: { ...stranger.catalogue, journeys: w.catalogue.journeys } },
      step("password", "PASSWORD", "P", {}, [["success", "COMPLETE"]]),
    );
    expect(result.code).toBe("NOT_FOUND");
  });
});

describe("client settings", () => {
  it("versions a settings change in development and shows the staging client out of sync", async () => {
    const w = await world();
    const result = await w.editor.data(UPDATE_CLIENT, {
      input: { clientId: w.catalogue.clientId, settings: { accessTokenTtlSeconds: 900 } },
    });
    expect(result.updateClient.client.settings.accessTokenTtlSeconds).toBe(900);
    const rows = await tenantRows(w.tenant.organizationId);
    const versions = rows.clientSettingsVersions.filter(
      (v) => v.clientId === rows.clients.find((c) => c.settings.accessTokenTtlSeconds === 900)!.id,
    );
    expect(versions.map((v) => v.version)).toEqual([1, 2]);
    const staging = await w.editor.data(`query($id: ID!) { node(id: $id) { ... on Client { syncStatus } } }`, { id: w.stagingClientId });
    expect(staging.node.syncStatus).toBe("OUT_OF_SYNC");
    const diff = await w.editor.data(DIFF, {
      a: w.catalogue.applicationId,
      from: w.catalogue.environments.development,
      to: w.catalogue.environments.staging,
    });
    expect(diff.diff.changes.map((c: { summary: string; path: string }) => c.path)).toEqual(["/client/settings/accessTokenTtlSeconds"]);
  });

  it("refuses settings out of range with the path, and settings in a locked environment", async () => {
    const w = await world();
    const before = await tenantRows(w.tenant.organizationId);
    const invalid = await w.editor.data(UPDATE_CLIENT, {
      input: { clientId: w.catalogue.clientId, settings: { accessTokenTtlSeconds: 5 } },
    });
    expect(invalid.updateClient.code).toBe("VALIDATION_FAILED");
    expect(invalid.updateClient.problems[0].path).toBe("settings.accessTokenTtlSeconds");
    const locked = await w.editor.data(UPDATE_CLIENT, { input: { clientId: w.stagingClientId, settings: { pkceRequired: false } } });
    expect(locked.updateClient.code).toBe("ENVIRONMENT_LOCKED");
    expect(await tenantRows(w.tenant.organizationId)).toEqual(before);
  });

  it("lets an ADMIN change environment-specific fields in any environment, and refuses an EDITOR", async () => {
    const w = await world();
    const refused = await w.editor.data(UPDATE_CLIENT, {
      input: { clientId: w.stagingClientId, redirectUris: ["https://x.example.com/cb"] },
    });
    expect(refused.updateClient.code).toBe("FORBIDDEN");
    const changed = await w.admin.data(UPDATE_CLIENT, {
      input: { clientId: w.stagingClientId, redirectUris: ["https://staging.example.com/cb"], name: "Portal staging" },
    });
    expect(changed.updateClient.client).toMatchObject({
      redirectUris: ["https://staging.example.com/cb"],
      name: "Portal staging",
      syncStatus: "IN_SYNC",
    });
    const otherDatabase = await w.admin.data(UPDATE_CLIENT, {
      input: { clientId: w.stagingClientId, databaseId: w.catalogue.databases.production },
    });
    expect(otherDatabase.updateClient.code).toBe("VALIDATION_FAILED");
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, apiAs, type Catalogue, createCatalogueWithStaging, operation, tenantRows } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";

/**
 * References to variables in configurations (DESIGN.md §6): a reference travels upward with the
 * configuration, each environment resolves it to its own value; values are never compared, never
 * propagated; a save or a promotion into an environment that lacks a value is refused before it
 * writes anything, and a value or variable in use cannot be removed.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const RESULT = `__typename ... on Error { code message } ... on ValidationError { problems { path message } }`;
const INVALID = `... on InvalidConfigurationError { problems { path message } }`;
const MISSING = `... on MissingVariablesError { variables }`;
const IN_USE = `... on VariableInUseError { references { path draft environment { key } journey { key } application { name } } }`;

const CREATE_VARIABLE = operation(
  `mutation($input: CreateVariableInput!) { createVariable(input: $input) { ${RESULT} ... on CreateVariableSuccess { variable { id } } } }`,
);
const SET_VALUE = operation(`mutation($input: SetVariableValueInput!) { setVariableValue(input: $input) { ${RESULT} } }`);
const REMOVE_VALUE = operation(
  `mutation($input: RemoveVariableValueInput!) { removeVariableValue(input: $input) { ${RESULT} ${IN_USE} } }`,
);
const DELETE_VARIABLE = operation(`mutation($input: DeleteVariableInput!) { deleteVariable(input: $input) { ${RESULT} ${IN_USE} } }`);
const SAVE_STEP = operation(`mutation($input: SaveJourneyStepInput!) { saveJourneyStep(input: $input) { ${RESULT}
  ... on SaveJourneyStepSuccess { draft { revision problems { path message } } } } }`);
const SAVE = operation(
  `mutation($input: SaveJourneyInput!) { saveJourney(input: $input) { ${RESULT} ${INVALID} ... on SaveJourneySuccess { version { version } } } }`,
);
const DIFF = operation(`query($a: ID!, $from: ID!, $to: ID!) { diff(applicationId: $a, fromEnvironmentId: $from, toEnvironmentId: $to) {
  status changes { id path } missingVariables { key changeIds } } }`);
const PROMOTE = operation(`mutation($input: PromoteNowInput!) { promoteNow(input: $input) { ${RESULT} ${INVALID} ${MISSING} } }`);
const CONFIGURATION = operation(`query($j: ID!, $e: ID!) { node(id: $j) { ... on Journey {
  configuration(environmentId: $e) { version document resolvedDocument } syncStates { environment { key } status } } } }`);
const UPDATE_CLIENT = operation(`mutation($input: UpdateClientInput!) { updateClient(input: $input) { ${RESULT} } }`);
const CREATE_CLIENT = operation(`mutation($input: CreateClientInput!) { createClient(input: $input) { ${RESULT} ${INVALID} ${MISSING} } }`);
const REFERENCES = operation(
  `query($id: ID!) { node(id: $id) { ... on Variable { references { path draft environment { key } journey { key } } } } }`,
);

interface World {
  tenant: Tenant;
  api: Api;
  catalogue: Catalogue;
  env: Catalogue["environments"];
}

async function world(label: string): Promise<World> {
  const tenant = await createTenant(label);
  const api = apiAs(server.endpoint, tenant);
  const catalogue = await createCatalogueWithStaging(api);
  return { tenant, api, catalogue, env: catalogue.environments };
}

async function variable(w: World, key: string, kind: string, values: Partial<Record<keyof Catalogue["environments"], unknown>> = {}) {
  const { createVariable } = await w.api.data(CREATE_VARIABLE, { input: { key, kind } });
  const id = createVariable.variable.id as string;
  for (const [environment, value] of Object.entries(values)) {
    const result = (await w.api.data(SET_VALUE, { input: { variableId: id, environmentId: w.env[environment as "staging"], value } }))
      .setVariableValue;
    expect(result.__typename, JSON.stringify(result)).toBe("SetVariableValueSuccess");
  }
  return id;
}

const emailCode = (settings: Record<string, unknown>) => ({
  key: "email-otp",
  type: "EMAIL_OTP",
  name: "Email code",
  enabled: true,
  settings,
  transitions: [
    { outcome: "success", to: "COMPLETE" },
    { outcome: "failure", to: "DENY" },
  ],
});

async function editStep(w: World, step: Record<string, unknown>) {
  return (await w.api.data(SAVE_STEP, { input: { journeyId: w.catalogue.journeys.login, environmentId: w.env.development, step } }))
    .saveJourneyStep;
}

async function save(w: World, revision: number) {
  return (
    await w.api.data(SAVE, { input: { journeyId: w.catalogue.journeys.login, environmentId: w.env.development, draftRevision: revision } })
  ).saveJourney;
}

const promote = (w: World, to: "staging" | "production" = "staging") =>
  w.api
    .data(PROMOTE, {
      input: {
        applicationId: w.catalogue.applicationId,
        fromEnvironmentId: to === "staging" ? w.env.development : w.env.staging,
        toEnvironmentId: w.env[to],
      },
    })
    .then((d) => d.promoteNow);

const configuration = (w: World, environment: keyof Catalogue["environments"]) =>
  w.api.data(CONFIGURATION, { j: w.catalogue.journeys.login, e: w.env[environment] }).then((d) => d.node);

describe("a reference in a step", () => {
  it("is kept in the draft, named by the draft's problems until it has a fitting value, then saved as written", async () => {
    const w = await world("references-save");
    const edited = await editStep(w, emailCode({ codeLength: "&{otp.length}" }));
    expect(edited.__typename).toBe("SaveJourneyStepSuccess");
    expect(edited.draft.problems).toEqual([
      {
        path: "steps.email-otp.settings.codeLength",
        message: expect.stringMatching(/references &\{otp\.length\}, which names no variable/),
      },
    ]);
    expect(await save(w, edited.draft.revision)).toMatchObject({ __typename: "InvalidConfigurationError", code: "INVALID_CONFIGURATION" });

    const otp = await variable(w, "otp.length", "NUMBER", { development: 99 });
    const unfit = await save(w, edited.draft.revision);
    expect(unfit.__typename).toBe("InvalidConfigurationError");
    expect(unfit.problems[0]).toMatchObject({
      path: "steps.email-otp.settings.codeLength",
      message: expect.stringMatching(/must be between 4 and 10 \(&\{otp\.length\} in Development\)/),
    });

    await w.api.data(SET_VALUE, { input: { variableId: otp, environmentId: w.env.development, value: 8 } });
    expect(await save(w, edited.draft.revision)).toMatchObject({ __typename: "SaveJourneySuccess", version: { version: 2 } });
    const saved = await configuration(w, "development");
    expect(saved.configuration.document.steps["email-otp"].settings).toEqual({ codeLength: "&{otp.length}", ttlSeconds: 300 });
    expect(saved.configuration.resolvedDocument.steps["email-otp"].settings).toEqual({ codeLength: 8, ttlSeconds: 300 });
  });

  it("refuses a malformed reference and a secret setting that is not a whole reference, writing nothing", async () => {
    const w = await world("references-malformed");
    const before = await tenantRows(w.tenant.organizationId);
    const malformed = await editStep(w, emailCode({ codeLength: "&{Otp Length}" }));
    expect(malformed).toMatchObject({ __typename: "ValidationError", problems: [{ path: "steps.email-otp.settings.codeLength" }] });
    const webhook = {
      key: "risk-hook",
      type: "WEBHOOK",
      name: "Risk hook",
      enabled: true,
      transitions: [{ outcome: "success", to: "COMPLETE" }],
    };
    const plain = await editStep(w, {
      ...webhook,
      settings: { url: "https://hooks.example.com/risk", signingSecret: "plain-text-secret" },
    });
    expect(plain).toMatchObject({ __typename: "ValidationError", problems: [{ path: "steps.risk-hook.settings.signingSecret" }] });
    expect(JSON.stringify(plain)).not.toContain("plain-text-secret");
    const around = await editStep(w, {
      ...webhook,
      settings: { url: "https://hooks.example.com/risk", signingSecret: "x-&{webhook.signing-secret}" },
    });
    expect(around).toMatchObject({ __typename: "ValidationError", problems: [{ path: "steps.risk-hook.settings.signingSecret" }] });
    expect(await tenantRows(w.tenant.organizationId)).toEqual(before);
  });

  it("travels upward as written; each environment runs its own value; values are never a difference", async () => {
    const w = await world("references-promote");
    const otp = await variable(w, "otp.length", "NUMBER", { development: 8 });
    await variable(w, "webhook.host", "STRING", { development: "hooks.dev.example.com" });
    await variable(w, "webhook.signing-secret", "SECRET", { development: "dev-signing-secret" });
    await editStep(w, emailCode({ codeLength: "&{otp.length}" }));
    const hook = await editStep(w, {
      key: "risk-hook",
      type: "WEBHOOK",
      name: "Risk hook",
      enabled: true,
      settings: { url: "https://&{webhook.host}/risk", signingSecret: "&{webhook.signing-secret}" },
      transitions: [{ outcome: "success", to: "COMPLETE" }],
    });
    expect(hook.draft.problems).toEqual([]);
    expect((await save(w, hook.draft.revision)).__typename).toBe("SaveJourneySuccess");

    // Staging lacks all three: the diff names them with the changes that need them; a promotion is refused and writes nothing.
    const diff = (await w.api.data(DIFF, { a: w.catalogue.applicationId, from: w.env.development, to: w.env.staging })).diff;
    expect(diff.missingVariables.map((m: { key: string }) => m.key)).toEqual(["otp.length", "webhook.host", "webhook.signing-secret"]);
    for (const missing of diff.missingVariables) {
      expect(missing.changeIds.length).toBeGreaterThan(0);
      for (const id of missing.changeIds) expect(diff.changes.map((c: { id: string }) => c.id)).toContain(id);
    }
    const before = await tenantRows(w.tenant.organizationId);
    expect(await promote(w)).toMatchObject({
      __typename: "MissingVariablesError",
      code: "MISSING_VARIABLES",
      variables: ["otp.length", "webhook.host", "webhook.signing-secret"],
    });
    expect(await tenantRows(w.tenant.organizationId)).toEqual(before);

    const ids = { otp, host: "", secret: "" };
    const all = (await w.api.data(`query { variables { id key } }`)).variables as { id: string; key: string }[];
    ids.host = all.find((v) => v.key === "webhook.host")!.id;
    ids.secret = all.find((v) => v.key === "webhook.signing-secret")!.id;
    for (const [id, value] of [
      [ids.otp, 6],
      [ids.host, "hooks.staging.example.com"],
      [ids.secret, "staging-signing-secret"],
    ] as const) {
      await w.api.data(SET_VALUE, { input: { variableId: id, environmentId: w.env.staging, value } });
    }
    const ready = (await w.api.data(DIFF, { a: w.catalogue.applicationId, from: w.env.development, to: w.env.staging })).diff;
    expect(ready.missingVariables).toEqual([]);
    expect(await promote(w)).toMatchObject({ __typename: "PromoteNowSuccess" });

    const staging = await configuration(w, "staging");
    const development = await configuration(w, "development");
    expect(staging.configuration.document).toEqual(development.configuration.document);
    expect(staging.configuration.resolvedDocument.steps["email-otp"].settings.codeLength).toBe(6);
    expect(development.configuration.resolvedDocument.steps["email-otp"].settings.codeLength).toBe(8);
    expect(staging.configuration.resolvedDocument.steps["risk-hook"].settings).toEqual({
      url: "https://hooks.staging.example.com/risk",
      signingSecret: "&{webhook.signing-secret}",
      timeoutMs: 3000,
    });
    expect(JSON.stringify(staging)).not.toContain("staging-signing-secret");
    expect(staging.syncStates.find((s: { environment: { key: string } }) => s.environment.key === "staging").status).toBe("IN_SYNC");

    // A new value changes what runs, not the sync state.
    await w.api.data(SET_VALUE, { input: { variableId: ids.otp, environmentId: w.env.staging, value: 7 } });
    const after = await configuration(w, "staging");
    expect(after.configuration.resolvedDocument.steps["email-otp"].settings.codeLength).toBe(7);
    expect(after.syncStates.find((s: { environment: { key: string } }) => s.environment.key === "staging").status).toBe("IN_SYNC");

    // In use: the value cannot be removed where it is saved, nor the variable deleted; references say where.
    const removed = (await w.api.data(REMOVE_VALUE, { input: { variableId: ids.otp, environmentId: w.env.staging } })).removeVariableValue;
    expect(removed).toMatchObject({ __typename: "VariableInUseError", code: "VARIABLE_IN_USE" });
    expect(removed.references).toEqual([
      {
        path: "steps.email-otp.settings.codeLength",
        draft: false,
        environment: { key: "staging" },
        journey: { key: "login" },
        application: { name: "Customer Portal" },
      },
    ]);
    const deleted = (await w.api.data(DELETE_VARIABLE, { input: { variableId: ids.otp } })).deleteVariable;
    expect(deleted.__typename).toBe("VariableInUseError");
    expect(deleted.references.map((r: { environment: { key: string } }) => r.environment.key).sort()).toEqual(["development", "staging"]);
    const references = (await w.api.data(REFERENCES, { id: ids.otp })).node.references;
    expect(references).toHaveLength(2);
    // Production has no client: removing a value nothing there uses is fine.
    await w.api.data(SET_VALUE, { input: { variableId: ids.otp, environmentId: w.env.production, value: 6 } });
    expect(
      (await w.api.data(REMOVE_VALUE, { input: { variableId: ids.otp, environmentId: w.env.production } })).removeVariableValue.__typename,
    ).toBe("RemoveVariableValueSuccess");

    // Creating the production client copies the configuration: refused while production lacks the values.
    const before2 = await tenantRows(w.tenant.organizationId);
    const created = (
      await w.api.data(CREATE_CLIENT, {
        input: {
          applicationId: w.catalogue.applicationId,
          environmentId: w.env.production,
          databaseId: w.catalogue.databases.production,
          redirectUris: ["https://portal.example.com/callback"],
          allowedOrigins: [],
        },
      })
    ).createClient;
    expect(created).toMatchObject({
      __typename: "MissingVariablesError",
      variables: ["otp.length", "webhook.host", "webhook.signing-secret"],
    });
    expect(await tenantRows(w.tenant.organizationId)).toEqual(before2);
  });

  it("keeps secrets to secret settings and embeds only STRING and URL values in text", async () => {
    const w = await world("references-placement");
    await variable(w, "webhook.signing-secret", "SECRET", { development: "s" });
    await variable(w, "otp.length", "NUMBER", { development: 8 });
    const misplaced = await editStep(w, {
      key: "risk-hook",
      type: "WEBHOOK",
      name: "Risk hook",
      enabled: true,
      settings: { url: "https://&{otp.length}.example.com/&{webhook.signing-secret}" },
      transitions: [{ outcome: "success", to: "COMPLETE" }],
    });
    expect(misplaced.draft.problems.map((p: { message: string }) => p.message)).toEqual([
      expect.stringMatching(/&\{otp\.length\} is a NUMBER variable: only STRING and URL/),
      expect.stringMatching(/&\{webhook\.signing-secret\} is a SECRET variable: only STRING and URL/),
    ]);
  });
});

describe("a reference in client settings", () => {
  it("needs a fitting value where it is saved and where it is promoted", async () => {
    const w = await world("references-client");
    const refused = (
      await w.api.data(UPDATE_CLIENT, { input: { clientId: w.catalogue.clientId, settings: { accessTokenTtlSeconds: "&{token.ttl}" } } })
    ).updateClient;
    expect(refused).toMatchObject({ __typename: "ValidationError", problems: [{ path: "client.settings.accessTokenTtlSeconds" }] });
    await variable(w, "token.ttl", "NUMBER", { development: 900 });
    expect(
      (await w.api.data(UPDATE_CLIENT, { input: { clientId: w.catalogue.clientId, settings: { accessTokenTtlSeconds: "&{token.ttl}" } } }))
        .updateClient.__typename,
    ).toBe("UpdateClientSuccess");
    expect(await promote(w)).toMatchObject({ __typename: "MissingVariablesError", variables: ["token.ttl"] });
  });
});

describe("a reference in a new journey", () => {
  it("needs a fitting value in the lowest environment, where the journey's first version is saved", async () => {
    const w = await world("references-create-journey");
    const CREATE_JOURNEY = operation(`mutation($input: CreateJourneyInput!) { createJourney(input: $input) { ${RESULT} } }`);
    const document = {
      start: "code",
      steps: { code: { type: "EMAIL_OTP", name: "Code", settings: { codeLength: "&{otp.length}" }, transitions: { success: "COMPLETE" } } },
    };
    const input = { applicationId: w.catalogue.applicationId, key: "with-reference", name: "With a reference", type: "LOGIN", document };
    const before = await tenantRows(w.tenant.organizationId);
    const refused = (await w.api.data(CREATE_JOURNEY, { input })).createJourney;
    expect(refused).toMatchObject({ __typename: "ValidationError", problems: [{ path: "document.steps.code.settings.codeLength" }] });
    expect(await tenantRows(w.tenant.organizationId)).toEqual(before);
    await variable(w, "otp.length", "NUMBER", { development: 6 });
    expect((await w.api.data(CREATE_JOURNEY, { input })).createJourney.__typename).toBe("CreateJourneySuccess");
  });
});

describe("text that looks like a reference outside settings", () => {
  it("is just text in a step's name: no variable needed, none held in use", async () => {
    const w = await world("references-in-names");
    const id = await variable(w, "looks.like", "STRING", { development: "x" });
    const edited = await editStep(w, { ...emailCode({}), name: "Code &{looks.like}" });
    expect(edited.draft.problems).toEqual([]);
    expect((await save(w, edited.draft.revision)).__typename).toBe("SaveJourneySuccess");
    expect((await w.api.data(REFERENCES, { id })).node.references).toEqual([]);
    expect((await w.api.data(DELETE_VARIABLE, { input: { variableId: id } })).deleteVariable.__typename).toBe("DeleteVariableSuccess");
    const saved = await configuration(w, "development");
    expect(saved.configuration.resolvedDocument.steps["email-otp"].name).toBe("Code &{looks.like}");
  });
});

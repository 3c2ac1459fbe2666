import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { globalId, parseGlobalId } from "../../src/graphql/ids.js";
import {
  type Api,
  apiAs,
  type Catalogue,
  createApiToken,
  createApplication,
  createCatalogue,
  errorCodes,
  LOGIN_DOCUMENT,
  operation,
  tenantRows,
} from "../support/fixtures.js";
import { gql } from "../support/graphql.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";

/**
 * Bad input, every mutation and every ID-taking field: a typed error (HTTP 200, errors as data) for
 * mutations, a GraphQL error with `extensions.code` for queries, never INTERNAL_SERVER_ERROR, and
 * nothing written: the tenant's rows, read from the tables, are the same before and after.
 */

const ERROR_FIELDS = `__typename ... on Error { code message } ... on ValidationError { problems { path message } }`;

const MUTATIONS = {
  createEnvironment: operation(`
    mutation CreateEnvironment($input: CreateEnvironmentInput!) { createEnvironment(input: $input) { ${ERROR_FIELDS} } }
  `),
  createDatabase: operation(`
    mutation CreateDatabase($input: CreateDatabaseInput!) { createDatabase(input: $input) { ${ERROR_FIELDS} } }
  `),
  createApplication: operation(`
    mutation CreateApplication($input: CreateApplicationInput!) { createApplication(input: $input) { ${ERROR_FIELDS} } }
  `),
  createClient: operation(`
    mutation CreateClient($input: CreateClientInput!) { createClient(input: $input) { ${ERROR_FIELDS} } }
  `),
  createJourney: operation(`
    mutation CreateJourney($input: CreateJourneyInput!) { createJourney(input: $input) { ${ERROR_FIELDS} } }
  `),
  createApiToken: operation(`
    mutation CreateApiToken($input: CreateApiTokenInput!) { createApiToken(input: $input) { ${ERROR_FIELDS} } }
  `),
  revokeApiToken: operation(`
    mutation RevokeApiToken($input: RevokeApiTokenInput!) { revokeApiToken(input: $input) { ${ERROR_FIELDS} } }
  `),
};
type MutationName = keyof typeof MUTATIONS;

const NODE = operation(`
  query Node($id: ID!) { node(id: $id) { __typename id } }
`);

const APPLICATION_CLIENT = operation(`
  query ApplicationClient($id: ID!, $environmentId: ID!) {
    node(id: $id) { ... on Application { name client(environmentId: $environmentId) { id } } }
  }
`);

const JOURNEY_CONFIGURATION = operation(`
  query JourneyConfiguration($id: ID!, $environmentId: ID!) {
    node(id: $id) { ... on Journey { key configuration(environmentId: $environmentId) { version } } }
  }
`);

const JOURNEY_VERSIONS = operation(`
  query JourneyVersions($id: ID!, $environmentId: ID!) {
    node(id: $id) { ... on Journey { key versions(environmentId: $environmentId) { edges { node { version } } } } }
  }
`);

const CODES = {
  NotFoundError: "NOT_FOUND",
  ValidationError: "VALIDATION_FAILED",
  AlreadyExistsError: "ALREADY_EXISTS",
  EnvironmentLockedError: "ENVIRONMENT_LOCKED",
} as const;
type ErrorType = keyof typeof CODES;

let server: TestServer;
/** The tenant under test, with the standard catalogue and an application that has no client yet. */
let tenant: Tenant;
let api: Api;
let catalogue: Catalogue;
let bareApplicationId: string;
/** Another organization, with the same catalogue: its IDs must name nothing for `tenant`. */
let other: Tenant;
let foreign: Catalogue;
let foreignTokenId: string;

beforeAll(async () => {
  server = await startTestServer();
  tenant = await createTenant("bad-input");
  api = apiAs(server.endpoint, tenant);
  catalogue = await createCatalogue(api);
  bareApplicationId = await createApplication(api, "Bare application");
  other = await createTenant("bad-input-other");
  const otherApi = apiAs(server.endpoint, other);
  foreign = await createCatalogue(otherApi, { databasePrefix: "other" });
  foreignTokenId = (await createApiToken(otherApi, { name: "other-bot", role: "VIEWER" })).id;
});
afterAll(() => server.stop());

const unexpectedErrorsLogged = () => server.logs.filter((line) => line.msg === "unexpected error").length;

interface Refusal {
  typename: ErrorType;
  /** The exact problem paths a ValidationError lists, in order. */
  paths?: string[];
  /** A substring of the problem message at each path, when the wording matters. */
  messages?: string[];
}

/**
 * Sends a mutation that must be refused: HTTP 200, no GraphQL errors, the typed error with its
 * code, and neither this tenant nor the other one has a row more, less or different.
 */
async function expectRefused(mutation: MutationName, input: Record<string, unknown>, refusal: Refusal, who: Tenant = tenant) {
  const before = [await tenantRows(who.organizationId), await tenantRows(other.organizationId)];
  const unexpectedBefore = unexpectedErrorsLogged();
  const response = await gql(server.endpoint, who.tokens.ADMIN, MUTATIONS[mutation], { input });
  expect(response.status).toBe(200);
  expect(response.errors).toBeUndefined();
  const result = response.data[mutation];
  expect(result).toMatchObject({ __typename: refusal.typename, code: CODES[refusal.typename] });
  expect(result.message).toEqual(expect.stringMatching(/\S/));
  if (refusal.typename === "ValidationError") {
    expect(result.problems.length).toBeGreaterThan(0);
    for (const problem of result.problems) expect(problem.message.startsWith(problem.path)).toBe(true);
  }
  if (refusal.paths) expect(result.problems.map((p: { path: string }) => p.path)).toEqual(refusal.paths);
  refusal.messages?.forEach((message, i) => {
    expect(result.problems[i].message).toContain(message);
  });
  expect(unexpectedErrorsLogged()).toBe(unexpectedBefore);
  expect([await tenantRows(who.organizationId), await tenantRows(other.organizationId)]).toEqual(before);
  return result;
}

const UNKNOWN_UUID = "6f1c1b7e-8f0c-4d43-9a43-4f1c2b7e8f0c";
const base64 = (text: string) => Buffer.from(text).toString("base64");

/** IDs that name nothing of `typename`, however they are malformed. */
function malformedIds(typename: Parameters<typeof globalId>[0]): [string, string][] {
  return [
    ["an empty ID", ""],
    ["a string that is no global ID", "not-an-id"],
    ["a global ID of an unknown type", base64(`Widget:${UNKNOWN_UUID}`)],
    ["a global ID without a local id", base64(`${typename}:`)],
    ["a global ID whose local id is not a UUID", globalId(typename, "not-a-uuid")],
    ["a well-formed ID nobody has", globalId(typename, UNKNOWN_UUID)],
  ];
}

describe("createEnvironment refuses bad input", () => {
  const valid = { key: "qa", name: "QA", rank: 1 };

  it.each([
    ["an empty name", { name: "" }, ["name"]],
    ["a blank name", { name: "   " }, ["name"]],
    ["a name over 100 characters", { name: "x".repeat(101) }, ["name"]],
    ["an empty key", { key: "" }, ["key"]],
    ["a key that is not a slug", { key: "QA Env" }, ["key"]],
    ["a negative rank", { rank: -1 }, ["rank"]],
    ["a rank over 1000", { rank: 1001 }, ["rank"]],
    ["an empty key and an empty name together", { key: "", name: "" }, ["key", "name"]],
  ])("refuses %s with VALIDATION_FAILED", async (_label, change, paths) => {
    await expectRefused("createEnvironment", { ...valid, ...change }, { typename: "ValidationError", paths });
  });

  it("refuses a key the organization already uses with ALREADY_EXISTS, leaving every rank in place", async () => {
    const result = await expectRefused("createEnvironment", { ...valid, key: "staging", rank: 0 }, { typename: "AlreadyExistsError" });
    expect(result.message).toContain("staging");
  });
});

describe("createDatabase refuses bad input", () => {
  const input = (change: Record<string, unknown>) => ({ environmentId: catalogue.environments.development, name: "new-users", ...change });

  it.each(malformedIds("Environment"))("refuses %s as environmentId with NOT_FOUND", async (_label, environmentId) => {
    await expectRefused("createDatabase", input({ environmentId }), { typename: "NotFoundError" });
  });

  it("refuses an application ID as environmentId with NOT_FOUND", async () => {
    await expectRefused("createDatabase", input({ environmentId: catalogue.applicationId }), { typename: "NotFoundError" });
  });

  it("refuses another organization's environment with NOT_FOUND", async () => {
    await expectRefused("createDatabase", input({ environmentId: foreign.environments.development }), { typename: "NotFoundError" });
  });

  it.each([
    ["an empty name", "", ["name"]],
    ["a name that is not a slug", "Acme Users", ["name"]],
    ["a name over 100 characters", "a".repeat(101), ["name"]],
  ])("refuses %s with VALIDATION_FAILED", async (_label, name, paths) => {
    await expectRefused("createDatabase", input({ name }), { typename: "ValidationError", paths });
  });

  it("refuses a name the organization already uses, even in another environment, with ALREADY_EXISTS", async () => {
    await expectRefused("createDatabase", input({ environmentId: catalogue.environments.production, name: "acme-users-development" }), {
      typename: "AlreadyExistsError",
    });
  });
});

describe("createApplication refuses bad input", () => {
  it.each([
    ["an empty name", ""],
    ["a blank name", " \t "],
    ["a name over 100 characters", "x".repeat(101)],
  ])("refuses %s with VALIDATION_FAILED", async (_label, name) => {
    await expectRefused("createApplication", { name }, { typename: "ValidationError", paths: ["name"] });
  });

  it.each([
    ["the same name", "Customer Portal"],
    ["the same name with surrounding spaces", "  Customer Portal "],
  ])("refuses %s as an existing application with ALREADY_EXISTS", async (_label, name) => {
    await expectRefused("createApplication", { name }, { typename: "AlreadyExistsError" });
  });
});

describe("createClient refuses bad input", () => {
  const input = (change: Record<string, unknown>) => ({
    applicationId: bareApplicationId,
    environmentId: catalogue.environments.development,
    databaseId: catalogue.databases.development,
    redirectUris: ["https://portal.example.com/callback"],
    allowedOrigins: ["https://portal.example.com"],
    ...change,
  });

  describe.each([
    ["applicationId", "Application", () => catalogue.environments.development, () => foreign.applicationId],
    ["environmentId", "Environment", () => catalogue.applicationId, () => foreign.environments.development],
    ["databaseId", "Database", () => catalogue.environments.development, () => foreign.databases.development],
  ] as const)("%s", (field, typename, wrongType, foreignId) => {
    it.each(malformedIds(typename))(`refuses %s as ${field} with NOT_FOUND`, async (_label, id) => {
      await expectRefused("createClient", input({ [field]: id }), { typename: "NotFoundError" });
    });

    it(`refuses an ID of another type as ${field} with NOT_FOUND`, async () => {
      await expectRefused("createClient", input({ [field]: wrongType() }), { typename: "NotFoundError" });
    });

    it(`refuses another organization's ${typename.toLowerCase()} as ${field} with NOT_FOUND`, async () => {
      await expectRefused("createClient", input({ [field]: foreignId() }), { typename: "NotFoundError" });
    });
  });

  it("refuses a database of another environment with VALIDATION_FAILED at databaseId", async () => {
    await expectRefused("createClient", input({ databaseId: catalogue.databases.staging }), {
      typename: "ValidationError",
      paths: ["databaseId"],
      messages: ["another environment"],
    });
  });

  it.each([
    ["plain http to a public host", "http://portal.example.com/callback"],
    ["a fragment", "https://portal.example.com/callback#top"],
    ["another scheme", "ftp://portal.example.com/callback"],
    ["a relative URL", "/callback"],
    ["no URL at all", "not a url"],
  ])("refuses a redirect URI with %s with VALIDATION_FAILED at its index", async (_label, uri) => {
    await expectRefused("createClient", input({ redirectUris: ["https://portal.example.com/callback", uri] }), {
      typename: "ValidationError",
      paths: ["redirectUris.1"],
    });
  });

  it.each([
    ["a javascript: origin", "javascript:alert(1)"],
    ["plain http to a public host", "http://portal.example.com"],
  ])("refuses %s as an allowed origin with VALIDATION_FAILED", async (_label, origin) => {
    await expectRefused("createClient", input({ allowedOrigins: [origin] }), { typename: "ValidationError", paths: ["allowedOrigins.0"] });
  });

  it.each([
    ["an empty name", ""],
    ["a blank name", "   "],
  ])("refuses %s with VALIDATION_FAILED", async (_label, name) => {
    await expectRefused("createClient", input({ name }), { typename: "ValidationError", paths: ["name"] });
  });

  it("reports every problem of the input at once", async () => {
    await expectRefused("createClient", input({ name: "", redirectUris: ["http://evil.example.com"], allowedOrigins: ["nope"] }), {
      typename: "ValidationError",
      paths: ["name", "redirectUris.0", "allowedOrigins.0"],
    });
  });

  it("refuses a second client of the application in the same environment with ALREADY_EXISTS", async () => {
    await expectRefused("createClient", input({ applicationId: catalogue.applicationId }), { typename: "AlreadyExistsError" });
  });
});

describe("createJourney refuses bad input", () => {
  const input = (change: Record<string, unknown>) => ({
    applicationId: catalogue.applicationId,
    key: "checkout",
    name: "Checkout",
    type: "LOGIN",
    ...change,
  });

  /** LOGIN_DOCUMENT with one step replaced (merged over the original). */
  const withStep = (key: string, change: Record<string, unknown>) => ({
    ...LOGIN_DOCUMENT,
    steps: { ...LOGIN_DOCUMENT.steps, [key]: { ...LOGIN_DOCUMENT.steps[key as keyof typeof LOGIN_DOCUMENT.steps], ...change } },
  });

  it.each(malformedIds("Application"))("refuses %s as applicationId with NOT_FOUND", async (_label, applicationId) => {
    await expectRefused("createJourney", input({ applicationId }), { typename: "NotFoundError" });
  });

  it("refuses an environment ID as applicationId with NOT_FOUND", async () => {
    await expectRefused("createJourney", input({ applicationId: catalogue.environments.development }), { typename: "NotFoundError" });
  });

  it("refuses another organization's application with NOT_FOUND", async () => {
    await expectRefused("createJourney", input({ applicationId: foreign.applicationId }), { typename: "NotFoundError" });
  });

  it.each([
    ["an empty key", { key: "" }, ["key"]],
    ["a key that is not a slug", { key: "Check Out" }, ["key"]],
    ["an empty name", { name: "" }, ["name"]],
    ["a blank name", { name: "  " }, ["name"]],
    ["a name over 200 characters", { name: "x".repeat(201) }, ["name"]],
  ])("refuses %s with VALIDATION_FAILED", async (_label, change, paths) => {
    await expectRefused("createJourney", input(change), { typename: "ValidationError", paths });
  });

  it("refuses a key the application already uses with ALREADY_EXISTS", async () => {
    await expectRefused("createJourney", input({ key: "login" }), { typename: "AlreadyExistsError" });
  });

  it.each([
    ["an unknown step type", withStep("password", { type: "FINGERPRINT" }), ["document.steps.password.type"], ["is not a known step type"]],
    [
      "a transition to a step that does not exist",
      withStep("password", { transitions: { success: "sms-otp", failure: "DENY" } }),
      ["document.steps.password.transitions.success"],
      ['points to unknown step "sms-otp"'],
    ],
    ["a start step that does not exist", { ...LOGIN_DOCUMENT, start: "welcome" }, ["document.start"], ['points to unknown step "welcome"']],
    [
      "a setting out of its range",
      withStep("email-otp", { settings: { codeLength: 3 } }),
      ["document.steps.email-otp.settings.codeLength"],
      ["document.steps.email-otp.settings.codeLength must be between 4 and 10"],
    ],
    [
      "a setting of the wrong type",
      withStep("password", { settings: { minLength: "twelve" } }),
      ["document.steps.password.settings.minLength"],
      ["must be"],
    ],
    [
      "an unknown setting",
      withStep("email-otp", { settings: { codeLength: 6, colour: "blue" } }),
      ["document.steps.email-otp.settings.colour"],
      ["is not a known setting of EMAIL_OTP"],
    ],
    [
      "an order that leaves out a step",
      { ...LOGIN_DOCUMENT, order: ["identify", "password"] },
      ["document.order"],
      ['does not list step "email-otp"'],
    ],
    ["no steps", { start: "identify", order: [], steps: {} }, ["document.steps", "document.start"], []],
    [
      "an invalid step key",
      { ...LOGIN_DOCUMENT, order: undefined, steps: { ...LOGIN_DOCUMENT.steps, "Email OTP": LOGIN_DOCUMENT.steps["email-otp"] } },
      ["document.steps"],
      ['invalid step key "Email OTP"'],
    ],
  ])("refuses a document with %s with VALIDATION_FAILED at its path", async (_label, document, paths, messages) => {
    await expectRefused("createJourney", input({ document }), { typename: "ValidationError", paths, messages });
  });

  it("reports every problem of a document at once", async () => {
    const document = {
      ...LOGIN_DOCUMENT,
      start: "welcome",
      steps: {
        ...LOGIN_DOCUMENT.steps,
        password: { ...LOGIN_DOCUMENT.steps.password, type: "FINGERPRINT" },
        "email-otp": { ...LOGIN_DOCUMENT.steps["email-otp"], settings: { codeLength: 11 }, transitions: { success: "done" } },
      },
    };
    const result = await expectRefused("createJourney", input({ document }), { typename: "ValidationError" });
    expect(result.problems.map((p: { path: string }) => p.path).sort()).toEqual(
      [
        "document.start",
        "document.steps.password.type",
        "document.steps.email-otp.settings.codeLength",
        "document.steps.email-otp.transitions.success",
      ].sort(),
    );
  });

  it.each([
    ["a string", "login"],
    ["a list", [LOGIN_DOCUMENT]],
  ])("refuses %s as document with VALIDATION_FAILED at the path document", async (_label, document) => {
    await expectRefused("createJourney", input({ document }), { typename: "ValidationError", paths: ["document"] });
  });

  it("refuses a journey while the lowest environment is not editable with ENVIRONMENT_LOCKED", async () => {
    const locked = await createTenant("bad-input-locked");
    const lockedApi = apiAs(server.endpoint, locked);
    const lockedCatalogue = await createCatalogue(lockedApi);
    const created = await gql(server.endpoint, locked.tokens.ADMIN, MUTATIONS.createEnvironment, {
      input: { key: "intake", name: "Intake", rank: 0, editable: false },
    });
    expect(created.data.createEnvironment.__typename).toBe("CreateEnvironmentSuccess");
    await expectRefused(
      "createJourney",
      input({ applicationId: lockedCatalogue.applicationId }),
      { typename: "EnvironmentLockedError" },
      locked,
    );
  });
});

describe("createApiToken refuses bad input", () => {
  it.each([
    ["an empty name", ""],
    ["a blank name", "   "],
    ["a name over 100 characters", "x".repeat(101)],
  ])("refuses %s with VALIDATION_FAILED", async (_label, name) => {
    await expectRefused("createApiToken", { name, role: "VIEWER" }, { typename: "ValidationError", paths: ["name"] });
  });

  it("refuses a name an active token of the organization already has with ALREADY_EXISTS, however it is padded", async () => {
    await createApiToken(api, { name: "deploy-bot", role: "VIEWER" });
    await expectRefused("createApiToken", { name: "deploy-bot", role: "ADMIN" }, { typename: "AlreadyExistsError" });
    await expectRefused("createApiToken", { name: "  deploy-bot ", role: "VIEWER" }, { typename: "AlreadyExistsError" });
  });
});

describe("revokeApiToken refuses bad input", () => {
  it.each(malformedIds("ApiToken").filter(([label]) => !label.includes("not a UUID")))(
    "refuses %s with NOT_FOUND",
    async (_label, apiTokenId) => {
      await expectRefused("revokeApiToken", { apiTokenId }, { typename: "NotFoundError" });
    },
  );

  it("refuses a global ID whose local id is not a UUID with NOT_FOUND", async () => {
    await expectRefused("revokeApiToken", { apiTokenId: globalId("ApiToken", "not-a-uuid") }, { typename: "NotFoundError" });
  });

  it("refuses an environment ID with NOT_FOUND", async () => {
    await expectRefused("revokeApiToken", { apiTokenId: catalogue.environments.development }, { typename: "NotFoundError" });
  });

  it("refuses another organization's token with NOT_FOUND, and that token keeps working", async () => {
    await expectRefused("revokeApiToken", { apiTokenId: foreignTokenId }, { typename: "NotFoundError" });
    expect((await gql(server.endpoint, other.tokens.VIEWER, "{ viewer { role } }")).status).toBe(200);
  });

  it("refuses a token that is already revoked with NOT_FOUND", async () => {
    const token = await createApiToken(api, { name: "short-lived", role: "VIEWER" });
    const first = await gql(server.endpoint, tenant.tokens.ADMIN, MUTATIONS.revokeApiToken, { input: { apiTokenId: token.id } });
    expect(first.data.revokeApiToken.__typename).toBe("RevokeApiTokenSuccess");
    await expectRefused("revokeApiToken", { apiTokenId: token.id }, { typename: "NotFoundError" });
  });
});

describe("node finds nothing for bad IDs", () => {
  it.each<[string, () => string]>([
    ...malformedIds("Journey").map(([label, id]): [string, () => string] => [label, () => id]),
    ["an application's UUID under the type Journey", () => globalId("Journey", parseGlobalId(catalogue.applicationId)!.id)],
    ["another organization's journey", () => foreign.journeys.login],
  ])("returns null for %s", async (_label, id) => {
    const response = await gql(server.endpoint, tenant.tokens.VIEWER, NODE, { id: id() });
    expect(response.status).toBe(200);
    expect(response.errors).toBeUndefined();
    expect(response.data.node).toBeNull();
  });
});

/**
 * The environment-taking fields of Application and Journey: an ID that names no environment of the
 * organization is refused with a NOT_FOUND GraphQL error on that field (HTTP 200, the rest of the
 * response intact), never an INTERNAL_SERVER_ERROR.
 */
describe.each([
  ["Application.client", APPLICATION_CLIENT, () => catalogue.applicationId, ["node", "client"]],
  ["Journey.configuration", JOURNEY_CONFIGURATION, () => catalogue.journeys.login, ["node", "configuration"]],
  ["Journey.versions", JOURNEY_VERSIONS, () => catalogue.journeys.login, ["node", "versions"]],
] as const)("%s refuses environment IDs that name nothing", (_field, query, ownerId, path) => {
  async function expectNotFound(environmentId: string) {
    const unexpectedBefore = unexpectedErrorsLogged();
    const response = await gql(server.endpoint, tenant.tokens.VIEWER, query, { id: ownerId(), environmentId });
    expect(response.status).toBe(200);
    expect(errorCodes(response)).toEqual(["NOT_FOUND"]);
    expect(response.errors?.[0].path).toEqual(path);
    expect(unexpectedErrorsLogged()).toBe(unexpectedBefore);
  }

  const alwaysRefused = malformedIds("Environment").filter(([label]) => !label.includes("not a UUID") && !label.includes("nobody has"));
  const wellFormedUnknown = malformedIds("Environment").filter(([label]) => label.includes("not a UUID") || label.includes("nobody has"));

  it.each(alwaysRefused)("refuses %s with NOT_FOUND", async (_label, environmentId) => {
    await expectNotFound(environmentId);
  });

  it("refuses an application ID as environmentId with NOT_FOUND", async () => {
    await expectNotFound(catalogue.applicationId);
  });

  it("refuses another organization's environment with NOT_FOUND", async () => {
    await expectNotFound(foreign.environments.development);
  });

  it.each(wellFormedUnknown)("refuses %s with NOT_FOUND", async (_label, environmentId) => {
    await expectNotFound(environmentId);
  });
});

/**
 * A `__proto__` key is a prototype, not a key, wherever code assigns it: once it reached a plain
 * object it vanished without a word. Anywhere in a JSON input value, sent as a variable or written
 * as a literal, it is refused with VALIDATION_FAILED at its path, and nothing is written.
 */
describe("JSON input refuses __proto__ keys", () => {
  const PROTO_MUTATIONS = {
    updateClient: operation(`mutation UpdateClient($input: UpdateClientInput!) { updateClient(input: $input) { ${ERROR_FIELDS} } }`),
    saveJourneyStep: operation(
      `mutation SaveJourneyStep($input: SaveJourneyStepInput!) { saveJourneyStep(input: $input) { ${ERROR_FIELDS} } }`,
    ),
    createJourney: MUTATIONS.createJourney,
  };
  type ProtoMutation = keyof typeof PROTO_MUTATIONS;

  /** A JSON text parsed as a server parses it: `__proto__` stays an own key. */
  const json = (text: string) => JSON.parse(text) as Record<string, unknown>;
  /** A value as a GraphQL literal (keys written as names); the input's own `type` is an enum value. */
  const literal = (value: unknown, top = false): string =>
    Array.isArray(value)
      ? `[${value.map((v) => literal(v)).join(", ")}]`
      : value !== null && typeof value === "object"
        ? `{ ${Object.entries(value)
            .map(([key, v]) => `${key}: ${top && key === "type" ? v : literal(v)}`)
            .join(", ")} }`
        : JSON.stringify(value);

  const step = (settings: Record<string, unknown>, transitions = [{ outcome: "success", to: "COMPLETE" }]) => ({
    key: "password",
    type: "PASSWORD",
    name: "Password",
    enabled: true,
    settings,
    transitions,
  });
  const identifyOnly = `"start": "identify", "steps": { "identify": { "type": "IDENTIFIER", "name": "Enter email", "transitions": { "success": "COMPLETE" } } }`;

  const CASES: [string, ProtoMutation, () => Record<string, unknown>, string][] = [
    [
      "client settings",
      "updateClient",
      () => ({ clientId: catalogue.clientId, settings: json(`{ "__proto__": { "pkceRequired": false } }`) }),
      "settings.__proto__",
    ],
    [
      "step settings",
      "saveJourneyStep",
      () => ({
        journeyId: catalogue.journeys.login,
        environmentId: catalogue.environments.development,
        step: step(json(`{ "minLength": 14, "__proto__": { "minLength": 20 } }`)),
      }),
      "step.settings.__proto__",
    ],
    [
      "a transition's outcome",
      "saveJourneyStep",
      () => ({
        journeyId: catalogue.journeys.login,
        environmentId: catalogue.environments.development,
        step: step({ minLength: 14 }, [
          { outcome: "success", to: "COMPLETE" },
          { outcome: "__proto__", to: "DENY" },
        ]),
      }),
      "step.transitions.1.outcome",
    ],
    [
      "a journey document",
      "createJourney",
      () => ({
        applicationId: bareApplicationId,
        key: "proto",
        name: "Proto",
        type: "LOGIN",
        document: json(`{ ${identifyOnly}, "__proto__": { "start": "x" } }`),
      }),
      "document.__proto__",
    ],
    [
      "a document's steps",
      "createJourney",
      () => ({
        applicationId: bareApplicationId,
        key: "proto",
        name: "Proto",
        type: "LOGIN",
        document: json(
          `{ "start": "identify", "steps": { "identify": { "type": "IDENTIFIER", "name": "Enter email", "transitions": { "success": "COMPLETE" } }, "__proto__": { "type": "PASSWORD", "name": "P", "transitions": {} } } }`,
        ),
      }),
      "document.steps.__proto__",
    ],
    [
      "a step's transitions in a document",
      "createJourney",
      () => ({
        applicationId: bareApplicationId,
        key: "proto",
        name: "Proto",
        type: "LOGIN",
        document: json(
          `{ "start": "identify", "steps": { "identify": { "type": "IDENTIFIER", "name": "Enter email", "transitions": { "success": "COMPLETE", "__proto__": "DENY" } } } }`,
        ),
      }),
      "document.steps.identify.transitions.__proto__",
    ],
    [
      "an object in a list of settings",
      "createJourney",
      () => ({
        applicationId: bareApplicationId,
        key: "proto",
        name: "Proto",
        type: "REGISTRATION",
        document: json(
          `{ "start": "consent", "steps": { "consent": { "type": "CONSENT", "name": "Terms", "settings": { "documents": [{ "id": "terms", "version": "1", "__proto__": { "id": "x" } }] }, "transitions": { "success": "COMPLETE" } } } }`,
        ),
      }),
      "document.steps.consent.settings.documents.0.__proto__",
    ],
  ];

  it.each(CASES)(
    "refuses a __proto__ key in %s sent as a variable with a typed VALIDATION_FAILED at its path",
    async (_label, mutation, input, path) => {
      const response = await unchanged(() => gql(server.endpoint, tenant.tokens.ADMIN, PROTO_MUTATIONS[mutation], { input: input() }));
      expect(response.status).toBe(200);
      expect(response.errors).toBeUndefined();
      const result = response.data[mutation];
      expect(result).toMatchObject({ __typename: "ValidationError", code: "VALIDATION_FAILED" });
      for (const problem of result.problems) expect(problem.message.startsWith(problem.path)).toBe(true);
      expect(result.problems.map((p: { path: string }) => p.path)).toContain(path);
    },
  );

  it.each(CASES.filter(([, , , path]) => path.endsWith(".__proto__")))(
    "refuses a __proto__ key in %s written as a literal with a VALIDATION_FAILED error",
    async (_label, mutation, input, path) => {
      const literalInput = literal(input(), true);
      const response = await unchanged(() =>
        gql(server.endpoint, tenant.tokens.ADMIN, `mutation { ${mutation}(input: ${literalInput}) { ${ERROR_FIELDS} } }`),
      );
      expect(response.data?.[mutation]).toBeUndefined();
      expect(errorCodes(response)).toEqual(["VALIDATION_FAILED"]);
      const jsonPath = path.replace(/^(step\.settings|settings|document)\./, "");
      expect(response.errors![0].extensions?.problems).toEqual([{ path: jsonPath, message: expect.stringMatching(/^\S/) }]);
    },
  );

  it("refuses a __proto__ outcome written as a literal with a typed VALIDATION_FAILED at its path", async () => {
    const [, mutation, input, path] = CASES.find(([label]) => label === "a transition's outcome")!;
    const response = await unchanged(() =>
      gql(server.endpoint, tenant.tokens.ADMIN, `mutation { ${mutation}(input: ${literal(input(), true)}) { ${ERROR_FIELDS} } }`),
    );
    expect(response.data[mutation]).toMatchObject({ __typename: "ValidationError", code: "VALIDATION_FAILED", problems: [{ path }] });
  });

  /** Runs a request that must be refused: no unexpected error logged, and no row of either tenant changed. */
  async function unchanged<T>(send: () => Promise<T>): Promise<T> {
    const before = [await tenantRows(tenant.organizationId), await tenantRows(other.organizationId)];
    const unexpectedBefore = unexpectedErrorsLogged();
    const response = await send();
    expect(unexpectedErrorsLogged()).toBe(unexpectedBefore);
    expect([await tenantRows(tenant.organizationId), await tenantRows(other.organizationId)]).toEqual(before);
    return response;
  }
});

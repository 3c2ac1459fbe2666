import { getIntrospectionQuery } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, apiAs, type Catalogue, createApiToken, createCatalogue, errorCodes, operation } from "../support/fixtures.js";
import { mutationNames } from "../support/fuzzing.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";

/**
 * The audit log (DESIGN.md §10): one event per successful write of every mutation, in the write's
 * transaction, read by an ADMIN newest first and filtered. That every mutation of the schema leaves
 * exactly one event per success and none per refusal is checked for each call of the fuzzed-input tests
 * (test/support/fuzzing.ts, `call`); this file checks that the fuzz tests cover every mutation, and the
 * log's own rules.
 */

let server: TestServer;
let tenant: Tenant;
let admin: Api;
let catalogue: Catalogue;

beforeAll(async () => {
  server = await startTestServer({ logLevel: "trace" });
  tenant = await createTenant("audit-log");
  admin = apiAs(server.endpoint, tenant);
  catalogue = await createCatalogue(admin);
});
afterAll(() => server.stop());

const AUDIT_LOG = operation(`
  query AuditLog($action: String, $subjectId: ID, $actorTokenId: ID, $first: Int, $after: String) {
    auditLog(action: $action, subjectId: $subjectId, actorTokenId: $actorTokenId, first: $first, after: $after) {
      edges { cursor node { id action subjectId actor actorTokenId occurredAt summary } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

const SET_VALUE = operation(`
  mutation AuditSetValue($input: SetVariableValueInput!) { setVariableValue(input: $input) { __typename ... on Error { code } } }
`);

const CREATE_VARIABLE = operation(`
  mutation AuditCreateVariable($input: CreateVariableInput!) {
    createVariable(input: $input) { ... on CreateVariableSuccess { variable { id } } ... on Error { code message } }
  }
`);

const CREATE_APPLICATION = operation(`
  mutation AuditCreateApplication($input: CreateApplicationInput!) {
    createApplication(input: $input) { __typename ... on CreateApplicationSuccess { application { id } } ... on Error { code } }
  }
`);

type Event = { id: string; action: string; subjectId: string | null; actor: string; actorTokenId: string | null; summary: unknown };
const events = async (api: Api, args: Record<string, unknown> = {}): Promise<Event[]> =>
  (await api.data(AUDIT_LOG, { first: 100, ...args })).auditLog.edges.map((e: { node: Event }) => e.node);

describe("the audit log", () => {
  it("the fuzzed-input tests cover every mutation of the schema, so each one's audit event is checked", async () => {
    const { data } = await (
      await fetch(server.endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${tenant.tokens.ADMIN}` },
        body: JSON.stringify({ query: getIntrospectionQuery() }),
      })
    ).json();
    const mutationType = data.__schema.types.find((t: { name: string }) => t.name === "Mutation");
    const inSchema = mutationType.fields.map((f: { name: string }) => f.name).sort();
    expect(mutationNames().sort()).toEqual(inSchema);
  });

  it("records the catalogue's writes newest first, each naming its object, the token and the mutation", async () => {
    const log = await events(admin);
    // createCatalogue: three databases, the application, its client, two journeys — newest first.
    expect(log.map((e) => e.action)).toEqual([
      "createJourney",
      "createJourney",
      "createClient",
      "createApplication",
      "createDatabase",
      "createDatabase",
      "createDatabase",
    ]);
    expect(log.map((e) => e.subjectId)).toEqual([
      catalogue.journeys.registration,
      catalogue.journeys.login,
      catalogue.clientId,
      catalogue.applicationId,
      catalogue.databases.production,
      catalogue.databases.staging,
      catalogue.databases.development,
    ]);
    for (const event of log) expect(event).toMatchObject({ actor: "admin-token", actorTokenId: expect.any(String) });
    // The object's global ID, as the API names it.
    const node = await admin.data(`query($id: ID!) { node(id: $id) { id ... on Journey { key } } }`, { id: log[0].subjectId });
    expect(node.node).toEqual({ id: catalogue.journeys.registration, key: "registration" });
    expect(log[2].summary).toMatchObject({ application: "Customer Portal", environment: "development" });
  });

  it("filters by action, subject and token, and pages with cursors", async () => {
    const editor = await createApiToken(admin, { name: "audit-editor", role: "EDITOR" });
    const created = await apiAs(server.endpoint, { ...tenant, tokens: { ...tenant.tokens, EDITOR: editor.token } }, "EDITOR").data(
      CREATE_VARIABLE,
      { input: { key: "audit.host", kind: "STRING" } },
    );
    const variableId = created.createVariable.variable.id;
    const byEditor = await events(admin, { actorTokenId: editor.id });
    expect(byEditor).toMatchObject([{ action: "createVariable", subjectId: variableId, actor: "audit-editor", actorTokenId: editor.id }]);
    expect(await events(admin, { subjectId: variableId })).toHaveLength(1);
    expect((await events(admin, { action: "createDatabase" })).map((e) => e.action)).toEqual(Array(3).fill("createDatabase"));
    expect(await events(admin, { action: "noSuchMutation" })).toEqual([]);

    const all = await events(admin);
    const pages: Event[] = [];
    for (let after: string | undefined; ; ) {
      const page = (await admin.data(AUDIT_LOG, { first: 3, after })).auditLog;
      pages.push(...page.edges.map((e: { node: Event }) => e.node));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(pages.map((e) => e.id)).toEqual(all.map((e) => e.id));
  });

  it("is for ADMIN tokens only, by query and by node", async () => {
    const [first] = await events(admin);
    for (const role of ["VIEWER", "EDITOR", "PROMOTER"] as const) {
      const api = apiAs(server.endpoint, tenant, role);
      expect(errorCodes(await api.request(AUDIT_LOG, {}))).toEqual(["FORBIDDEN"]);
      expect((await api.data(`query($id: ID!) { node(id: $id) { id } }`, { id: first.id })).node).toBeNull();
    }
    expect((await admin.data(`query($id: ID!) { node(id: $id) { id } }`, { id: first.id })).node).toEqual({ id: first.id });
  });

  it("refuses filters that name nothing it could hold, typed", async () => {
    expect(errorCodes(await admin.request(AUDIT_LOG, { subjectId: "not-a-global-id" }))).toEqual(["VALIDATION_FAILED"]);
    expect(errorCodes(await admin.request(AUDIT_LOG, { action: "a".repeat(101) }))).toEqual(["VALIDATION_FAILED"]);
    expect(errorCodes(await admin.request(AUDIT_LOG, { actorTokenId: catalogue.applicationId }))).toEqual(["NOT_FOUND"]);
    expect(errorCodes(await admin.request(AUDIT_LOG, { after: "bogus" }))).toEqual(["VALIDATION_FAILED"]);
    expect(errorCodes(await admin.request(AUDIT_LOG, { action: "create\u0000x" }))).toEqual(["VALIDATION_FAILED"]);
    const notAUuid = Buffer.from("ApiToken:not-a-uuid").toString("base64");
    expect(errorCodes(await admin.request(AUDIT_LOG, { actorTokenId: notAUuid }))).toEqual(["NOT_FOUND"]);
  });

  it("never holds a secret's value: a SECRET's value is recorded as its fingerprint", async () => {
    const sentinel = "audit-sentinel-7f3c9a-secret";
    const secret = await admin.data(CREATE_VARIABLE, { input: { key: "audit.secret", kind: "SECRET" } });
    const variableId = secret.createVariable.variable.id;
    const set = await admin.data(SET_VALUE, { input: { variableId, environmentId: catalogue.environments.development, value: sentinel } });
    expect(set.setVariableValue.__typename).toBe("SetVariableValueSuccess");
    const [event] = await events(admin, { subjectId: variableId, action: "setVariableValue" });
    expect(event.summary).toMatchObject({ key: "audit.secret", environment: "development", fingerprint: expect.any(String) });
    expect(JSON.stringify(await events(admin))).not.toContain(sentinel);
    expect(JSON.stringify(server.logs)).not.toContain(sentinel);
  });

  it("writes nothing for a refused call, and the event commits or rolls back with its write", async () => {
    const before = await events(admin);
    const taken = await admin.data(CREATE_APPLICATION, { input: { name: "Customer Portal" } });
    expect(taken.createApplication.__typename).toBe("AlreadyExistsError");
    const viewer = apiAs(server.endpoint, tenant, "VIEWER");
    const refused = await viewer.request(CREATE_APPLICATION, { input: { name: "Viewer's application" } });
    expect(JSON.stringify(refused)).toMatch(/FORBIDDEN/);
    expect(await events(admin)).toEqual(before);
    const made = await admin.data(CREATE_APPLICATION, { input: { name: "Audited application" } });
    const [event] = await events(admin, { first: 1 });
    expect(event).toMatchObject({ action: "createApplication", subjectId: made.createApplication.application.id });
  });
});

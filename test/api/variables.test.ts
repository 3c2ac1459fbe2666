import { execFileSync } from "node:child_process";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rowsOf } from "../../src/db/client.js";
import { Keyring, secretKey } from "../../src/domain/secret-box.js";
import { sealedAt } from "../../src/services/variables.js";
import { databaseUrl, testDatabase } from "../support/database.js";
import { type Api, apiAs, type Catalogue, createCatalogue, createClient, errorCodes, operation, tenantRows } from "../support/fixtures.js";
import { gql } from "../support/graphql.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { subscribeWs, wsClient } from "../support/subscriptions.js";
import { createTenant, type Tenant } from "../support/tenant.js";

/**
 * Variables (DESIGN.md §6): kinds, values per environment, versions and history, roles; and a
 * SECRET's plaintext, a sentinel here, found nowhere but where it was sent: not in any response of
 * a sweep of every query, not in the live stream, not in the server's log at debug level, not in
 * any row of the database (nor in pg_dump's output on PostgreSQL).
 */

const SENTINEL = "sentinel-Zq8v1-secret-9f3e";
const key = new Keyring(secretKey(Buffer.alloc(32, 7)));

let server: TestServer;
let tenant: Tenant;
let admin: Api;
let catalogue: Catalogue;
beforeAll(async () => {
  server = await startTestServer({ logLevel: "debug", keyring: key });
  tenant = await createTenant("variables");
  admin = apiAs(server.endpoint, tenant);
  catalogue = await createCatalogue(admin);
  // Staging has a client, so a change in development changes a sync state there.
  await createClient(admin, {
    applicationId: catalogue.applicationId,
    environmentId: catalogue.environments.staging,
    databaseId: catalogue.databases.staging,
  });
});
afterAll(() => server.stop());

const RESULT = `__typename ... on Error { code message } ... on ValidationError { problems { path message } }`;
const VALUE_FIELDS = "environment { key } value fingerprint version updatedAt updatedBy updatedByApiToken { name }";
const VARIABLE_FIELDS = `id key kind description values { ${VALUE_FIELDS} }
  history(first: 20) { edges { cursor node { id environment { key } version value fingerprint removed actor occurredAt } } pageInfo { hasNextPage endCursor } }`;

const CREATE = operation(
  `mutation($input: CreateVariableInput!) { createVariable(input: $input) { ${RESULT} ... on CreateVariableSuccess { variable { ${VARIABLE_FIELDS} } } } }`,
);
const SET = operation(
  `mutation($input: SetVariableValueInput!) { setVariableValue(input: $input) { ${RESULT} ... on SetVariableValueSuccess { variable { ${VARIABLE_FIELDS} } } } }`,
);
const REMOVE = operation(
  `mutation($input: RemoveVariableValueInput!) { removeVariableValue(input: $input) { ${RESULT} ... on RemoveVariableValueSuccess { variable { ${VARIABLE_FIELDS} } } } }`,
);
const DELETE = operation(
  `mutation($input: DeleteVariableInput!) { deleteVariable(input: $input) { ${RESULT} ... on DeleteVariableSuccess { variable { id key } } } }`,
);
const ALL = operation(`query { variables { ${VARIABLE_FIELDS} } }`);

async function create(api: Api, input: Record<string, unknown>) {
  const { createVariable } = await api.data(CREATE, { input });
  expect(createVariable.__typename).toBe("CreateVariableSuccess");
  return createVariable.variable as { id: string; key: string };
}

async function set(api: Api, variableId: string, environment: keyof Catalogue["environments"], value: unknown) {
  return (await api.data(SET, { input: { variableId, environmentId: catalogue.environments[environment], value } })).setVariableValue;
}

describe("variables and their values", () => {
  it("keeps one value per environment, each change a new version in the history, newest first", async () => {
    const host = await create(admin, { key: "webhook.host", kind: "STRING", description: "Where webhooks go" });
    expect((await set(admin, host.id, "development", "hooks.dev.example.com")).__typename).toBe("SetVariableValueSuccess");
    expect((await set(admin, host.id, "staging", "hooks.staging.example.com")).__typename).toBe("SetVariableValueSuccess");
    const again = await set(admin, host.id, "development", "hooks2.dev.example.com");
    expect(again.variable.values).toEqual([
      expect.objectContaining({
        environment: { key: "development" },
        value: "hooks2.dev.example.com",
        fingerprint: null,
        version: 2,
        updatedBy: expect.any(String),
      }),
      expect.objectContaining({ environment: { key: "staging" }, value: "hooks.staging.example.com", version: 1 }),
    ]);
    const removed = (await admin.data(REMOVE, { input: { variableId: host.id, environmentId: catalogue.environments.staging } }))
      .removeVariableValue;
    expect(removed.variable.values.map((v: { environment: { key: string } }) => v.environment.key)).toEqual(["development"]);
    const back = await set(admin, host.id, "staging", "hooks3.staging.example.com");
    const history = back.variable.history.edges.map((e: { node: Record<string, unknown> }) => [
      (e.node.environment as { key: string }).key,
      e.node.version,
      e.node.value,
      e.node.removed,
    ]);
    expect(history).toEqual([
      ["staging", 3, "hooks3.staging.example.com", false],
      ["staging", 2, null, true],
      ["development", 2, "hooks2.dev.example.com", false],
      ["staging", 1, "hooks.staging.example.com", false],
      ["development", 1, "hooks.dev.example.com", false],
    ]);
    // Paged one at a time with the cursors, and by environment.
    const PAGE = operation(`query($id: ID!, $after: String, $env: ID) { node(id: $id) { ... on Variable {
      history(first: 1, after: $after, environmentId: $env) { edges { node { version removed } } pageInfo { hasNextPage endCursor } } } } }`);
    const seen: unknown[] = [];
    let after: string | undefined;
    for (;;) {
      const page = (await admin.data(PAGE, { id: host.id, after, env: catalogue.environments.staging })).node.history;
      seen.push(...page.edges.map((e: { node: unknown }) => e.node));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual([
      { version: 3, removed: false },
      { version: 2, removed: true },
      { version: 1, removed: false },
    ]);
  });

  it("takes only values that fit the kind, saying why without echoing the value, and writes nothing otherwise", async () => {
    const cases: [string, unknown, unknown][] = [
      ["NUMBER", 8, "8"],
      ["BOOLEAN", true, "yes"],
      ["URL", "https://risk.example.com/score", "risk.example.com"],
      ["JSON", { regions: ["eu", "us"] }, undefined],
      ["STRING", "sms-sender", { not: "text" }],
      ["SECRET", "s3cr3t-value", 42],
    ];
    for (const [kind, good, bad] of cases) {
      const variable = await create(admin, { key: `fits.${kind.toLowerCase()}`, kind });
      expect((await set(admin, variable.id, "development", good)).__typename).toBe("SetVariableValueSuccess");
      if (bad === undefined) continue;
      const before = await tenantRows(tenant.organizationId);
      const refused = await set(admin, variable.id, "development", bad);
      expect(refused).toMatchObject({ __typename: "ValidationError", code: "VALIDATION_FAILED", problems: [{ path: "value" }] });
      expect(JSON.stringify(refused)).not.toContain(JSON.stringify(bad));
      expect(await tenantRows(tenant.organizationId)).toEqual(before);
    }
  });

  it("refuses keys that are not keys and keys in use, and lets a deleted variable's key be used again", async () => {
    for (const bad of ["Webhook.Host", "a..b", "&{x}", "x".repeat(101), ""]) {
      const { createVariable } = await admin.data(CREATE, { input: { key: bad, kind: "STRING" } });
      expect(createVariable).toMatchObject({ __typename: "ValidationError", problems: [{ path: "key" }] });
    }
    const first = await create(admin, { key: "reused.key", kind: "NUMBER" });
    expect((await admin.data(CREATE, { input: { key: "reused.key", kind: "NUMBER" } })).createVariable.__typename).toBe(
      "AlreadyExistsError",
    );
    await set(admin, first.id, "development", 4);
    const deleted = (await admin.data(DELETE, { input: { variableId: first.id } })).deleteVariable;
    expect(deleted).toMatchObject({ __typename: "DeleteVariableSuccess", variable: { id: first.id, key: "reused.key" } });
    expect((await admin.data(`query($id: ID!) { node(id: $id) { id } }`, { id: first.id })).node).toBeNull();
    expect((await admin.data(`query { variable(key: "reused.key") { id } }`)).variable).toBeNull();
    const second = await create(admin, { key: "reused.key", kind: "STRING" });
    expect(second.id).not.toBe(first.id);
    // The deleted one's history stays in the database.
    const { db } = await testDatabase();
    const [{ n }] = rowsOf<{ n: number }>(
      await db.execute(sql`select count(*)::int as n from variable_value_changes where variable_id = ${localOf(first.id)}::uuid`),
    );
    expect(n).toBe(2);
  });

  it("answers reads at the current revision: a value set after a cached read is what the next read shows", async () => {
    const variable = await create(admin, { key: "cache.check", kind: "NUMBER" });
    await set(admin, variable.id, "development", 1);
    const read = async () => (await admin.data(ALL)).variables.find((v: { key: string }) => v.key === "cache.check").values[0].value;
    expect(await read()).toBe(1);
    expect(await read()).toBe(1);
    await set(admin, variable.id, "development", 2);
    expect(await read()).toBe(2);
  });

  it("needs ADMIN outside editable environments, and refuses a VIEWER everything", async () => {
    const variable = await create(admin, { key: "roles.check", kind: "STRING" });
    const editor = apiAs(server.endpoint, tenant, "EDITOR");
    expect((await set(editor, variable.id, "development", "x")).__typename).toBe("SetVariableValueSuccess");
    expect((await set(editor, variable.id, "production", "x")).__typename).toBe("ForbiddenError");
    expect((await set(admin, variable.id, "production", "x")).__typename).toBe("SetVariableValueSuccess");
    const viewer = apiAs(server.endpoint, tenant, "VIEWER");
    expect((await viewer.data(CREATE, { input: { key: "viewer.made", kind: "STRING" } })).createVariable.__typename).toBe("ForbiddenError");
    expect((await viewer.data(DELETE, { input: { variableId: variable.id } })).deleteVariable.__typename).toBe("ForbiddenError");
  });
});

const localOf = (globalId: string) => Buffer.from(globalId, "base64").toString("utf8").split(":")[1];
/** Rows of a raw statement, as PGlite and postgres.js each return them. */
describe("a secret", () => {
  let secretId: string;
  let other: string;
  beforeAll(async () => {
    const secret = await create(admin, { key: "webhook.signing-secret", kind: "SECRET", description: "Signs webhook calls" });
    secretId = secret.id;
    other = (await create(admin, { key: "webhook.other-secret", kind: "SECRET" })).id;
    for (const environment of ["development", "staging", "production"] as const) {
      expect((await set(admin, secretId, environment, SENTINEL)).__typename).toBe("SetVariableValueSuccess");
    }
    await set(admin, other, "development", `${SENTINEL}-other`);
    // Refused attempts carry the sentinel too: their errors must not echo it.
    await set(admin, secretId, "development", { nested: SENTINEL });
    await gql(server.endpoint, tenant.tokens.VIEWER, SET, {
      input: { variableId: secretId, environmentId: catalogue.environments.development, value: SENTINEL },
    });
    await gql(server.endpoint, tenant.tokens.ADMIN, SET, {
      input: { variableId: "nope", environmentId: catalogue.environments.development, value: SENTINEL },
    });
  });

  it("reads as a fingerprint and a version: equal values, equal fingerprints", async () => {
    const { node } = await admin.data(
      `query($id: ID!) { node(id: $id) { ... on Variable { kind values { environment { key } value fingerprint version } } } }`,
      {
        id: secretId,
      },
    );
    expect(node.kind).toBe("SECRET");
    expect(node.values).toHaveLength(3);
    for (const value of node.values) {
      expect(value.value).toBeNull();
      expect(value.fingerprint).toMatch(/^[0-9a-f]{12}$/);
    }
    expect(new Set(node.values.map((v: { fingerprint: string }) => v.fingerprint)).size).toBe(1);
    expect(node.values[0].fingerprint).toBe(key.fingerprint(SENTINEL, localOf(secretId)));
    const { node: otherNode } = await admin.data(`query($id: ID!) { node(id: $id) { ... on Variable { values { fingerprint } } } }`, {
      id: other,
    });
    expect(otherNode.values[0].fingerprint).not.toBe(node.values[0].fingerprint);
  });

  it("is in no response of a sweep of every query, for every role", async () => {
    const SWEEP = operation(`query($id: ID!, $dev: ID!) {
      variables { id key kind values { ${VALUE_FIELDS} } value(environmentId: $dev) { ${VALUE_FIELDS} } }
      variable(key: "webhook.signing-secret") { ${VARIABLE_FIELDS} }
      node(id: $id) { id ... on Variable { ${VARIABLE_FIELDS} } }
      environments { key }
      applications(first: 10) { edges { node { name clients { settings } journeys { key configuration(environmentId: $dev) { document } draft(environmentId: $dev) { document } } } } }
      propagations(first: 10) { edges { node { id } } }
      syncNotifications(first: 100) { edges { node { id status } } }
      stepTypes { type defaults settingsSchema }
      viewer { role }
    }`);
    for (const role of ["VIEWER", "EDITOR", "PROMOTER", "ADMIN"] as const) {
      const response = await gql(server.endpoint, tenant.tokens[role], SWEEP, { id: secretId, dev: catalogue.environments.development });
      expect(response.errors).toBeUndefined();
      expect(JSON.stringify(response)).not.toContain(SENTINEL);
      const changes = response.data.node.history.edges;
      expect(changes.length).toBeGreaterThanOrEqual(3);
      for (const change of changes)
        expect(change.node).toMatchObject({ value: null, fingerprint: expect.stringMatching(/^[0-9a-f]{12}$/) });
      for (const change of changes) {
        const refetched = await gql(
          server.endpoint,
          tenant.tokens[role],
          `query($id: ID!) { node(id: $id) { ... on VariableValueChange { value fingerprint } } }`,
          {
            id: change.node.id,
          },
        );
        expect(JSON.stringify(refetched)).not.toContain(SENTINEL);
        expect(refetched.data.node.value).toBeNull();
      }
    }
  });

  it("is not in the live stream, and a change of value notifies nothing", async () => {
    const client = wsClient(server.wsEndpoint, tenant.tokens.ADMIN);
    try {
      const events = await subscribeWs(
        client,
        `subscription { syncStatusChanged { cursor status message journey { key } application { name } } }`,
      );
      await set(admin, secretId, "development", SENTINEL);
      await set(admin, secretId, "staging", SENTINEL);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(events.events).toEqual([]);
      // A configuration change does notify, and carries no secret either.
      await admin.data(`mutation($input: UpdateClientInput!) { updateClient(input: $input) { __typename } }`, {
        input: { clientId: catalogue.clientId, settings: { accessTokenTtlSeconds: 901 } },
      });
      const [first] = await events.waitFor(1);
      expect(JSON.stringify(first)).not.toContain(SENTINEL);
      await events.stop();
    } finally {
      await client.dispose();
    }
  });

  it("is not in the server's log at debug level", () => {
    expect(server.logs.filter((line) => line.level === 20).length).toBeGreaterThan(0);
    expect(JSON.stringify(server.logs)).not.toContain(SENTINEL);
  });

  it("is stored only sealed: no row of any table holds it, each ciphertext opens only where it belongs", async () => {
    const { db } = await testDatabase();
    const names = rowsOf<{ table_name: string }>(
      await db.execute(sql`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`),
    ).map((t) => t.table_name);
    expect(names).toContain("variable_values");
    for (const table of names) {
      const [found] = rowsOf<{ n: number }>(
        await db.execute(sql`select count(*)::int as n from ${sql.identifier(table)} t where strpos(t::text, ${SENTINEL}) > 0`),
      );
      expect([table, found.n]).toEqual([table, 0]);
    }
    const rows = rowsOf<Record<string, string>>(
      await db.execute(
        sql`select variable_id, environment_id, ciphertext, key_id from variable_values where variable_id = ${localOf(secretId)}::uuid`,
      ),
    );
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(key.open({ keyId: row.key_id, ciphertext: row.ciphertext }, sealedAt(row.variable_id, row.environment_id))).toBe(SENTINEL);
    }
    // Moved to another row, a ciphertext does not open.
    expect(() =>
      key.open({ keyId: rows[0].key_id, ciphertext: rows[0].ciphertext }, sealedAt(rows[0].variable_id, rows[1].environment_id)),
    ).toThrow();
  });

  it.runIf(databaseUrl)("is not in pg_dump's output of the database", () => {
    const dump = execFileSync("pg_dump", ["--data-only", databaseUrl!], { maxBuffer: 512 * 1024 * 1024 }).toString("utf8");
    expect(dump).toContain("variable_values");
    expect(dump).not.toContain(SENTINEL);
  });
});

describe("refusals", () => {
  it("answer a wrong kind, an unknown variable or environment with a code and change nothing", async () => {
    const variable = await create(admin, { key: "refusals.number", kind: "NUMBER" });
    const before = await tenantRows(tenant.organizationId);
    const cases = [
      { variableId: variable.id, environmentId: catalogue.environments.development, value: "eight" },
      { variableId: "bm90LWFuLWlk", environmentId: catalogue.environments.development, value: 8 },
      { variableId: variable.id, environmentId: catalogue.applicationId, value: 8 },
    ];
    const codes = [];
    for (const input of cases) codes.push((await admin.data(SET, { input })).setVariableValue.code);
    expect(codes).toEqual(["VALIDATION_FAILED", "NOT_FOUND", "NOT_FOUND"]);
    const removed = await admin.request(REMOVE, { input: { variableId: variable.id, environmentId: catalogue.environments.staging } });
    expect(removed.data.removeVariableValue.code).toBe("NOT_FOUND");
    expect(errorCodes(removed)).toEqual([]);
    expect(await tenantRows(tenant.organizationId)).toEqual(before);
  });
});

describe("a JSON value", () => {
  it("refuses text the database cannot store and __proto__ keys with VALIDATION_FAILED, writing nothing", async () => {
    const variable = await create(admin, { key: "json.checks", kind: "JSON" });
    const before = await tenantRows(tenant.organizationId);
    for (const value of [{ note: "a\u0000b" }, JSON.parse('{"__proto__": {"x": 1}}'), ["\ud800"]]) {
      const refused = await set(admin, variable.id, "development", value);
      expect(refused).toMatchObject({ __typename: "ValidationError", code: "VALIDATION_FAILED" });
    }
    expect(await tenantRows(tenant.organizationId)).toEqual(before);
    expect((await set(admin, variable.id, "development", { regions: ["eu"] })).__typename).toBe("SetVariableValueSuccess");
  });
});

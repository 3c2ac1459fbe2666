import { parse, print } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schema } from "../../src/graphql/schema/index.js";
import { OPERATION_LIMITS } from "../../src/server/limits.js";
import { operationCost } from "../../src/server/operation-cost.js";
import { apiAs, type Catalogue, createCatalogue, createJourney } from "../support/fixtures.js";
import { gql } from "../support/graphql.js";
import { asNormalizingClientSends } from "../support/normalizing.js";
import { readmeOperations } from "../support/readme.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { subscribeWs, wsClient } from "../support/subscriptions.js";
import { createTenant, type Tenant } from "../support/tenant.js";

let server: TestServer;
let tenant: Tenant;
let catalogue: Catalogue;
beforeAll(async () => {
  server = await startTestServer();
  tenant = await createTenant("cost");
  const api = apiAs(server.endpoint, tenant);
  catalogue = await createCatalogue(api);
  // 20 journeys, as in the attack that was reported.
  for (let i = 0; i < 18; i++) {
    await createJourney(api, { applicationId: catalogue.applicationId, key: `extra-${i}`, name: `Extra ${i}`, type: "LOGIN" });
  }
});
afterAll(() => server.stop());

function costOf(query: string, variables: Record<string, unknown> = {}): number {
  const cost = operationCost({ schema, document: parse(query), variableValues: variables, contextValue: {} });
  if (cost === null) throw new Error(`variables do not fit: ${query}`);
  return cost;
}

/** `journeys { application { journeys { … { key } } } }`, `levels` lists deep, under `aliases` aliases. */
function fanOut(levels: number, aliases = 1): string {
  let selection = "key";
  for (let i = 1; i < levels; i++) selection = `key application { journeys { ${selection} } }`;
  const outer = Array.from({ length: aliases }, (_, i) => `a${i}: journeys { ${selection} }`).join(" ");
  return `query FanOut($app: ID!) { node(id: $app) { ... on Application { ${outer} } } }`;
}

/** The server time of the last operation the server logged. */
function lastOperationMs(): number {
  const line = server.logs.filter((l) => l.msg === "operation").at(-1);
  return Number(line?.durationMs);
}

describe("operation cost", () => {
  it("refuses the reported fan-out over 20 journeys with QUERY_TOO_COMPLEX and its cost, at once", async () => {
    for (const aliases of [1, 8]) {
      const query = fanOut(5, aliases);
      const variables = { app: catalogue.applicationId };
      const started = performance.now();
      const result = await gql(server.endpoint, tenant.tokens.VIEWER, query, variables);
      const wall = performance.now() - started;
      expect(result.data ?? null).toBeNull();
      expect(result.errors).toHaveLength(1);
      expect(result.errors?.[0].extensions).toMatchObject({
        code: "QUERY_TOO_COMPLEX",
        cost: costOf(query, variables),
        maxCost: OPERATION_LIMITS.cost,
      });
      expect(lastOperationMs()).toBeLessThan(50);
      expect(wall).toBeLessThan(1_000);
    }
  });

  it("answers the same fan-out two lists deep: a cycle costs what it returns", async () => {
    const result = await gql(server.endpoint, tenant.tokens.VIEWER, fanOut(2), { app: catalogue.applicationId });
    expect(result.errors).toBeUndefined();
    expect(result.data.node.a0).toHaveLength(20);
    expect(result.data.node.a0[0].application.journeys).toHaveLength(20);
  });

  /** Every application's journeys with their sync states, `n` applications a page: 1,560 and some per application. */
  const page = (first: string) =>
    `query Page${first.startsWith("$") ? "($n: Int)" : ""} { applications(first: ${first}) { edges { node { name journeys { key syncStates { status message changeCount } } } } } }`;
  const limitPage = (() => {
    let n = 1;
    while (costOf(page(String(n + 1))) <= OPERATION_LIMITS.cost) n++;
    return n;
  })();

  it.each([
    ["just under the limit", limitPage, true],
    ["just over the limit", limitPage + 1, false],
  ])("costs a page %s the same with a literal first and with a variable", async (_label, n, accepted) => {
    const literal = costOf(page(String(n)));
    const variable = costOf(page("$n"), { n });
    expect(variable).toBe(literal);
    expect(literal <= OPERATION_LIMITS.cost).toBe(accepted);
    for (const [query, variables] of [
      [page(String(n)), {}],
      [page("$n"), { n }],
    ] as const) {
      const result = await gql(server.endpoint, tenant.tokens.VIEWER, query, variables);
      if (accepted) {
        expect(result.errors).toBeUndefined();
      } else {
        expect(result.errors?.[0].extensions).toMatchObject({ code: "QUERY_TOO_COMPLEX", cost: literal });
      }
    }
  });

  it("costs one document again with each set of variables: its cost remembered for some never answers for others", async () => {
    const query = page("$n");
    for (const n of [limitPage, limitPage + 1, limitPage, 1, limitPage + 1]) {
      const result = await gql(server.endpoint, tenant.tokens.VIEWER, query, { n });
      if (n <= limitPage) expect(result.errors).toBeUndefined();
      else expect(result.errors?.[0].extensions).toMatchObject({ code: "QUERY_TOO_COMPLEX", cost: costOf(query, { n }) });
    }
  });

  it("remembers a cost by document, operation name and variables: each answers with its own", () => {
    const document = parse(
      "query A($n: Int) { applications(first: $n) { edges { node { name } } } } query B { environments { key databases { name } } }",
    );
    const cost = (operationName: string, variableValues: Record<string, unknown>) =>
      operationCost({ schema, document, operationName, variableValues, contextValue: {} });
    const fresh = (operationName: string, variableValues: Record<string, unknown>) =>
      operationCost({ schema, document: parse(print(document)), operationName, variableValues, contextValue: {} });
    const rounds = [
      ["A", { n: 1 }],
      ["A", { n: 5 }],
      ["B", {}],
      ["A", { n: 1 }],
      ["B", { n: 5 }],
      ["A", { n: 5, padding: "x".repeat(5_000) }],
      ["A", { n: 5 }],
    ] as const;
    for (const [name, variables] of rounds) expect(cost(name, variables)).toBe(fresh(name, variables));
    expect(cost("A", { n: 5 })).toBeGreaterThan(cost("A", { n: 1 }) as number);
    expect(cost("B", {})).not.toBe(cost("A", { n: 1 }));
  });

  it("keeps no cost for variables JSON cannot tell apart: 1e400 (Infinity, written as null) never lets { n: null } run uncosted", async () => {
    // Found by an attacking review: the cost of { n: 1e400 } (does not fit an Int: none) was kept
    // under the JSON of { n: null }, which then ran without a cost. The body is sent as text so that
    // 1e400 reaches the server.
    const query = `query Q($n: Int) { x: applications(first: $n) { edges { node { name } } } applications(first: 100) { edges { node { name journeys { key syncStates { status message changeCount } } } } } }`;
    const post = async (variables: string) => {
      const response = await fetch(server.endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${tenant.tokens.VIEWER}` },
        body: `{"query": ${JSON.stringify(query)}, "variables": ${variables}}`,
      });
      return (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
    };
    expect((await post(`{"n": 1e400}`)).errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    expect((await post(`{"n": null}`)).errors?.[0].extensions?.code).toBe("QUERY_TOO_COMPLEX");
    expect((await post(`{"n": 1e400}`)).errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
  });

  it.each([
    ["applications", (n: number) => `{ applications(first: ${n}) { edges { node { name } } } }`],
    ["propagations", (n: number) => `{ propagations(first: ${n}) { edges { node { comment } } } }`],
    ["syncNotifications", (n: number) => `{ syncNotifications(first: ${n}) { edges { node { status } } } }`],
    [
      "Journey.versions",
      (n: number) =>
        `query($j: ID!, $e: ID!) { node(id: $j) { ... on Journey { versions(environmentId: $e, first: ${n}) { edges { node { version } } } } } }`,
    ],
  ])("multiplies what %s selects by its page size", (_name, query) => {
    const variables = { j: "j", e: "e" };
    const one = costOf(query(1), variables);
    expect(costOf(query(11), variables) - one).toBe(10 * (costOf(query(2), variables) - one));
    expect(costOf(query(11), variables)).toBeGreaterThan(one);
  });

  it("costs fragments, inline fragments and aliases as the fields they stand for", () => {
    const plain = costOf("{ environments { key databases { name } } }");
    expect(costOf("{ environments { ...E } } fragment E on Environment { key databases { name } }")).toBe(plain);
    expect(costOf("{ a: environments { key databases { name } } b: environments { key databases { name } } }")).toBe(2 * plain);
  });

  it("refuses a costly subscription before it subscribes", async () => {
    const client = wsClient(server.wsEndpoint, tenant.tokens.VIEWER);
    try {
      const refused = subscribeWs(
        client,
        "subscription { syncStatusChanged { application { journeys { application { journeys { application { journeys { key } } } } } } } }",
      );
      await expect((await refused).completed).rejects.toThrow(/QUERY_TOO_COMPLEX/);
    } finally {
      await client.dispose();
    }
  });
});

describe("the README's operations", () => {
  const operations = readmeOperations().map(({ name, source }) => ({ name, source: asNormalizingClientSends(schema, source) }));

  it("are all named and found", () => {
    expect(operations.map((o) => o.name)).toEqual([
      "Dashboard",
      "AddStep",
      "Save",
      "Review",
      "Promote",
      "Watch",
      "StepCatalogue",
      "RevertPreview",
      "Revert",
      "Restore",
      "CreateVariable",
      "SetValue",
      "CreateLegacyJourney",
      "PromoteLegacy",
      "RetireLegacy",
      "RetirementDiff",
      "PromoteRetirement",
      "AuditTrail",
      "RequireApproval",
      "RequestPromotion",
      "Approve",
      "Execute",
    ]);
  });

  it("run as a normalizing client sends them (with __typename and id), each under the cost limit", async () => {
    const api = apiAs(server.endpoint, tenant, "ADMIN");
    const environments = catalogue.environments;
    const variables: Record<string, unknown> = {
      production: environments.production,
      development: environments.development,
      staging: environments.staging,
      app: catalogue.applicationId,
      login: catalogue.journeys.login,
    };
    // Staging needs a client for the diff and the promotion to have a target.
    const staging = await api.data(
      `mutation($input: CreateClientInput!) { createClient(input: $input) { __typename ... on Error { code message } } }`,
      {
        input: {
          applicationId: catalogue.applicationId,
          environmentId: environments.staging,
          databaseId: catalogue.databases.staging,
          redirectUris: ["https://staging.example/cb"],
          allowedOrigins: ["https://staging.example"],
        },
      },
    );
    expect(staging.createClient.__typename).toBe("CreateClientSuccess");

    const run = async (name: string) => {
      const { source } = operations.find((o) => o.name === name)!;
      const declared = [...source.matchAll(/\$(\w+):/g)].map((m) => m[1]);
      const mine = Object.fromEntries(declared.map((v) => [v, variables[v]]));
      expect(costOf(source, mine)).toBeLessThanOrEqual(OPERATION_LIMITS.cost);
      const result = await gql(server.endpoint, tenant.tokens.ADMIN, source, mine);
      expect(result.errors).toBeUndefined();
      return result.data;
    };
    const dashboard = await run("Dashboard");
    expect(dashboard.applications.edges).toHaveLength(1);
    const added = await run("AddStep");
    expect(added.saveJourneyStep.__typename).toBe("SaveJourneyStepSuccess");
    variables.revision = added.saveJourneyStep.draft.revision;
    expect((await run("Save")).saveJourney.__typename).toBe("SaveJourneySuccess");
    const review = await run("Review");
    variables.changeIds = review.diff.changes.slice(0, 1).map((c: { id: string }) => c.id);
    const promoted = await run("Promote");
    expect(promoted.propagateChanges.__typename).toBe("PropagateChangesSuccess");
    variables.propagation = promoted.propagateChanges.propagation.id;
    expect((await run("StepCatalogue")).stepTypes.length).toBeGreaterThan(0);
    expect((await run("RevertPreview")).revertPreview.changes.length).toBeGreaterThan(0);
    expect((await run("Revert")).revertPropagation.__typename).toBe("RevertPropagationSuccess");
    expect((await run("Restore")).restoreJourneyVersion.__typename).toBe("RestoreJourneyVersionSuccess");
    variables.variable = (await run("CreateVariable")).createVariable.variable.id;
    expect((await run("SetValue")).setVariableValue.__typename).toBe("SetVariableValueSuccess");
    expect((await run("RequireApproval")).setApprovalPolicy.__typename).toBe("SetApprovalPolicySuccess");
    const requested = (await run("RequestPromotion")).requestPromotion;
    expect(requested.__typename).toBe("RequestPromotionSuccess");
    variables.request = requested.request.id;
    variables.planHash = requested.request.planHash;
    // The reviewer is another token than the requester's.
    const approve = operations.find((o) => o.name === "Approve")!.source;
    expect(costOf(approve, variables)).toBeLessThanOrEqual(OPERATION_LIMITS.cost);
    const approved = await gql(server.endpoint, tenant.tokens.PROMOTER, approve, {
      request: variables.request,
      planHash: variables.planHash,
    });
    expect(approved.data.approvePromotionRequest.__typename).toBe("ApprovePromotionRequestSuccess");
    expect((await run("Execute")).executePromotionRequest.__typename).toBe("ExecutePromotionRequestSuccess");

    const watch = operations.find((o) => o.name === "Watch")!;
    expect(costOf(watch.source, { staging: environments.staging, after: "0" })).toBeLessThanOrEqual(OPERATION_LIMITS.cost);
    const client = wsClient(server.wsEndpoint, tenant.tokens.VIEWER);
    try {
      const events = await subscribeWs(client, watch.source, { staging: environments.staging, after: "0" });
      const [first] = await Promise.race([events.waitFor(1), events.completed.then(() => [])]);
      expect(first.syncStatusChanged.__typename).toBe("SyncNotification");
      await events.stop();
    } finally {
      await client.dispose();
    }
  });
});

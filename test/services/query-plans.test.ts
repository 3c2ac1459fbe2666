import { type SQL, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Db, rowsOf } from "../../src/db/client.js";
import { DASHBOARD } from "../bench/dashboard-data.js";
import { statementsOf, testDatabase } from "../support/database.js";
import { apiAs, createCatalogue, createCatalogueWithStaging, createClient } from "../support/fixtures.js";
import { gql } from "../support/graphql.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant } from "../support/tenant.js";

/**
 * Reads of one organization's rows (or one database's) go by an index, never by reading a table
 * that holds every organization's rows: their cost follows the organization, not the server's other
 * tenants. Each statement is explained with sequential scans disabled — a plan that still reads a
 * whole table (a sequential scan, or an index read whole, without a condition on it) has no index
 * to go by. What the planner picks on a large database it does not see (docs/performance.md).
 *
 * Found on a database of 25 organizations of 200 applications (docs/performance.md, 2026-12-07):
 * since migration 0018 made the applications' unique index on (organization, name) partial, every
 * page of applications read the whole table — 0.46 ms of the database's time per dashboard, 0.04 ms
 * with the lists' own index (migration 0019); a database's deletion read every organization's
 * clients (5.6 ms; an index by database now), the scan for a variable's references every
 * organization's clients, journeys and drafts, an environment's deletion every organization's
 * tokens and open requests, versions by number every organization's journeys.
 */
let server: TestServer;
beforeAll(async () => {
  // Without the response cache: every query runs its statements.
  server = await startTestServer({ responseCache: false });
});
afterAll(() => server?.stop());

/** `statement` sent again with its parameters (drizzle numbers them $1, $2… in order), as an SQL fragment. */
function withParams(statement: string, params: readonly unknown[]): SQL {
  const pieces = statement.split(/\$(\d+)/);
  const chunks: SQL[] = [sql.raw(pieces[0])];
  for (let i = 1; i < pieces.length; i += 2) {
    expect(Number(pieces[i]), statement).toBe((i + 1) / 2);
    chunks.push(sql`${sql.param(params[Number(pieces[i]) - 1])}`, sql.raw(pieces[i + 1]));
  }
  return sql.join(chunks);
}

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Index Cond"?: string;
  Plans?: PlanNode[];
}

/**
 * The statement's plan with sequential scans disabled, and joins as nested loops (for its
 * transaction only): each table is then reached through an index with a condition where one fits —
 * not, on a small database, read whole into a hash join because that is cheaper there.
 */
async function planOf(db: Db, statement: string, params: readonly unknown[]): Promise<PlanNode> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`set local enable_seqscan = off`);
    await tx.execute(sql`set local enable_hashjoin = off`);
    await tx.execute(sql`set local enable_mergejoin = off`);
    const [row] = rowsOf<Record<string, unknown>>(await tx.execute(sql`explain (format json) ${withParams(statement, params)}`));
    const value = Object.values(row)[0];
    return (typeof value === "string" ? JSON.parse(value) : value)[0].Plan as PlanNode;
  });
}

/**
 * The scans of a plan that read a whole table: sequential ones, and scans of a whole index (no
 * condition on it) — with sequential scans disabled, the planner takes one of those where no index
 * fits the statement's conditions.
 */
function wholeTableScans(node: PlanNode): string[] {
  const type = node["Node Type"];
  const whole =
    type === "Seq Scan" || (["Index Scan", "Index Only Scan", "Bitmap Index Scan"].includes(type) && node["Index Cond"] === undefined);
  const here = whole ? [`${type} on ${node["Relation Name"] ?? node["Index Name"]}`] : [];
  return [...here, ...(node.Plans ?? []).flatMap(wholeTableScans)];
}

async function plansOf(work: () => Promise<unknown>): Promise<{ statement: string; plan: PlanNode }[]> {
  const { db } = await testDatabase();
  const { statements } = await statementsOf(work);
  // Reads, and the reads inside writes (EXPLAIN without ANALYZE runs nothing).
  const reads = statements.filter((s) => /^(select|update|delete) /i.test(s.query.trim()));
  expect(reads.length).toBeGreaterThan(0);
  const plans = [];
  for (const { query, params } of reads) plans.push({ statement: query, plan: await planOf(db, query, params) });
  return plans;
}

/** The statements whose plans read a whole table, each with those scans. */
const scanningWholeTables = (plans: { statement: string; plan: PlanNode }[]) =>
  plans.filter((p) => wholeTableScans(p.plan).length > 0).map((p) => `${wholeTableScans(p.plan).join(", ")}: ${p.statement}`);

describe("reads of one organization's rows", () => {
  it("read the organization's applications, clients, journeys and heads through indexes, on every page", async () => {
    const tenant = await createTenant("query-plans");
    const admin = apiAs(server.endpoint, tenant);
    const catalogue = await createCatalogue(admin);
    const other = await createCatalogue(admin, { application: "Another Portal", databasePrefix: "another" });
    for (const { applicationId } of [catalogue, other]) {
      await createClient(admin, {
        applicationId,
        environmentId: catalogue.environments.production,
        databaseId: catalogue.databases.production,
      });
    }
    const viewer = tenant.tokens.VIEWER;
    const page = await plansOf(async () => {
      const answer = await gql(server.endpoint, viewer, DASHBOARD, { env: catalogue.environments.production });
      expect(answer.errors).toBeUndefined();
      const configurations = answer.data.applications.edges.flatMap((e: { node: { journeys: { configuration: unknown }[] } }) =>
        e.node.journeys.map((j) => j.configuration),
      );
      // Production's configurations were read: the heads' statement is among those explained.
      expect(configurations.length).toBe(4);
      expect(configurations.every((c: unknown) => c !== null)).toBe(true);
    });
    expect(page.map((p) => p.statement).join("\n")).toMatch(/from "journey_heads"/);
    expect(scanningWholeTables(page)).toEqual([]);

    // The pages after and before a cursor, from either end.
    const LIST = `query($first: Int, $last: Int, $after: String, $before: String) {
      applications(first: $first, last: $last, after: $after, before: $before) { edges { cursor node { name } } } }`;
    const both = await gql(server.endpoint, viewer, LIST, { first: 2 });
    const [firstCursor, lastCursor] = both.data.applications.edges.map((e: { cursor: string }) => e.cursor);
    const pages = await plansOf(async () => {
      for (const variables of [{ first: 1, after: firstCursor }, { last: 1 }, { last: 1, before: lastCursor }]) {
        const answer = await gql(server.endpoint, viewer, LIST, variables);
        expect(answer.errors).toBeUndefined();
        expect(answer.data.applications.edges).toHaveLength(1);
      }
    });
    expect(pages.map((p) => p.statement).join("\n")).toMatch(/from "applications"/);
    expect(scanningWholeTables(pages)).toEqual([]);
  });

  it("find a database's clients, and the configurations that reference a variable, through indexes", async () => {
    const tenant = await createTenant("query-plans-references");
    const admin = apiAs(server.endpoint, tenant);
    const catalogue = await createCatalogue(admin);
    const created = await admin.data(
      `mutation($input: CreateVariableInput!) { createVariable(input: $input) { ... on CreateVariableSuccess { variable { id } } } }`,
      { input: { key: "password.min", kind: "NUMBER" } },
    );
    const variableId = created.createVariable.variable.id;
    const plans = await plansOf(async () => {
      // In use by the development client: refused, after reading which clients are on it.
      const deletion = await admin.data(
        `mutation($input: DeleteDatabaseInput!) { deleteDatabase(input: $input) { __typename ... on Error { code } } }`,
        { input: { databaseId: catalogue.databases.development } },
      );
      expect(deletion.deleteDatabase.code).toBe("IN_USE");
      const references = await admin.data(`query($id: ID!) { node(id: $id) { ... on Variable { references { environment { key } } } } }`, {
        id: variableId,
      });
      expect(references.node.references).toEqual([]);
    });
    const statements = plans.map((p) => p.statement).join("\n");
    expect(statements).toMatch(/"clients"\."database_id" = /);
    expect(statements).toMatch(/"settings"::text like any/);
    expect(statements).toMatch(/"journey_versions"\."document"::text like any/);
    expect(scanningWholeTables(plans)).toEqual([]);
  });

  it("find what an environment still holds, and versions by number, through indexes", async () => {
    const tenant = await createTenant("query-plans-environment");
    const admin = apiAs(server.endpoint, tenant);
    const catalogue = await createCatalogueWithStaging(admin);
    const plans = await plansOf(async () => {
      // Staging holds a client, a database, configurations: refused, naming them.
      const deletion = await admin.data(
        `mutation($input: DeleteEnvironmentInput!) { deleteEnvironment(input: $input) { __typename ... on Error { code } } }`,
        { input: { environmentId: catalogue.environments.staging } },
      );
      expect(deletion.deleteEnvironment.code).toBe("IN_USE");
      // A version's document is read by (journey, environment, number).
      const start = await admin.data(
        `query($id: ID!, $env: ID!) { node(id: $id) { ... on Journey { configuration(environmentId: $env) { start } } } }`,
        {
          id: catalogue.journeys.login,
          env: catalogue.environments.staging,
        },
      );
      expect(typeof start.node.configuration.start).toBe("string");
    });
    const statements = plans.map((p) => p.statement).join("\n");
    expect(statements).toMatch(/from api_tokens t/);
    expect(statements).toMatch(/from "journey_versions" inner join "journeys"/);
    expect(scanningWholeTables(plans)).toEqual([]);
  });
});

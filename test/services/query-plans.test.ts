import { type SQL, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Db, rowsOf } from "../../src/db/client.js";
import { DASHBOARD } from "../bench/dashboard-data.js";
import { statementsOf, testDatabase } from "../support/database.js";
import { apiAs, createCatalogue, createClient } from "../support/fixtures.js";
import { gql } from "../support/graphql.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant } from "../support/tenant.js";

/**
 * Reads of one organization's rows (or one database's) go by an index, never by scanning a table
 * that holds every organization's rows: their cost follows the organization, not the server's other
 * tenants. Each statement is explained with sequential scans disabled — a plan that still has one
 * has no index to go by. (It does not see a full scan of an index; the statements' own conditions
 * are what the indexes below are for.)
 *
 * Found on a database of 25 organizations of 200 applications (docs/performance.md): since
 * migration 0018 made the applications' unique index on (organization, name) partial, every page
 * of applications read the whole table — 0.46 ms of the database's time per dashboard, 0.04 ms with
 * the lists' own index (migration 0019); a database's deletion read every organization's clients to
 * find its own (5.6 ms; an index by database now), the scan for a variable's references every
 * organization's clients and journeys (it goes through the organization's applications now).
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

/** The statement's plan with sequential scans disabled (for its transaction only), as JSON text. */
async function planOf(db: Db, statement: string, params: readonly unknown[]): Promise<string> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`set local enable_seqscan = off`);
    return JSON.stringify(rowsOf(await tx.execute(sql`explain (format json) ${withParams(statement, params)}`)));
  });
}

async function plansOf(work: () => Promise<unknown>): Promise<{ statement: string; plan: string }[]> {
  const { db } = await testDatabase();
  const { statements } = await statementsOf(work);
  // Reads, and the reads inside writes (EXPLAIN without ANALYZE runs nothing).
  const reads = statements.filter((s) => /^(select|update|delete) /i.test(s.query.trim()));
  expect(reads.length).toBeGreaterThan(0);
  const plans = [];
  for (const { query, params } of reads) plans.push({ statement: query, plan: await planOf(db, query, params) });
  return plans;
}

const scanningWholeTables = (plans: { statement: string; plan: string }[]) =>
  plans.filter((p) => p.plan.includes('"Seq Scan"')).map((p) => p.statement);

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
    expect(plans.map((p) => p.statement).join("\n")).toMatch(/"clients"\."database_id" = /);
    expect(scanningWholeTables(plans)).toEqual([]);
  });
});

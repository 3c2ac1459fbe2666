import { decodeGlobalID } from "@pothos/plugin-relay";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { propagations } from "../../src/db/schema.js";
import { testDatabase } from "../support/database.js";
import { type Api, apiAs, createCatalogue } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";

let server: TestServer;
let tenant: Tenant;
let api: Api;
beforeAll(async () => {
  server = await startTestServer();
  tenant = await createTenant("propagation-history");
  api = apiAs(server.endpoint, tenant);
});
afterAll(() => server.stop());

const PAGE = `query($first: Int, $last: Int, $after: String, $before: String) {
  propagations(first: $first, last: $last, after: $after, before: $before) { edges { cursor node { comment } } pageInfo { hasNextPage hasPreviousPage } }
}`;

describe("the propagation history", () => {
  it("pages one by one, forward and backward, through propagations recorded in the same millisecond: each exactly once", async () => {
    const catalogue = await createCatalogue(api);
    const local = (id: string) => decodeGlobalID(id).id;
    const { db } = await testDatabase();
    // Microseconds apart within one millisecond, as concurrent promotions land on PostgreSQL.
    await db.insert(propagations).values(
      [1, 2, 3, 4, 5].map((n) => ({
        organizationId: tenant.organizationId,
        applicationId: local(catalogue.applicationId),
        fromEnvironmentId: local(catalogue.environments.development),
        toEnvironmentId: local(catalogue.environments.staging),
        mode: "PROMOTE_NOW" as const,
        items: [],
        addedChangeIds: [],
        comment: `p${n}`,
        actor: "test",
        createdAt: sql`'2026-11-29T10:00:00.123Z'::timestamptz + ${`${n} microseconds`}::interval`,
      })),
    );
    const forward: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = (await api.data(PAGE, { first: 1, after })).propagations;
      forward.push(...page.edges.map((e: { node: { comment: string } }) => e.node.comment));
      if (!page.pageInfo.hasNextPage) break;
      after = page.edges[0].cursor;
    }
    expect([...forward].sort()).toEqual(["p1", "p2", "p3", "p4", "p5"]);
    const backward: string[] = [];
    let before: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = (await api.data(PAGE, { last: 1, before })).propagations;
      backward.push(...page.edges.map((e: { node: { comment: string } }) => e.node.comment));
      if (!page.pageInfo.hasPreviousPage) break;
      before = page.edges[0].cursor;
    }
    expect(backward).toEqual([...forward].reverse());
  });
});

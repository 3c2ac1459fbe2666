import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ActiveToken } from "../../src/db/repositories/tokens.js";
import { AuthenticationCache } from "../../src/services/authentication-cache.js";
import { hashToken, tokenReader } from "../../src/services/tokens.js";
import { countQueries, databaseUrl, testDatabase } from "../support/database.js";
import { apiAs, createApiToken, createApplication } from "../support/fixtures.js";
import { gql } from "../support/graphql.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant } from "../support/tenant.js";

/**
 * The tokens a server on the embedded database keeps checked (src/services/authentication-cache.ts):
 * a request reads its token once, and again after each committed write of its organization — so the
 * revision the response cache keys by stays exact and a revocation is refused at once. On a
 * PostgreSQL server, which other instances write, every request reads its token.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const APPLICATIONS = "{ applications(first: 10) { edges { node { name } } } }";
const tokenReads = (queries: string[]) => queries.filter((q) => /from "api_tokens"/.test(q)).length;
const names = (result: { data?: { applications: { edges: { node: { name: string } }[] } } }) =>
  result.data?.applications.edges.map((e) => e.node.name);

describe("checked tokens", () => {
  it("are read once per write of their organization on the embedded database, on every request on PostgreSQL", async () => {
    const tenant = await createTenant("auth-cache");
    const viewer = tenant.tokens.VIEWER;
    await gql(server.endpoint, viewer, "{ __typename }");
    const again = await countQueries(() => gql(server.endpoint, viewer, "{ __typename }"));
    expect(again.result.data).toEqual({ __typename: "Query" });
    expect(tokenReads(again.queries)).toBe(databaseUrl ? 1 : 0);

    // A write of the organization: the next request reads the token (and the new revision) again
    // and sees the write, with the response cache warm from before it.
    expect(names(await gql(server.endpoint, viewer, APPLICATIONS))).toEqual([]);
    await createApplication(apiAs(server.endpoint, tenant), "Billing");
    const after = await countQueries(() => gql(server.endpoint, viewer, APPLICATIONS));
    expect(names(after.result)).toEqual(["Billing"]);
    expect(tokenReads(after.queries)).toBe(1);
    expect(tokenReads((await countQueries(() => gql(server.endpoint, viewer, "{ __typename }"))).queries)).toBe(databaseUrl ? 1 : 0);
  });

  it("stay kept through another organization's writes", async () => {
    const [mine, other] = await Promise.all([createTenant("auth-cache-mine"), createTenant("auth-cache-other")]);
    await gql(server.endpoint, mine.tokens.VIEWER, "{ __typename }");
    await createApplication(apiAs(server.endpoint, other), "Elsewhere");
    const next = await countQueries(() => gql(server.endpoint, mine.tokens.VIEWER, "{ __typename }"));
    expect(tokenReads(next.queries)).toBe(databaseUrl ? 1 : 0);
  });

  it("refuse a revoked token at its very next request", async () => {
    const tenant = await createTenant("auth-cache-revoke");
    const admin = apiAs(server.endpoint, tenant);
    const minted = await createApiToken(admin, { name: "kept-then-revoked", role: "VIEWER" });
    for (let i = 0; i < 3; i++) expect((await gql(server.endpoint, minted.token, "{ __typename }")).status).toBe(200);
    const revoked = await admin.data(`mutation ($id: ID!) { revokeApiToken(input: { apiTokenId: $id }) { __typename } }`, {
      id: minted.id,
    });
    expect(revoked.revokeApiToken.__typename).toBe("RevokeApiTokenSuccess");
    expect((await gql(server.endpoint, minted.token, "{ __typename }")).status).toBe(401);
  });
});

describe("token reads", () => {
  it("of requests that arrive together are one statement, each answered with its own token", async () => {
    const { db } = await testDatabase();
    const [one, two] = await Promise.all([createTenant("auth-batch-one"), createTenant("auth-batch-two")]);
    const revoked = await createApiToken(apiAs(server.endpoint, one), { name: "batch-revoked", role: "EDITOR" });
    await apiAs(server.endpoint, one).data(`mutation ($id: ID!) { revokeApiToken(input: { apiTokenId: $id }) { __typename } }`, {
      id: revoked.id,
    });
    const read = tokenReader(db);
    const { result, queries } = await countQueries(() =>
      Promise.all([one.tokens.VIEWER, two.tokens.ADMIN, revoked.token, "jpt_unknown", one.tokens.VIEWER].map((t) => read(hashToken(t)))),
    );
    expect(queries).toHaveLength(1);
    expect(result.map((found) => found && [found.organization.id, found.token.role])).toEqual([
      [one.organizationId, "VIEWER"],
      [two.organizationId, "ADMIN"],
      null,
      null,
      [one.organizationId, "VIEWER"],
    ]);
  });
});

describe("the cache of checked tokens", () => {
  const found = (organization: string, revision: number): ActiveToken => ({
    token: { id: `token-of-${organization}`, role: "VIEWER", name: "t", environmentId: null },
    organization: { id: organization, revision, tableRevisions: {} },
  });

  /** A database stand-in that counts its reads and answers with the organization's current revision. */
  function database() {
    const revisions = new Map<string, number>([
      ["a", 1],
      ["b", 1],
    ]);
    let reads = 0;
    return {
      revisions,
      reads: () => reads,
      read: async (hash: string) => {
        reads++;
        return hash === "unknown" ? null : found(hash, revisions.get(hash)!);
      },
    };
  }

  it("keeps a token until a transaction of its organization commits", async () => {
    const cache = new AuthenticationCache();
    const db = database();
    expect(await cache.find("a", db.read)).toEqual(found("a", 1));
    expect(await cache.find("a", db.read)).toEqual(found("a", 1));
    expect(db.reads()).toBe(1);
    db.revisions.set("b", 2);
    cache.committed("b");
    expect(await cache.find("a", db.read)).toEqual(found("a", 1));
    expect(db.reads()).toBe(1);
    db.revisions.set("a", 2);
    cache.committed("a");
    expect(await cache.find("a", db.read)).toEqual(found("a", 2));
    expect(db.reads()).toBe(2);
  });

  it("does not keep what a read overlapping a commit saw, nor an unknown token", async () => {
    const cache = new AuthenticationCache();
    const db = database();
    // The read sees revision 1; a transaction raising it to 2 commits before the read is answered.
    const stale = cache.find("a", async (hash) => {
      const seen = await db.read(hash);
      db.revisions.set("a", 2);
      cache.committed("a");
      return seen;
    });
    expect(await stale).toEqual(found("a", 1));
    expect(await cache.find("a", db.read)).toEqual(found("a", 2));
    expect(await cache.find("unknown", db.read)).toBeNull();
    expect(await cache.find("unknown", db.read)).toBeNull();
    expect(db.reads()).toBe(4);
  });
});

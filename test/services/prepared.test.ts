import { randomUUID } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { Db } from "../../src/db/client.js";
import { preparedPerDatabase } from "../../src/db/repositories/prepared.js";
import { organizations } from "../../src/db/schema.js";
import { ensureOrganization } from "../../src/services/tokens.js";
import { countQueries, testDatabase } from "../support/database.js";

/**
 * Prepared statements built once (src/db/repositories/prepared.ts): a transaction's handle runs a
 * copy bound to its own connection and logger instead of building the query again.
 */
describe("a statement prepared per database", () => {
  it("is built once, and runs in each transaction on the transaction's connection, seen by the database's logger", async () => {
    const { db } = await testDatabase();
    const { organization } = await ensureOrganization(db, `prepared ${randomUUID()}`);
    let builds = 0;
    const byId = preparedPerDatabase((handle) => {
      builds++;
      return handle
        .select({ name: organizations.name })
        .from(organizations)
        .where(and(eq(organizations.id, sql.placeholder("id"))))
        .prepare("prepared_test_organization_by_id");
    });
    expect(await byId(db).execute({ id: organization.id })).toEqual([{ name: organization.name }]);
    const renamed = `${organization.name} (renamed)`;
    const seen = await countQueries(() =>
      db.transaction(async (tx) => {
        await tx.update(organizations).set({ name: renamed }).where(eq(organizations.id, organization.id));
        // The transaction's own write is visible: the copy runs on the transaction's connection.
        return byId(tx as unknown as Db).execute({ id: organization.id });
      }),
    );
    expect(seen.result).toEqual([{ name: renamed }]);
    expect(seen.queries.filter((q) => q.startsWith('select "name" from "organizations"'))).toHaveLength(1);
    // A rolled-back transaction's read saw its own write; the committed one is unchanged by it.
    await expect(
      db.transaction(async (tx) => {
        await tx.update(organizations).set({ name: "never" }).where(eq(organizations.id, organization.id));
        expect(await byId(tx as unknown as Db).execute({ id: organization.id })).toEqual([{ name: "never" }]);
        tx.rollback();
      }),
    ).rejects.toThrow();
    expect(await byId(db).execute({ id: organization.id })).toEqual([{ name: renamed }]);
    expect(builds).toBe(1);
  });
});

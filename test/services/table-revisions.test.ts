import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { rowsOf } from "../../src/db/client.js";
import {
  noteStatement,
  ROWS_INSERTED_OR_DELETED,
  readingPartitions,
  TABLE_NAMES,
  tablesNamedIn,
  trackingTablesRead,
} from "../../src/db/read-tracking.js";
import { listEnvironments } from "../../src/db/repositories/environments.js";
import { applications, journeyDrafts, journeyHeads, organizations, variables } from "../../src/db/schema.js";
import type { Actor } from "../../src/services/actor.js";
import { createApplication } from "../../src/services/applications.js";
import { createClient } from "../../src/services/clients.js";
import { createDatabase } from "../../src/services/environments.js";
import { createJourney } from "../../src/services/journeys.js";
import { ensureOrganization, issueToken } from "../../src/services/tokens.js";
import { inTransaction } from "../../src/services/transaction.js";
import { testDatabase } from "../support/database.js";

/**
 * Table revisions (migration 0015, src/db/repositories/organizations.ts): the response cache keeps a
 * response while the tables it read are unchanged, so every write to every table must raise that
 * table's revision as its transaction commits.
 */
async function stateOf(organizationId: string) {
  const { db } = await testDatabase();
  const [row] = await db
    .select({ revision: organizations.revision, tables: organizations.tableRevisions })
    .from(organizations)
    .where(eq(organizations.id, organizationId));
  return row;
}

describe("table revisions", () => {
  it("has the trigger that notes a write on every table of the schema but organizations, and the schema has every table", async () => {
    const { db } = await testDatabase();
    const tables = rowsOf<{ name: string }>(
      await db.execute(sql`select table_name as name from information_schema.tables where table_schema = 'public' order by 1`),
    ).map((r) => r.name);
    expect([...TABLE_NAMES].sort()).toEqual(tables);
    const triggered = rowsOf<{ name: string }>(
      await db.execute(sql`
        select c.relname as name from pg_trigger t join pg_class c on c.oid = t.tgrelid
        join pg_namespace n on n.oid = c.relnamespace
        where t.tgname = 'note_table_written' and n.nspname = 'public' and not t.tgisinternal order by 1`),
    ).map((r) => r.name);
    expect(triggered).toEqual(tables.filter((t) => t !== "organizations"));
    const recording = rowsOf<{ name: string }>(
      await db.execute(sql`
        select c.relname as name from pg_trigger t join pg_class c on c.oid = t.tgrelid
        where t.tgname = 'record_tables_written' and not t.tgisinternal`),
    ).map((r) => r.name);
    expect(recording).toEqual(["organizations"]);
  });

  it("records each table a committed transaction wrote with the new revision, and nothing of one rolled back", async () => {
    const { db } = await testDatabase();
    const { organization } = await ensureOrganization(db, `table revisions ${randomUUID()}`);
    const start = await stateOf(organization.id);
    // Creating the organization wrote its environments (the default pipeline).
    expect(start.tables).toEqual({ environments: start.revision });

    const [app] = await inTransaction(db, organization.id, (tx) =>
      tx.insert(applications).values({ organizationId: organization.id, name: "One" }).returning(),
    );
    const afterInsert = await stateOf(organization.id);
    expect(afterInsert.revision).toBe(start.revision + 1);
    expect(afterInsert.tables).toEqual({ environments: start.revision, applications: start.revision + 1 });

    // Two tables in one transaction, one of them by a statement that changed no row.
    await inTransaction(db, organization.id, async (tx) => {
      await tx.update(applications).set({ name: "Renamed" }).where(eq(applications.id, app.id));
      await tx.delete(journeyDrafts).where(eq(journeyDrafts.organizationId, organization.id));
    });
    const afterTwo = await stateOf(organization.id);
    expect(afterTwo.tables).toEqual({
      environments: start.revision,
      applications: start.revision + 2,
      journey_drafts: start.revision + 2,
    });

    await expect(
      inTransaction(db, organization.id, async (tx) => {
        await tx.delete(variables).where(eq(variables.organizationId, organization.id));
        throw new Error("rolled back");
      }),
    ).rejects.toThrow("rolled back");
    expect(await stateOf(organization.id)).toEqual(afterTwo);

    // A transaction that wrote nothing raises the revision only; the next one starts with nothing noted.
    await inTransaction(db, organization.id, async () => null);
    expect(await stateOf(organization.id)).toEqual({ revision: afterTwo.revision + 1, tables: afterTwo.tables });

    // Raised by hand (as an instance of an earlier version does, during a rolling deploy): recorded all the same.
    await db.transaction(async (tx) => {
      await tx.insert(variables).values({ organizationId: organization.id, key: "by.hand", kind: "STRING" });
      await tx
        .update(organizations)
        .set({ revision: sql`${organizations.revision} + 1` })
        .where(eq(organizations.id, organization.id));
    });
    const byHand = await stateOf(organization.id);
    expect(byHand).toEqual({ revision: afterTwo.revision + 2, tables: { ...afterTwo.tables, variables: afterTwo.revision + 2 } });
  });

  it("records, for journey heads and versions, the environment of each row written, and whether a row came or went", async () => {
    const { db } = await testDatabase();
    const { organization } = await ensureOrganization(db, `row revisions ${randomUUID()}`);
    const admin = await issueToken(db, { organizationId: organization.id, name: "admin", role: "ADMIN" });
    const actor: Actor = { organizationId: organization.id, tokenId: admin.apiToken.id, role: "ADMIN", name: "admin" };
    const [development, staging] = await listEnvironments(db, organization.id);
    const database = await createDatabase(db, actor, { environmentId: development.id, name: "users" });
    const application = await createApplication(db, actor, { name: "One" });
    await createClient(db, actor, {
      applicationId: application.id,
      environmentId: development.id,
      databaseId: database.id,
      redirectUris: [],
      allowedOrigins: [],
    });
    const journey = await createJourney(db, actor, { applicationId: application.id, key: "login", name: "Login", type: "LOGIN" });
    const created = await stateOf(organization.id);
    expect(created.tables).toMatchObject({
      journey_heads: created.revision,
      [`journey_heads@${development.id}`]: created.revision,
      [`journey_heads@${ROWS_INSERTED_OR_DELETED}`]: created.revision,
      [`journey_versions@${development.id}`]: created.revision,
    });
    expect(created.tables[`journey_heads@${staging.id}`]).toBeUndefined();

    // A head changed in place: its environment's rows, and no row came or went.
    await inTransaction(db, organization.id, (tx) =>
      tx
        .update(journeyHeads)
        .set({ hash: sql`${journeyHeads.hash}` })
        .where(eq(journeyHeads.journeyId, journey.id)),
    );
    const updated = await stateOf(organization.id);
    expect(updated.tables[`journey_heads@${development.id}`]).toBe(created.revision + 1);
    expect(updated.tables[`journey_heads@${ROWS_INSERTED_OR_DELETED}`]).toBe(created.revision);
    expect(updated.tables[`journey_versions@${development.id}`]).toBe(created.revision);

    // Deleted (as retiring a journey does): its environment's rows, and which rows exist.
    await inTransaction(db, organization.id, (tx) => tx.delete(journeyHeads).where(eq(journeyHeads.journeyId, journey.id)));
    const deleted = await stateOf(organization.id);
    expect(deleted.tables[`journey_heads@${development.id}`]).toBe(created.revision + 2);
    expect(deleted.tables[`journey_heads@${ROWS_INSERTED_OR_DELETED}`]).toBe(created.revision + 2);
    expect(deleted.tables[`journey_heads@${staging.id}`]).toBeUndefined();
  });

  it("counts a statement run inside readingPartitions as a read of those partitions of the table only", () => {
    const tables = new Set<string>();
    trackingTablesRead(tables, () => {
      readingPartitions({ journey_heads: ["e1", "e2"] }, () => noteStatement(`select 1 from "journey_heads" join "journeys" on true`));
      noteStatement(`select 1 from "journey_versions"`);
    });
    expect([...tables].sort()).toEqual(["journey_heads@e1", "journey_heads@e2", "journey_versions", "journeys"]);
    // Outside any tracking, nothing is noted and the read runs.
    expect(readingPartitions({ journey_heads: ["e1"] }, () => "read")).toBe("read");
  });

  it("names the tables a statement names, by whole words", () => {
    expect(tablesNamedIn(`select "journey_versions"."id" from "journey_versions" join "journeys" on true`)).toEqual([
      "journey_versions",
      "journeys",
    ]);
    expect(tablesNamedIn(`select 1 from variables, variable_values`)).toEqual(["variables", "variable_values"]);
    expect(tablesNamedIn(`select "journeys_x", "xjourneys", "$journeys" from "other"`)).toEqual([]);
  });
});

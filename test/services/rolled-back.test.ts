import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { organizations } from "../../src/db/schema.js";
import { testDatabase } from "../support/database.js";
import { rolledBack } from "../support/rolled-back.js";
import { createServiceCatalogue } from "../support/service-catalogue.js";

/** The tier's promise: a test sees its own writes, and none of them outlives it. */
describe("a rolled-back test body", () => {
  it("sees its writes, returns its result, and leaves no row behind", async () => {
    const organizationId = await rolledBack(async (tx) => {
      const catalogue = await createServiceCatalogue(tx);
      const seen = await tx.select().from(organizations).where(eq(organizations.id, catalogue.actor.organizationId));
      expect(seen).toHaveLength(1);
      return catalogue.actor.organizationId;
    });
    const { db } = await testDatabase();
    expect(await db.select().from(organizations).where(eq(organizations.id, organizationId))).toEqual([]);
  });

  it("fails with the body's error, rolled back all the same", async () => {
    let organizationId = "";
    const failing = rolledBack(async (tx) => {
      organizationId = (await createServiceCatalogue(tx)).actor.organizationId;
      throw new Error("the body failed");
    });
    await expect(failing).rejects.toThrow("the body failed");
    const { db } = await testDatabase();
    expect(await db.select().from(organizations).where(eq(organizations.id, organizationId))).toEqual([]);
  });
});

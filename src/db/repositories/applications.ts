import { and, asc, desc, eq, isNull, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { applications, journeys } from "../schema.js";
import { preparedPerDatabase } from "./prepared.js";
import type { ApplicationRow } from "./rows.js";
import { anyOf } from "./tuples.js";

/** The ids of every application of the organization. */
export async function listApplicationIds(db: Db, organizationId: string): Promise<string[]> {
  const rows = await db.select({ id: applications.id }).from(applications).where(eq(applications.organizationId, organizationId));
  return rows.map((r) => r.id);
}

export async function findApplicationsByIds(db: Db, organizationId: string, ids: readonly string[]): Promise<ApplicationRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(applications)
    .where(and(eq(applications.organizationId, organizationId), anyOf(applications.id, "uuid", ids)));
}

/**
 * A page of applications in (name, id) order, strictly after `after` and before `before`;
 * `inverted` reads from the end (for `last`), returning rows in descending order.
 */
export async function listApplications(
  db: Db,
  organizationId: string,
  page: { after?: ApplicationPosition; before?: ApplicationPosition; limit: number; inverted?: boolean },
  options: { includeArchived?: boolean } = {},
): Promise<ApplicationRow[]> {
  const position = sql`(${applications.name}, ${applications.id})`;
  return db
    .select()
    .from(applications)
    .where(
      and(
        eq(applications.organizationId, organizationId),
        options.includeArchived ? undefined : isNull(applications.archivedAt),
        page.after ? sql`${position} > (${page.after.name}, ${page.after.id}::uuid)` : undefined,
        page.before ? sql`${position} < (${page.before.name}, ${page.before.id}::uuid)` : undefined,
      ),
    )
    .orderBy(...(page.inverted ? [desc(applications.name), desc(applications.id)] : [asc(applications.name), asc(applications.id)]))
    .limit(page.limit);
}

export interface ApplicationPosition {
  name: string;
  id: string;
}

export async function insertApplication(db: Db, values: { organizationId: string; name: string }): Promise<ApplicationRow> {
  const [row] = await db.insert(applications).values(values).returning();
  return row;
}

/**
 * The application's row, locked until commit: shared by every write to the application (it must not
 * be archived meanwhile), exclusive for writes of the row itself (archive, unarchive, rename) — FOR NO
 * KEY UPDATE, which waits for the shared holders as FOR UPDATE would but not for the foreign-key checks
 * of rows naming the application (a transaction writing its numbered rows under the organization's row
 * lock, `atCommit`, must wait for no one).
 */
export async function lockApplication(
  db: Db,
  organizationId: string,
  id: string,
  mode: "share" | "no key update",
): Promise<ApplicationRow | null> {
  const [row] = await (mode === "share" ? lockApplicationShared : lockApplicationForNoKeyUpdate)(db).execute({ organizationId, id });
  return row ?? null;
}

const lockApplicationIn = (mode: "share" | "no key update", name: string) =>
  preparedPerDatabase((db) =>
    db
      .select()
      .from(applications)
      .where(and(eq(applications.organizationId, sql.placeholder("organizationId")), eq(applications.id, sql.placeholder("id"))))
      .for(mode)
      .prepare(name),
  );
const lockApplicationShared = lockApplicationIn("share", "lock_application_shared");

/**
 * The application of a journey, its row locked shared until commit (null: no such journey in the
 * organization): what a journey's write takes first, in the round trip that reads the journey.
 */
export async function lockApplicationOfJourney(db: Db, organizationId: string, journeyId: string): Promise<ApplicationRow | null> {
  const [row] = await lockApplicationOfJourneyShared(db).execute({ organizationId, journeyId });
  return row ?? null;
}

const lockApplicationOfJourneyShared = preparedPerDatabase((db) =>
  db
    .select()
    .from(applications)
    .where(
      and(
        eq(applications.organizationId, sql.placeholder("organizationId")),
        eq(
          applications.id,
          db
            .select({ id: journeys.applicationId })
            .from(journeys)
            .where(and(eq(journeys.organizationId, sql.placeholder("organizationId")), eq(journeys.id, sql.placeholder("journeyId")))),
        ),
      ),
    )
    .for("share")
    .prepare("lock_application_of_journey_shared"),
);
const lockApplicationForNoKeyUpdate = lockApplicationIn("no key update", "lock_application_for_no_key_update");

export async function updateApplicationRow(
  db: Db,
  id: string,
  values: { name?: string; archivedAt?: Date | null },
): Promise<ApplicationRow> {
  const [row] = await db.update(applications).set(values).where(eq(applications.id, id)).returning();
  return row;
}

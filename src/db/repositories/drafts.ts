import { and, eq, sql } from "drizzle-orm";
import type { JourneyDocument } from "../../domain/journey-document.js";
import type { Db } from "../client.js";
import { journeyDrafts } from "../schema.js";
import type { JourneyEnvironmentKey } from "./journeys.js";
import { preparedPerDatabase } from "./prepared.js";
import { anyOf, inTuples } from "./tuples.js";

export type JourneyDraftRow = typeof journeyDrafts.$inferSelect;
/** Who edited a draft: the token's name, and the token. */
export type DraftAuthor = Pick<JourneyDraftRow, "updatedBy" | "updatedByTokenId">;

const keyIs = (key: JourneyEnvironmentKey) =>
  and(eq(journeyDrafts.journeyId, key.journeyId), eq(journeyDrafts.environmentId, key.environmentId));

/** The draft, locked for the rest of the transaction: concurrent edits of one draft queue here. */
export async function lockDraft(db: Db, key: JourneyEnvironmentKey): Promise<JourneyDraftRow | null> {
  const [row] = await lockDraftQuery(db).execute({ journeyId: key.journeyId, environmentId: key.environmentId });
  return row ?? null;
}

const lockDraftQuery = preparedPerDatabase((db) =>
  db
    .select()
    .from(journeyDrafts)
    .where(
      and(eq(journeyDrafts.journeyId, sql.placeholder("journeyId")), eq(journeyDrafts.environmentId, sql.placeholder("environmentId"))),
    )
    .for("update")
    .prepare("lock_draft"),
);

type NewDraft = JourneyEnvironmentKey & DraftAuthor & { organizationId: string; baseVersion: number; document: JourneyDocument };

/**
 * Inserts a draft unless one exists (a concurrent first edit may have started it; it waits for that
 * edit to commit): the row, this transaction's until it commits, or null.
 */
export async function insertDraft(db: Db, values: NewDraft & { revision: number }): Promise<JourneyDraftRow | null> {
  const [inserted] = await db.insert(journeyDrafts).values(values).onConflictDoNothing().returning();
  return inserted ?? null;
}

/**
 * Starts a draft (revision 0) unless one exists, then locks it: the row inserted is this
 * transaction's until it commits; the one a concurrent edit inserted first is locked.
 */
export async function startDraft(db: Db, values: NewDraft): Promise<JourneyDraftRow> {
  return (await insertDraft(db, { ...values, revision: 0 })) ?? (await lockDraft(db, values))!;
}

/**
 * A new revision of the draft. An edit clears `restoredFromVersion`; a restore sets it, with the
 * head version it now stands on.
 */
export async function updateDraft(
  db: Db,
  key: JourneyEnvironmentKey,
  document: JourneyDocument,
  author: DraftAuthor,
  restore?: { baseVersion: number; restoredFromVersion: number },
): Promise<JourneyDraftRow> {
  const [row] = await db
    .update(journeyDrafts)
    .set({
      document,
      ...author,
      ...(restore ?? { restoredFromVersion: null }),
      revision: sql`${journeyDrafts.revision} + 1`,
      updatedAt: sql`now()`,
    })
    .where(keyIs(key))
    .returning();
  return row;
}

export async function deleteDraft(db: Db, key: JourneyEnvironmentKey): Promise<void> {
  await db.delete(journeyDrafts).where(keyIs(key)).execute();
}

/** Drops the drafts of several (journey, environment) pairs. */
export async function deleteDrafts(db: Db, keys: readonly JourneyEnvironmentKey[]): Promise<void> {
  if (keys.length === 0) return;
  await db.delete(journeyDrafts).where(
    inTuples(
      [sql`${journeyDrafts.journeyId}`, sql`${journeyDrafts.environmentId}`],
      ["uuid", "uuid"],
      keys.map((k) => [k.journeyId, k.environmentId]),
    ),
  );
}

export async function findDrafts(db: Db, organizationId: string, keys: readonly JourneyEnvironmentKey[]): Promise<JourneyDraftRow[]> {
  if (keys.length === 0) return [];
  return db
    .select()
    .from(journeyDrafts)
    .where(
      and(
        eq(journeyDrafts.organizationId, organizationId),
        anyOf(journeyDrafts.journeyId, "uuid", [...new Set(keys.map((k) => k.journeyId))]),
        anyOf(journeyDrafts.environmentId, "uuid", [...new Set(keys.map((k) => k.environmentId))]),
      ),
    );
}

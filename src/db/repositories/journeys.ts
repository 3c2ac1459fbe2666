import { and, asc, desc, eq, gt, inArray, lt, sql } from "drizzle-orm";
import type { JourneyDocument } from "../../domain/journey-document.js";
import type { Db } from "../client.js";
import { journeyHeads, journeys, journeyVersions } from "../schema.js";
import type { JourneyHeadRow, JourneyRow, JourneyVersionRow, VersionOrigin } from "./rows.js";

export async function findJourneysByIds(db: Db, organizationId: string, ids: readonly string[]): Promise<JourneyRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(journeys).where(and(eq(journeys.organizationId, organizationId), inArray(journeys.id, ids)));
}

export async function findJourneysByApplicationIds(db: Db, organizationId: string, applicationIds: readonly string[]): Promise<JourneyRow[]> {
  if (applicationIds.length === 0) return [];
  return db
    .select()
    .from(journeys)
    .where(and(eq(journeys.organizationId, organizationId), inArray(journeys.applicationId, applicationIds)))
    .orderBy(asc(journeys.key));
}

export async function insertJourney(
  db: Db,
  values: { organizationId: string; applicationId: string; key: string; name: string; type: JourneyRow["type"] },
): Promise<JourneyRow> {
  const [row] = await db.insert(journeys).values(values).returning();
  return row;
}

export interface JourneyEnvironmentKey {
  journeyId: string;
  environmentId: string;
}

export const journeyEnvironmentKey = (key: JourneyEnvironmentKey) => `${key.journeyId}:${key.environmentId}`;

/** The head version rows of the given (journey, environment) pairs; pairs without a head are absent. */
export async function findHeadVersions(db: Db, organizationId: string, keys: readonly JourneyEnvironmentKey[]): Promise<JourneyVersionRow[]> {
  if (keys.length === 0) return [];
  const journeyIds = [...new Set(keys.map((k) => k.journeyId))];
  const environmentIds = [...new Set(keys.map((k) => k.environmentId))];
  // The cross product of the two id lists is a superset of the wanted pairs; the caller picks its pairs.
  const rows = await db
    .select({ version: journeyVersions })
    .from(journeyHeads)
    .innerJoin(
      journeyVersions,
      and(
        eq(journeyVersions.journeyId, journeyHeads.journeyId),
        eq(journeyVersions.environmentId, journeyHeads.environmentId),
        eq(journeyVersions.version, journeyHeads.version),
      ),
    )
    .innerJoin(journeys, eq(journeys.id, journeyHeads.journeyId))
    .where(
      and(
        eq(journeys.organizationId, organizationId),
        inArray(journeyHeads.journeyId, journeyIds),
        inArray(journeyHeads.environmentId, environmentIds),
      ),
    );
  return rows.map((r) => r.version);
}

/** Heads (version and hash only) of every journey of the given applications, in every environment. */
export async function findHeadsByApplicationIds(db: Db, organizationId: string, applicationIds: readonly string[]): Promise<(JourneyHeadRow & { applicationId: string })[]> {
  if (applicationIds.length === 0) return [];
  const rows = await db
    .select({ head: journeyHeads, applicationId: journeys.applicationId })
    .from(journeyHeads)
    .innerJoin(journeys, eq(journeys.id, journeyHeads.journeyId))
    .where(and(eq(journeys.organizationId, organizationId), inArray(journeys.applicationId, applicationIds)));
  return rows.map((r) => ({ ...r.head, applicationId: r.applicationId }));
}

/** Versions of a journey in an environment between two version numbers (exclusive), newest first unless `oldestFirst`. */
export async function listVersions(
  db: Db,
  key: JourneyEnvironmentKey,
  page: { below?: number; above?: number; limit: number; oldestFirst?: boolean },
): Promise<JourneyVersionRow[]> {
  return db
    .select()
    .from(journeyVersions)
    .where(
      and(
        eq(journeyVersions.journeyId, key.journeyId),
        eq(journeyVersions.environmentId, key.environmentId),
        page.below === undefined ? undefined : lt(journeyVersions.version, page.below),
        page.above === undefined ? undefined : gt(journeyVersions.version, page.above),
      ),
    )
    .orderBy(page.oldestFirst ? asc(journeyVersions.version) : desc(journeyVersions.version))
    .limit(page.limit);
}

/**
 * Writes the next version of a journey in an environment and moves its head, guarded by the head's
 * current version: a concurrent writer makes the head update miss (returns null) or the version
 * insert collide, so a lost update cannot happen.
 */
export async function appendVersion(
  db: Db,
  key: JourneyEnvironmentKey,
  expectedVersion: number | null,
  values: { document: JourneyDocument; hash: string; origin: VersionOrigin; savedBy: string; comment?: string | null },
): Promise<JourneyVersionRow | null> {
  const version = (expectedVersion ?? 0) + 1;
  const [row] = await db
    .insert(journeyVersions)
    .values({
      ...key,
      version,
      previousVersion: expectedVersion,
      document: values.document,
      hash: values.hash,
      origin: values.origin,
      savedBy: values.savedBy,
      comment: values.comment ?? null,
    })
    .returning();
  if (expectedVersion === null) {
    await db.insert(journeyHeads).values({ ...key, version, hash: values.hash });
    return row;
  }
  const moved = await db
    .update(journeyHeads)
    .set({ version, hash: values.hash, updatedAt: sql`now()` })
    .where(
      and(
        eq(journeyHeads.journeyId, key.journeyId),
        eq(journeyHeads.environmentId, key.environmentId),
        eq(journeyHeads.version, expectedVersion),
      ),
    )
    .returning({ version: journeyHeads.version });
  return moved.length === 1 ? row : null;
}

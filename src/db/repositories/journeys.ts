import { and, asc, desc, eq, getTableColumns, gt, lt, sql, TransactionRollbackError } from "drizzle-orm";
import { PgTransaction } from "drizzle-orm/pg-core";
import type { JourneyDocument } from "../../domain/journey-document.js";
import type { Db } from "../client.js";
import { pipelined } from "../pipelined.js";
import { ROWS_INSERTED_OR_DELETED, readingPartitions } from "../read-tracking.js";
import { clients, journeyHeads, journeys, journeyVersions } from "../schema.js";
import { preparedPerDatabase } from "./prepared.js";
import type { JourneyHeadRow, JourneyRow, JourneyVersionRow, VersionOrigin } from "./rows.js";
import { anyOf, inTuples } from "./tuples.js";

export async function findJourneysByIds(db: Db, organizationId: string, ids: readonly string[]): Promise<JourneyRow[]> {
  if (ids.length === 0) return [];
  return journeysByIdsQuery(db).execute({ organizationId, ids });
}

const journeysByIdsQuery = preparedPerDatabase((db) =>
  db
    .select()
    .from(journeys)
    .where(
      and(eq(journeys.organizationId, sql.placeholder("organizationId")), sql`${journeys.id} = any(${sql.placeholder("ids")}::uuid[])`),
    )
    .prepare("journeys_by_ids"),
);

export async function findJourneysByApplicationIds(
  db: Db,
  organizationId: string,
  applicationIds: readonly string[],
): Promise<JourneyRow[]> {
  if (applicationIds.length === 0) return [];
  return db
    .select()
    .from(journeys)
    .where(and(eq(journeys.organizationId, organizationId), anyOf(journeys.applicationId, "uuid", applicationIds)))
    .orderBy(asc(journeys.key));
}

/** The application's journey with this key, if any (retired ones too: keys are never reused). */
export async function findJourneyByKey(db: Db, applicationId: string, key: string): Promise<JourneyRow | null> {
  const [row] = await db
    .select()
    .from(journeys)
    .where(and(eq(journeys.applicationId, applicationId), eq(journeys.key, key)));
  return row ?? null;
}

export async function updateJourneyName(db: Db, id: string, name: string): Promise<JourneyRow> {
  const [row] = await db.update(journeys).set({ name }).where(eq(journeys.id, id)).returning();
  return row;
}

/**
 * The journeys of these applications, by key, each with whether it has a configuration in some
 * environment (`configured`: false once it is retired everywhere) — in one statement.
 */
export async function findJourneysWithPresenceByApplicationIds(
  db: Db,
  organizationId: string,
  applicationIds: readonly string[],
): Promise<(JourneyRow & { configured: boolean })[]> {
  if (applicationIds.length === 0) return [];
  // Of the heads it reads only whether one exists: a new version of a head leaves the answer as it was.
  return readingPartitions({ journey_heads: [ROWS_INSERTED_OR_DELETED] }, () =>
    journeysWithPresenceQuery(db).execute({ organizationId, applicationIds }),
  );
}

const journeysWithPresenceQuery = preparedPerDatabase((db) =>
  db
    .select({
      ...getTableColumns(journeys),
      configured: sql<boolean>`exists (select 1 from ${journeyHeads} where ${journeyHeads.journeyId} = ${journeys.id})`,
    })
    .from(journeys)
    .where(
      and(
        eq(journeys.organizationId, sql.placeholder("organizationId")),
        sql`${journeys.applicationId} = any(${sql.placeholder("applicationIds")}::uuid[])`,
      ),
    )
    .orderBy(asc(journeys.key))
    .prepare("journeys_with_presence_by_application_ids"),
);

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
export async function findHeadVersions(
  db: Db,
  organizationId: string,
  keys: readonly JourneyEnvironmentKey[],
): Promise<JourneyVersionRow[]> {
  if (keys.length === 0) return [];
  const journeyIds = [...new Set(keys.map((k) => k.journeyId))];
  const environmentIds = [...new Set(keys.map((k) => k.environmentId))];
  // The cross product of the two id lists is a superset of the wanted pairs; the caller picks its pairs.
  const rows = await readingPartitions({ journey_heads: environmentIds, journey_versions: environmentIds }, () =>
    headVersionsQuery(db).execute({ organizationId, journeyIds, environmentIds }),
  );
  return rows.map((r) => r.version);
}

/** A head joined to the version it points at. */
export const versionOfHead = () =>
  and(
    eq(journeyVersions.journeyId, journeyHeads.journeyId),
    eq(journeyVersions.environmentId, journeyHeads.environmentId),
    eq(journeyVersions.version, journeyHeads.version),
  );

const headVersionsQuery = preparedPerDatabase((db) =>
  db
    .select({ version: journeyVersions })
    .from(journeyHeads)
    .innerJoin(journeyVersions, versionOfHead())
    .innerJoin(journeys, eq(journeys.id, journeyHeads.journeyId))
    .where(headsOfJourneysIn())
    .prepare("head_versions_by_journeys_and_environments"),
);

/** Heads (version and hash, no document) of the given (journey, environment) pairs. */
export async function findHeads(db: Db, organizationId: string, keys: readonly JourneyEnvironmentKey[]): Promise<JourneyHeadRow[]> {
  if (keys.length === 0) return [];
  const environmentIds = [...new Set(keys.map((k) => k.environmentId))];
  const rows = await readingPartitions({ journey_heads: environmentIds }, () =>
    headsQuery(db).execute({ organizationId, journeyIds: [...new Set(keys.map((k) => k.journeyId))], environmentIds }),
  );
  return rows.map((r) => r.head);
}

/**
 * The condition on heads joined to their journeys: of the organization, of these journeys, in these
 * environments (placeholders `organizationId`, `journeyIds`, `environmentIds`).
 */
const headsOfJourneysIn = () =>
  and(
    eq(journeys.organizationId, sql.placeholder("organizationId")),
    sql`${journeyHeads.journeyId} = any(${sql.placeholder("journeyIds")}::uuid[])`,
    sql`${journeyHeads.environmentId} = any(${sql.placeholder("environmentIds")}::uuid[])`,
  );

/** Heads of these journeys in these environments (every pair of the two lists that has one). */
const headsQuery = preparedPerDatabase((db) =>
  db
    .select({ head: journeyHeads })
    .from(journeyHeads)
    .innerJoin(journeys, eq(journeys.id, journeyHeads.journeyId))
    .where(headsOfJourneysIn())
    .prepare("heads_by_journeys_and_environments"),
);

/**
 * What a diff of an application between two environments is computed from, as text items — each of
 * these journeys' heads there (`<journey>@<environment>=<hash>`) and each of the application's
 * clients there (`client@<environment>=<id>:<settings hash>`) — in one statement, so one snapshot:
 * a promotion writes heads and a client together, and two statements could see one without the other.
 */
export async function findDiffInputs(
  db: Db,
  organizationId: string,
  keys: { applicationId: string; journeyIds: readonly string[]; environmentIds: readonly string[] },
): Promise<string[]> {
  const rows = await readingPartitions({ journey_heads: keys.environmentIds }, () =>
    diffInputsQuery(db).execute({ organizationId, ...keys }),
  );
  return rows.map((r) => r.item);
}

const diffInputsQuery = preparedPerDatabase((db) =>
  db
    .select({
      item: sql<string>`${journeyHeads.journeyId}::text || '@' || ${journeyHeads.environmentId}::text || '=' || ${journeyHeads.hash}`,
    })
    .from(journeyHeads)
    .innerJoin(journeys, eq(journeys.id, journeyHeads.journeyId))
    .where(headsOfJourneysIn())
    .unionAll(
      db
        .select({
          item: sql<string>`'client@' || ${clients.environmentId}::text || '=' || ${clients.id}::text || ':' || ${clients.settingsHash}`,
        })
        .from(clients)
        .where(
          and(
            eq(clients.organizationId, sql.placeholder("organizationId")),
            eq(clients.applicationId, sql.placeholder("applicationId")),
            sql`${clients.environmentId} = any(${sql.placeholder("environmentIds")}::uuid[])`,
          ),
        ),
    )
    .prepare("diff_inputs"),
);

/** Version rows by (journey, environment, number). */
export async function findVersions(
  db: Db,
  organizationId: string,
  keys: readonly (JourneyEnvironmentKey & { version: number })[],
): Promise<JourneyVersionRow[]> {
  if (keys.length === 0) return [];
  const environmentIds = [...new Set(keys.map((k) => k.environmentId))];
  const rows = await readingPartitions({ journey_versions: environmentIds }, () =>
    db
      .select({ version: journeyVersions })
      .from(journeyVersions)
      .innerJoin(journeys, eq(journeys.id, journeyVersions.journeyId))
      .where(
        and(
          eq(journeys.organizationId, organizationId),
          // The journeys by key too: the organization alone led the planner to read every
          // organization's journeys for it (no index by organization; docs/performance.md, 2026-12-07).
          anyOf(journeys.id, "uuid", [...new Set(keys.map((k) => k.journeyId))]),
          inTuples(
            [sql`${journeyVersions.journeyId}`, sql`${journeyVersions.environmentId}`, sql`${journeyVersions.version}`],
            ["uuid", "uuid", "int"],
            keys.map((k) => [k.journeyId, k.environmentId, k.version]),
          ),
        ),
      )
      .execute(),
  );
  return rows.map((r) => r.version);
}

/** Heads (version and hash only) of every journey of the given applications, in every environment. */
export async function findHeadsByApplicationIds(
  db: Db,
  organizationId: string,
  applicationIds: readonly string[],
): Promise<(JourneyHeadRow & { applicationId: string })[]> {
  if (applicationIds.length === 0) return [];
  const rows = await headsByApplicationIdsQuery(db).execute({ organizationId, applicationIds });
  return rows.map((r) => ({ ...r.head, applicationId: r.applicationId }));
}

const headsByApplicationIdsQuery = preparedPerDatabase((db) =>
  db
    .select({ head: journeyHeads, applicationId: journeys.applicationId })
    .from(journeyHeads)
    .innerJoin(journeys, eq(journeys.id, journeyHeads.journeyId))
    .where(
      and(
        eq(journeys.organizationId, sql.placeholder("organizationId")),
        sql`${journeys.applicationId} = any(${sql.placeholder("applicationIds")}::uuid[])`,
      ),
    )
    .prepare("heads_by_application_ids"),
);

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

export interface NewVersion {
  key: JourneyEnvironmentKey;
  /** The number of the last version written (null for none): the new one is that + 1. */
  previousVersion: number | null;
  document: JourneyDocument;
  hash: string;
  origin: VersionOrigin;
  savedBy: string;
  savedByTokenId: string | null;
  comment?: string | null;
}

/**
 * Writes the next version of several journeys and moves (or creates) their heads in two statements,
 * whatever their number. A head only moves from `previousVersion`: when a concurrent writer moved it
 * first, the version insert collides (unique, gapless numbers) or the head update misses, and null
 * is returned so the caller can roll the transaction back.
 */
export async function appendVersions(db: Db, entries: NewVersion[]): Promise<JourneyVersionRow[] | null> {
  if (entries.length === 0) return [];
  // Both statements on one connection, in order, together: a transaction's. A seed's or a test's call
  // without one gets its own, rolled back when a head did not move.
  if (!(db instanceof PgTransaction)) {
    try {
      return await db.transaction(async (tx) => (await appendVersions(tx as unknown as Db, entries)) ?? tx.rollback());
    } catch (error) {
      if (error instanceof TransactionRollbackError) return null;
      throw error;
    }
  }
  const values = entries.map((e) => ({
    ...e.key,
    version: (e.previousVersion ?? 0) + 1,
    previousVersion: e.previousVersion,
    document: e.document,
    hash: e.hash,
    origin: e.origin,
    savedBy: e.savedBy,
    savedByTokenId: e.savedByTokenId,
    comment: e.comment ?? null,
    retired: false,
  }));
  // In one round trip: the versions, then the heads moved to them. The documents are not read
  // back: the caller has them, and they are the bulk of the bytes.
  const [written, moved] = await pipelined(
    db.insert(journeyVersions).values(values).returning({ savedAt: journeyVersions.savedAt }).execute(),
    db
      .insert(journeyHeads)
      .values(values.map((v) => ({ journeyId: v.journeyId, environmentId: v.environmentId, version: v.version, hash: v.hash })))
      .onConflictDoUpdate({
        target: [journeyHeads.journeyId, journeyHeads.environmentId],
        set: { version: sql`excluded.version`, hash: sql`excluded.hash`, updatedAt: sql`now()` },
        setWhere: sql`${journeyHeads.version} = excluded.version - 1`,
      })
      .returning({ journeyId: journeyHeads.journeyId })
      .execute(),
  );
  const rows: JourneyVersionRow[] = values.map((v, i) => ({ ...v, savedAt: written[i].savedAt }));
  return moved.length === entries.length ? rows : null;
}

/** Writes the next version of one journey and moves its head; null when someone moved the head first. */
export async function appendVersion(
  db: Db,
  key: JourneyEnvironmentKey,
  expectedVersion: number | null,
  values: {
    document: JourneyDocument;
    hash: string;
    origin: VersionOrigin;
    savedBy: string;
    savedByTokenId: string | null;
    comment?: string | null;
  },
): Promise<JourneyVersionRow | null> {
  const rows = await appendVersions(db, [{ key, previousVersion: expectedVersion, ...values }]);
  return rows?.[0] ?? null;
}

export interface Tombstone {
  key: JourneyEnvironmentKey;
  /** The head's version: the tombstone is the next one, and the head must still be this one. */
  headVersion: number;
  /** The document retired, kept by the tombstone. */
  document: JourneyDocument;
  hash: string;
  origin: VersionOrigin;
  savedBy: string;
  savedByTokenId: string | null;
  comment: string | null;
}

/**
 * Retires journeys in environments (DESIGN.md §10): each gets a tombstone version (`retired`, the
 * document it retired) and loses its head, in two statements whatever their number. A head only
 * goes from `headVersion`: when a concurrent writer moved it first, the version insert collides or
 * the delete misses, and false is returned so the caller can roll the transaction back.
 */
export async function retireJourneys(db: Db, tombstones: Tombstone[]): Promise<boolean> {
  if (tombstones.length === 0) return true;
  await db.insert(journeyVersions).values(
    tombstones.map((t) => ({
      ...t.key,
      version: t.headVersion + 1,
      previousVersion: t.headVersion,
      document: t.document,
      hash: t.hash,
      origin: t.origin,
      savedBy: t.savedBy,
      savedByTokenId: t.savedByTokenId,
      comment: t.comment,
      retired: true,
    })),
  );
  const removed = await db
    .delete(journeyHeads)
    .where(
      inTuples(
        [sql`${journeyHeads.journeyId}`, sql`${journeyHeads.environmentId}`, sql`${journeyHeads.version}`],
        ["uuid", "uuid", "int"],
        tombstones.map((t) => [t.key.journeyId, t.key.environmentId, t.headVersion]),
      ),
    )
    .returning({ journeyId: journeyHeads.journeyId });
  return removed.length === tombstones.length;
}

/** The last version of each given (journey, environment) pair, head or tombstone; pairs without history are absent. */
export async function findLastVersions(
  db: Db,
  organizationId: string,
  keys: readonly JourneyEnvironmentKey[],
): Promise<JourneyVersionRow[]> {
  if (keys.length === 0) return [];
  const rows = await db
    .selectDistinctOn([journeyVersions.journeyId, journeyVersions.environmentId], { version: journeyVersions })
    .from(journeyVersions)
    .innerJoin(journeys, eq(journeys.id, journeyVersions.journeyId))
    .where(
      and(
        eq(journeys.organizationId, organizationId),
        // As in findVersions: the journeys by key.
        anyOf(journeys.id, "uuid", [...new Set(keys.map((k) => k.journeyId))]),
        inTuples(
          [sql`${journeyVersions.journeyId}`, sql`${journeyVersions.environmentId}`],
          ["uuid", "uuid"],
          keys.map((k) => [k.journeyId, k.environmentId]),
        ),
      ),
    )
    .orderBy(journeyVersions.journeyId, journeyVersions.environmentId, desc(journeyVersions.version));
  return rows.map((r) => r.version);
}

/** Removes journeys from an environment: their heads go, their versions stay as history. */
export async function deleteHeads(db: Db, keys: JourneyEnvironmentKey[]): Promise<number> {
  if (keys.length === 0) return 0;
  const removed = await db
    .delete(journeyHeads)
    .where(
      inTuples(
        [sql`${journeyHeads.journeyId}`, sql`${journeyHeads.environmentId}`],
        ["uuid", "uuid"],
        keys.map((k) => [k.journeyId, k.environmentId]),
      ),
    )
    .returning({ journeyId: journeyHeads.journeyId });
  return removed.length;
}

/** The last version number of each journey in an environment, head or not (a removed journey keeps its history). */
export async function lastVersionNumbers(db: Db, environmentId: string, journeyIds: string[]): Promise<Map<string, number>> {
  if (journeyIds.length === 0) return new Map();
  const rows = await db
    .select({ journeyId: journeyVersions.journeyId, last: sql<number>`max(${journeyVersions.version})` })
    .from(journeyVersions)
    .where(and(eq(journeyVersions.environmentId, environmentId), anyOf(journeyVersions.journeyId, "uuid", journeyIds)))
    .groupBy(journeyVersions.journeyId);
  return new Map(rows.map((r) => [r.journeyId, Number(r.last)]));
}

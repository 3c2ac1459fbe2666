import { and, asc, desc, eq, isNull, max, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import {
  applications,
  clients,
  journeyDrafts,
  journeyHeads,
  journeys,
  journeyVersions,
  variables,
  variableValueChanges,
  variableValues,
} from "../schema.js";
import { versionOfHead } from "./journeys.js";
import { anyOf, inTuples } from "./tuples.js";

export type VariableRow = typeof variables.$inferSelect;
export type VariableKindName = VariableRow["kind"];
/** A value as readers get it: a SECRET's ciphertext is not read at all, only its fingerprint. */
export type VariableValueRow = Omit<typeof variableValues.$inferSelect, "ciphertext" | "keyId">;
export type VariableValueChangeRow = typeof variableValueChanges.$inferSelect;
/** A sealed value as the runtime's read and the key rotation need it. */
export type SealedValueRow = Pick<typeof variableValues.$inferSelect, "variableId" | "environmentId" | "organizationId"> & {
  ciphertext: string;
  keyId: string;
};

const readableValue = {
  variableId: variableValues.variableId,
  environmentId: variableValues.environmentId,
  organizationId: variableValues.organizationId,
  value: variableValues.value,
  fingerprint: variableValues.fingerprint,
  version: variableValues.version,
  updatedAt: variableValues.updatedAt,
  updatedBy: variableValues.updatedBy,
  updatedByTokenId: variableValues.updatedByTokenId,
};

/** The organization's variables (not deleted), by key. */
export async function listVariables(db: Db, organizationId: string): Promise<VariableRow[]> {
  return db
    .select()
    .from(variables)
    .where(and(eq(variables.organizationId, organizationId), isNull(variables.deletedAt)))
    .orderBy(asc(variables.key));
}

export async function findVariablesByIds(db: Db, organizationId: string, ids: readonly string[]): Promise<VariableRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(variables)
    .where(and(eq(variables.organizationId, organizationId), anyOf(variables.id, "uuid", ids), isNull(variables.deletedAt)));
}

export async function findVariablesByKeys(db: Db, organizationId: string, keys: readonly string[]): Promise<VariableRow[]> {
  if (keys.length === 0) return [];
  return db
    .select()
    .from(variables)
    .where(and(eq(variables.organizationId, organizationId), anyOf(variables.key, "text", keys), isNull(variables.deletedAt)));
}

export async function insertVariable(
  db: Db,
  values: { organizationId: string; key: string; kind: VariableKindName; description: string | null },
): Promise<VariableRow> {
  const [row] = await db.insert(variables).values(values).returning();
  return row;
}

export async function markVariableDeleted(db: Db, variableId: string): Promise<VariableRow> {
  const [row] = await db.update(variables).set({ deletedAt: new Date() }).where(eq(variables.id, variableId)).returning();
  return row;
}

/** The values of the given variables, in every environment that has one. */
export async function findValuesByVariableIds(db: Db, organizationId: string, variableIds: readonly string[]): Promise<VariableValueRow[]> {
  if (variableIds.length === 0) return [];
  return db
    .select(readableValue)
    .from(variableValues)
    .where(and(eq(variableValues.organizationId, organizationId), anyOf(variableValues.variableId, "uuid", variableIds)));
}

/**
 * What resolving references in one environment needs of each variable (not deleted): its key and
 * kind, and whether it has a value there — the value itself for every kind but SECRET, whose
 * fingerprint stands in for it. One statement, no more columns than that.
 */
export async function listVariableLookupIn(
  db: Db,
  organizationId: string,
  environmentId: string,
): Promise<{ key: string; kind: VariableKindName; hasValue: boolean; value: unknown; fingerprint: string | null }[]> {
  return db
    .select({
      key: variables.key,
      kind: variables.kind,
      hasValue: sql<boolean>`${variableValues.variableId} is not null`,
      value: variableValues.value,
      fingerprint: variableValues.fingerprint,
    })
    .from(variables)
    .leftJoin(variableValues, and(eq(variableValues.variableId, variables.id), eq(variableValues.environmentId, environmentId)))
    .where(and(eq(variables.organizationId, organizationId), isNull(variables.deletedAt)));
}

/** The number the next change of a variable's value in an environment gets. */
export async function nextValueVersion(db: Db, variableId: string, environmentId: string): Promise<number> {
  const [row] = await db
    .select({ latest: max(variableValueChanges.version) })
    .from(variableValueChanges)
    .where(and(eq(variableValueChanges.variableId, variableId), eq(variableValueChanges.environmentId, environmentId)));
  return (row?.latest ?? 0) + 1;
}

export interface StoredValue {
  variableId: string;
  environmentId: string;
  organizationId: string;
  version: number;
  updatedBy: string;
  updatedByTokenId: string;
  /** Every kind but SECRET. */
  value: unknown;
  /** SECRET only. */
  sealed: { ciphertext: string; keyId: string; fingerprint: string } | null;
}

/** Writes a variable's value in an environment (replacing the one there) and returns it as readers see it. */
export async function upsertValue(db: Db, stored: StoredValue): Promise<VariableValueRow> {
  const row = {
    variableId: stored.variableId,
    environmentId: stored.environmentId,
    organizationId: stored.organizationId,
    version: stored.version,
    updatedBy: stored.updatedBy,
    updatedByTokenId: stored.updatedByTokenId,
    updatedAt: new Date(),
    value: stored.sealed ? null : stored.value,
    ciphertext: stored.sealed?.ciphertext ?? null,
    keyId: stored.sealed?.keyId ?? null,
    fingerprint: stored.sealed?.fingerprint ?? null,
  };
  const [written] = await db
    .insert(variableValues)
    .values(row)
    .onConflictDoUpdate({
      target: [variableValues.variableId, variableValues.environmentId],
      set: {
        value: row.value,
        ciphertext: row.ciphertext,
        keyId: row.keyId,
        fingerprint: row.fingerprint,
        version: row.version,
        updatedAt: row.updatedAt,
        updatedBy: row.updatedBy,
        updatedByTokenId: row.updatedByTokenId,
      },
    })
    .returning(readableValue);
  return written;
}

/** Removes a variable's value in an environment; the removed value, or null when there was none. */
export async function deleteValue(db: Db, variableId: string, environmentId: string): Promise<VariableValueRow | null> {
  const [removed] = await db
    .delete(variableValues)
    .where(and(eq(variableValues.variableId, variableId), eq(variableValues.environmentId, environmentId)))
    .returning(readableValue);
  return removed ?? null;
}

export async function insertValueChange(db: Db, change: typeof variableValueChanges.$inferInsert): Promise<void> {
  await db.insert(variableValueChanges).values(change);
}

/** Where a change stands in a variable's history: newest first by time, then environment and number. */
export interface ValueChangePosition {
  occurredAt: Date;
  environmentId: string;
  version: number;
}

const changePosition = sql`(${variableValueChanges.occurredAt}, ${variableValueChanges.environmentId}, ${variableValueChanges.version})`;

/** A page of a variable's value changes, newest first, after the position `after` (older than it). */
export async function listValueChanges(
  db: Db,
  organizationId: string,
  filter: { variableId: string; environmentId?: string },
  page: { after?: ValueChangePosition; limit: number },
): Promise<VariableValueChangeRow[]> {
  return db
    .select()
    .from(variableValueChanges)
    .where(
      and(
        eq(variableValueChanges.organizationId, organizationId),
        eq(variableValueChanges.variableId, filter.variableId),
        filter.environmentId ? eq(variableValueChanges.environmentId, filter.environmentId) : undefined,
        page.after
          ? sql`${changePosition} < (${page.after.occurredAt.toISOString()}::timestamptz, ${page.after.environmentId}::uuid, ${page.after.version}::int)`
          : undefined,
      ),
    )
    .orderBy(desc(variableValueChanges.occurredAt), desc(variableValueChanges.environmentId), desc(variableValueChanges.version))
    .limit(page.limit);
}

/** The newest `limit` changes of each of the variables, newest first: the first pages of their histories, in one statement. */
export async function listLatestValueChanges(
  db: Db,
  organizationId: string,
  variableIds: readonly string[],
  limit: number,
): Promise<VariableValueChangeRow[]> {
  if (variableIds.length === 0) return [];
  const ranked = db
    .select({
      id: variableValueChanges.id,
      rank: sql<number>`row_number() over (partition by ${variableValueChanges.variableId} order by ${variableValueChanges.occurredAt} desc, ${variableValueChanges.environmentId} desc, ${variableValueChanges.version} desc)`.as(
        "rank",
      ),
    })
    .from(variableValueChanges)
    .where(and(eq(variableValueChanges.organizationId, organizationId), anyOf(variableValueChanges.variableId, "uuid", variableIds)))
    .as("ranked");
  return db
    .select({ change: variableValueChanges })
    .from(variableValueChanges)
    .innerJoin(ranked, eq(ranked.id, variableValueChanges.id))
    .where(sql`${ranked.rank} <= ${limit}`)
    .orderBy(desc(variableValueChanges.occurredAt), desc(variableValueChanges.environmentId), desc(variableValueChanges.version))
    .then((rows) => rows.map((r) => r.change));
}

/** Value changes by (variable, environment, number), in the organization. */
export async function findValueChanges(
  db: Db,
  organizationId: string,
  keys: readonly { variableId: string; environmentId: string; version: number }[],
): Promise<VariableValueChangeRow[]> {
  if (keys.length === 0) return [];
  return db
    .select()
    .from(variableValueChanges)
    .where(
      and(
        eq(variableValueChanges.organizationId, organizationId),
        inTuples(
          [sql`${variableValueChanges.variableId}`, sql`${variableValueChanges.environmentId}`, sql`${variableValueChanges.version}`],
          ["uuid", "uuid", "int"],
          keys.map((k) => [k.variableId, k.environmentId, k.version]),
        ),
      ),
    );
}

/** A sealed value's row, as rotation and the runtime read it. */
const sealedColumns = {
  variableId: variableValues.variableId,
  environmentId: variableValues.environmentId,
  organizationId: variableValues.organizationId,
  ciphertext: variableValues.ciphertext,
  keyId: variableValues.keyId,
};

/** Sealed values whose key is not `currentKeyId`, a batch at a time, locked for re-encryption. */
export async function findSealedValuesNotUnder(db: Db, currentKeyId: string, limit: number): Promise<SealedValueRow[]> {
  const rows = await db
    .select(sealedColumns)
    .from(variableValues)
    .where(and(sql`${variableValues.ciphertext} is not null`, sql`${variableValues.keyId} <> ${currentKeyId}`))
    .orderBy(variableValues.variableId, variableValues.environmentId)
    .limit(limit)
    .for("update");
  return rows as SealedValueRow[];
}

export async function updateSealed(
  db: Db,
  key: { variableId: string; environmentId: string },
  sealed: { ciphertext: string; keyId: string; fingerprint: string },
): Promise<void> {
  await db
    .update(variableValues)
    .set(sealed)
    .where(and(eq(variableValues.variableId, key.variableId), eq(variableValues.environmentId, key.environmentId)));
}

/** A configuration whose JSON mentions a text: a saved journey version (a head), a draft, or a client's settings. */
export interface ConfigurationMention {
  applicationId: string;
  /** Null for client settings. */
  journeyId: string | null;
  environmentId: string;
  draft: boolean;
  content: unknown;
}

/**
 * The configurations of the organization (current heads, drafts, client settings) whose JSON
 * contains any of `texts` — a coarse filter (`&{key}`), one scan per table whatever the number of
 * texts: callers read the exact references out of what comes back.
 */
export async function findConfigurationsMentioning(
  db: Db,
  organizationId: string,
  texts: readonly string[],
  filter: { environmentId?: string; drafts?: boolean } = {},
): Promise<ConfigurationMention[]> {
  if (texts.length === 0) return [];
  // One LIKE pattern per text, sent as one text array. A text is `&{key}` (lower-case letters,
  // digits, dots and dashes): nothing in it needs escaping, in LIKE or in an array literal.
  for (const text of texts) if (!/^&\{[a-z0-9.-]+\}$/.test(text)) throw new Error(`not a reference: ${JSON.stringify(text)}`);
  const patterns = `{${texts.map((text) => `"%${text}%"`).join(",")}}`;
  // Through the organization's applications: the journeys' and clients' rows are found by their
  // application (an index each), not by an organization column of their own, which has no index —
  // one would invite plans that read an organization's whole journeys for each of a page's heads
  // when the statistics lag behind a growing organization. The ids as an array computed first
  // (`= any(array(…))`), not `in (select …)`: a semi-join the planner turned into a hash join over
  // a sequential scan of every organization's clients and journeys (docs/performance.md, 2026-12-07).
  const ofOrganization = (applicationId: typeof journeys.applicationId | typeof clients.applicationId) =>
    sql`${applicationId} = any(array(select ${applications.id} from ${applications} where ${applications.organizationId} = ${organizationId}))`;
  const heads = await db
    .select({
      applicationId: journeys.applicationId,
      journeyId: journeyHeads.journeyId,
      environmentId: journeyHeads.environmentId,
      content: journeyVersions.document,
    })
    .from(journeyHeads)
    .innerJoin(journeys, eq(journeys.id, journeyHeads.journeyId))
    .innerJoin(journeyVersions, versionOfHead())
    .where(
      and(
        eq(journeys.organizationId, organizationId),
        ofOrganization(journeys.applicationId),
        filter.environmentId ? eq(journeyHeads.environmentId, filter.environmentId) : undefined,
        sql`${journeyVersions.document}::text like any (${patterns}::text[])`,
      ),
    );
  const drafts =
    filter.drafts === false
      ? []
      : await db
          .select({
            applicationId: journeys.applicationId,
            journeyId: journeyDrafts.journeyId,
            environmentId: journeyDrafts.environmentId,
            content: journeyDrafts.document,
          })
          .from(journeyDrafts)
          .innerJoin(journeys, eq(journeys.id, journeyDrafts.journeyId))
          .where(
            and(
              eq(journeyDrafts.organizationId, organizationId),
              ofOrganization(journeys.applicationId),
              filter.environmentId ? eq(journeyDrafts.environmentId, filter.environmentId) : undefined,
              sql`${journeyDrafts.document}::text like any (${patterns}::text[])`,
            ),
          );
  const settings = await db
    .select({ applicationId: clients.applicationId, environmentId: clients.environmentId, content: clients.settings })
    .from(clients)
    .where(
      and(
        eq(clients.organizationId, organizationId),
        ofOrganization(clients.applicationId),
        filter.environmentId ? eq(clients.environmentId, filter.environmentId) : undefined,
        sql`${clients.settings}::text like any (${patterns}::text[])`,
      ),
    );
  return [
    ...heads.map((r) => ({ ...r, draft: false })),
    ...drafts.map((r) => ({ ...r, draft: true })),
    ...settings.map((r) => ({ ...r, journeyId: null, draft: false })),
  ];
}

/** The sealed values of an environment (SECRETs only): what the runtime's configuration opens. */
export async function findSealedValuesIn(db: Db, organizationId: string, environmentId: string): Promise<SealedValueRow[]> {
  const rows = await db
    .select(sealedColumns)
    .from(variableValues)
    .where(
      and(
        eq(variableValues.organizationId, organizationId),
        eq(variableValues.environmentId, environmentId),
        sql`${variableValues.ciphertext} is not null`,
      ),
    );
  return rows as SealedValueRow[];
}

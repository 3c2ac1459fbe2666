import { and, asc, desc, eq, inArray, isNull, max, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { variables, variableValueChanges, variableValues } from "../schema.js";

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
    .where(and(eq(variables.organizationId, organizationId), inArray(variables.id, ids), isNull(variables.deletedAt)));
}

export async function findVariablesByKeys(db: Db, organizationId: string, keys: readonly string[]): Promise<VariableRow[]> {
  if (keys.length === 0) return [];
  return db
    .select()
    .from(variables)
    .where(and(eq(variables.organizationId, organizationId), inArray(variables.key, keys), isNull(variables.deletedAt)));
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
    .where(and(eq(variableValues.organizationId, organizationId), inArray(variableValues.variableId, variableIds)));
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
        sql`(${variableValueChanges.variableId}, ${variableValueChanges.environmentId}, ${variableValueChanges.version}) in (${sql.join(
          keys.map((k) => sql`(${k.variableId}::uuid, ${k.environmentId}::uuid, ${k.version}::int)`),
          sql`, `,
        )})`,
      ),
    );
}

/** Sealed values whose key is not `currentKeyId`, a batch at a time, locked for re-encryption. */
export async function findSealedValuesNotUnder(db: Db, currentKeyId: string, limit: number): Promise<SealedValueRow[]> {
  const rows = await db
    .select({
      variableId: variableValues.variableId,
      environmentId: variableValues.environmentId,
      organizationId: variableValues.organizationId,
      ciphertext: variableValues.ciphertext,
      keyId: variableValues.keyId,
    })
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

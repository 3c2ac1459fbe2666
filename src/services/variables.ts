import { z } from "zod";
import type { Db } from "../db/client.js";
import { raiseOrganizationRevision } from "../db/repositories/organizations.js";
import type { EnvironmentRow } from "../db/repositories/rows.js";
import {
  deleteValue,
  findSealedValuesNotUnder,
  findValuesByVariableIds,
  findVariablesByIds,
  insertValueChange,
  insertVariable,
  listValueChanges,
  listVariableLookupIn,
  markVariableDeleted,
  nextValueVersion,
  updateSealed,
  upsertValue,
  type ValueChangePosition,
  type VariableRow,
  type VariableValueChangeRow,
  type VariableValueRow,
} from "../db/repositories/variables.js";
import { clientSettingsSchema } from "../domain/client-settings.js";
import { ForbiddenError, NotFoundError, ValidationError, VariableInUseError } from "../domain/errors.js";
import type { JourneyDocument, JsonValue, Problem } from "../domain/journey-document.js";
import { journeyVariableProblems, settingsProblemsIn, type VariableCheck } from "../domain/journey-validation.js";
import type { Keyring } from "../domain/secret-box.js";
import { isUuid } from "../domain/uuid.js";
import {
  isVariableKey,
  type ResolvableVariable,
  settingReferencesIn,
  VARIABLE_KINDS,
  VARIABLE_LIMITS,
  valueProblem,
} from "../domain/variables.js";
import { type Actor, hasRole } from "./actor.js";
import { audit } from "./audit.js";
import { inputs, parseInput } from "./input.js";
import type { Loaders } from "./loaders.js";
import { lockVariable, lockVariableKeys } from "./locks.js";
import { environmentForWrite, environmentOf } from "./lookups.js";
import { committed, inTransaction, uniqueAs } from "./transaction.js";
import { referencesTo } from "./variable-references.js";

/*
 * Variables (DESIGN.md §6): organization-wide keys with one value per environment. Values are never
 * propagated and never compared; a SECRET's plaintext is sealed here, before anything is written,
 * and never read back but by the runtime's configuration.
 *
 * Locks: a variable's writes (its values, its deletion) take `variable:<id>` exclusively, first
 * (before the variable is even read); its existence and the version of each change are read under it.
 */

const createVariableInput = z.object({
  key: z
    .string()
    .refine(
      isVariableKey,
      `must be a key: lower-case letters and digits in parts joined by "." or "-", at most ${VARIABLE_LIMITS.keyLength} characters (e.g. webhook.host)`,
    ),
  kind: z.enum(VARIABLE_KINDS),
  description: inputs.optional(z.string().max(1_000, "must be at most 1000 characters")),
});

export type CreateVariableInput = z.input<typeof createVariableInput>;

export async function createVariable(db: Db, actor: Actor, input: CreateVariableInput): Promise<VariableRow> {
  if (!hasRole(actor, "EDITOR")) throw new ForbiddenError();
  const values = parseInput(createVariableInput, input);
  return inTransaction(db, actor.organizationId, async (tx) => {
    const row = await uniqueAs(
      insertVariable(tx, {
        organizationId: actor.organizationId,
        key: values.key,
        kind: values.kind,
        description: values.description ?? null,
      }),
      `A variable with key "${values.key}" already exists`,
    );
    audit({ type: "Variable", id: row.id }, { key: row.key, kind: row.kind });
    return row;
  });
}

const valueInput = z.object({ variableId: z.string(), environmentId: z.string() });

export type SetVariableValueInput = { variableId: string; environmentId: string; value: unknown };
export type RemoveVariableValueInput = z.input<typeof valueInput>;

async function variableOf(db: Db, actor: Actor, id: string): Promise<VariableRow> {
  const [row] = isUuid(id) ? await findVariablesByIds(db, actor.organizationId, [id]) : [];
  if (!row) throw new NotFoundError("variable", id);
  return row;
}

/** EDITOR in editable environments, ADMIN anywhere. */
function mayChangeValueIn(actor: Actor, environment: EnvironmentRow): void {
  if (!hasRole(actor, "EDITOR")) throw new ForbiddenError();
  if (!environment.editable && !hasRole(actor, "ADMIN")) {
    throw new ForbiddenError(`Only an ADMIN may change values in ${environment.name}, which is not editable`);
  }
}

/** Where a SECRET's ciphertext belongs: it opens only there. */
export const sealedAt = (variableId: string, environmentId: string) => `variable-value:${variableId}/${environmentId}`;

/**
 * Sets a variable's value in an environment (a new version). The value must fit the kind; a
 * SECRET's is sealed and fingerprinted and never stored, returned or recorded as it is.
 */
export async function setVariableValue(db: Db, keyring: Keyring, actor: Actor, input: SetVariableValueInput): Promise<VariableRow> {
  // The value too: text the database cannot store and `__proto__` keys are refused, without echoing it.
  const ids = parseInput(valueInput.extend({ value: z.unknown() }), input);
  return inTransaction(db, actor.organizationId, async (tx) => {
    // Locked before it is read: a deletion that commits meanwhile is seen, never written past.
    await lockVariable(tx, ids.variableId);
    const variable = await variableOf(tx, actor, ids.variableId);
    const environment = await environmentForWrite(tx, actor, ids.environmentId);
    mayChangeValueIn(actor, environment);
    // The value is checked without echoing it: a problem names the rule, never the value.
    const problem = valueProblem(variable.kind, input.value);
    if (problem) throw new ValidationError([{ path: "value", message: `value: ${problem}` }]);
    const value = input.value as JsonValue;
    const version = await nextValueVersion(tx, variable.id, environment.id);
    const sealed =
      variable.kind === "SECRET"
        ? {
            ...keyring.seal(value as string, sealedAt(variable.id, environment.id)),
            fingerprint: keyring.fingerprint(value as string, variable.id),
          }
        : null;
    await upsertValue(tx, {
      variableId: variable.id,
      environmentId: environment.id,
      organizationId: actor.organizationId,
      version,
      updatedBy: actor.name,
      updatedByTokenId: actor.tokenId,
      value: sealed ? null : value,
      sealed,
    });
    await insertValueChange(tx, {
      organizationId: actor.organizationId,
      variableId: variable.id,
      environmentId: environment.id,
      version,
      value: sealed ? null : value,
      fingerprint: sealed?.fingerprint ?? null,
      removed: false,
      actor: actor.name,
      actorTokenId: actor.tokenId,
    });
    // A secret as its fingerprint, never its value.
    audit(
      { type: "Variable", id: variable.id },
      { key: variable.key, environment: environment.key, version, ...(sealed ? { fingerprint: sealed.fingerprint } : { value }) },
    );
    return variable;
  });
}

/** Removes a variable's value in an environment (recorded as a change); NOT_FOUND when it has none there. */
export async function removeVariableValue(db: Db, actor: Actor, input: RemoveVariableValueInput): Promise<VariableRow> {
  const ids = parseInput(valueInput, input);
  return inTransaction(db, actor.organizationId, async (tx) => {
    await lockVariable(tx, ids.variableId);
    const variable = await variableOf(tx, actor, ids.variableId);
    const environment = await environmentOf(tx, actor, ids.environmentId);
    mayChangeValueIn(actor, environment);
    // What is saved there must keep its value: drafts may reference what has none yet.
    await lockVariableKeys(tx, actor.organizationId, [variable.key], false);
    const uses = await referencesTo(tx, actor.organizationId, variable.key, { environmentId: environment.id, drafts: false });
    if (uses.length > 0) throw new VariableInUseError(uses, variable.key);
    const removed = await deleteValue(tx, variable.id, environment.id);
    if (!removed) throw new NotFoundError(`value of ${variable.key} in ${environment.name}`);
    await insertValueChange(tx, {
      organizationId: actor.organizationId,
      variableId: variable.id,
      environmentId: environment.id,
      version: await nextValueVersion(tx, variable.id, environment.id),
      value: null,
      fingerprint: null,
      removed: true,
      actor: actor.name,
      actorTokenId: actor.tokenId,
    });
    audit({ type: "Variable", id: variable.id }, { key: variable.key, environment: environment.key });
    return variable;
  });
}

/** Deletes a variable (ADMIN): its values go (each removal recorded), its history stays. */
export async function deleteVariable(db: Db, actor: Actor, input: { variableId: string }): Promise<VariableRow> {
  if (!hasRole(actor, "ADMIN")) throw new ForbiddenError();
  const { variableId } = parseInput(z.object({ variableId: z.string() }), input);
  return inTransaction(db, actor.organizationId, async (tx) => {
    await lockVariable(tx, variableId);
    const variable = await variableOf(tx, actor, variableId);
    await lockVariableKeys(tx, actor.organizationId, [variable.key], false);
    const uses = await referencesTo(tx, actor.organizationId, variable.key);
    if (uses.length > 0) throw new VariableInUseError(uses, variable.key);
    const values = await findValuesByVariableIds(tx, actor.organizationId, [variable.id]);
    for (const value of values) {
      await deleteValue(tx, variable.id, value.environmentId);
      await insertValueChange(tx, {
        organizationId: actor.organizationId,
        variableId: variable.id,
        environmentId: value.environmentId,
        version: await nextValueVersion(tx, variable.id, value.environmentId),
        value: null,
        fingerprint: null,
        removed: true,
        actor: actor.name,
        actorTokenId: actor.tokenId,
      });
    }
    audit({ type: "Variable", id: variable.id }, { key: variable.key, valuesRemoved: values.length });
    return markVariableDeleted(tx, variable.id);
  });
}

/**
 * Re-seals every secret not sealed under the keyring's current key (opened with the previous key),
 * a batch per transaction, and gives it the current key's fingerprint; raises the revision of each
 * organization whose fingerprints changed. Returns how many were re-sealed. A ciphertext of a key
 * the keyring does not hold stops it with a message that says which key is missing; what was
 * re-sealed before stays re-sealed, and running it again continues.
 */
export async function rotateSecrets(db: Db, keyring: Keyring, batchSize = 100): Promise<number> {
  let count = 0;
  for (;;) {
    const raised = new Set<string>();
    const done = await db
      .transaction(async (transaction) => {
        const tx = transaction as unknown as Db;
        const rows = await findSealedValuesNotUnder(tx, keyring.currentKeyId, batchSize);
        for (const row of rows) {
          const at = sealedAt(row.variableId, row.environmentId);
          const plaintext = keyring.open({ keyId: row.keyId, ciphertext: row.ciphertext }, at);
          await updateSealed(tx, row, { ...keyring.seal(plaintext, at), fingerprint: keyring.fingerprint(plaintext, row.variableId) });
        }
        for (const organizationId of new Set(rows.map((r) => r.organizationId))) {
          await raiseOrganizationRevision(tx, organizationId);
          raised.add(organizationId);
        }
        return rows.length;
      })
      .finally(() => committed(db, raised));
    count += done;
    if (done < batchSize) return count;
  }
}

/**
 * How configurations read the organization's variables in one environment: each variable's kind and
 * whether it has a value there. A SECRET's stands in as its fingerprint: resolving for validation
 * keeps secrets as references, so its plaintext is never needed (nor read) here.
 */
export async function variablesIn(
  db: Db,
  organizationId: string,
  environmentId: string,
): Promise<(key: string) => ResolvableVariable | undefined> {
  const byKey = new Map<string, ResolvableVariable>();
  for (const row of await listVariableLookupIn(db, organizationId, environmentId)) {
    const resolvable: ResolvableVariable = { kind: row.kind };
    if (row.hasValue) resolvable.value = (row.kind === "SECRET" ? row.fingerprint : row.value) as JsonValue;
    byKey.set(row.key, resolvable);
  }
  return (key) => byKey.get(key);
}

/** {@link variablesIn} through a request's loaders (batched with every other read of the request). */
export async function variablesInLoaded(loaders: Loaders, environmentId: string): Promise<(key: string) => ResolvableVariable | undefined> {
  const all = await loaders.variables();
  const values = (await loaders.valuesByVariable.loadMany(all.map((v) => v.id))).flatMap((v) => (Array.isArray(v) ? v : []));
  return lookupOf(
    all,
    values.filter((v) => v.environmentId === environmentId),
  );
}

/** A lookup over variables and their values in one environment. */
export function lookupOf(
  all: readonly VariableRow[],
  values: readonly VariableValueRow[],
): (key: string) => ResolvableVariable | undefined {
  const valueByVariable = new Map(values.map((v) => [v.variableId, v]));
  const byKey = new Map(
    all.map((variable) => {
      const value = valueByVariable.get(variable.id);
      const resolvable: ResolvableVariable = { kind: variable.kind };
      if (value) resolvable.value = (variable.kind === "SECRET" ? value.fingerprint : value.value) as JsonValue;
      return [variable.key, resolvable] as const;
    }),
  );
  return (key) => byKey.get(key);
}

/** A configuration about to be written into an environment: journey documents (by key) and client settings. */
export interface ConfigurationInEnvironment {
  /** `path`: where problems are pathed (default `journeys.<key>`). */
  journeys: { key: string; document: JourneyDocument; path?: string }[];
  clientSettings?: object | null;
}

/**
 * Checks what a write puts into an environment against that environment's variables (locking the
 * referenced keys shared first, see lockVariableKeys): the missing variables, and the problems of
 * references used where they may not go or of resolved values that do not fit.
 */
export async function checkVariablesIn(
  tx: Db,
  organizationId: string,
  environment: { id: string; name: string },
  configuration: ConfigurationInEnvironment,
): Promise<VariableCheck> {
  const keys = new Set<string>();
  for (const { document } of configuration.journeys) for (const use of settingReferencesIn(document as never, "")) keys.add(use.key);
  if (configuration.clientSettings) {
    for (const use of settingReferencesIn(configuration.clientSettings as never, "settings")) keys.add(use.key);
  }
  if (keys.size === 0) return { problems: [], missing: [] };
  await lockVariableKeys(tx, organizationId, [...keys], true);
  const lookup = await variablesIn(tx, organizationId, environment.id);
  const problems: Problem[] = [];
  const missing = new Set<string>();
  for (const { key, document, path } of configuration.journeys) {
    const check = journeyVariableProblems(document, lookup, environment.name, path ?? `journeys.${key}`);
    problems.push(...check.problems);
    for (const k of check.missing) missing.add(k);
  }
  if (configuration.clientSettings) {
    const check = settingsProblemsIn(
      clientSettingsSchema,
      configuration.clientSettings as Record<string, unknown>,
      "client.settings",
      lookup,
      environment.name,
    );
    problems.push(...check.problems);
    for (const k of check.missing) missing.add(k);
  }
  return { problems, missing: [...missing].sort() };
}

/** A page of a variable's value changes, newest first. */
export function variableHistory(
  db: Db,
  actor: Actor,
  filter: { variableId: string; environmentId?: string },
  page: { after?: ValueChangePosition; limit: number },
): Promise<VariableValueChangeRow[]> {
  return listValueChanges(db, actor.organizationId, filter, page);
}

export type { VariableRow, VariableValueChangeRow, VariableValueRow };

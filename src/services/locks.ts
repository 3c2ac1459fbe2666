import type { Db } from "../db/client.js";
import { lockNames } from "../db/repositories/locks.js";

const configuration = (applicationId: string, environmentId: string) => `configuration:${applicationId}:${environmentId}`;

/** Serializes changes of an organization's pipeline (the environments and their ranks). */
export function lockPipeline(tx: Db, organizationId: string): Promise<void> {
  return lockNames(tx, [{ name: `pipeline:${organizationId}`, shared: false }]);
}

/**
 * Locks an application's configuration in environments for the rest of the transaction: `write`
 * exclusively (saves, settings edits, client creation, propagation targets), `read` shared (a
 * propagation's source; a client's creation, every environment below it, lowest first), always
 * sources before target. Environments are ranked and changes only move upward, so every transaction
 * locks in rank order and none can deadlock.
 */
export function lockConfigurations(
  tx: Db,
  applicationId: string,
  environments: { read?: string | readonly string[]; write: string },
): Promise<void> {
  const reads = environments.read === undefined ? [] : typeof environments.read === "string" ? [environments.read] : environments.read;
  return lockNames(tx, [
    ...reads.map((id) => ({ name: configuration(applicationId, id), shared: true })),
    { name: configuration(applicationId, environments.write), shared: false },
  ]);
}

/**
 * Locks an application's configuration in environments shared, lowest first: a plan (a promotion
 * request's) is made of one state of both sides — a write into either commits before it reads or
 * waits for it — while other plans and promotions reading them run beside it.
 */
export function lockConfigurationsShared(tx: Db, applicationId: string, environmentIds: readonly string[]): Promise<void> {
  return lockNames(
    tx,
    environmentIds.map((id) => ({ name: configuration(applicationId, id), shared: true })),
  );
}

/**
 * Locks an application's configuration in an environment shared: draft edits, which must not slip a
 * new draft past a retirement or a client's deletion (they take it exclusively and look for drafts),
 * yet may run beside each other and beside promotions reading the environment.
 */
export function lockConfigurationForDraft(tx: Db, applicationId: string, environmentId: string): Promise<void> {
  return lockNames(tx, [{ name: configuration(applicationId, environmentId), shared: true }]);
}

/** Serializes the writes of one variable: its values (each a new version) and its deletion. */
export function lockVariable(tx: Db, variableId: string): Promise<void> {
  return lockNames(tx, [{ name: `variable:${variableId}`, shared: false }]);
}

/**
 * The keys of variables a write references (shared: saves and promotions that add references) or
 * removes values of (exclusive: removing a value, deleting a variable, which check no reference is
 * left). Taken after the configuration locks, in key order: a removal that commits first is seen
 * by the save (its variable is gone), a save that commits first is seen by the removal (VARIABLE_IN_USE).
 */
export function lockVariableKeys(tx: Db, organizationId: string, keys: readonly string[], shared: boolean): Promise<void> {
  return lockNames(
    tx,
    [...new Set(keys)].sort().map((key) => ({ name: `variable-key:${organizationId}:${key}`, shared })),
  );
}

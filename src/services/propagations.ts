import { z } from "zod";
import type { Db } from "../db/client.js";
import { pipelined } from "../db/pipelined.js";
import { appendClientSettingsVersion } from "../db/repositories/clients.js";
import { lockedApprovalPolicy } from "../db/repositories/environments.js";
import { appendVersions, lastVersionNumbers, type NewVersion, retireJourneys, type Tombstone } from "../db/repositories/journeys.js";
import { lockNames } from "../db/repositories/locks.js";
import {
  findPropagationByIdempotencyKey,
  insertPropagation,
  type NewPropagation,
  type PropagationRow,
} from "../db/repositories/propagations.js";
import type { ApplicationRow, ClientRow, EnvironmentRow, JourneyRow } from "../db/repositories/rows.js";
import type { PropagationItem } from "../db/schema.js";
import { applyChanges } from "../domain/apply.js";
import { canonicalHash } from "../domain/canonical-json.js";
import type { ApplicationDocument } from "../domain/change.js";
import type { DiffSide } from "../domain/diff.js";
import {
  ApprovalRequiredError,
  DraftConflictError,
  ForbiddenError,
  InvalidConfigurationError,
  MissingVariablesError,
  NothingToPropagateError,
  TargetMissingError,
  ValidationError,
} from "../domain/errors.js";
import type { ClientSettings } from "../domain/journey-document.js";
import { propagatedChange } from "../domain/revert.js";
import { resolveSelection } from "../domain/selection.js";
import { type Actor, hasRole, savedBy } from "./actor.js";
import { audit } from "./audit.js";
import { type ChangeView, computeDiff, loadDiffContext, resolveDiffTarget } from "./diff.js";
import { inputs, parseInput } from "./input.js";
import { lockConfigurations } from "./locks.js";
import { writableApplication } from "./lookups.js";
import { withSyncNotifications } from "./sync-notifications.js";
import { inTransaction } from "./transaction.js";
import { checkVariablesIn } from "./variables.js";

export type { PropagationRow };

/** At most this many ids in one selection: more than any real review, and a bound on hostile input. */
export const MAX_SELECTION = 5_000;

export const changeIds = z
  .array(z.string().max(100, "must be at most 100 characters"))
  .min(1, "must name at least one change (or use selectAll)")
  .max(MAX_SELECTION, `must have at most ${MAX_SELECTION} entries`)
  .refine((ids) => new Set(ids).size === ids.length, "must not name a change twice");

export const idempotencyKey = () => z.string().min(1, "must not be empty").max(200, "must be at most 200 characters");

const common = {
  applicationId: z.string(),
  fromEnvironmentId: z.string(),
  toEnvironmentId: z.string(),
  journeyId: inputs.optional(z.string()),
  comment: inputs.optional(inputs.comment()),
  idempotencyKey: inputs.optional(idempotencyKey()),
};

const propagateInput = z
  .object({
    ...common,
    changeIds: inputs.optional(changeIds),
    selectAll: inputs.optional(z.boolean()),
    includeRequired: inputs.optional(z.boolean()),
  })
  .superRefine(oneSelection);

/** A selection names changes, or asks for all of them: one of the two. */
export function oneSelection(input: { selectAll?: boolean | null; changeIds?: unknown }, ctx: z.RefinementCtx): void {
  if ((input.selectAll === true) === (input.changeIds !== undefined)) {
    ctx.addIssue({ code: "custom", path: ["changeIds"], message: "give either changeIds or selectAll: true" });
  }
}

const promoteNowInput = z.object(common);

export type PropagateChangesInput = z.input<typeof propagateInput>;
export type PromoteNowInput = z.input<typeof promoteNowInput>;

export type PropagationMode = PropagationRow["mode"];

export interface PropagationResult {
  propagation: PropagationRow;
  /** Ids added to the selection because it required them (`includeRequired`). */
  addedChangeIds: string[];
}

/** "Review and promote": applies the selected changes of the current diff, or none of them. */
export function propagateChanges(db: Db, actor: Actor, input: PropagateChangesInput): Promise<PropagationResult> {
  const values = parseInput(propagateInput, input);
  return propagate(db, actor, "REVIEWED", values, {
    selectAll: values.selectAll === true,
    changeIds: values.changeIds ?? [],
    includeRequired: values.includeRequired === true,
  });
}

/** "Promote now": every change of the current diff, in one step. */
export function promoteNow(db: Db, actor: Actor, input: PromoteNowInput): Promise<PropagationResult> {
  const values = parseInput(promoteNowInput, input);
  return propagate(db, actor, "PROMOTE_NOW", values, { selectAll: true, changeIds: [], includeRequired: false });
}

export interface Selection {
  selectAll: boolean;
  changeIds: string[];
  includeRequired: boolean;
}

type CommonInput = z.infer<typeof promoteNowInput>;

async function propagate(
  db: Db,
  actor: Actor,
  mode: PropagationMode,
  input: CommonInput,
  selection: Selection,
): Promise<PropagationResult> {
  const requestHash = canonicalHash([mode, { ...input, idempotencyKey: undefined }, selection]);
  return inTransaction(db, actor.organizationId, async (tx) => {
    // The role first: a replayed key answers only whom the request itself would be allowed for.
    const target = await resolveDiffTarget(tx, actor, input);
    // Source read shared, target written exclusively, in rank order: no deadlock, no lost update.
    const configurations = () => lockConfigurations(tx, target.application.id, { read: target.from.id, write: target.to.id });
    if (input.idempotencyKey === undefined) {
      // In one round trip, these locks in this order (as below, without the key's lock); checked as below.
      const [, policy] = await pipelined(
        writableApplication(tx, actor, target.application.id),
        lockedApprovalPolicy(tx, actor.organizationId, target.to.id),
        configurations(),
      );
      requirePromoterOf(actor, target.to);
      requireNoApprovalsIn(policy, target.to);
    } else {
      await writableApplication(tx, actor, target.application.id);
      requirePromoterOf(actor, target.to);
      await requireNoApprovals(tx, actor, target.to);
      const earlier = await earlierAnswer(tx, actor, input.idempotencyKey, requestHash);
      if (earlier) return earlier;
      await configurations();
    }
    return withSyncNotifications(tx, actor, [target.application.id], async () => {
      const context = await loadDiffContext(tx, actor, target);
      if (!context.toClient) throw new TargetMissingError(target.to.name);
      const { changes } = computeDiff(context);

      if (selection.selectAll && changes.length === 0) throw new NothingToPropagateError(target.from.name, target.to.name);
      const resolved = selectChanges(changes, selection);
      const propagation = await applyToTarget(tx, actor, {
        target: { ...context, toClient: context.toClient },
        selected: resolved.changes,
        origin: "PROPAGATION",
        record: {
          mode,
          revertOfId: null,
          promotionRequestId: null,
          addedChangeIds: resolved.addedChangeIds,
          comment: input.comment ?? null,
          idempotencyKey: input.idempotencyKey ?? null,
          requestHash: input.idempotencyKey === undefined ? null : requestHash,
        },
      });
      return { propagation, addedChangeIds: resolved.addedChangeIds };
    });
  });
}

/** For a removed step, its journey's order before: a revert brings the step back in its place. */
function placeOf(before: ApplicationDocument, change: ChangeView): { oldOrder?: string[] } {
  const { oldOrder } = propagatedChange(before, change);
  return oldOrder === undefined ? {} : { oldOrder: [...oldOrder] };
}

/** ADMIN for production, as for every write that lands there. */
export function requirePromoterOf(actor: Actor, to: EnvironmentRow, action = "promote into"): void {
  if (to.isProduction && !hasRole(actor, "ADMIN")) throw new ForbiddenError(`Only an ADMIN may ${action} ${to.name}`);
}

/**
 * With approvals required (DESIGN.md §8), nothing enters the environment but an approved request,
 * whoever asks: APPROVAL_REQUIRED.
 */
export async function requireNoApprovals(tx: Db, actor: Actor, to: EnvironmentRow): Promise<void> {
  (await noApprovalsCheck(tx, actor, to))();
}

/**
 * The target's approval policy read again, locked (a policy set concurrently either waits for this
 * write or is seen by it), for a check made later in the transaction: the returned function refuses
 * APPROVAL_REQUIRED where the policy requires approvals. So the row is locked before the
 * configuration locks, in the order every writer takes them, when whether the check applies is known
 * only under them (a client's creation copies from below or not).
 */
export async function noApprovalsCheck(tx: Db, actor: Actor, to: EnvironmentRow): Promise<() => void> {
  const policy = await lockedApprovalPolicy(tx, actor.organizationId, to.id);
  return () => requireNoApprovalsIn(policy, to);
}

/** APPROVAL_REQUIRED unless the environment's policy (read locked, `lockedApprovalPolicy`) requires none. */
function requireNoApprovalsIn(policy: { requiredApprovals: number } | null, to: EnvironmentRow): void {
  const required = policy?.requiredApprovals ?? to.requiredApprovals;
  if (required > 0) throw new ApprovalRequiredError(to.name, required);
}

/**
 * The first call's answer for an idempotency key, or null when the key is new (or none is given).
 * The key is locked for the rest of the transaction, so concurrent calls with it apply once. The
 * caller checks the actor's role for the request first: a key is no pass.
 */
export async function earlierAnswer(
  tx: Db,
  actor: Actor,
  idempotencyKey: string | undefined,
  requestHash: string,
): Promise<PropagationResult | null> {
  if (idempotencyKey === undefined) return null;
  await lockNames(tx, [{ name: `idempotency:${actor.organizationId}:${idempotencyKey}`, shared: false }]);
  const earlier = await findPropagationByIdempotencyKey(tx, actor.organizationId, idempotencyKey);
  if (!earlier) return null;
  if (earlier.requestHash !== requestHash) {
    throw new ValidationError([{ path: "idempotencyKey", message: "idempotencyKey was already used for a different request" }]);
  }
  // A retry: nothing is applied again, the call is recorded with the propagation it answers with.
  audit({ type: "Propagation", id: earlier.id }, { replayed: true, idempotencyKey });
  return { propagation: earlier, addedChangeIds: earlier.addedChangeIds };
}

/** The changes a selection names, resolved against the current ones (STALE_SELECTION, INCOMPLETE_SELECTION). */
export function selectChanges(changes: ChangeView[], selection: Selection): { changes: ChangeView[]; addedChangeIds: string[] } {
  if (selection.selectAll) return { changes, addedChangeIds: [] };
  const resolved = resolveSelection(changes, selection.changeIds, { includeRequired: selection.includeRequired });
  return { changes: resolved.changes as ChangeView[], addedChangeIds: resolved.addedChangeIds };
}

/** The target of a write: its client, the application's journeys, and the current documents of those that may change. */
export interface TargetSide {
  application: ApplicationRow;
  from: EnvironmentRow;
  to: EnvironmentRow;
  journeys: JourneyRow[];
  toClient: ClientRow;
  /** The target's journeys that the changes may touch, with their hashes. */
  toSide: DiffSide;
  /** Head version numbers in the target of those journeys. */
  targetVersions: Map<string, number>;
}

/** What applying a selection would write, checked: see {@link checkWrite}. */
export interface CheckedWrite {
  targetDocument: ApplicationDocument;
  /** The client settings after the changes, if the document has them. */
  settingsWritten: ClientSettings | undefined;
  written: Omit<NewVersion, "previousVersion">[];
  /** Journeys the changes remove from the target: retired there, each with a tombstone version. */
  removed: Tombstone[];
}

/**
 * Checks what applying the selected changes to the target would write, writing nothing: the result
 * is valid (INVALID_CONFIGURATION) and the target has a fitting value for every variable it
 * references (MISSING_VARIABLES). A promotion request is validated so; a propagation then writes.
 */
export async function checkWrite(
  tx: Db,
  actor: Actor,
  target: TargetSide,
  selected: ChangeView[],
  origin: "PROPAGATION" | "REVERT",
  comment: string | null,
): Promise<CheckedWrite> {
  const { toClient, toSide } = target;
  const targetDocument = {
    client: { settings: toClient.settings },
    journeys: Object.fromEntries(Object.entries(toSide.journeys).map(([key, side]) => [key, side.document])),
  };
  const applied = applyChanges(targetDocument, selected);
  if (!applied.ok) throw new InvalidConfigurationError(applied.problems);

  const journeyByKey = new Map(target.journeys.map((j) => [j.key, j]));
  const journeyKeyOf = new Map(target.journeys.map((j) => [j.id, j.key]));
  const touchedKeys = new Set(selected.map((c) => c.journeyKey).filter((k): k is string => k !== null));
  const removed: Tombstone[] = [];
  const written: Omit<NewVersion, "previousVersion">[] = [];
  for (const key of touchedKeys) {
    const journey = journeyByKey.get(key)!;
    const document = applied.value.journeys[key];
    const jeKey = { journeyId: journey.id, environmentId: target.to.id };
    if (document === undefined) {
      const retired = toSide.journeys[key];
      const headVersion = target.targetVersions.get(journey.id);
      if (retired && headVersion !== undefined) {
        removed.push({ key: jeKey, headVersion, document: retired.document, hash: retired.hash, origin, ...savedBy(actor), comment });
      }
      continue;
    }
    const hash = canonicalHash(document);
    if (hash === toSide.journeys[key]?.hash) continue;
    written.push({ key: jeKey, document, hash, origin, ...savedBy(actor), comment });
  }
  // The target must have a fitting value for every reference of what is written there (DESIGN.md §6).
  const settingsWritten = applied.value.client?.settings;
  const variables = await checkVariablesIn(tx, actor.organizationId, target.to, {
    journeys: written.map((w) => ({ key: journeyKeyOf.get(w.key.journeyId)!, document: w.document })),
    clientSettings: settingsWritten && canonicalHash(settingsWritten) !== toClient.settingsHash ? settingsWritten : null,
  });
  if (variables.missing.length > 0) throw new MissingVariablesError(variables.missing, target.to.name);
  if (variables.problems.length > 0) throw new InvalidConfigurationError(variables.problems);
  return { targetDocument, settingsWritten, written, removed };
}

/**
 * Applies selected changes to the target and records them: checked ({@link checkWrite}), new
 * versions and the client settings version written, removed journeys retired (a tombstone each), and the audit
 * record inserted, in a constant number of statements whatever the number of changes. The caller
 * holds the configuration locks.
 */
export async function applyToTarget(
  tx: Db,
  actor: Actor,
  args: {
    target: TargetSide;
    selected: ChangeView[];
    origin: "PROPAGATION" | "REVERT";
    record: Pick<NewPropagation, "mode" | "addedChangeIds"> & {
      revertOfId: string | null;
      promotionRequestId: string | null;
      comment: string | null;
      idempotencyKey: string | null;
      requestHash: string | null;
    };
  },
): Promise<PropagationRow> {
  const { target, selected, origin, record } = args;
  const { toClient } = target;
  const comment = record.comment;
  const { targetDocument, settingsWritten, written, removed } = await checkWrite(tx, actor, target, selected, origin, comment);
  const absent = written.filter((w) => !target.targetVersions.has(w.key.journeyId)).map((w) => w.key.journeyId);
  const history = await lastVersionNumbers(tx, target.to.id, absent);
  const versions = await appendVersions(
    tx,
    written.map((w) => ({
      ...w,
      previousVersion: target.targetVersions.get(w.key.journeyId) ?? history.get(w.key.journeyId) ?? null,
    })),
  );
  if (!versions) throw new DraftConflictError("The target changed while promoting; review the diff again.");
  if (!(await retireJourneys(tx, removed))) throw new DraftConflictError("The target changed while promoting; review the diff again.");

  if (settingsWritten) {
    const hash = canonicalHash(settingsWritten);
    if (hash !== toClient.settingsHash) {
      const moved = await appendClientSettingsVersion(tx, toClient, {
        settings: settingsWritten,
        hash,
        origin,
        ...savedBy(actor),
        comment,
      });
      if (!moved) throw new DraftConflictError("The target's client settings changed while promoting; review the diff again.");
    }
  }

  const propagation = await insertPropagation(tx, {
    organizationId: actor.organizationId,
    applicationId: target.application.id,
    fromEnvironmentId: target.from.id,
    toEnvironmentId: target.to.id,
    ...record,
    items: selected.map((c) => ({ ...placeOf(targetDocument, c), ...changeItem(c) })),
    actor: actor.name,
    actorTokenId: actor.tokenId,
  });
  audit(
    { type: "Propagation", id: propagation.id },
    {
      application: target.application.name,
      from: target.from.key,
      to: target.to.key,
      mode: record.mode,
      changes: selected.length,
      comment: record.comment,
    },
  );
  return propagation;
}

/** A change as audit records and plans keep it: exactly as it was reviewed. */
export function changeItem(c: ChangeView): PropagationItem {
  return {
    id: c.id,
    path: c.path,
    kind: c.kind,
    summary: c.summary,
    journeyKey: c.journeyKey,
    journeyId: c.journeyId,
    stepKey: c.stepKey,
    oldValue: c.oldValue,
    newValue: c.newValue,
    requires: c.requires,
    bundleId: c.bundleId,
  };
}

import { z } from "zod";
import type { Db } from "../db/client.js";
import { findClientsByApplicationIds } from "../db/repositories/clients.js";
import { findHeadsByApplicationIds, findJourneysByApplicationIds } from "../db/repositories/journeys.js";
import type { PropagationRow } from "../db/repositories/propagations.js";
import { canonicalHash } from "../domain/canonical-json.js";
import type { ChangeBundle } from "../domain/change.js";
import type { JourneySide } from "../domain/diff.js";
import { NothingToPropagateError, TargetMissingError } from "../domain/errors.js";
import type { JsonValue } from "../domain/journey-document.js";
import { type PropagatedChange, planRevert, type RevertConflict } from "../domain/revert.js";
import type { Actor } from "./actor.js";
import { type ChangeView, missingVariablesOf } from "./diff.js";
import { documentsOf } from "./documents.js";
import { inputs, parseInput } from "./input.js";
import { lockConfigurations } from "./locks.js";
import { applicationOf, environmentOf, propagationOf, writableApplication } from "./lookups.js";
import {
  applyToTarget,
  changeIds,
  earlierAnswer,
  idempotencyKey,
  oneSelection,
  type PropagationResult,
  requireNoApprovals,
  requirePromoterOf,
  selectChanges,
  type TargetSide,
} from "./propagations.js";
import { withSyncNotifications } from "./sync-notifications.js";
import { inSnapshot, inTransaction } from "./transaction.js";

/*
 * Reverting a past propagation (DESIGN.md §7): the plan is the domain's (src/domain/revert.ts),
 * computed from the propagation's items and the target's current configuration; applying a
 * selection of it is a propagation of mode REVERT, written exactly as a propagation is.
 */

export interface RevertPreview {
  propagation: PropagationRow;
  changes: ChangeView[];
  bundles: ChangeBundle[];
  conflicts: RevertConflict[];
  missingVariables: { key: string; changeIds: string[] }[];
}

const revertInput = z
  .object({
    propagationId: z.string(),
    changeIds: inputs.optional(changeIds),
    selectAll: inputs.optional(z.boolean()),
    includeRequired: inputs.optional(z.boolean()),
    comment: inputs.optional(inputs.comment()),
    idempotencyKey: inputs.optional(idempotencyKey()),
  })
  .superRefine(oneSelection);

export type RevertPropagationInput = z.input<typeof revertInput>;

/** What reverting the propagation would change now, and what it cannot revert (conflicts). */
export async function revertPreview(db: Db, actor: Actor, propagationId: string): Promise<RevertPreview> {
  // One snapshot: a write into the target (a revert, a promotion) commits between none of these reads.
  return inSnapshot(db, async (tx) => {
    const propagation = await propagationOf(tx, actor, propagationId);
    const target = await loadRevertTarget(tx, actor, propagation);
    const plan = revertPlanOf(target, propagation);
    const missingVariables = await missingVariablesOf(tx, actor, target.to, plan.changes);
    return { propagation, ...plan, missingVariables };
  });
}

/**
 * Applies a selection of the revert's changes, atomically, as a propagation of mode REVERT: the
 * selection rules, locks, variables check, audit record and notifications of propagateChanges.
 */
export async function revertPropagation(db: Db, actor: Actor, input: RevertPropagationInput): Promise<PropagationResult> {
  const values = parseInput(revertInput, input);
  const requestHash = canonicalHash(["REVERT", { ...values, idempotencyKey: undefined }]);
  return inTransaction(db, actor.organizationId, async (tx) => {
    // The role first: a replayed key answers only whom the request itself would be allowed for.
    const reverted = await propagationOf(tx, actor, values.propagationId);
    await writableApplication(tx, actor, reverted.applicationId);
    const to = await environmentOf(tx, actor, reverted.toEnvironmentId);
    requirePromoterOf(actor, to, "revert a propagation into");
    await requireNoApprovals(tx, actor, to);
    const earlier = await earlierAnswer(tx, actor, values.idempotencyKey, requestHash);
    if (earlier) return earlier;
    // The locks of a propagation between the same environments, in the same order.
    await lockConfigurations(tx, reverted.applicationId, { read: reverted.fromEnvironmentId, write: reverted.toEnvironmentId });
    return withSyncNotifications(tx, actor, [reverted.applicationId], async () => {
      const target = await loadRevertTarget(tx, actor, reverted);
      const plan = revertPlanOf(target, reverted);
      if (plan.changes.length === 0) {
        throw new NothingToPropagateError(
          target.from.name,
          target.to.name,
          plan.conflicts.length > 0
            ? `Nothing to revert: every change of this propagation that is not reverted yet is a conflict (${plan.conflicts.length})`
            : "Nothing to revert: every change of this propagation is reverted already",
        );
      }
      const resolved = selectChanges(plan.changes, {
        selectAll: values.selectAll === true,
        changeIds: values.changeIds ?? [],
        includeRequired: values.includeRequired === true,
      });
      const propagation = await applyToTarget(tx, actor, {
        target,
        selected: resolved.changes,
        origin: "REVERT",
        record: {
          mode: "REVERT",
          revertOfId: reverted.id,
          promotionRequestId: null,
          addedChangeIds: resolved.addedChangeIds,
          comment: values.comment ?? null,
          idempotencyKey: values.idempotencyKey ?? null,
          requestHash: values.idempotencyKey === undefined ? null : requestHash,
        },
      });
      return { propagation, addedChangeIds: resolved.addedChangeIds };
    });
  });
}

/**
 * The propagation's target as it is now: its client, and the current documents of the journeys the
 * propagation touched, read in a fixed number of statements whatever the number of items.
 */
export async function loadRevertTarget(db: Db, actor: Actor, propagation: PropagationRow): Promise<TargetSide> {
  const application = await applicationOf(db, actor, propagation.applicationId);
  const from = await environmentOf(db, actor, propagation.fromEnvironmentId);
  const to = await environmentOf(db, actor, propagation.toEnvironmentId);
  const clients = await findClientsByApplicationIds(db, actor.organizationId, [application.id]);
  const toClient = clients.find((c) => c.environmentId === to.id);
  if (!toClient) throw new TargetMissingError(to.name);
  const journeys = await findJourneysByApplicationIds(db, actor.organizationId, [application.id]);
  const touchedKeys = new Set(propagation.items.map((item) => item.journeyKey));
  const touched = new Map(journeys.filter((j) => touchedKeys.has(j.key)).map((j) => [j.id, j]));
  const heads =
    touched.size === 0
      ? []
      : (await findHeadsByApplicationIds(db, actor.organizationId, [application.id])).filter(
          (h) => h.environmentId === to.id && touched.has(h.journeyId),
        );
  const documents = await documentsOf(db, actor.organizationId, heads);
  const sideJourneys: Record<string, JourneySide> = {};
  for (const head of heads) sideJourneys[touched.get(head.journeyId)!.key] = { document: documents.get(head.hash)!, hash: head.hash };
  return {
    application,
    from,
    to,
    journeys,
    toClient,
    toSide: { client: { settings: toClient.settings }, journeys: sideJourneys },
    targetVersions: new Map(heads.map((h) => [h.journeyId, h.version])),
  };
}

export function revertPlanOf(target: TargetSide, propagation: PropagationRow) {
  const current = {
    client: { settings: target.toClient.settings },
    journeys: Object.fromEntries(Object.entries(target.toSide.journeys).map(([key, side]) => [key, side.document])),
  };
  const items: PropagatedChange[] = propagation.items.map((item) => ({
    path: item.path,
    oldValue: item.oldValue as JsonValue | null,
    newValue: item.newValue as JsonValue | null,
    ...(item.oldOrder === undefined ? {} : { oldOrder: item.oldOrder }),
  }));
  const plan = planRevert(current, items);
  const journeyIds = new Map(target.journeys.map((j) => [j.key, j.id]));
  return {
    changes: plan.changes.map((c) => ({ ...c, journeyId: c.journeyKey === null ? null : (journeyIds.get(c.journeyKey) ?? null) })),
    bundles: plan.bundles,
    conflicts: plan.conflicts,
  };
}

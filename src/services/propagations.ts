import { z } from "zod";
import type { Db } from "../db/client.js";
import { appendClientSettingsVersion } from "../db/repositories/clients.js";
import { appendVersions, deleteHeads, lastVersionNumbers, type NewVersion } from "../db/repositories/journeys.js";
import { lockNames } from "../db/repositories/locks.js";
import { findPropagationByIdempotencyKey, insertPropagation, type PropagationRow } from "../db/repositories/propagations.js";
import { applyChanges } from "../domain/apply.js";
import { canonicalHash } from "../domain/canonical-json.js";
import {
  DraftConflictError,
  ForbiddenError,
  InvalidConfigurationError,
  MissingVariablesError,
  NothingToPropagateError,
  TargetMissingError,
  ValidationError,
} from "../domain/errors.js";
import { resolveSelection } from "../domain/selection.js";
import { type Actor, hasRole, savedBy } from "./actor.js";
import { type ChangeView, computeDiff, loadDiffContext, resolveDiffTarget } from "./diff.js";
import { inputs, parseInput } from "./input.js";
import { lockConfigurations } from "./locks.js";
import { withSyncNotifications } from "./sync-notifications.js";
import { inTransaction } from "./transaction.js";
import { checkVariablesIn } from "./variables.js";

export type { PropagationRow };

/** At most this many ids in one selection: more than any real review, and a bound on hostile input. */
export const MAX_SELECTION = 5_000;

const changeIds = z
  .array(z.string().max(100, "must be at most 100 characters"))
  .min(1, "must name at least one change (or use selectAll)")
  .max(MAX_SELECTION, `must have at most ${MAX_SELECTION} entries`)
  .refine((ids) => new Set(ids).size === ids.length, "must not name a change twice");

const common = {
  applicationId: z.string(),
  fromEnvironmentId: z.string(),
  toEnvironmentId: z.string(),
  journeyId: inputs.optional(z.string()),
  comment: inputs.optional(inputs.comment()),
  idempotencyKey: inputs.optional(z.string().min(1, "must not be empty").max(200, "must be at most 200 characters")),
};

const propagateInput = z
  .object({
    ...common,
    changeIds: inputs.optional(changeIds),
    selectAll: inputs.optional(z.boolean()),
    includeRequired: inputs.optional(z.boolean()),
  })
  .superRefine((input, ctx) => {
    const all = input.selectAll === true;
    if (all === (input.changeIds !== undefined)) {
      ctx.addIssue({ code: "custom", path: ["changeIds"], message: "give either changeIds or selectAll: true" });
    }
  });

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

interface Selection {
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
    if (input.idempotencyKey !== undefined) {
      await lockNames(tx, [{ name: `idempotency:${actor.organizationId}:${input.idempotencyKey}`, shared: false }]);
      const earlier = await findPropagationByIdempotencyKey(tx, actor.organizationId, input.idempotencyKey);
      if (earlier) {
        if (earlier.requestHash !== requestHash) {
          throw new ValidationError([{ path: "idempotencyKey", message: "idempotencyKey was already used for a different request" }]);
        }
        return { propagation: earlier, addedChangeIds: earlier.addedChangeIds };
      }
    }

    const target = await resolveDiffTarget(tx, actor, input);
    if (target.to.isProduction && !hasRole(actor, "ADMIN")) {
      throw new ForbiddenError(`Only an ADMIN may promote into ${target.to.name}`);
    }
    // Source read shared, target written exclusively, in rank order: no deadlock, no lost update.
    await lockConfigurations(tx, target.application.id, { read: target.from.id, write: target.to.id });
    return withSyncNotifications(tx, actor, [target.application.id], async () => {
      const context = await loadDiffContext(tx, actor, target);
      if (!context.toClient) throw new TargetMissingError(target.to.name);
      const toClient = context.toClient;
      const { changes } = computeDiff(context);

      if (selection.selectAll && changes.length === 0) throw new NothingToPropagateError(target.from.name, target.to.name);
      const resolved = selection.selectAll
        ? { changes, addedChangeIds: [] }
        : resolveSelection(changes, selection.changeIds, { includeRequired: selection.includeRequired });
      const selected = resolved.changes as ChangeView[];

      const targetDocument = {
        client: { settings: toClient.settings },
        journeys: Object.fromEntries(Object.entries(context.toSide.journeys).map(([key, side]) => [key, side.document])),
      };
      const applied = applyChanges(targetDocument, selected);
      if (!applied.ok) throw new InvalidConfigurationError(applied.problems);

      const comment = input.comment ?? null;
      const journeyByKey = new Map(context.journeys.map((j) => [j.key, j]));
      const journeyKeyOf = new Map(context.journeys.map((j) => [j.id, j.key]));
      const touchedKeys = new Set(selected.map((c) => c.journeyKey).filter((k): k is string => k !== null));
      const removed: { journeyId: string; environmentId: string }[] = [];
      const written: Omit<NewVersion, "previousVersion">[] = [];
      for (const key of touchedKeys) {
        const journey = journeyByKey.get(key)!;
        const document = applied.value.journeys[key];
        const jeKey = { journeyId: journey.id, environmentId: target.to.id };
        if (document === undefined) {
          if (context.toSide.journeys[key]) removed.push(jeKey);
          continue;
        }
        const hash = canonicalHash(document);
        if (hash === context.toSide.journeys[key]?.hash) continue;
        written.push({ key: jeKey, document, hash, origin: "PROPAGATION", ...savedBy(actor), comment });
      }
      // The target must have a fitting value for every reference of what is written there (DESIGN.md §6).
      const settingsWritten = applied.value.client?.settings;
      const variables = await checkVariablesIn(tx, actor.organizationId, target.to, {
        journeys: written.map((w) => ({ key: journeyKeyOf.get(w.key.journeyId)!, document: w.document })),
        clientSettings: settingsWritten && canonicalHash(settingsWritten) !== toClient.settingsHash ? settingsWritten : null,
      });
      if (variables.missing.length > 0) throw new MissingVariablesError(variables.missing, target.to.name);
      if (variables.problems.length > 0) throw new InvalidConfigurationError(variables.problems);
      const absent = written.filter((w) => !context.targetVersions.has(w.key.journeyId)).map((w) => w.key.journeyId);
      const history = await lastVersionNumbers(tx, target.to.id, absent);
      const versions = await appendVersions(
        tx,
        written.map((w) => ({
          ...w,
          previousVersion: context.targetVersions.get(w.key.journeyId) ?? history.get(w.key.journeyId) ?? null,
        })),
      );
      if (!versions) throw new DraftConflictError("The target changed while promoting; review the diff again.");
      await deleteHeads(tx, removed);

      const settings = applied.value.client?.settings;
      if (settings) {
        const hash = canonicalHash(settings);
        if (hash !== toClient.settingsHash) {
          const moved = await appendClientSettingsVersion(tx, toClient, {
            settings,
            hash,
            origin: "PROPAGATION",
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
        mode,
        items: selected.map((c) => ({
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
        })),
        addedChangeIds: resolved.addedChangeIds,
        comment,
        actor: actor.name,
        actorTokenId: actor.tokenId,
        idempotencyKey: input.idempotencyKey ?? null,
        requestHash: input.idempotencyKey === undefined ? null : requestHash,
      });
      return { propagation, addedChangeIds: resolved.addedChangeIds };
    });
  });
}

import { z } from "zod";
import type { Db } from "../db/client.js";
import { CommitOutcomeUnknown } from "../db/errors.js";
import { lockedApprovalPolicy } from "../db/repositories/environments.js";
import {
  expirePromotionRequests,
  findDueRequestIds,
  findPromotionRequest,
  findReviewsByRequestIds,
  insertPromotionRequest,
  insertRequestEvents,
  insertReview,
  lockDueRequests,
  lockOpenRequestsInto,
  type PromotionRequestRow,
  type RequestStatus,
  setPromotionRequestPolicy,
  setPromotionRequestStatus,
} from "../db/repositories/promotion-requests.js";
import type { PropagationRow } from "../db/repositories/propagations.js";
import { canonicalHash } from "../domain/canonical-json.js";
import {
  AlreadyExistsError,
  ForbiddenError,
  IncompleteSelectionError,
  InvalidRequestStateError,
  NotFoundError,
  NothingToPropagateError,
  PlanStaleError,
  SelfApprovalError,
  TargetMissingError,
  ValidationError,
} from "../domain/errors.js";
import {
  afterApproval,
  countedApprovals,
  expiryOf,
  nextStatus,
  planHash,
  type RequestAction,
  type RequestPolicy,
  statusAt,
  stricterPolicy,
} from "../domain/promotion-requests.js";
import { resolveSelection } from "../domain/selection.js";
import { isUuid } from "../domain/uuid.js";
import { type Actor, hasRole } from "./actor.js";
import { audit, unaudited } from "./audit.js";
import { type ChangeView, computeDiff, loadDiffContext, resolveDiffTarget } from "./diff.js";
import { inputs, parseInput } from "./input.js";
import { lockConfigurations, lockConfigurationsShared } from "./locks.js";
import { environmentOf, propagationOf, writableApplication } from "./lookups.js";
import {
  applyToTarget,
  changeIds,
  changeItem,
  checkWrite,
  earlierAnswer,
  idempotencyKey,
  oneSelection,
  requirePromoterOf,
  selectChanges,
  type TargetSide,
} from "./propagations.js";
import { loadRevertTarget, revertPlanOf } from "./reverts.js";
import { withSyncNotifications } from "./sync-notifications.js";
import { atCommit, CommittedRefusal, inTransaction } from "./transaction.js";

/*
 * Promotion requests (DESIGN.md §8): a plan validated like a propagation and stored with its hash;
 * reviews bound to that hash; execution of exactly the plan, or STALE naming what moved. The state
 * machine is the domain's (src/domain/promotion-requests.ts). Each use-case is one transaction that
 * locks the request row first (FOR UPDATE), then — executing — the configurations as a propagation
 * does, then the application's sync states: always in that order. Its events are numbered as it
 * commits (`atCommit`).
 */

export type { PromotionRequestRow };

/** The clock requests expire by: injectable, so tests move time instead of sleeping. */
export type Clock = () => Date;

const requestInput = z
  .object({
    applicationId: z.string(),
    fromEnvironmentId: z.string(),
    toEnvironmentId: z.string(),
    journeyId: inputs.optional(z.string()),
    changeIds: inputs.optional(changeIds),
    selectAll: inputs.optional(z.boolean()),
    includeRequired: inputs.optional(z.boolean()),
    revertPropagationId: inputs.optional(z.string()),
    comment: inputs.optional(inputs.comment()),
  })
  .superRefine(oneSelection);

export type RequestPromotionInput = z.input<typeof requestInput>;

const approveInput = z.object({
  requestId: z.string(),
  planHash: z.string().max(200, "must be at most 200 characters"),
  comment: inputs.optional(inputs.comment()),
});
const rejectInput = z.object({
  requestId: z.string(),
  comment: inputs.comment().refine((c) => c.trim().length > 0, "must say why"),
});
const cancelInput = z.object({ requestId: z.string() });
const executeInput = z.object({ requestId: z.string(), idempotencyKey: inputs.optional(idempotencyKey()) });

export interface RequestResult {
  request: PromotionRequestRow;
  addedChangeIds: string[];
}

export interface ExecuteResult {
  request: PromotionRequestRow;
  propagation: PropagationRow;
}

/** Stores a validated plan; applies nothing. Into an environment without approvals it is APPROVED at once. */
export async function requestPromotion(db: Db, actor: Actor, input: RequestPromotionInput, now: Clock): Promise<RequestResult> {
  const values = parseInput(requestInput, input);
  const selection = {
    selectAll: values.selectAll === true,
    changeIds: values.changeIds ?? [],
    includeRequired: values.includeRequired === true,
  };
  return inTransaction(db, actor.organizationId, async (tx) => {
    await writableApplication(tx, actor, values.applicationId);
    // The target's policy read with the environment's row locked FOR SHARE, before the configuration
    // locks (rows first, in the order every writer takes them: a policy being set waits for the open
    // requests' rows, and an execution holding one waits for the target's configuration): a policy
    // set concurrently waits for this request (and then applies to it, as to every open one), or is
    // seen here. An id that is not the organization's environment locks nothing and is refused below.
    const policy = isUuid(values.toEnvironmentId) ? await lockedApprovalPolicy(tx, actor.organizationId, values.toEnvironmentId) : null;
    // Both sides locked shared (source first, as a promotion takes them) before anything is read: the
    // plan and its hash are of one state of them, never a target's clients before a promotion into it
    // and its heads after. An id of nothing locks a name nothing else takes; it is refused below.
    await lockConfigurationsShared(tx, values.applicationId, [values.fromEnvironmentId, values.toEnvironmentId]);
    const planned = await currentChanges(tx, actor, {
      applicationId: values.applicationId,
      fromEnvironmentId: values.fromEnvironmentId,
      toEnvironmentId: values.toEnvironmentId,
      journeyId: values.journeyId ?? null,
      revertOfId: values.revertPropagationId ?? null,
    });
    if (planned.changes.length === 0) {
      throw new NothingToPropagateError(planned.target.from.name, planned.target.to.name, planned.nothingMessage);
    }
    const resolved = selectChanges(planned.changes, selection);
    // Validated like the propagation it would be: a valid result, every variable set in the target.
    await checkWrite(tx, actor, planned.target, resolved.changes, values.revertPropagationId ? "REVERT" : "PROPAGATION", null);
    const { to: target } = planned.target;
    const to = { ...target, ...(policy ?? {}) };
    const createdAt = now();
    const status = afterApproval(0, to.requiredApprovals);
    const request = await insertPromotionRequest(tx, {
      organizationId: actor.organizationId,
      applicationId: planned.target.application.id,
      fromEnvironmentId: planned.target.from.id,
      toEnvironmentId: to.id,
      journeyId: values.journeyId ?? null,
      revertOfId: values.revertPropagationId ?? null,
      status,
      changes: resolved.changes.map(changeItem),
      planHash: planHash(resolved.changes.map((c) => c.id)),
      addedChangeIds: resolved.addedChangeIds,
      comment: values.comment ?? null,
      requestedBy: actor.name,
      requestedByTokenId: actor.tokenId,
      requiredApprovals: to.requiredApprovals,
      allowSelfApproval: to.allowSelfApproval,
      requireComment: to.requireComment,
      createdAt,
      expiresAt: expiryOf(createdAt, to),
    });
    await recordEvent(tx, actor, request, status, createdAt);
    auditRequest(request, { changes: request.changes.length });
    return { request, addedChangeIds: resolved.addedChangeIds };
  });
}

/**
 * Approves the plan the reviewer saw (its hash). A reviewer has the role that could propagate into
 * the target, is not the requester unless the policy allows it, counts once, and comments when the
 * policy says so. A plan that is no longer current makes the request STALE (committed) and answers
 * PLAN_STALE naming the planned changes that moved.
 */
export async function approvePromotionRequest(
  db: Db,
  actor: Actor,
  input: z.input<typeof approveInput>,
  now: Clock,
): Promise<{ request: PromotionRequestRow }> {
  const values = parseInput(approveInput, input);
  return committing(db, actor, async (tx) => {
    const request = await lockedRequest(tx, actor, values.requestId);
    await writableApplication(tx, actor, request.applicationId);
    requirePromoterOf(actor, await environmentOf(tx, actor, request.toEnvironmentId), "approve a promotion into");
    const at = now();
    const refused = await refusedAction(tx, actor, request, "approve", "approved", at);
    if (refused) return refused;
    // The requester by token, or by name (a token issued again under it is the same author).
    const isRequester = request.requestedByTokenId === actor.tokenId || request.requestedBy === actor.name;
    if (!request.allowSelfApproval && isRequester) throw new SelfApprovalError();
    if (request.requireComment && !values.comment?.trim()) {
      throw new ValidationError([{ path: "comment", message: "comment is required: the environment's policy asks reviewers to say why" }]);
    }
    if (values.planHash !== request.planHash) {
      throw new PlanStaleError(
        [],
        `You reviewed plan ${values.planHash.slice(0, 12)}; this request's plan is ${request.planHash.slice(0, 12)}: review the request again`,
      );
    }
    const moved = (await planNow(tx, actor, request)).moved;
    if (moved.length > 0) return stale(tx, actor, request, moved, at);
    await review(tx, actor, request, "APPROVED", values.comment ?? null, at);
    const approvals = countedApprovals(request, await findReviewsByRequestIds(tx, actor.organizationId, [request.id]));
    const status = afterApproval(approvals, request.requiredApprovals);
    const approved = status === request.status ? request : await moveTo(tx, actor, request, status, at);
    auditRequest(approved, { planHash: request.planHash });
    return { request: approved };
  });
}

/** One rejection rejects the request; the reviewer says why. */
export async function rejectPromotionRequest(
  db: Db,
  actor: Actor,
  input: z.input<typeof rejectInput>,
  now: Clock,
): Promise<{ request: PromotionRequestRow }> {
  const values = parseInput(rejectInput, input);
  return committing(db, actor, async (tx) => {
    const request = await lockedRequest(tx, actor, values.requestId);
    await writableApplication(tx, actor, request.applicationId);
    requirePromoterOf(actor, await environmentOf(tx, actor, request.toEnvironmentId), "reject a promotion into");
    const at = now();
    const refused = await refusedAction(tx, actor, request, "reject", "rejected", at);
    if (refused) return refused;
    await review(tx, actor, request, "REJECTED", values.comment, at);
    auditRequest(request, {});
    return { request: await moveTo(tx, actor, request, "REJECTED", at) };
  });
}

/** The requester, or an ADMIN, withdraws an open request. */
export async function cancelPromotionRequest(
  db: Db,
  actor: Actor,
  input: z.input<typeof cancelInput>,
  now: Clock,
): Promise<{ request: PromotionRequestRow }> {
  const values = parseInput(cancelInput, input);
  return committing(db, actor, async (tx) => {
    const request = await lockedRequest(tx, actor, values.requestId);
    await writableApplication(tx, actor, request.applicationId);
    if (request.requestedByTokenId !== actor.tokenId && !hasRole(actor, "ADMIN")) {
      throw new ForbiddenError("Only the requester or an ADMIN may cancel a promotion request");
    }
    const at = now();
    const refused = await refusedAction(tx, actor, request, "cancel", "cancelled", at);
    if (refused) return refused;
    auditRequest(request, {});
    return { request: await moveTo(tx, actor, request, "CANCELLED", at) };
  });
}

/**
 * Applies exactly the approved plan, in one transaction with a propagation's locks, as a
 * propagation of mode APPROVED_REQUEST linked to the request — or, when a planned change is no
 * longer current, marks the request STALE (committed) and answers PLAN_STALE naming those changes,
 * applying nothing. At most once: the request row is locked, and an executed request is
 * INVALID_REQUEST_STATE (or, with the same idempotency key, the first answer).
 */
export async function executePromotionRequest(
  db: Db,
  actor: Actor,
  input: z.input<typeof executeInput>,
  now: Clock,
): Promise<ExecuteResult> {
  const values = parseInput(executeInput, input);
  const requestHash = canonicalHash(["EXECUTE", values.requestId]);
  return committing(db, actor, async (tx): Promise<ExecuteResult | CommittedRefusal> => {
    const unlocked = await requestOf(tx, actor, values.requestId);
    // The role first: a replayed key answers only whom the request itself would be allowed for.
    requirePromoterOf(actor, await environmentOf(tx, actor, unlocked.toEnvironmentId), "execute a promotion into");
    // An archived application first too: a replay is a write of the audit log, refused like the others.
    await writableApplication(tx, actor, unlocked.applicationId);
    const earlier = await earlierAnswer(tx, actor, values.idempotencyKey, requestHash);
    if (earlier) {
      if (earlier.propagation.promotionRequestId !== unlocked.id) {
        throw new ValidationError([{ path: "idempotencyKey", message: "idempotencyKey was already used for a different request" }]);
      }
      // Read again: the first execution may have committed while this call waited on the key.
      auditRequest(unlocked, { propagation: earlier.propagation.id, replayed: true });
      return { request: await requestOf(tx, actor, unlocked.id), propagation: earlier.propagation };
    }
    const request = await lockedRequest(tx, actor, values.requestId);
    const at = now();
    const refused = await refusedAction(tx, actor, request, "execute", "executed", at);
    if (refused) return refused;
    await lockConfigurations(tx, request.applicationId, { read: request.fromEnvironmentId, write: request.toEnvironmentId });
    return withSyncNotifications(tx, actor, [request.applicationId], async () => {
      const plan = await planNow(tx, actor, request);
      if (plan.moved.length > 0) return stale(tx, actor, request, plan.moved, at);
      const propagation = await applyToTarget(tx, actor, {
        target: plan.target,
        selected: plan.selected,
        origin: request.revertOfId ? "REVERT" : "PROPAGATION",
        record: {
          mode: "APPROVED_REQUEST",
          revertOfId: request.revertOfId,
          promotionRequestId: request.id,
          addedChangeIds: request.addedChangeIds,
          comment: request.comment,
          idempotencyKey: values.idempotencyKey ?? null,
          requestHash: values.idempotencyKey === undefined ? null : requestHash,
        },
      });
      auditRequest(request, { propagation: propagation.id });
      return { request: await moveTo(tx, actor, request, "EXECUTED", at), propagation };
    });
  });
}

/**
 * Stores EXPIRED for the organization's open requests past their expiry, with their events: run
 * before every list of requests, so no background job is needed (an action stores its own
 * request's expiry: `refusedAction`). Reads one index when nothing is due, and writes nothing then.
 */
export async function expireDue(db: Db, actor: Actor, now: Clock): Promise<void> {
  try {
    // Housekeeping, not the write of the mutation that may run it first: no audit event.
    await unaudited(() => expireDueNow(db, actor, now));
  } catch (error) {
    // Lost as the expiry committed: that may be stored, but what the caller asked for (a read, or a
    // mutation that runs this first) was not started — a lost connection, not an unknown outcome.
    if (error instanceof CommitOutcomeUnknown) throw error.cause;
    throw error;
  }
}

async function expireDueNow(db: Db, actor: Actor, now: Clock): Promise<void> {
  const at = now();
  const due = await findDueRequestIds(db, actor.organizationId, at);
  if (due.length === 0) return;
  // The revision is raised only when something was stored (responses cached before stay exact otherwise).
  await inTransaction(
    db,
    (stored: number) => (stored > 0 ? actor.organizationId : null),
    async (tx) => {
      // The request rows first: the order of every action on a request.
      const locked = await lockDueRequests(tx, actor.organizationId, due, at);
      if (locked.length === 0) return 0;
      const expired = await expirePromotionRequests(tx, actor.organizationId, locked, at);
      if (expired.length > 0) {
        const events = expired.map((r) => eventOf(r, "EXPIRED", SYSTEM, at));
        atCommit(tx, () => insertRequestEvents(tx, actor.organizationId, events));
      }
      return expired.length;
    },
  );
}

/**
 * A policy just set on an environment reaches its open requests: each keeps the stricter of its own
 * and the new one ({@link stricterPolicy}), and an APPROVED request that no longer has the approvals
 * that counts for it goes back to PENDING (an event, like every transition). Called by
 * setApprovalPolicy after it updated the environment's row (so no request is made meanwhile under
 * the old policy: requestPromotion reads it FOR SHARE), the requests' rows locked in id order.
 */
export async function applyPolicyToOpenRequests(
  tx: Db,
  actor: Actor,
  environmentId: string,
  policy: RequestPolicy,
  now: Clock,
): Promise<void> {
  const open = await lockOpenRequestsInto(tx, actor.organizationId, environmentId);
  const changed = open
    .map((request) => ({ request, policy: stricterPolicy(request, policy) }))
    .filter(
      ({ request, policy: p }) =>
        p.requiredApprovals !== request.requiredApprovals ||
        p.allowSelfApproval !== request.allowSelfApproval ||
        p.requireComment !== request.requireComment,
    );
  if (changed.length === 0) return;
  const reviews = await findReviewsByRequestIds(
    tx,
    actor.organizationId,
    changed.map((c) => c.request.id),
  );
  const at = now();
  for (const { request, policy: stricter } of changed) {
    await setPromotionRequestPolicy(tx, request.id, stricter);
    const tightened = { ...request, ...stricter };
    const approvals = countedApprovals(
      tightened,
      reviews.filter((r) => r.requestId === request.id),
    );
    if (request.status === "APPROVED" && afterApproval(approvals, stricter.requiredApprovals) === "PENDING") {
      await moveTo(tx, actor, tightened, "PENDING", at);
    }
  }
}

/**
 * Whether executing the request now would refuse because a planned change is no longer current:
 * computed on read (for an open request), never stored until an action finds it so.
 */
export async function isStale(db: Db, actor: Actor, request: PromotionRequestRow, now: Date): Promise<boolean> {
  const status = statusAt(request, now);
  if (status === "STALE") return true;
  if (status !== "PENDING" && status !== "APPROVED") return false;
  try {
    return (await planNow(db, actor, request)).moved.length > 0;
  } catch (error) {
    // The source or target is gone or unusable: nothing planned can apply.
    if (error instanceof NotFoundError || error instanceof TargetMissingError) return true;
    throw error;
  }
}

/** Records the actor's review of the request's plan: once per reviewer (ALREADY_EXISTS after). */
async function review(
  tx: Db,
  actor: Actor,
  request: PromotionRequestRow,
  decision: "APPROVED" | "REJECTED",
  comment: string | null,
  at: Date,
): Promise<void> {
  const row = await insertReview(tx, {
    organizationId: actor.organizationId,
    requestId: request.id,
    reviewer: actor.name,
    reviewerTokenId: actor.tokenId,
    decision,
    comment,
    planHash: request.planHash,
    createdAt: at,
  });
  if (!row) throw new AlreadyExistsError("You have reviewed this request already: each reviewer counts once");
}

/** The request, in the caller's organization; with `forUpdate`, locked until commit. */
async function requestOf(tx: Db, actor: Actor, id: string, options: { forUpdate?: boolean } = {}): Promise<PromotionRequestRow> {
  const row = isUuid(id) ? await findPromotionRequest(tx, actor.organizationId, id, options) : null;
  if (!row) throw new NotFoundError("promotion request", id);
  return row;
}

/** An action on a request, for the audit log: the request is its subject. */
function auditRequest(request: PromotionRequestRow, details: Record<string, unknown>): void {
  audit({ type: "PromotionRequest", id: request.id }, { status: request.status, ...details });
}

/** The request, locked until commit: every action on a request takes this lock first. */
const lockedRequest = (tx: Db, actor: Actor, id: string) => requestOf(tx, actor, id, { forUpdate: true });

/*
 * A refusal that stores a transition (STALE, EXPIRED) is a CommittedRefusal: returned from the
 * transaction so that it commits, thrown after. Every other refusal throws inside the transaction
 * and writes nothing.
 */

async function committing<T>(db: Db, actor: Actor, work: (tx: Db) => Promise<T | CommittedRefusal>): Promise<T> {
  const result = await inTransaction(db, actor.organizationId, work);
  if (result instanceof CommittedRefusal) throw result.error;
  return result;
}

/** Stores STALE and answers PLAN_STALE naming the planned changes that moved. */
async function stale(tx: Db, actor: Actor, request: PromotionRequestRow, moved: string[], at: Date): Promise<CommittedRefusal> {
  await moveTo(tx, actor, request, "STALE", at);
  return new CommittedRefusal(new PlanStaleError(moved));
}

/**
 * Null when the action is allowed on the request at `at`; else INVALID_REQUEST_STATE with its
 * status. A request found past its expiry is stored EXPIRED first (its next action), and that
 * refusal commits.
 */
async function refusedAction(
  tx: Db,
  actor: Actor,
  request: PromotionRequestRow,
  action: RequestAction,
  done: string,
  at: Date,
): Promise<CommittedRefusal | null> {
  const status = statusAt(request, at);
  if (nextStatus(status, action) !== null) return null;
  if (status !== "EXPIRED" || request.status === "EXPIRED") throw new InvalidRequestStateError(status, done);
  await moveTo(tx, actor, request, "EXPIRED", at, SYSTEM);
  return new CommittedRefusal(new InvalidRequestStateError("EXPIRED", done));
}

/** The actor of transitions no one made: expiries. */
const SYSTEM = "system";

/** Stores the request's new status and its event; returns the request as it now is. */
async function moveTo(
  tx: Db,
  actor: Actor,
  request: PromotionRequestRow,
  status: RequestStatus,
  at: Date,
  by = actor.name,
): Promise<PromotionRequestRow> {
  await setPromotionRequestStatus(tx, request.id, status);
  const moved = { ...request, status };
  await recordEvent(tx, actor, moved, status, at, by);
  return moved;
}

async function recordEvent(
  tx: Db,
  actor: Actor,
  request: PromotionRequestRow,
  status: RequestStatus,
  at: Date,
  by = actor.name,
): Promise<void> {
  const event = eventOf(request, status, by, at);
  atCommit(tx, () => insertRequestEvents(tx, actor.organizationId, [event]));
}

function eventOf(request: PromotionRequestRow, status: RequestStatus, actor: string, at: Date) {
  return {
    organizationId: request.organizationId,
    requestId: request.id,
    applicationId: request.applicationId,
    environmentId: request.toEnvironmentId,
    status,
    actor,
    occurredAt: at,
  };
}

interface PlanSource {
  applicationId: string;
  fromEnvironmentId: string;
  toEnvironmentId: string;
  journeyId: string | null;
  revertOfId: string | null;
}

/**
 * The changes a plan is chosen from, now: the diff between the environments (limited to the
 * journey, if any), or the revert plan of the propagation.
 */
async function currentChanges(
  tx: Db,
  actor: Actor,
  source: PlanSource,
): Promise<{ target: TargetSide; changes: ChangeView[]; nothingMessage?: string }> {
  if (source.revertOfId !== null) {
    const reverted = await propagationOf(tx, actor, source.revertOfId);
    const mismatch =
      reverted.applicationId !== source.applicationId ||
      reverted.fromEnvironmentId !== source.fromEnvironmentId ||
      reverted.toEnvironmentId !== source.toEnvironmentId;
    if (mismatch || source.journeyId !== null) {
      throw new ValidationError([
        {
          path: "revertPropagationId",
          message:
            "revertPropagationId names a propagation of another application or between other environments (give its own, and no journeyId)",
        },
      ]);
    }
    const target = await loadRevertTarget(tx, actor, reverted);
    const plan = revertPlanOf(target, reverted);
    return {
      target,
      changes: plan.changes,
      nothingMessage:
        plan.conflicts.length > 0
          ? `Nothing to revert: every change of this propagation that is not reverted yet is a conflict (${plan.conflicts.length})`
          : "Nothing to revert: every change of this propagation is reverted already",
    };
  }
  const context = await loadDiffContext(tx, actor, await resolveDiffTarget(tx, actor, source));
  if (!context.toClient) throw new TargetMissingError(context.to.name);
  return { target: { ...context, toClient: context.toClient }, changes: computeDiff(context).changes };
}

/**
 * The request's plan against now: the current changes it names (in the plan's order) and the
 * planned changes that moved — no longer current, or now requiring a change outside the plan.
 */
async function planNow(
  tx: Db,
  actor: Actor,
  request: PromotionRequestRow,
): Promise<{ target: TargetSide; selected: ChangeView[]; moved: string[] }> {
  const { target, changes } = await currentChanges(tx, actor, request);
  const plannedIds = request.changes.map((c) => c.id);
  const current = new Set(changes.map((c) => c.id));
  const gone = plannedIds.filter((id) => !current.has(id));
  if (gone.length > 0) return { target, selected: [], moved: gone };
  try {
    const resolved = resolveSelection(changes, plannedIds, { includeRequired: false });
    return { target, selected: resolved.changes as ChangeView[], moved: [] };
  } catch (error) {
    if (!(error instanceof IncompleteSelectionError)) throw error;
    const missing = new Set(error.missingChangeIds);
    const needing = changes.filter((c) => plannedIds.includes(c.id) && c.requires.some((id) => missing.has(id))).map((c) => c.id);
    return { target, selected: [], moved: needing.length > 0 ? needing : plannedIds };
  }
}

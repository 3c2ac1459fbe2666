import { sha256Hex } from "./sha256.js";

/*
 * Promotion requests (DESIGN.md §8): a plan of changes into an environment that needs approvals,
 * its reviews and the small state machine they move through. Pure: the services load, lock and
 * store; this file decides.
 */

export const PROMOTION_REQUEST_STATUSES = ["PENDING", "APPROVED", "REJECTED", "EXECUTED", "STALE", "CANCELLED", "EXPIRED"] as const;
export type PromotionRequestStatus = (typeof PROMOTION_REQUEST_STATUSES)[number];

/**
 * What can happen to a request. `approve` may or may not complete the approvals; `expire` is the
 * clock's; `reopen` is a stricter policy's: an approved request that no longer has the approvals
 * the environment now requires waits for them again.
 */
export const REQUEST_ACTIONS = ["approve", "reject", "cancel", "execute", "markStale", "expire", "reopen"] as const;
export type RequestAction = (typeof REQUEST_ACTIONS)[number];

/** An environment's approval policy; the default (0 approvals) is today's direct promotion. */
export interface ApprovalPolicy {
  requiredApprovals: number;
  allowSelfApproval: boolean;
  requireComment: boolean;
  expiresAfterHours: number;
}

export const DEFAULT_APPROVAL_POLICY: ApprovalPolicy = {
  requiredApprovals: 0,
  allowSelfApproval: false,
  requireComment: false,
  expiresAfterHours: 72,
};

/** Bounds of a policy: more approvers than a team has, or a request open for years, is a mistake. */
export const POLICY_LIMITS = { maxApprovals: 10, minHours: 1, maxHours: 24 * 365 } as const;

/** Whether nothing enters the environment but through an approved request. */
export const requiresApproval = (policy: ApprovalPolicy): boolean => policy.requiredApprovals > 0;

/**
 * The states an action is allowed in, and the state it leads to. `approve` leads to APPROVED only
 * once enough approvals are in (see `afterApproval`); until then the request stays PENDING.
 * Everything not listed is INVALID_REQUEST_STATE.
 */
const TRANSITIONS: Record<RequestAction, Partial<Record<PromotionRequestStatus, PromotionRequestStatus>>> = {
  approve: { PENDING: "APPROVED" },
  reject: { PENDING: "REJECTED", APPROVED: "REJECTED" },
  cancel: { PENDING: "CANCELLED", APPROVED: "CANCELLED" },
  execute: { APPROVED: "EXECUTED" },
  markStale: { PENDING: "STALE", APPROVED: "STALE" },
  expire: { PENDING: "EXPIRED", APPROVED: "EXPIRED" },
  reopen: { APPROVED: "PENDING" },
};

/** The status an action leads to from `status`, or null when the action is not allowed there. */
export function nextStatus(status: PromotionRequestStatus, action: RequestAction): PromotionRequestStatus | null {
  return TRANSITIONS[action][status] ?? null;
}

/** A request no action can move any more. */
export const isFinal = (status: PromotionRequestStatus): boolean => REQUEST_ACTIONS.every((action) => nextStatus(status, action) === null);

/** The status after one more approval: APPROVED once `approvals` reaches what the request needs. */
export function afterApproval(approvals: number, required: number): PromotionRequestStatus {
  return approvals >= required ? "APPROVED" : "PENDING";
}

/** The part of a request's policy its reviews are judged by. */
export interface RequestPolicy {
  requiredApprovals: number;
  allowSelfApproval: boolean;
  requireComment: boolean;
}

/**
 * A request's policy once the environment's changed: an open request keeps whatever is stricter —
 * more approvals, no self-approval, comments required — so tightening a policy reaches requests
 * already open, and loosening it never lowers what they were asked for.
 */
export function stricterPolicy(request: RequestPolicy, environment: RequestPolicy): RequestPolicy {
  return {
    requiredApprovals: Math.max(request.requiredApprovals, environment.requiredApprovals),
    allowSelfApproval: request.allowSelfApproval && environment.allowSelfApproval,
    requireComment: request.requireComment || environment.requireComment,
  };
}

/**
 * The approvals that count for a request: one per reviewer, and none by the requester unless its
 * policy allows self-approval. The requester is known by token and by name: a token issued again
 * under the requester's name (audit records name their author by it) is the requester too.
 */
export function countedApprovals(
  request: { allowSelfApproval: boolean; requestedByTokenId: string; requestedBy: string },
  reviews: readonly { decision: string; reviewerTokenId: string; reviewer: string }[],
): number {
  return reviews.filter(
    (r) =>
      r.decision === "APPROVED" &&
      (request.allowSelfApproval || (r.reviewerTokenId !== request.requestedByTokenId && r.reviewer !== request.requestedBy)),
  ).length;
}

/**
 * The status a request has at `now`: a request still open past its expiry is EXPIRED, whether or
 * not that is stored yet (it is stored at the next read or action).
 */
export function statusAt(request: { status: PromotionRequestStatus; expiresAt: Date }, now: Date): PromotionRequestStatus {
  return nextStatus(request.status, "expire") !== null && request.expiresAt.getTime() <= now.getTime() ? "EXPIRED" : request.status;
}

/**
 * The plan's hash: SHA-256 over its sorted change ids (as a JSON array: no two plans share a
 * text). Ids are content-addressed (path, old and new value), so the hash binds every value the
 * reviewer saw.
 */
export function planHash(changeIds: readonly string[]): string {
  return sha256Hex(JSON.stringify([...changeIds].sort()));
}

/** When a request made at `createdAt` under `policy` expires. */
export function expiryOf(createdAt: Date, policy: Pick<ApprovalPolicy, "expiresAfterHours">): Date {
  return new Date(createdAt.getTime() + policy.expiresAfterHours * 3_600_000);
}

import { describe, expect, it } from "vitest";
import {
  afterApproval,
  countedApprovals,
  DEFAULT_APPROVAL_POLICY,
  expiryOf,
  isFinal,
  nextStatus,
  POLICY_LIMITS,
  PROMOTION_REQUEST_STATUSES,
  type PromotionRequestStatus,
  planHash,
  REQUEST_ACTIONS,
  type RequestAction,
  requiresApproval,
  statusAt,
  stricterPolicy,
} from "../../../src/domain/promotion-requests.js";
import { sha256Hex } from "../../../src/domain/sha256.js";

/*
 * The state machine of promotion requests (DESIGN.md §8), every (state, action) pair written out:
 * a change to a transition has to change this table too.
 */

const R = null;
const TABLE: Record<PromotionRequestStatus, Record<RequestAction, PromotionRequestStatus | null>> = {
  PENDING: { approve: "APPROVED", reject: "REJECTED", cancel: "CANCELLED", execute: R, markStale: "STALE", expire: "EXPIRED", reopen: R },
  APPROVED: {
    approve: R,
    reject: "REJECTED",
    cancel: "CANCELLED",
    execute: "EXECUTED",
    markStale: "STALE",
    expire: "EXPIRED",
    reopen: "PENDING",
  },
  REJECTED: { approve: R, reject: R, cancel: R, execute: R, markStale: R, expire: R, reopen: R },
  EXECUTED: { approve: R, reject: R, cancel: R, execute: R, markStale: R, expire: R, reopen: R },
  STALE: { approve: R, reject: R, cancel: R, execute: R, markStale: R, expire: R, reopen: R },
  CANCELLED: { approve: R, reject: R, cancel: R, execute: R, markStale: R, expire: R, reopen: R },
  EXPIRED: { approve: R, reject: R, cancel: R, execute: R, markStale: R, expire: R, reopen: R },
};

describe("the promotion request state machine", () => {
  const pairs = PROMOTION_REQUEST_STATUSES.flatMap((status) => REQUEST_ACTIONS.map((action) => [status, action] as const));

  it("covers every status and action", () => {
    expect(Object.keys(TABLE).sort()).toEqual([...PROMOTION_REQUEST_STATUSES].sort());
    expect(pairs).toHaveLength(7 * 7);
  });

  it.each(pairs)("%s, %s", (status, action) => {
    expect(nextStatus(status, action)).toBe(TABLE[status][action]);
  });

  it("has exactly five final states: nothing moves them", () => {
    expect(PROMOTION_REQUEST_STATUSES.filter(isFinal)).toEqual(["REJECTED", "EXECUTED", "STALE", "CANCELLED", "EXPIRED"]);
  });

  it("approves once enough approvals are in, and at once when none are required", () => {
    expect(afterApproval(0, 0)).toBe("APPROVED");
    expect(afterApproval(0, 1)).toBe("PENDING");
    expect(afterApproval(1, 2)).toBe("PENDING");
    expect(afterApproval(2, 2)).toBe("APPROVED");
  });
});

describe("approval policies", () => {
  it("default to today's direct promotion: no approvals, none by oneself, no comment, three days to expire", () => {
    expect(DEFAULT_APPROVAL_POLICY).toEqual({
      requiredApprovals: 0,
      allowSelfApproval: false,
      requireComment: false,
      expiresAfterHours: 72,
    });
    expect(requiresApproval(DEFAULT_APPROVAL_POLICY)).toBe(false);
  });

  it("require approval from one approval on", () => {
    expect(requiresApproval({ ...DEFAULT_APPROVAL_POLICY, requiredApprovals: 1 })).toBe(true);
  });

  it("are bounded: up to 10 approvals, 1 hour to a year", () => {
    expect(POLICY_LIMITS).toEqual({ maxApprovals: 10, minHours: 1, maxHours: 8760 });
  });
});

describe("a stricter policy and the approvals that count", () => {
  it("keeps the stricter of the request's policy and the environment's", () => {
    const loose = { requiredApprovals: 1, allowSelfApproval: true, requireComment: false };
    const strict = { requiredApprovals: 2, allowSelfApproval: false, requireComment: true };
    expect(stricterPolicy(loose, strict)).toEqual(strict);
    expect(stricterPolicy(strict, loose)).toEqual(strict);
    // where both are loose, so is the result
    expect(stricterPolicy(loose, loose)).toEqual(loose);
  });

  it("counts one approval per review, and the requester's (by token or by name) only where self-approval is allowed", () => {
    const request = { allowSelfApproval: false, requestedByTokenId: "t1", requestedBy: "alice" };
    const reviews = [
      { decision: "APPROVED", reviewerTokenId: "t1", reviewer: "alice" },
      { decision: "APPROVED", reviewerTokenId: "t9", reviewer: "alice" },
      { decision: "APPROVED", reviewerTokenId: "t2", reviewer: "bob" },
      { decision: "REJECTED", reviewerTokenId: "t3", reviewer: "carol" },
      { decision: "APPROVED", reviewerTokenId: "t4", reviewer: "dave" },
      { decision: "APPROVED", reviewerTokenId: "t1", reviewer: "alice (2)" },
    ];
    expect(countedApprovals(request, reviews)).toBe(2);
    expect(countedApprovals({ ...request, allowSelfApproval: true }, reviews)).toBe(5);
    expect(countedApprovals(request, reviews.slice(0, 2))).toBe(0);
  });
});

describe("expiry", () => {
  const createdAt = new Date("2026-12-04T12:00:00.000Z");
  const expiresAt = expiryOf(createdAt, { expiresAfterHours: 72 });

  it("is the policy's hours after creation", () => {
    expect(expiresAt.toISOString()).toBe("2026-12-07T12:00:00.000Z");
  });

  it("makes an open request EXPIRED from its expiry on, and leaves closed ones as they are", () => {
    const before = new Date(expiresAt.getTime() - 1);
    for (const status of PROMOTION_REQUEST_STATUSES) {
      expect(statusAt({ status, expiresAt }, before)).toBe(status);
      expect(statusAt({ status, expiresAt }, expiresAt)).toBe(status === "PENDING" || status === "APPROVED" ? "EXPIRED" : status);
    }
  });
});

describe("the plan hash", () => {
  it("is SHA-256 over the sorted ids (a JSON array), whatever their order", () => {
    expect(planHash(["b", "a", "c"])).toBe(sha256Hex('["a","b","c"]'));
    expect(planHash(["c", "a", "b"])).toBe(planHash(["a", "b", "c"]));
  });

  it("differs when the plan does", () => {
    expect(planHash(["a", "b"])).not.toBe(planHash(["a"]));
    expect(planHash(["a", "b"])).not.toBe(planHash(["a\nb"]));
  });
});

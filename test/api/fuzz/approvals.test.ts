import { beforeAll, describe, expect, it } from "vitest";
import { ref } from "../../support/arbitraries.js";
import { call, createWorld, fuzzEveryInput, fuzzing, mutationsOf, type World } from "../../support/fuzzing.js";

/**
 * Fuzzed input of the approval mutations (setApprovalPolicy, requestPromotion, approvePromotionRequest, rejectPromotionRequest,
 * cancelPromotionRequest, executePromotionRequest): see test/support/fuzzing.ts.
 */

fuzzing();

describe("fuzzed mutation input", () => {
  it.each(mutationsOf("approvals"))(
    "%s answers every input with its result type or a request error, leaks nothing, and writes nothing when it refuses",
    fuzzEveryInput,
    120_000,
  );
});

describe("chosen inputs", () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld("fuzz-approvals-chosen");
  });

  it("the requester's own approval, an EDITOR's, a rejection without a reason: refused, writing nothing", async () => {
    const approval = { requestId: ref("req:pending"), planHash: ref("planHash") };
    await call(world, "approvePromotionRequest", "PROMOTER", approval);
    await call(world, "approvePromotionRequest", "EDITOR", approval);
    await call(world, "rejectPromotionRequest", "ADMIN", { requestId: ref("req:pending"), comment: " " });
    await call(world, "cancelPromotionRequest", "VIEWER", { requestId: ref("req:pending") });
    await call(world, "executePromotionRequest", "ADMIN", { requestId: ref("req:pending") });
  });

  it("a plan that moved: PLAN_STALE names its changes, and the request alone is STALE", async () => {
    // Executing the APPROVED request promotes what the PENDING one planned too: its plan is no longer current.
    await call(world, "executePromotionRequest", "PROMOTER", { requestId: ref("req:approved"), idempotencyKey: "chosen-execution" });
    await call(world, "executePromotionRequest", "PROMOTER", { requestId: ref("req:approved"), idempotencyKey: "chosen-execution" });
    const before = world.last!;
    await call(world, "approvePromotionRequest", "ADMIN", { requestId: ref("req:pending"), planHash: ref("planHash") });
    const stale = world.last!.promotionRequests.filter((r) => r.status === "STALE").map((r) => r.id);
    expect(stale).toHaveLength(1);
    expect(before.promotionRequests.find((r) => r.id === stale[0])?.status).toBe("PENDING");
  });
});

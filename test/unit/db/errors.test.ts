import { describe, expect, it } from "vitest";
import { CommitOutcomeUnknown, isConnectionLoss } from "../../../src/db/errors.js";

/** A socket error as Node raises it and postgres.js passes it on. */
const socketError = (code: string) => Object.assign(new Error(`read ${code}`), { code, errno: -1, syscall: "read" });

describe("isConnectionLoss", () => {
  it("counts the connection's failures: the driver's codes, Node's socket errors (a partition ends in ETIMEDOUT), class 08 and shutdowns", () => {
    for (const code of ["CONNECTION_CLOSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH"]) {
      expect([code, isConnectionLoss(socketError(code))]).toEqual([code, true]);
    }
    for (const state of ["08006", "57P01"]) expect(isConnectionLoss(Object.assign(new Error("x"), { code: state }))).toBe(true);
    // Wrapped, as drizzle wraps a statement's failure, and as inTransaction wraps a lost commit.
    expect(isConnectionLoss(new Error("Failed query", { cause: socketError("ETIMEDOUT") }))).toBe(true);
    expect(isConnectionLoss(new CommitOutcomeUnknown(socketError("ETIMEDOUT")))).toBe(true);
  });

  it("does not count a statement's own failures", () => {
    for (const state of ["23505", "40001", "42P01"]) expect(isConnectionLoss(Object.assign(new Error("x"), { code: state }))).toBe(false);
    expect(isConnectionLoss(new Error("unexpected"))).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { isUuid } from "../../../src/domain/uuid.js";

describe("isUuid", () => {
  it("takes 8-4-4-4-12 hexadecimal digits, in either case", () => {
    expect(isUuid("0b6f1a52-3c1d-4e8b-9f2a-7c5d3e1f0a9b")).toBe(true);
    expect(isUuid("0B6F1A52-3C1D-4E8B-9F2A-7C5D3E1F0A9B")).toBe(true);
    expect(isUuid("00000000-0000-0000-0000-000000000000")).toBe(true);
  });

  it.each([
    "",
    "0b6f1a523c1d4e8b9f2a7c5d3e1f0a9b",
    "0b6f1a52-3c1d-4e8b-9f2a-7c5d3e1f0a9",
    "0b6f1a52-3c1d-4e8b-9f2a-7c5d3e1f0a9bc",
    "x0b6f1a52-3c1d-4e8b-9f2a-7c5d3e1f0a9b",
    "0b6f1a52-3c1d-4e8b-9f2a-7c5d3e1f0a9bx",
    "0b6f1a5-23c1d-4e8b-9f2a-7c5d3e1f0a9b",
    "0b6f1a52-3c1d4-e8b-9f2a-7c5d3e1f0a9b",
    "0b6f1a52-3c1d-4e8b9-f2a-7c5d3e1f0a9b",
    "0b6f1a52-3c1d-4e8b-9f2a7-c5d3e1f0a9b",
    "0b6f1a52-3c1d-4e8g-9f2a-7c5d3e1f0a9b",
    "0b6f1a52_3c1d_4e8b_9f2a_7c5d3e1f0a9b",
  ])("refuses %j", (id) => {
    expect(isUuid(id)).toBe(false);
  });
});

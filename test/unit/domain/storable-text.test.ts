import { describe, expect, it } from "vitest";
import { isStorableText } from "../../../src/domain/storable-text.js";

describe("storable text", () => {
  it.each([
    ["plain text", "Enter email"],
    ["the empty string", ""],
    ["a surrogate pair", "👋🏽 Grüße"],
    ["a pair at the start and at the end", "\uD83D\uDC4Bx\uD83D\uDC4B"],
  ])("takes %s", (_, text) => {
    expect(isStorableText(text)).toBe(true);
  });

  it.each([
    ["a NUL", "a\u0000b"],
    ["a NUL alone", "\u0000"],
    ["a high surrogate at the end", "ab\uD83D"],
    ["a high surrogate before another character", "a\uD83Db"],
    ["two high surrogates", "\uD83D\uD83D\uDC4B"],
    ["a low surrogate at the start", "\uDC4Bab"],
    ["a low surrogate after another character", "a\uDC4B"],
    ["a low surrogate after a whole pair", "\uD83D\uDC4B\uDC4B"],
  ])("refuses %s", (_, text) => {
    expect(isStorableText(text)).toBe(false);
  });
});

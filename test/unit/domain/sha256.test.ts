import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../../src/domain/sha256.js";

const nodeSha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

describe("sha256Hex", () => {
  it("hashes the empty string to the FIPS 180-4 value", () => {
    expect(sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it('hashes "abc" to the FIPS 180-4 value', () => {
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("hashes the two-block FIPS 180-4 message", () => {
    expect(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
  });

  it("hashes the UTF-8 bytes of a long unicode string like node:crypto", () => {
    const text = "Grüße, 世界! 👋🏽 ".repeat(5000);
    expect(sha256Hex(text)).toBe(nodeSha256(text));
  });

  it("encodes a lone surrogate as U+FFFD like node:crypto", () => {
    expect(sha256Hex("a\uD800b")).toBe(nodeSha256("a\uD800b"));
  });

  it.each([55, 56, 63, 64, 65, 119, 120, 128])("pads a message of %i bytes correctly", (length) => {
    const text = "x".repeat(length);
    expect(sha256Hex(text)).toBe(nodeSha256(text));
  });

  it("gives the same result when hashing a large input between small ones", () => {
    const small = '{"a":1}';
    const before = sha256Hex(small);
    const large = "é".repeat(2_000_000);
    expect(sha256Hex(large)).toBe(nodeSha256(large));
    expect(sha256Hex(small)).toBe(before);
  });
});

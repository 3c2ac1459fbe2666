import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../../src/domain/sha256.js";

// Stored version hashes and change ids are these digests: they must never change.
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

  it("hashes the UTF-8 bytes of unicode text", () => {
    expect(sha256Hex("Grüße, 世界! 👋🏽")).toBe("ac7a545f73a8c61a58901cd0780a6669a4b296b5c9d6f048fd051a3c7b98ae0a");
  });

  it("hashes a lone surrogate as U+FFFD", () => {
    expect(sha256Hex("a\uD800b")).toBe(sha256Hex("a\uFFFDb"));
  });
});

import { beforeEach, describe, expect, it } from "vitest";
import {
  generateSecretKey,
  Keyring,
  SECRET_KEY_BYTES,
  type SecretKey,
  secretKey,
  secretKeyFromBase64,
} from "../../../src/domain/secret-box.js";

const SEVENS = Buffer.alloc(SECRET_KEY_BYTES, 7);
const SEVENS_BASE64 = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
const NINES = Buffer.alloc(SECRET_KEY_BYTES, 9);

/** Messages name the setting, never the key. */
const keyError = (name: string) => `${name} must be 32 random bytes in base64 (e.g. \`openssl rand -base64 32\`)`;

describe("secret keys", () => {
  it("read 32 bytes of base64, surrounding whitespace (a key file's newline) ignored", () => {
    expect(secretKeyFromBase64(SEVENS_BASE64, "SECRETS_KEY").material).toEqual(SEVENS);
    expect(secretKeyFromBase64(` \n${SEVENS_BASE64}\n`, "SECRETS_KEY").material).toEqual(SEVENS);
    expect(secretKeyFromBase64(SEVENS_BASE64.replace("=", ""), "SECRETS_KEY").material).toEqual(SEVENS);
  });

  it.each([
    ["too short", SEVENS_BASE64.slice(4)],
    ["too long", `BwcH${SEVENS_BASE64}`],
    ["empty", ""],
    ["with a character base64 does not have after it", `${SEVENS_BASE64}!`],
    ["with a character base64 does not have before it", `!${SEVENS_BASE64}`],
    ["with a space inside", `${SEVENS_BASE64.slice(0, 20)} ${SEVENS_BASE64.slice(20)}`],
    ["with too much padding", `${SEVENS_BASE64}==`],
    ["padding only", "===="],
  ])("refuse a key that is %s, without echoing it", (_, text) => {
    expect(() => secretKeyFromBase64(text, "SECRETS_KEY_PREVIOUS")).toThrow(new Error(keyError("SECRETS_KEY_PREVIOUS")));
  });

  it("are named by a hash of their material: 16 hex characters, stored with every ciphertext, so never derived otherwise", () => {
    expect(secretKey(SEVENS).id).toBe("371342228c7bd4fa");
    expect(secretKey(NINES).id).toBe("1971a2e3398cad4c");
    expect(secretKeyFromBase64(SEVENS_BASE64, "SECRETS_KEY").id).toBe("371342228c7bd4fa");
  });

  it("are 32 bytes exactly, and keep their own copy of the material", () => {
    expect(() => secretKey(Buffer.alloc(31))).toThrow(new Error("a secret key is 32 bytes"));
    expect(() => secretKey(Buffer.alloc(33))).toThrow(new Error("a secret key is 32 bytes"));
    const material = Buffer.from(SEVENS);
    const key = secretKey(material);
    material.fill(0);
    expect(key.material).toEqual(SEVENS);
  });

  it("are generated at random", () => {
    const [a, b] = [generateSecretKey(), generateSecretKey()];
    expect(a.material).toHaveLength(SECRET_KEY_BYTES);
    expect(a.id).toMatch(/^[0-9a-f]{16}$/);
    expect(a.id).not.toBe(b.id);
    expect(a.material).not.toEqual(b.material);
  });
});

describe("a keyring", () => {
  // Made in each test, not while the tests are collected: a key that cannot be made must fail tests, not the file's loading.
  let current: SecretKey;
  let previous: SecretKey;
  beforeEach(() => {
    current = secretKey(SEVENS);
    previous = secretKey(NINES);
  });

  it("seals with the current key, each time with a fresh IV, and opens what it sealed where it was bound", () => {
    const ring = new Keyring(current, previous);
    expect(ring.currentKeyId).toBe(current.id);
    const a = ring.seal("hunter2", "variable/env");
    const b = ring.seal("hunter2", "variable/env");
    expect(a.keyId).toBe(current.id);
    expect(a.ciphertext).toMatch(/^v1\.[A-Za-z0-9+/]+=*$/);
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(ring.open(a, "variable/env")).toBe("hunter2");
    expect(ring.open(ring.seal("", "x"), "x")).toBe("");
    expect(ring.open(ring.seal("Grüße 👋", "x"), "x")).toBe("Grüße 👋");
  });

  it("binds a ciphertext to where it belongs: it opens there only, non-ASCII places included", () => {
    const ring = new Keyring(current);
    const sealed = ring.seal("hunter2", "variable-1/env-1");
    expect(ring.open(sealed, "variable-1/env-1")).toBe("hunter2");
    for (const elsewhere of ["variable-1/env-2", "variable-2/env-1", "variable-1/env-1 ", ""]) {
      expect(() => ring.open(sealed, elsewhere), elsewhere).toThrow(new Error("Unsupported state or unable to authenticate data"));
    }
    const accented = ring.seal("Grüße 👋", "variablé/ümgebung");
    expect(ring.open(accented, "variablé/ümgebung")).toBe("Grüße 👋");
    expect(() => ring.open(accented, "variable/umgebung")).toThrow(new Error("Unsupported state or unable to authenticate data"));
  });

  it("opens a ciphertext of the v1 format: base64 of IV (12 bytes), tag (16 bytes) and ciphertext", () => {
    // sealed once with the key of sevens and an IV of ones: what is stored must stay readable
    const sealed = { keyId: current.id, ciphertext: "v1.AQEBAQEBAQEBAQEBp5xKdZq6sH+AbGODUucxXh6U58P1zd4=" };
    expect(new Keyring(current).open(sealed, "variable/env")).toBe("hunter2");
    expect(new Keyring(previous, current).open(sealed, "variable/env")).toBe("hunter2");
    expect(() => new Keyring(current).open(sealed, "variable/other-env")).toThrow();
  });

  it("opens ciphertexts of the previous key, and refuses those of a key it does not hold", () => {
    const old = new Keyring(previous).seal("hunter2", "v");
    const ring = new Keyring(current, previous);
    expect(ring.canOpen(previous.id)).toBe(true);
    expect(ring.canOpen(current.id)).toBe(true);
    expect(ring.open(old, "v")).toBe("hunter2");
    const withoutPrevious = new Keyring(current);
    expect(withoutPrevious.canOpen(previous.id)).toBe(false);
    expect(() => withoutPrevious.open(old, "v")).toThrow(
      new Error(`no key with id ${previous.id}: set SECRETS_KEY_PREVIOUS to the key it was sealed with`),
    );
  });

  it("refuses what is not a sealed secret, or was altered", () => {
    const ring = new Keyring(current);
    const sealed = ring.seal("hunter2", "v");
    const body = sealed.ciphertext.slice(3);
    for (const ciphertext of ["v1", `v2.${body}`, body, "v1.", `v1.${Buffer.alloc(27).toString("base64")}`]) {
      expect(() => ring.open({ ...sealed, ciphertext }, "v"), ciphertext).toThrow(new Error("not a sealed secret"));
    }
    const bytes = Buffer.from(body, "base64");
    bytes[bytes.length - 1] ^= 1;
    expect(() => ring.open({ ...sealed, ciphertext: `v1.${bytes.toString("base64")}` }, "v")).toThrow();
    expect(() => ring.open(sealed, "w")).toThrow();
  });

  it("fingerprints a value: 12 hex characters, per variable, from the current key", () => {
    const ring = new Keyring(current);
    expect(ring.fingerprint("s3cret", "var-1")).toBe("1858ed8e08b0");
    expect(ring.fingerprint("s3cret", "var-2")).toBe("230779298c36");
    expect(new Keyring(current, previous).fingerprint("s3cret", "var-1")).toBe("1858ed8e08b0");
    expect(new Keyring(previous, current).fingerprint("s3cret", "var-1")).not.toBe("1858ed8e08b0");
    // the variable and the value are kept apart: moving a character across does not collide
    expect(ring.fingerprint("a", "var-1b")).not.toBe(ring.fingerprint("ba", "var-1"));
  });

  it("fingerprints a value from the variable and the value alone, as UTF-8", () => {
    const ring = new Keyring(current);
    expect(ring.fingerprint("Grüße 👋", "var-1")).toBe(ring.fingerprint("Grüße 👋", "var-1"));
    expect(new Keyring(current).fingerprint("Grüße 👋", "var-1")).toBe(ring.fingerprint("Grüße 👋", "var-1"));
    expect(ring.fingerprint("Grüße 👋", "var-1")).not.toBe(ring.fingerprint("Grüsse 👋", "var-1"));
    expect(ring.fingerprint("s3cret", "vär-1")).not.toBe(ring.fingerprint("s3cret", "var-1"));
    expect(ring.fingerprint("s3cret", "var-1")).not.toBe(ring.fingerprint("s3cres", "var-1"));
    // HMAC-SHA-256(HKDF(key), UTF-8 of the variable, NUL, UTF-8 of the value), computed by hand once
    expect(ring.fingerprint("Grüße 👋", "vär-1")).toBe("41104fda286f");
  });
});

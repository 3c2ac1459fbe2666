import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from "node:crypto";

/**
 * Secrets at rest (DESIGN.md §6): AES-256-GCM under a 32-byte key, each ciphertext bound to where
 * it belongs (the additional data: the variable and environment), so a ciphertext copied to another
 * row does not decrypt. Each ciphertext records the id of its key; a keyring holds the current key
 * and the previous one, so ciphertexts stay readable while they are re-encrypted (rotation).
 *
 * Fingerprints let people compare a secret's values across environments without seeing them: 12 hex
 * characters of an HMAC-SHA-256 of the variable and the value under a key derived from the current
 * key (they change when the key rotates).
 */

export const SECRET_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = "v1";

export interface SecretKey {
  /** 16 hex characters naming the key (a hash of it: the same key always has the same id). */
  readonly id: string;
  readonly material: Buffer;
}

export interface Sealed {
  keyId: string;
  /** `v1.<base64 of iv | tag | ciphertext>`. */
  ciphertext: string;
}

/** A key from its base64 text; throws a message that says what is wrong, never the key. */
export function secretKeyFromBase64(text: string, name: string): SecretKey {
  const trimmed = text.trim();
  const material = /^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, "base64") : Buffer.alloc(0);
  if (material.length !== SECRET_KEY_BYTES) {
    throw new Error(`${name} must be ${SECRET_KEY_BYTES} random bytes in base64 (e.g. \`openssl rand -base64 32\`)`);
  }
  return secretKey(material);
}

export function secretKey(material: Buffer): SecretKey {
  if (material.length !== SECRET_KEY_BYTES) throw new Error(`a secret key is ${SECRET_KEY_BYTES} bytes`);
  const id = createHash("sha256").update("journey-promotion secrets key id\u0000").update(material).digest("hex").slice(0, 16);
  return { id, material: Buffer.from(material) };
}

/** A new random key. */
export function generateSecretKey(): SecretKey {
  return secretKey(randomBytes(SECRET_KEY_BYTES));
}

/** The current key seals; it and the previous one open. */
export class Keyring {
  readonly #current: SecretKey;
  readonly #byId: ReadonlyMap<string, SecretKey>;
  readonly #fingerprintKey: Buffer;

  constructor(current: SecretKey, previous?: SecretKey) {
    this.#current = current;
    this.#byId = new Map([previous, current].filter((k): k is SecretKey => k !== undefined).map((k) => [k.id, k]));
    this.#fingerprintKey = Buffer.from(hkdfSync("sha256", current.material, Buffer.alloc(0), "journey-promotion fingerprints", 32));
  }

  get currentKeyId(): string {
    return this.#current.id;
  }

  /** Whether a ciphertext of this key can be opened. */
  canOpen(keyId: string): boolean {
    return this.#byId.has(keyId);
  }

  seal(plaintext: string, boundTo: string): Sealed {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#current.material, iv);
    // Stryker disable next-line StringLiteral: equivalent, Buffer.from(text, "") reads the text as UTF-8, its default encoding (Node 20; a non-ASCII binding is tested)
    cipher.setAAD(Buffer.from(boundTo, "utf8"));
    // Stryker disable next-line StringLiteral: equivalent, cipher.update(text, "") encodes the text as UTF-8, its default (Node 20; a non-ASCII plaintext is tested)
    const encrypted = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return {
      keyId: this.#current.id,
      ciphertext: `${FORMAT}.${Buffer.concat([iv, cipher.getAuthTag(), encrypted]).toString("base64")}`,
    };
  }

  /** The plaintext; throws when the key is unknown or the ciphertext was altered or moved. */
  open(sealed: Sealed, boundTo: string): string {
    const key = this.#byId.get(sealed.keyId);
    if (!key) throw new Error(`no key with id ${sealed.keyId}: set SECRETS_KEY_PREVIOUS to the key it was sealed with`);
    const [format, body] = sealed.ciphertext.split(".", 2);
    if (format !== FORMAT || body === undefined) throw new Error("not a sealed secret");
    const bytes = Buffer.from(body, "base64");
    if (bytes.length < IV_BYTES + TAG_BYTES) throw new Error("not a sealed secret");
    const decipher = createDecipheriv("aes-256-gcm", key.material, bytes.subarray(0, IV_BYTES));
    // Stryker disable next-line StringLiteral: equivalent, Buffer.from(text, "") reads the text as UTF-8, its default encoding (Node 20; a non-ASCII binding is tested)
    decipher.setAAD(Buffer.from(boundTo, "utf8"));
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
  }

  /**
   * 12 hex characters of an HMAC-SHA-256 of the value, bound to its variable: equal values of one
   * variable (in two environments) have equal fingerprints, while another variable's fingerprint
   * of the same value differs — so a variable one can write is no oracle for guessing another's.
   */
  fingerprint(plaintext: string, variableId: string): string {
    const hmac = createHmac("sha256", this.#fingerprintKey);
    // One statement per text, so that each disable comment is the statement's own (in the middle of a
    // chain of calls StrykerJS does not see it).
    // Stryker disable next-line StringLiteral: equivalent, hmac.update(text, "") encodes the text as UTF-8, its default (Node 20; a non-ASCII fingerprint is pinned)
    hmac.update(variableId, "utf8");
    hmac.update("\u0000");
    // Stryker disable next-line StringLiteral: equivalent, hmac.update(text, "") encodes the text as UTF-8, its default (Node 20; a non-ASCII fingerprint is pinned)
    hmac.update(plaintext, "utf8");
    return hmac.digest("hex").slice(0, 12);
  }
}

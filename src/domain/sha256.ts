/**
 * Synchronous SHA-256 (FIPS 180-4) in plain TypeScript, so the domain can content-address
 * documents and changes without `node:crypto`. Hashing runs many times per diff, so the round
 * constants, the message schedule and the input buffer are allocated once and reused; the
 * function is synchronous, which makes sharing them safe.
 */

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be,
  0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa,
  0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
  0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
  0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
  0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const INITIAL_STATE = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

const W = new Int32Array(64);
const STATE = new Int32Array(8);

/** Inputs up to this size reuse one buffer; larger ones get a buffer of their own so a single huge document does not pin memory. */
const SHARED_BUFFER_LIMIT = 1 << 20;
let sharedBuffer = new Uint8Array(4096);

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

const encoder = new TextEncoder();

function bufferFor(size: number): Uint8Array {
  if (size <= sharedBuffer.length) return sharedBuffer;
  if (size > SHARED_BUFFER_LIMIT) return new Uint8Array(size);
  let length = sharedBuffer.length;
  while (length < size) length *= 2;
  sharedBuffer = new Uint8Array(length);
  return sharedBuffer;
}

function compress(bytes: Uint8Array, end: number): void {
  let h0 = STATE[0],
    h1 = STATE[1],
    h2 = STATE[2],
    h3 = STATE[3];
  let h4 = STATE[4],
    h5 = STATE[5],
    h6 = STATE[6],
    h7 = STATE[7];

  for (let offset = 0; offset < end; offset += 64) {
    for (let i = 0; i < 16; i++) {
      const j = offset + (i << 2);
      W[i] = (bytes[j] << 24) | (bytes[j + 1] << 16) | (bytes[j + 2] << 8) | bytes[j + 3];
    }
    for (let i = 16; i < 64; i++) {
      const w15 = W[i - 15];
      const w2 = W[i - 2];
      const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
      const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
      W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
    }

    let a = h0,
      b = h1,
      c = h2,
      d = h3,
      e = h4,
      f = h5,
      g = h6,
      h = h7;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (h + S1 + ch + K[i] + W[i]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }

    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
    h5 = (h5 + f) | 0;
    h6 = (h6 + g) | 0;
    h7 = (h7 + h) | 0;
  }

  STATE[0] = h0;
  STATE[1] = h1;
  STATE[2] = h2;
  STATE[3] = h3;
  STATE[4] = h4;
  STATE[5] = h5;
  STATE[6] = h6;
  STATE[7] = h7;
}

/** Lower-case hex SHA-256 of the UTF-8 bytes of `text` (lone surrogates encode as U+FFFD, as in `Buffer.from`). */
export function sha256Hex(text: string): string {
  // A UTF-16 code unit never needs more than 3 UTF-8 bytes; 9 more for the 0x80 marker and the length.
  const padded = Math.ceil((text.length * 3 + 9) / 64) * 64;
  const bytes = bufferFor(padded);
  const { written } = encoder.encodeInto(text, bytes);

  const end = Math.ceil((written + 9) / 64) * 64;
  bytes[written] = 0x80;
  bytes.fill(0, written + 1, end - 8);
  const bitsHigh = Math.floor(written / 0x20000000);
  const bitsLow = (written << 3) >>> 0;
  bytes[end - 8] = bitsHigh >>> 24;
  bytes[end - 7] = bitsHigh >>> 16;
  bytes[end - 6] = bitsHigh >>> 8;
  bytes[end - 5] = bitsHigh;
  bytes[end - 4] = bitsLow >>> 24;
  bytes[end - 3] = bitsLow >>> 16;
  bytes[end - 2] = bitsLow >>> 8;
  bytes[end - 1] = bitsLow;

  STATE.set(INITIAL_STATE);
  compress(bytes, end);

  let hex = "";
  for (let i = 0; i < 8; i++) {
    const word = STATE[i];
    hex += HEX[(word >>> 24) & 0xff] + HEX[(word >>> 16) & 0xff] + HEX[(word >>> 8) & 0xff] + HEX[word & 0xff];
  }
  return hex;
}

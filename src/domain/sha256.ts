import { createHash } from "node:crypto";

/** SHA-256 of a string's UTF-8 bytes (a lone surrogate as U+FFFD), in lower-case hexadecimal. */
export function sha256Hex(text: string): string {
  // Stryker disable next-line StringLiteral: `"utf8"` → `""` is equivalent, UTF-8 is Node's default encoding for a string
  return createHash("sha256").update(text, "utf8").digest("hex");
}

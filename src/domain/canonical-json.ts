import { sha256Hex } from "./sha256.js";

/**
 * Canonical JSON: object keys sorted by UTF-16 code unit, no whitespace, arrays in order, members
 * whose value is undefined (or a function or symbol) omitted; everything else as `JSON.stringify`
 * writes it. Two values that mean the same serialize to the same bytes, which is what makes
 * version hashes and content-addressed change ids stable.
 */
export function canonicalJson(value: unknown): string {
  // Stryker disable next-line ArrayDeclaration: `["Stryker was here"]` is equivalent, the ancestors are compared with the objects being written, never a string
  const json = write(value, "", []);
  if (json === undefined) {
    throw new TypeError(`canonicalJson cannot represent a top-level ${typeof value}`);
  }
  return json;
}

/** SHA-256 (hex) of the canonical JSON of `value`. */
export function canonicalHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

function write(input: unknown, key: string, ancestors: object[]): string | undefined {
  let value = input;
  if (typeof value === "object" && value !== null && typeof (value as { toJSON?: unknown }).toJSON === "function") {
    value = (value as { toJSON: (key: string) => unknown }).toJSON(key);
  }
  if (value instanceof Number || value instanceof String || value instanceof Boolean) {
    value = value.valueOf();
  }

  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      throw new TypeError("canonicalJson cannot represent a bigint");
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
  }
  if (value === null) return "null";

  const object = value as object;
  if (ancestors.includes(object)) {
    throw new TypeError("canonicalJson cannot represent a cyclic structure");
  }
  ancestors.push(object);
  let json: string;
  if (Array.isArray(object)) {
    json = "[";
    for (let i = 0; i < object.length; i++) {
      if (i > 0) json += ",";
      json += write(object[i], String(i), ancestors) ?? "null";
    }
    json += "]";
  } else {
    const record = object as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    json = "{";
    let first = true;
    for (const k of keys) {
      const member = write(record[k], k, ancestors);
      if (member === undefined) continue;
      if (!first) json += ",";
      json += `${JSON.stringify(k)}:${member}`;
      first = false;
    }
    json += "}";
  }
  ancestors.pop();
  return json;
}

import type { JsonValue } from "./journey-document.js";

/**
 * Structural equality of JSON values, key order ignored: the same answer as comparing canonical
 * JSON, without serializing. The diff uses it to skip unchanged values in one walk that stops at
 * the first difference. Objects are expected to hold no undefined members (they are JSON).
 */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    // Stryker disable next-line EqualityOperator: equivalent, a[a.length] and b[b.length] are both undefined (the lengths are equal)
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  let count = 0;
  for (const key in a) {
    count++;
    const other = b[key];
    // an absent member reads as undefined, which no JSON value equals
    // Stryker disable next-line ConditionalExpression: equivalent, both tests are shortcuts of jsonEqual (equal values are equal, undefined equals nothing)
    if (a[key] !== other && (other === undefined || !jsonEqual(a[key], other))) return false;
  }
  // every member of `a` is in `b`; equal sizes leave `b` nothing else
  for (const _ in b) if (--count < 0) return false;
  // Stryker disable next-line ConditionalExpression: equivalent, count cannot be above 0 here (b holds every member of a)
  return count === 0;
}

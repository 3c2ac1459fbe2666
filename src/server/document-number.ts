import type { DocumentNode } from "graphql";

const numbers = new WeakMap<DocumentNode, number>();
let next = 0;

/**
 * A short number standing for a parsed document in cache keys. Yoga's parser cache hands every
 * request with the same query text the same document object; another object for the same text
 * only gets another number (less sharing, never a wrong one).
 */
export function documentNumber(document: DocumentNode): number {
  let number = numbers.get(document);
  if (number === undefined) numbers.set(document, (number = next++));
  return number;
}

/**
 * An operation's variables as a cache key: their JSON, or null when JSON would not tell them from
 * other variables — a number too large for a double (`1e400`) parses as Infinity, which JSON writes
 * as `null`, as it writes null: `{"n": 1e400}` (refused: not an Int) and `{"n": null}` (accepted)
 * would share a key. Such variables are never cached.
 */
export function variablesKey(variables: unknown): string | null {
  let lossy = false;
  const text = JSON.stringify(variables ?? {}, (_key, value) => {
    if (typeof value === "number" && !Number.isFinite(value)) lossy = true;
    return value;
  });
  return lossy ? null : text;
}

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

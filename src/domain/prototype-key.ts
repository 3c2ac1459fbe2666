import type { Problem } from "./journey-document.js";

/**
 * The one key JavaScript does not keep: assigning `__proto__` to a plain object sets its prototype
 * instead, so whatever copies an input (a parser, a spread into `{}`, compiled argument code) drops
 * it without a word. Input that holds one is refused, never read with a part missing.
 */
export const PROTOTYPE_KEY = "__proto__";

/** The problem of a `__proto__` at `path` (its own dotted path), used as a key or as what becomes one. */
export function prototypeKeyProblem(path: string, as = "a key"): Problem {
  return { path, message: `${path}: "${PROTOTYPE_KEY}" is not allowed as ${as}` };
}

/** The problem of every `__proto__` key in a JSON value (at most `limit`), pathed from `path`. */
export function prototypeKeyProblems(value: unknown, path: string, limit = 50): Problem[] {
  const problems: Problem[] = [];
  const visit = (node: unknown, at: string, depth: number) => {
    if (node === null || depth > 1_000) return;
    // Stryker disable next-line ConditionalExpression: `false` is equivalent, a string's entries are its characters under digit keys, never "__proto__" (only slower)
    if (typeof node !== "object") return;
    for (const [key, child] of Object.entries(node)) {
      if (problems.length >= limit) return;
      const childPath = at ? `${at}.${key}` : key;
      if (key === PROTOTYPE_KEY) problems.push(prototypeKeyProblem(childPath));
      else visit(child, childPath, depth + 1);
    }
  };
  visit(value, path, 0);
  return problems;
}

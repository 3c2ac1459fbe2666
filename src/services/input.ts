import { z } from "zod";
import { ValidationError } from "../domain/errors.js";
import type { Problem } from "../domain/journey-document.js";
import { prototypeKeyProblems } from "../domain/prototype-key.js";
import { isStorableText } from "../domain/storable-text.js";

/**
 * Parses untrusted input with a zod schema; every problem becomes a `Problem` with its dotted path.
 * Text the database cannot store and `__proto__` keys are refused first, wherever they are.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const unstorable = [...unstorableText(input, ""), ...prototypeKeyProblems(input, "")];
  if (unstorable.length > 0) throw new ValidationError(unstorable.slice(0, 50));
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationError(result.error.issues.slice(0, 50).map(toProblem));
}

/** Every string of an input (keys included) that could not be stored, with its path. */
function unstorableText(value: unknown, path: string, depth = 0): Problem[] {
  const at = (key: string) => (path ? `${path}.${key}` : key);
  if (typeof value === "string") {
    return !isStorableText(value)
      ? [{ path: path || "input", message: `${path || "input"} contains a NUL character or an unpaired surrogate` }]
      : [];
  }
  if (value === null || typeof value !== "object" || depth > 1_000) return [];
  const problems: Problem[] = [];
  for (const [key, child] of Object.entries(value)) {
    if (!isStorableText(key))
      problems.push({ path: path || "input", message: `${path || "input"} has a key with a NUL character or an unpaired surrogate` });
    problems.push(...unstorableText(child, at(key), depth + 1));
    if (problems.length >= 50) break;
  }
  return problems;
}

function toProblem(issue: z.core.$ZodIssue): Problem {
  const path = issue.path.map(String).join(".") || "input";
  return { path, message: `${path} ${issue.message}` };
}

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export const inputs = {
  name: (max = 200) => z.string().trim().min(1, "must not be empty").max(max, `must be at most ${max} characters`),
  slug: (max = 64) =>
    z.string().max(max, `must be at most ${max} characters`).regex(SLUG, "must be a slug: lower-case letters, digits and single dashes"),
  comment: () => z.string().max(10_000, "must be at most 10000 characters"),
  /** An optional field: absent, undefined and null (GraphQL's "not given") all parse to undefined. */
  optional: <S extends z.ZodType>(schema: S) => schema.nullish().transform((value) => value ?? undefined),
  /** An optional field with a default, for absent, undefined and null alike. */
  withDefault: <S extends z.ZodType>(schema: S, fallback: z.output<S>) => schema.nullish().transform((value) => value ?? fallback),
};

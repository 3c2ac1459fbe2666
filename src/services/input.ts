import { z } from "zod";
import { ValidationError } from "../domain/errors.js";
import type { Problem } from "../domain/journey-document.js";

/** Parses untrusted input with a zod schema; every problem becomes a `Problem` with its dotted path. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationError(result.error.issues.slice(0, 50).map(toProblem));
}

function toProblem(issue: z.core.$ZodIssue): Problem {
  const path = issue.path.map(String).join(".") || "input";
  return { path, message: `${path} ${issue.message}` };
}

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export const inputs = {
  name: (max = 200) =>
    z
      .string()
      .trim()
      .min(1, "must not be empty")
      .max(max, `must be at most ${max} characters`),
  slug: (max = 64) =>
    z
      .string()
      .max(max, `must be at most ${max} characters`)
      .regex(SLUG, "must be a slug: lower-case letters, digits and single dashes"),
  comment: () => z.string().max(10_000, "must be at most 10000 characters"),
};

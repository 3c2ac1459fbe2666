import fc from "fast-check";

/**
 * Mutation runs only (vitest.mutation.config.ts): a property that fails under a mutant reports its first
 * counterexample instead of shrinking it. Shrinking makes each killed mutant take minutes; the run only needs to
 * know that the property failed.
 */
fc.configureGlobal({ endOnFailure: true });

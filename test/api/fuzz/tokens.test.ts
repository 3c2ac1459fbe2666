import { describe, it } from "vitest";
import { fuzzEveryInput, fuzzing, mutationsOf } from "../../support/fuzzing.js";

/** Fuzzed input of the API token mutations (createApiToken, revokeApiToken): see test/support/fuzzing.ts. */

fuzzing();

describe("fuzzed mutation input", () => {
  it.each(mutationsOf("tokens"))(
    "%s answers every input with its result type or a request error, leaks nothing, and writes nothing when it refuses",
    fuzzEveryInput,
    120_000,
  );
});

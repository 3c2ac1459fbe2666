import { describe, it } from "vitest";
import { fuzzEveryInput, fuzzing, mutationsOf } from "../../support/fuzzing.js";

/** Fuzzed input of the variable mutations (createVariable, setVariableValue, removeVariableValue, deleteVariable): see test/support/fuzzing.ts. */

fuzzing();

describe("fuzzed mutation input", () => {
  it.each(mutationsOf("variables"))(
    "%s answers every input with its result type or a request error, leaks nothing, and writes nothing when it refuses",
    fuzzEveryInput,
    120_000,
  );
});

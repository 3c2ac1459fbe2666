import fc from "fast-check";
import { beforeAll, describe, it } from "vitest";
import { ref } from "../../support/arbitraries.js";
import { call, createWorld, FOUND_BUG_RUNS, fuzzEveryInput, fuzzing, mutationsOf, type World } from "../../support/fuzzing.js";

/** Fuzzed input of the draft mutations (save a step, remove one, set the start, discard, save): see test/support/fuzzing.ts. */

fuzzing();

describe("fuzzed mutation input", () => {
  it.each(mutationsOf("drafts"))(
    "%s answers every input with its result type or a request error, leaks nothing, and writes nothing when it refuses",
    fuzzEveryInput,
    120_000,
  );
});

/** Names every plain object answers `in` for: Object.prototype's. */
const INHERITED_NAMES = Object.getOwnPropertyNames(Object.prototype);

describe("Object.prototype's names never pass for steps of a draft", () => {
  // `key in document.steps` is true for "constructor", "toString", "__proto__"…: draft edits once took
  // them for steps (removeJourneyStep("constructor") succeeded, setJourneyStart("toString") too).
  let world: World;
  beforeAll(async () => {
    world = await createWorld("fuzz-inherited");
  });
  const draft = { journeyId: ref("journey:login"), environmentId: ref("env:development") };

  it("removeJourneyStep refuses a step key that names no step", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...INHERITED_NAMES), (stepKey) => call(world, "removeJourneyStep", "EDITOR", { ...draft, stepKey })),
      FOUND_BUG_RUNS,
    );
  });

  it("setJourneyStart refuses a step key that names no step", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...INHERITED_NAMES), (stepKey) => call(world, "setJourneyStart", "EDITOR", { ...draft, stepKey })),
      FOUND_BUG_RUNS,
    );
  });

  it("saveJourneyStep refuses a transition to a step that does not exist", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("constructor"), (to) =>
        call(world, "saveJourneyStep", "EDITOR", {
          ...draft,
          step: {
            key: "password",
            type: "PASSWORD",
            name: "Password",
            enabled: true,
            settings: {},
            transitions: [{ outcome: "success", to }],
          },
        }),
      ),
      FOUND_BUG_RUNS,
    );
  });
});

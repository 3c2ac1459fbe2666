import { describe, expect, it } from "vitest";
import { putStep, removeStep, setStart } from "../../../src/domain/draft-edits.js";
import { NotFoundError, ValidationError } from "../../../src/domain/errors.js";
import type { JourneyDocument, JourneyStepDefinition } from "../../../src/domain/journey-document.js";

const step = (transitions: Record<string, string> = { success: "COMPLETE" }, name = "A step"): JourneyStepDefinition => ({
  type: "IDENTIFIER",
  name,
  enabled: true,
  settings: {},
  transitions,
});

const journey: JourneyDocument = {
  start: "identify",
  order: ["identify", "password", "otp"],
  steps: { identify: step({ success: "password" }), password: step({ success: "otp" }), otp: step() },
};

const problemsOf = (edit: () => unknown) => {
  try {
    edit();
  } catch (error) {
    if (error instanceof ValidationError) return error.problems;
    throw error;
  }
  throw new Error("the edit was not refused");
};

describe("putting a step", () => {
  it("inserts a new step at the given position", () => {
    expect(putStep(journey, "captcha", step(), 1).order).toEqual(["identify", "captcha", "password", "otp"]);
  });

  it("appends a new step without a position, and accepts the position just past the end", () => {
    expect(putStep(journey, "captcha", step()).order).toEqual(["identify", "password", "otp", "captcha"]);
    expect(putStep(journey, "captcha", step(), 3).order).toEqual(["identify", "password", "otp", "captcha"]);
  });

  it("replaces an existing step where it is, or moves it to the given position", () => {
    const replaced = putStep(journey, "password", step({ success: "otp" }, "Password"));
    expect(replaced.order).toEqual(journey.order);
    expect(replaced.steps.password.name).toBe("Password");
    expect(putStep(journey, "identify", step({ success: "password" }), 2).order).toEqual(["password", "otp", "identify"]);
    // the first step stays first
    expect(putStep(journey, "identify", step({ success: "password" }, "Who")).order).toEqual(journey.order);
  });

  it("refuses a position past the end of the order", () => {
    expect(problemsOf(() => putStep(journey, "captcha", step(), 4))).toEqual([{ path: "position", message: "position must be at most 3" }]);
    expect(problemsOf(() => putStep(journey, "otp", step(), 3))).toEqual([{ path: "position", message: "position must be at most 2" }]);
  });

  it("refuses transitions to steps the journey does not have, and accepts itself and the terminals", () => {
    expect(problemsOf(() => putStep(journey, "captcha", step({ success: "later", failure: "DENY" })))).toEqual([
      {
        path: "steps.captcha.transitions.success",
        message: 'steps.captcha.transitions.success points to unknown step "later": add that step first',
      },
    ]);
    expect(putStep(journey, "retry", step({ again: "retry", done: "COMPLETE", no: "DENY" })).steps.retry.transitions.again).toBe("retry");
    // a long unknown key is named by its first 64 characters
    expect(problemsOf(() => putStep(journey, "captcha", step({ success: "x".repeat(100) })))[0].message).toBe(
      `steps.captcha.transitions.success points to unknown step "${"x".repeat(64)}": add that step first`,
    );
  });

  it("leaves the document it was given unchanged", () => {
    const before = structuredClone(journey);
    putStep(journey, "captcha", step(), 0);
    expect(journey).toEqual(before);
  });
});

describe("removing a step", () => {
  it("takes it out of the steps and the order; what pointed at it is left for the draft's problems", () => {
    const next = removeStep(journey, "otp");
    expect(next.order).toEqual(["identify", "password"]);
    expect(Object.keys(next.steps)).toEqual(["identify", "password"]);
    expect(next.steps.password.transitions.success).toBe("otp");
  });

  it("refuses the start step, and a step the journey does not have", () => {
    expect(problemsOf(() => removeStep(journey, "identify"))).toEqual([
      { path: "stepKey", message: 'stepKey "identify" is the start step: set another start before removing it' },
    ]);
    expect(() => removeStep(journey, "missing")).toThrow(new NotFoundError('step "missing" in this journey'));
    expect(() => removeStep(journey, "m".repeat(100))).toThrow(`step "${"m".repeat(64)}" in this journey not found`);
  });
});

describe("setting the start", () => {
  it("names a step of the journey", () => {
    expect(setStart(journey, "password").start).toBe("password");
    expect(() => setStart(journey, "missing")).toThrow('step "missing" in this journey not found');
    expect(() => setStart(journey, "m".repeat(100))).toThrow(`step "${"m".repeat(64)}" in this journey not found`);
  });
});

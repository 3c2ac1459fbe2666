import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ChangeKind, UnbundledChange } from "../../../src/domain/change.js";
import type { ChangeTarget } from "../../../src/domain/change-path.js";
import { bundleLabel, formatValue, type SummaryInput, stepDisplayName, summarizeChange } from "../../../src/domain/change-summary.js";
import type { JsonValue } from "../../../src/domain/journey-document.js";

const J = "login";

const summary = (target: ChangeTarget, kind: ChangeKind, oldValue: JsonValue | null, newValue: JsonValue | null, stepName?: string) =>
  summarizeChange({ target, kind, oldValue, newValue, stepName } satisfies SummaryInput);

const order = (before: string[], after: string[]) => summary({ kind: "order", journeyKey: J }, "MODIFIED", before, after);

const stepValue = (type: string, name: string) => ({ type, name, enabled: true, settings: {}, transitions: {} });

/** A change of a whole step, as a diff lists it (only what bundle labels read is filled in). */
function stepChange(stepKey: string, kind: ChangeKind, value: JsonValue | null): UnbundledChange {
  return {
    id: `chg_${stepKey}`,
    path: `/journeys/${J}/steps/${stepKey}`,
    kind,
    summary: `${kind} ${stepKey}`,
    journeyKey: J,
    stepKey,
    oldValue: kind === "ADDED" ? null : value,
    newValue: kind === "ADDED" ? value : null,
    requires: [],
  };
}

describe("change summaries", () => {
  it("say whether a step was enabled or disabled, by its name", () => {
    const target: ChangeTarget = { kind: "stepEnabled", journeyKey: J, stepKey: "password" };
    expect(summary(target, "MODIFIED", false, true, "Password")).toBe("Enabled step Password");
    expect(summary(target, "MODIFIED", true, false, "Password")).toBe("Disabled step Password");
  });

  it("describe a whole step by its name and type, or by its type's label; what is not a step shows as ?", () => {
    const target: ChangeTarget = { kind: "step", journeyKey: J, stepKey: "otp" };
    expect(summary(target, "MODIFIED", stepValue("EMAIL_OTP", "Code"), stepValue("SMS_OTP", "Text code"))).toBe(
      "Replaced step Code (EMAIL_OTP) with Text code (SMS_OTP)",
    );
    expect(summary(target, "MODIFIED", stepValue("EMAIL_OTP", "Code"), stepValue("SMS_OTP", "Code"))).toBe(
      "Changed step Code from EMAIL_OTP to SMS_OTP",
    );
    expect(summary(target, "ADDED", null, { name: "", type: "TOTP" })).toBe("Added step Authenticator app code (TOTP)");
    expect(summary(target, "REMOVED", [1, 2], null)).toBe("Removed step ? (?)");
    expect(summary(target, "REMOVED", "otp", null)).toBe("Removed step ? (?)");
    expect(summary(target, "ADDED", null, { name: 7, type: 8 })).toBe("Added step ? (?)");
    expect(summary(target, "MODIFIED", null, stepValue("TOTP", "App"))).toBe("Replaced step ? (?) with App (TOTP)");
  });

  it("say what happened to a transition", () => {
    const target: ChangeTarget = { kind: "transition", journeyKey: J, stepKey: "password", outcome: "failure" };
    expect(summary(target, "ADDED", null, "DENY", "Password")).toBe("Password · on failure → DENY (new outcome)");
    expect(summary(target, "REMOVED", "DENY", null, "Password")).toBe("Password · on failure: removed (was DENY)");
    expect(summary(target, "MODIFIED", "DENY", "otp", "Password")).toBe("Password · on failure → otp (was DENY)");
  });

  it("write values briefly: not set, on and off, lists and objects (keys sorted), nulls inside", () => {
    expect(formatValue(null)).toBe("not set");
    expect(formatValue(true)).toBe("on");
    expect(formatValue(false)).toBe("off");
    expect(formatValue(0)).toBe("0");
    expect(formatValue("")).toBe("");
    expect(formatValue(["email", 2, false, null])).toBe("[email, 2, off, null]");
    expect(formatValue({ version: "2", id: "terms", extra: { b: null, a: [] } })).toBe("{extra: {a: [], b: null}, id: terms, version: 2}");
  });

  it("cut a value longer than 80 characters to 79 and an ellipsis", () => {
    expect(formatValue("x".repeat(80))).toBe("x".repeat(80));
    expect(formatValue("x".repeat(81))).toBe(`${"x".repeat(79)}…`);
  });

  it("are one line: line breaks and runs of spaces in values become one space, none at the ends", () => {
    const target: ChangeTarget = { kind: "stepName", journeyKey: J, stepKey: "password" };
    expect(summary(target, "MODIFIED", "Password", "Your\n  pass\tword ")).toBe("Renamed step Password → Your pass word");
    expect(summary(target, "MODIFIED", "  Password", "Word")).toBe("Renamed step Password → Word");
    expect(summary(target, "MODIFIED", "Pass word", "Word")).toBe("Renamed step Pass word → Word");
    expect(summary(target, "MODIFIED", "Password", "Word ")).toBe("Renamed step Password → Word");
    const transition: ChangeTarget = { kind: "transition", journeyKey: J, stepKey: "password", outcome: "failure" };
    expect(summary(transition, "ADDED", null, "DENY", " Password")).toBe("Password · on failure → DENY (new outcome)");
  });

  it("leave a step's name out when they are not given it", () => {
    expect(summary({ kind: "stepEnabled", journeyKey: J, stepKey: "password" }, "MODIFIED", false, true)).toBe("Enabled step");
  });

  it("name a step by its name, else its type's label, else its key", () => {
    expect(stepDisplayName("Password", "PASSWORD", "pw")).toBe("Password");
    expect(stepDisplayName(" ", "EMAIL_OTP", "otp")).toBe("Email code");
    expect(stepDisplayName("", "CUSTOM", "otp")).toBe("CUSTOM");
    expect(stepDisplayName(undefined, "", "otp")).toBe("otp");
    expect(stepDisplayName(3, 4, "otp")).toBe("otp");
  });
});

describe("order summaries", () => {
  it("list the order when no step moved", () => {
    expect(order(["a", "b"], ["a", "b"])).toBe("Step order: a, b");
  });

  it("name the one step that moved or was placed, and where", () => {
    expect(order(["a", "b", "c"], ["b", "a", "c"])).toBe("Step order: a moved before c");
    expect(order(["a", "b", "c"], ["b", "c", "a"])).toBe("Step order: a moved last");
    expect(order(["a", "b"], ["a", "n", "b"])).toBe("Step order: n placed before b");
    expect(order(["a", "b"], ["b", "a", "n"])).toBe("Step order: a moved before n");
  });

  it("keep a step that was there over any number of added ones: the added ones are named", () => {
    expect(order(["a"], ["n1", "n2", "n3", "a"])).toBe("Step order: n1, n2, n3 moved");
  });

  it("name up to three steps that moved, then how many more", () => {
    expect(order(["a", "b", "c", "d"], ["d", "c", "b", "a"])).toBe("Step order: c, b, a moved");
    expect(order(["a", "b", "c", "d", "e"], ["e", "d", "c", "b", "a"])).toBe("Step order: d, c, b and 1 more moved");
    expect(order(["a", "b", "c", "d", "e", "f"], ["f", "e", "d", "c", "b", "a"])).toBe("Step order: e, d, c and 2 more moved");
  });

  it("read only the step keys of the values", () => {
    expect(order(["a", 1 as unknown as string], ["a", "b"])).toBe("Step order: a, b");
    expect(summary({ kind: "order", journeyKey: J }, "MODIFIED", null, ["a"])).toBe("Step order: a");
    expect(order(["a"], ["a", 2 as unknown as string])).toBe("Step order: a");
    expect(summary({ kind: "order", journeyKey: J }, "MODIFIED", ["a"], null)).toBe("Step order:");
  });

  it("name as many steps as lie outside a heaviest common subsequence (against every subsequence of small orders)", () => {
    const keys = fc.uniqueArray(fc.constantFrom("a", "b", "c", "d", "e", "f", "g"), { maxLength: 7 });
    fc.assert(
      fc.property(keys, keys, (before, after) => {
        expect(movedIn(order(before, after))).toBe(after.length - heaviestKept(before, after));
      }),
      { numRuns: 500 },
    );
  });
});

/** How many steps an order summary names as moved or placed. */
function movedIn(text: string): number {
  const more = /^Step order: .+ and (\d+) more moved$/.exec(text);
  if (more) return 3 + Number(more[1]);
  if (/ (moved|placed) (before \w+|last)$/.test(text)) return 1;
  const some = /^Step order: (.+) moved$/.exec(text);
  if (some) return some[1].split(", ").length;
  expect(text).toMatch(/^Step order:/);
  return 0;
}

/**
 * By brute force: how many steps of `after` a heaviest subsequence common to `after` and the order
 * implied without the change keeps (a step present on both sides weighs more than all added ones).
 */
function heaviestKept(before: string[], after: string[]): number {
  const implied = [...before.filter((key) => after.includes(key)), ...after.filter((key) => !before.includes(key))];
  const isSubsequence = (keys: string[]) => {
    let at = 0;
    for (const key of implied) if (key === keys[at]) at++;
    return at === keys.length;
  };
  const heavy = after.length + 1;
  let best = 0;
  for (let mask = 0; mask < 1 << after.length; mask++) {
    const kept = after.filter((_, i) => (mask >> i) & 1);
    if (!isSubsequence(kept)) continue;
    best = Math.max(
      best,
      kept.reduce((weight, key) => weight + (before.includes(key) ? heavy : 1), 0),
    );
  }
  // present steps kept × heavy + added steps kept, with fewer added steps than `heavy`
  return Math.floor(best / heavy) + (best % heavy);
}

describe("bundle labels", () => {
  const add = (key: string, name: string) => stepChange(key, "ADDED", stepValue("TOTP", name));
  const remove = (key: string, name: string) => stepChange(key, "REMOVED", stepValue("TOTP", name));

  it("are the summary of a bundle of one change", () => {
    expect(bundleLabel([add("a", "A")])).toBe("ADDED a");
  });

  it("name the steps the bundle adds and removes", () => {
    expect(bundleLabel([add("a", "A"), add("b", "B")])).toBe("Add steps A and B");
    expect(bundleLabel([add("a", "A"), add("b", "B"), add("c", "C")])).toBe("Add steps A, B and C");
    expect(bundleLabel([add("a", "A"), add("b", "B"), add("c", "C"), add("d", "D"), add("e", "E")])).toBe("Add steps A, B, C and 2 more");
    expect(bundleLabel([remove("a", "A"), remove("b", "B")])).toBe("Remove steps A and B");
    expect(bundleLabel([add("a", "A"), remove("b", "B")])).toBe("Add step A, remove step B");
  });

  it("leave out changes that are not whole steps, and fall back to the first summary when none is", () => {
    const transition: UnbundledChange = {
      ...stepChange("a", "MODIFIED", "x"),
      path: `/journeys/${J}/steps/a/transitions/success`,
      summary: "A · on success → b (was COMPLETE)",
    };
    const retype: UnbundledChange = { ...stepChange("c", "MODIFIED", null), summary: "Changed step C from TOTP to SMS_OTP" };
    expect(bundleLabel([transition, add("b", "B")])).toBe("Add step B");
    expect(bundleLabel([transition, retype])).toBe("A · on success → b (was COMPLETE)");
    const addedTransition: UnbundledChange = { ...stepChange("a", "ADDED", "b"), path: `/journeys/${J}/steps/a/transitions/failure` };
    expect(bundleLabel([addedTransition, add("b", "B")])).toBe("Add step B");
    const unreadable: UnbundledChange = { ...stepChange("a", "ADDED", "b"), path: "/not/a/change/path" };
    expect(bundleLabel([unreadable, add("b", "B")])).toBe("Add step B");
  });
});

import { describe, expect, it } from "vitest";
import { IncompleteSelectionError, StaleSelectionError } from "../../../src/domain/errors.js";
import { checkSelection, closeSelection, resolveSelection } from "../../../src/domain/selection.js";
import { changeAt, diff, login, pair, step } from "./fixtures.js";

const J = "/journeys/login";

/** Email code replaced by SMS code behind the password step, plus an unrelated setting. */
function replacement() {
  const { from, to } = pair((app) => {
    const journey = login(app);
    journey.steps["sms-otp"] = step("SMS_OTP", "SMS code", { success: "COMPLETE", failure: "DENY" });
    journey.steps.password.transitions.success = "sms-otp";
    delete journey.steps["email-otp"];
    journey.order = ["identify", "password", "sms-otp"];
    journey.steps.identify.settings.rememberMe = false;
  });
  const { changes } = diff(from, to);
  return {
    changes,
    inDiffOrder: (ids: string[]) => changes.map((c) => c.id).filter((id) => ids.includes(id)),
    add: changeAt(changes, `${J}/steps/sms-otp`).id,
    redirect: changeAt(changes, `${J}/steps/password/transitions/success`).id,
    remove: changeAt(changes, `${J}/steps/email-otp`).id,
    setting: changeAt(changes, `${J}/steps/identify/settings/rememberMe`).id,
  };
}

describe("checkSelection", () => {
  it("accepts a closed selection", () => {
    const { changes, add, redirect, setting } = replacement();
    expect(checkSelection(changes, [setting])).toEqual({ unknownIds: [], missingIds: [] });
    expect(checkSelection(changes, [add, redirect])).toEqual({ unknownIds: [], missingIds: [] });
  });

  it("names exactly the missing ids, transitively, in diff order", () => {
    const { changes, inDiffOrder, add, redirect, remove } = replacement();
    // removing email-otp needs the redirect, which needs sms-otp's addition
    expect(checkSelection(changes, [remove]).missingIds).toEqual(inDiffOrder([add, redirect]));
    expect(checkSelection(changes, [remove, add]).missingIds).toEqual([redirect]);
  });

  it("reports ids that are not in the diff as unknown: their change was superseded", () => {
    const { changes, setting } = replacement();
    expect(checkSelection(changes, [setting, "chg_000000000000000000000000"])).toEqual({
      unknownIds: ["chg_000000000000000000000000"],
      missingIds: [],
    });
  });
});

describe("closeSelection", () => {
  it("adds everything the selection requires, in diff order", () => {
    const { changes, inDiffOrder, add, redirect, remove } = replacement();
    expect(closeSelection(changes, [remove])).toEqual(inDiffOrder([add, redirect, remove]));
  });

  it("leaves out unknown ids, and required ids that are not among the changes it is given", () => {
    const { changes, redirect, remove } = replacement();
    // the changes of one part of a diff (a plan, a bundle): what they require elsewhere is not theirs to add
    const part = changes.filter((change) => change.id !== redirect);
    expect(closeSelection(part, [remove, "chg_gone"])).toEqual([remove]);
    expect(checkSelection(part, [remove])).toEqual({ unknownIds: [], missingIds: [] });
  });
});

describe("resolveSelection", () => {
  it("resolves a closed selection to its changes, in diff order, adding nothing", () => {
    const { changes, inDiffOrder, add, redirect, setting } = replacement();
    for (const options of [{}, { includeRequired: false }, { includeRequired: true }]) {
      const resolved = resolveSelection(changes, [setting, redirect, add], options);
      expect(resolved.changes.map((c) => c.id)).toEqual(inDiffOrder([add, redirect, setting]));
      expect(resolved.addedChangeIds).toEqual([]);
    }
  });

  it("rejects a selection whose change was superseded, naming only the unknown ids", () => {
    const { changes, setting } = replacement();
    expect(() => resolveSelection(changes, [setting, "chg_gone"])).toThrow(StaleSelectionError);
    expect(() => resolveSelection(changes, ["chg_gone", setting, "chg_older"], { includeRequired: true })).toThrow(
      expect.objectContaining({ code: "STALE_SELECTION", changeIds: ["chg_gone", "chg_older"] }),
    );
  });

  it("rejects a selection that is not closed, naming the missing ids", () => {
    const { changes, add, redirect, remove } = replacement();
    expect(() => resolveSelection(changes, [remove, add])).toThrow(IncompleteSelectionError);
    expect(() => resolveSelection(changes, [remove, add], { includeRequired: false })).toThrow(
      expect.objectContaining({ code: "INCOMPLETE_SELECTION", missingChangeIds: [redirect] }),
    );
  });

  it("adds the missing ids when asked to include them", () => {
    const { changes, inDiffOrder, add, redirect, remove } = replacement();
    const resolved = resolveSelection(changes, [remove], { includeRequired: true });
    expect(resolved.changes.map((c) => c.id)).toEqual(inDiffOrder([add, redirect, remove]));
    expect(resolved.addedChangeIds).toEqual(inDiffOrder([add, redirect]));
  });
});

import { describe, expect, it } from "vitest";
import { applyChanges } from "../../../src/domain/apply.js";
import { canonicalJson } from "../../../src/domain/canonical-json.js";
import { StaleSelectionError } from "../../../src/domain/errors.js";
import { casePair, PATH_CASES } from "./cases.js";
import { application, changeAt, diff, login, pair, step } from "./fixtures.js";

const J = "/journeys/login";

describe("applyChanges", () => {
  it.each(PATH_CASES)("applies $name", (c) => {
    const { from, to } = casePair(c);
    const result = applyChanges(to, diff(from, to).changes);
    expect(result.ok && canonicalJson(result.value)).toBe(canonicalJson(from));
  });

  it("leaves the target untouched", () => {
    const { from, to } = pair((app) => {
      login(app).steps.password.settings.minLength = 16;
      app.client!.settings.pkceRequired = false;
    });
    const before = canonicalJson(to);
    applyChanges(to, diff(from, to).changes);
    expect(canonicalJson(to)).toBe(before);
  });

  it("appends added steps in diff order when the order change is not selected, and places them when it is", () => {
    const { from, to } = pair((app) => {
      const journey = login(app);
      journey.steps["sms-otp"] = step("SMS_OTP", "SMS code", { success: "COMPLETE" });
      journey.steps.totp = step("TOTP", "App code", { success: "COMPLETE" });
      journey.order = ["totp", "identify", "sms-otp", "password", "email-otp"];
    });
    const { changes } = diff(from, to);
    const withoutOrder = applyChanges(
      to,
      changes.filter((c) => !c.path.endsWith("/order")),
    );
    expect(withoutOrder.ok && withoutOrder.value.journeys.login.order).toEqual(["identify", "password", "email-otp", "totp", "sms-otp"]);
    const all = applyChanges(to, changes);
    expect(all.ok && all.value.journeys.login.order).toEqual(["totp", "identify", "sms-otp", "password", "email-otp"]);
  });

  it("normalizes an order change applied without the steps it names", () => {
    const { from, to } = pair((app) => {
      const journey = login(app);
      journey.steps["sms-otp"] = step("SMS_OTP", "SMS code", { success: "COMPLETE" });
      journey.order = ["sms-otp", "email-otp", "password", "identify"];
    });
    const order = changeAt(diff(from, to).changes, `${J}/order`);
    const result = applyChanges(to, [order]);
    expect(result.ok && result.value.journeys.login.order).toEqual(["email-otp", "password", "identify"]);
  });

  it("reports the problems of a selection that is not closed, placed in the application", () => {
    const { from, to } = pair((app) => {
      login(app).steps["sms-otp"] = step("SMS_OTP", "SMS code", { success: "COMPLETE" });
      login(app).order.push("sms-otp");
      login(app).steps.password.transitions.failure = "sms-otp";
    });
    const redirect = changeAt(diff(from, to).changes, `${J}/steps/password/transitions/failure`);
    expect(applyChanges(to, [redirect])).toEqual({
      ok: false,
      problems: [
        {
          path: "journeys.login.steps.password.transitions.failure",
          message: 'Journey login: steps.password.transitions.failure points to unknown step "sms-otp"',
        },
      ],
    });
  });

  it("refuses changes whose old value is no longer in the target, applying none", () => {
    const { from, to } = pair((app) => {
      login(app).steps["email-otp"].settings.codeLength = 8;
      login(app).steps.password.settings.minLength = 16;
    });
    const { changes } = diff(from, to);
    login(to).steps["email-otp"].settings.codeLength = 7;
    const stale = changeAt(changes, `${J}/steps/email-otp/settings/codeLength`);
    expect(() => applyChanges(to, changes)).toThrow(StaleSelectionError);
    try {
      applyChanges(to, changes);
    } catch (error) {
      expect((error as StaleSelectionError).changeIds).toEqual([stale.id]);
    }
  });

  it("refuses an addition of something that is already there, and changes to a journey the target lacks", () => {
    const { from, to } = pair((app) => {
      app.journeys.registration = structuredClone(login(app));
      login(app).start = "password";
    });
    const { changes } = diff(from, to);
    const target = application();
    target.journeys.registration = structuredClone(login(target));
    delete target.journeys.login;
    expect(() => applyChanges(target, changes)).toThrow(StaleSelectionError);
  });

  it("applies a change given twice once", () => {
    const { from, to } = pair((app) => {
      login(app).steps["sms-otp"] = step("SMS_OTP", "SMS code", { success: "COMPLETE" });
      login(app).order.push("sms-otp");
    });
    const { changes } = diff(from, to);
    const result = applyChanges(to, [...changes, ...changes]);
    expect(result.ok && canonicalJson(result.value)).toBe(canonicalJson(from));
  });
});

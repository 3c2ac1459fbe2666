import { describe, expect, it } from "vitest";
import { bundleId, changeId } from "../../../src/domain/change.js";
import { application, changeAt, diff, login, pair, step } from "./fixtures.js";

const CODE_LENGTH = "/journeys/login/steps/email-otp/settings/codeLength";

function codeLengthChange(fromValue: number, toValue = 6, editBoth?: (app: ReturnType<typeof application>) => void) {
  const to = application();
  login(to).steps["email-otp"].settings.codeLength = toValue;
  editBoth?.(to);
  const { from } = pair((app) => {
    login(app).steps["email-otp"].settings.codeLength = fromValue;
  }, to);
  return changeAt(diff(from, to).changes, CODE_LENGTH);
}

describe("change ids", () => {
  it("are short, prefixed hashes", () => {
    expect(codeLengthChange(8).id).toMatch(/^chg_[0-9a-f]{24}$/);
  });

  it("are the same for the same difference, whatever else differs", () => {
    const alone = codeLengthChange(8);
    const withOthers = codeLengthChange(8, 6, (app) => {
      login(app).steps.password.settings.minLength = 16;
      app.client!.settings.pkceRequired = false;
    });
    expect(withOthers.id).toBe(alone.id);
    expect(alone.id).toBe(changeId(CODE_LENGTH, 6, 8));
  });

  it("change when the value in `from` moves", () => {
    expect(codeLengthChange(9).id).not.toBe(codeLengthChange(8).id);
  });

  it("change when the value in `to` moves", () => {
    expect(codeLengthChange(8, 7).id).not.toBe(codeLengthChange(8, 6).id);
  });

  it("differ for the same values at another path", () => {
    expect(changeId("/journeys/login/steps/sms-otp/settings/codeLength", 6, 8)).not.toBe(changeId(CODE_LENGTH, 6, 8));
  });

  it("do not depend on the key order of the values", () => {
    const a = step("SMS_OTP", "SMS code", { success: "COMPLETE", failure: "DENY" });
    const b = {
      transitions: { failure: "DENY", success: "COMPLETE" },
      settings: { ttlSeconds: 300, codeLength: 6 },
      enabled: true,
      name: "SMS code",
      type: "SMS_OTP",
    };
    expect(changeId("/journeys/login/steps/sms-otp", null, b)).toBe(changeId("/journeys/login/steps/sms-otp", null, a as never));
  });

  it("tell an addition from a removal of the same value", () => {
    expect(changeId(CODE_LENGTH, null, 6)).not.toBe(changeId(CODE_LENGTH, 6, null));
  });
});

describe("bundle ids", () => {
  const [a, b, c] = [changeId("/a", 1, 2), changeId("/b", 1, 2), changeId("/c", 1, 2)];

  it("are the change's own hash for a bundle of one", () => {
    expect(bundleId([a])).toBe(`bdl_${a.slice("chg_".length)}`);
  });

  it("hash the members of a larger bundle, whatever their order", () => {
    expect(bundleId([a, b])).toMatch(/^bdl_[0-9a-f]{24}$/);
    expect(bundleId([b, a])).toBe(bundleId([a, b]));
    expect(bundleId([a, b])).not.toBe(bundleId([a]));
    expect(bundleId([a, b])).not.toBe(bundleId([a, c]));
    expect(bundleId([a, b, c])).not.toBe(bundleId([a, b]));
  });
});

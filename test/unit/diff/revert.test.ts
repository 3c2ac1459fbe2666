import { describe, expect, it } from "vitest";
import { applyChanges } from "../../../src/domain/apply.js";
import type { ApplicationDocument, ConfigChange } from "../../../src/domain/change.js";
import { type PropagatedChange, planRevert } from "../../../src/domain/revert.js";
import { application, changeAt, diff, login, step } from "./fixtures.js";

const J = "/journeys/login";

/** A propagation of every change of diff(source → target): the target after it, and its items. */
function propagate(target: ApplicationDocument, edit: (source: ApplicationDocument) => void) {
  const source = structuredClone(target);
  edit(source);
  const { changes } = diff(source, target);
  return { after: applied(target, changes), items: asItems(changes) };
}

function applied(target: ApplicationDocument, changes: readonly ConfigChange[]): ApplicationDocument {
  const result = applyChanges(target, changes);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.value;
}

const asItems = (changes: readonly ConfigChange[]): PropagatedChange[] =>
  changes.map(({ path, oldValue, newValue }) => ({ path, oldValue, newValue }));

/** P1 of the issue: adds a step, rewires a transition to it, changes a setting. */
function addsTotp(source: ApplicationDocument): void {
  const journey = login(source);
  journey.steps.totp = step("TOTP", "App code", { success: "COMPLETE", failure: "DENY" });
  journey.order.push("totp");
  journey.steps["email-otp"].transitions.failure = "totp";
  journey.steps["email-otp"].settings.codeLength = 8;
}

describe("planRevert", () => {
  it("reverts what is still the propagation's, and shows what a later change owns as a conflict", () => {
    const t0 = application();
    const p1 = propagate(t0, addsTotp);
    const p2 = propagate(p1.after, (source) => {
      login(source).steps["email-otp"].settings.codeLength = 10;
    });

    const plan = planRevert(p2.after, p1.items);

    expect(plan.changes.map((c) => [c.path, c.kind])).toEqual([
      [`${J}/steps/email-otp/transitions/failure`, "MODIFIED"],
      [`${J}/steps/totp`, "REMOVED"],
    ]);
    const rewire = changeAt(plan.changes, `${J}/steps/email-otp/transitions/failure`);
    expect([rewire.oldValue, rewire.newValue]).toEqual(["totp", "DENY"]);
    expect(changeAt(plan.changes, `${J}/steps/totp`).requires).toEqual([rewire.id]);
    expect(plan.conflicts).toEqual([
      {
        path: `${J}/steps/email-otp/settings/codeLength`,
        propagatedValue: 8,
        currentValue: 10,
        message: expect.stringContaining("changed after this propagation"),
      },
    ]);
    expect(plan.alreadyReverted).toEqual([]);

    const reverted = applied(p2.after, plan.changes);
    expect(login(reverted).steps.totp).toBeUndefined();
    expect(login(reverted).steps["email-otp"].transitions.failure).toBe("DENY");
    expect(login(reverted).steps["email-otp"].settings.codeLength).toBe(10);
  });

  it("keeps a step the propagation added when a later change points at it: its removal is a conflict that names the reference", () => {
    const t0 = application();
    const p1 = propagate(t0, addsTotp);
    const later = structuredClone(p1.after);
    login(later).steps.password.transitions.failure = "totp";

    const plan = planRevert(later, p1.items);

    expect(plan.conflicts).toEqual([
      {
        path: `${J}/steps/totp`,
        propagatedValue: login(p1.after).steps.totp,
        currentValue: login(later).steps.totp,
        message: `Removing step "totp" would break ${J}/steps/password/transitions/failure, which a later change pointed at it`,
      },
    ]);
    expect(plan.changes.map((c) => c.path)).toEqual([
      `${J}/steps/email-otp/settings/codeLength`,
      `${J}/steps/email-otp/transitions/failure`,
    ]);
    const reverted = applied(later, plan.changes);
    expect(login(reverted).steps.totp).toEqual(login(later).steps.totp);
    expect(login(reverted).steps["email-otp"].transitions.failure).toBe("DENY");
  });

  it("lists items whose old value is back as reverted already, with nothing to change there", () => {
    const t0 = application();
    const p1 = propagate(t0, (source) => {
      login(source).steps.password.name = "Your password";
      login(source).steps.password.settings.minLength = 16;
    });
    const later = structuredClone(p1.after);
    login(later).steps.password.name = "Password";

    const plan = planRevert(later, p1.items);

    expect(plan.alreadyReverted).toEqual([`${J}/steps/password/name`]);
    expect(plan.conflicts).toEqual([]);
    expect(plan.changes.map((c) => [c.path, c.oldValue, c.newValue])).toEqual([[`${J}/steps/password/settings/minLength`, 16, 12]]);
  });

  it("has nothing to change when a later change owns every item", () => {
    const t0 = application();
    const p1 = propagate(t0, (source) => {
      login(source).steps.password.name = "Your password";
      source.client!.settings.accessTokenTtlSeconds = 900;
    });
    const later = structuredClone(p1.after);
    login(later).steps.password.name = "Secret";
    later.client!.settings.accessTokenTtlSeconds = 1800;
    // and a change elsewhere, which the revert does not touch
    login(later).steps.identify.name = "Who are you";

    const plan = planRevert(later, p1.items);

    expect(plan.changes).toEqual([]);
    expect(plan.bundles).toEqual([]);
    expect(plan.alreadyReverted).toEqual([]);
    expect(plan.conflicts.map((c) => [c.path, c.propagatedValue, c.currentValue])).toEqual([
      ["/client/settings/accessTokenTtlSeconds", 900, 1800],
      [`${J}/steps/password/name`, "Your password", "Secret"],
    ]);
  });

  it("does not write a setting back into a step a later change retyped, where it does not fit", () => {
    const t0 = application();
    login(t0).steps["sms-otp"] = step("SMS_OTP", "SMS code", { success: "COMPLETE" }, { senderId: "Acme" });
    login(t0).order.push("sms-otp");
    login(t0).steps.password.transitions.failure = "sms-otp";
    const p1 = propagate(t0, (source) => {
      const settings = login(source).steps["sms-otp"].settings;
      delete settings.senderId;
      settings.codeLength = 8;
    });
    const later = structuredClone(p1.after);
    login(later).steps["sms-otp"] = step("EMAIL_OTP", "SMS code", { success: "COMPLETE" }, { codeLength: 8 });

    const plan = planRevert(later, p1.items);

    // reverting would put senderId (an SMS_OTP setting) into an EMAIL_OTP step: both settings items are held
    expect(plan.changes).toEqual([]);
    expect(plan.conflicts.map((c) => c.path)).toEqual([`${J}/steps/sms-otp/settings/codeLength`, `${J}/steps/sms-otp/settings/senderId`]);
    for (const conflict of plan.conflicts) {
      expect(conflict.message).toContain('would leave step "sms-otp" of journey "login" invalid');
      expect(conflict.message).toContain("senderId is not a known setting of EMAIL_OTP");
    }
  });

  it("brings a step the propagation removed back last in the order: its item holds the step, not its place", () => {
    const t0 = application();
    const p1 = propagate(t0, (source) => {
      const journey = login(source);
      delete journey.steps.password;
      journey.order = ["identify", "email-otp"];
      journey.steps.identify.transitions.success = "email-otp";
    });
    expect(p1.items.map((item) => item.path)).not.toContain(`${J}/order`);

    const plan = planRevert(p1.after, p1.items);

    expect(plan.conflicts).toEqual([]);
    const reverted = applied(p1.after, plan.changes);
    expect(login(reverted).steps).toEqual(login(t0).steps);
    expect(login(t0).order).toEqual(["identify", "password", "email-otp"]);
    expect(login(reverted).order).toEqual(["identify", "email-otp", "password"]);
  });

  it("reverts an order the propagation changed, keeping the steps it does not list in the target's order", () => {
    const t0 = application();
    const p1 = propagate(t0, (source) => {
      login(source).order = ["identify", "email-otp", "password"];
    });
    const later = structuredClone(p1.after);
    const journey = login(later);
    journey.steps.totp = step("TOTP", "App code", { success: "COMPLETE" });
    journey.steps["sms-otp"] = step("SMS_OTP", "SMS code", { success: "COMPLETE" });
    journey.order.push("sms-otp", "totp"); // not the key order

    const plan = planRevert(later, p1.items);

    expect(plan.conflicts).toEqual([]);
    expect(plan.changes.map((c) => [c.path, c.newValue])).toEqual([
      [`${J}/order`, ["identify", "password", "email-otp", "sms-otp", "totp"]],
    ]);
  });
});

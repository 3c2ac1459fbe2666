import { describe, expect, it } from "vitest";
import { applyChanges } from "../../../src/domain/apply.js";
import type { ApplicationDocument, ConfigChange } from "../../../src/domain/change.js";
import type { JsonValue } from "../../../src/domain/journey-document.js";
import { type PropagatedChange, planRevert, propagatedChange } from "../../../src/domain/revert.js";
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

/** Like `propagate`, with what a propagation records of each change: for a step it removes, the order before. */
function propagateRecorded(target: ApplicationDocument, edit: (source: ApplicationDocument) => void) {
  const source = structuredClone(target);
  edit(source);
  const { changes } = diff(source, target);
  return { after: applied(target, changes), items: changes.map((change) => propagatedChange(target, change)) };
}

/** The edit of a propagation that removes login's password step: identify then leads to email-otp. */
function removePassword(source: ApplicationDocument): void {
  const journey = login(source);
  delete journey.steps.password;
  journey.order = ["identify", "email-otp"];
  journey.steps.identify.transitions.success = "email-otp";
}

const asJson = (value: unknown) => value as JsonValue;

/** The item of `items` at `path`. */
function itemAt(items: readonly PropagatedChange[], path: string): PropagatedChange {
  const item = items.find((i) => i.path === path);
  if (item === undefined) throw new Error(`no item at ${path}; items: ${items.map((i) => i.path).join(", ")}`);
  return item;
}

/** An SMS_OTP step "sms-otp" with a sender id, after email-otp, that the password's failure leads to. */
function withSmsOtp(app: ApplicationDocument): ApplicationDocument {
  login(app).steps["sms-otp"] = step("SMS_OTP", "SMS code", { success: "COMPLETE" }, { senderId: "Acme" });
  login(app).order.push("sms-otp");
  login(app).steps.password.transitions.failure = "sms-otp";
  return app;
}

/** The login journey filled up to `count` steps with passkey steps s1, s2, … after the others. */
function withSteps(app: ApplicationDocument, count: number): ApplicationDocument {
  const journey = login(app);
  for (let i = 1; journey.order.length < count; i++) {
    journey.steps[`s${i}`] = step("PASSKEY", `Passkey ${i}`, { success: "COMPLETE" });
    journey.order.push(`s${i}`);
  }
  return app;
}

/** Removes step s1 of the login journey (nothing points at it). */
function removesS1(source: ApplicationDocument): void {
  delete login(source).steps.s1;
  login(source).order = login(source).order.filter((key) => key !== "s1");
}

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
    const p1 = propagate(t0, removePassword);
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

describe("propagatedChange", () => {
  it("records, for a step the propagation removes, its journey's order before; for anything else only the values", () => {
    const before = application();
    const password = asJson(login(before).steps.password);
    const removal = propagatedChange(before, { path: `${J}/steps/password`, oldValue: password, newValue: null });
    expect(removal).toStrictEqual({
      path: `${J}/steps/password`,
      oldValue: password,
      newValue: null,
      oldOrder: ["identify", "password", "email-otp"],
    });
    expect(removal.oldOrder).not.toBe(login(before).order);

    const others = [
      // a step it adds
      { path: `${J}/steps/totp`, oldValue: null, newValue: asJson(step("TOTP", "App code", { success: "COMPLETE" })) },
      // a value it removes that is not a step
      { path: `${J}/steps/password/transitions/failure`, oldValue: "DENY", newValue: null },
      // a step of a journey the target does not have
      { path: "/journeys/signup/steps/password", oldValue: password, newValue: null },
      // no place at all
      { path: "/nowhere", oldValue: 1, newValue: null },
    ];
    for (const change of others) expect(propagatedChange(before, change)).toStrictEqual(change);
  });
});

describe("planRevert: conflicts", () => {
  it("shows an item whose path is no place a propagation writes as a conflict, and reverts the others", () => {
    const t0 = application();
    const p1 = propagate(t0, (source) => {
      login(source).steps.password.name = "Your password";
    });
    const items = [{ path: `${J}/steps/password/label`, oldValue: "Old", newValue: "New" }, ...p1.items];

    const plan = planRevert(p1.after, items);

    expect(plan.conflicts).toEqual([
      {
        path: `${J}/steps/password/label`,
        propagatedValue: "New",
        currentValue: null,
        message: `${J}/steps/password/label is not a place a propagation writes, so it cannot be reverted`,
      },
    ]);
    expect(plan.changes.map((c) => [c.path, c.oldValue, c.newValue])).toEqual([[`${J}/steps/password/name`, "Your password", "Password"]]);
  });

  it("says how a later change moved each conflict's value: changed it, removed it, or added it again", () => {
    const t0 = application();
    const p1 = propagate(t0, (source) => {
      const journey = login(source);
      journey.steps.identify.name = "Who are you";
      journey.steps.password.transitions.failure = "email-otp";
      delete journey.steps["email-otp"].transitions.failure;
    });
    const later = structuredClone(p1.after);
    login(later).steps.identify.name = "Your email";
    delete login(later).steps.password.transitions.failure;
    login(later).steps["email-otp"].transitions.failure = "password";

    const plan = planRevert(later, p1.items);

    expect(plan.conflicts).toEqual([
      {
        path: `${J}/steps/identify/name`,
        propagatedValue: "Who are you",
        currentValue: "Your email",
        message: `${J}/steps/identify/name was changed after this propagation; reverting would overwrite that later change`,
      },
      {
        path: `${J}/steps/password/transitions/failure`,
        propagatedValue: "email-otp",
        currentValue: null,
        message: `${J}/steps/password/transitions/failure was removed after this propagation; reverting would bring back what a later change removed`,
      },
      {
        path: `${J}/steps/email-otp/transitions/failure`,
        propagatedValue: null,
        currentValue: "password",
        message: `${J}/steps/email-otp/transitions/failure was added again after this propagation; reverting would overwrite that later change`,
      },
    ]);
    expect(plan.changes).toEqual([]);
    expect(plan.alreadyReverted).toEqual([]);
  });

  it("names the client, journey or step that held an item when a later change removed it", () => {
    const current: ApplicationDocument = { ...application(), client: null };
    const totp = asJson(step("TOTP", "App code", { success: "COMPLETE" }));
    const items: PropagatedChange[] = [
      { path: "/client/settings/accessTokenTtlSeconds", oldValue: 3600, newValue: 900 },
      { path: "/client/settings/refreshTokenTtlSeconds", oldValue: 86400, newValue: null },
      { path: "/journeys/signup/start", oldValue: "identify", newValue: "password" },
      { path: "/journeys/signup/order", oldValue: ["identify", "password"], newValue: ["password", "identify"] },
      { path: "/journeys/signup/steps/totp", oldValue: null, newValue: totp },
      { path: "/journeys/signup/steps/password", oldValue: totp, newValue: null },
      { path: `${J}/steps/totp/name`, oldValue: "App code", newValue: "Code" },
      { path: `${J}/steps/totp/enabled`, oldValue: true, newValue: false },
      { path: `${J}/steps/totp/settings/digits`, oldValue: 6, newValue: 8 },
      { path: `${J}/steps/totp/transitions/failure`, oldValue: "DENY", newValue: "COMPLETE" },
    ];
    const parents = ["client", "client", "journey", "journey", "journey", "journey", "step", "step", "step", "step"];

    const plan = planRevert(current, items);

    expect(plan.conflicts).toEqual(
      items.map((item, i) => ({
        path: item.path,
        propagatedValue: item.newValue,
        currentValue: null,
        message: `${item.path} cannot be reverted: the ${parents[i]} that held it was removed after this propagation`,
      })),
    );
    expect(plan.changes).toEqual([]);
    expect(plan.alreadyReverted).toEqual([]);
  });

  it("lists the conflicts in the propagation's order, those a reference holds among those a later change moved", () => {
    const t0 = application();
    const p1 = propagate(t0, (source) => {
      addsTotp(source);
      login(source).steps.identify.name = "Who are you";
    });
    const later = structuredClone(p1.after);
    login(later).steps.password.transitions.failure = "totp";
    login(later).steps["email-otp"].settings.codeLength = 10;
    login(later).steps.identify.name = "Your email";
    const items = [`${J}/steps/totp`, `${J}/steps/email-otp/settings/codeLength`, `${J}/steps/identify/name`].map((path) =>
      itemAt(p1.items, path),
    );

    const plan = planRevert(later, items);

    expect(plan.conflicts.map((c) => c.path)).toEqual([
      `${J}/steps/totp`,
      `${J}/steps/email-otp/settings/codeLength`,
      `${J}/steps/identify/name`,
    ]);
    expect(plan.changes).toEqual([]);
  });

  it("lists a client setting, the start, the order and an enabled flag that a later change set back as reverted already", () => {
    const t0 = application();
    const p1 = propagate(t0, (source) => {
      source.client!.settings.accessTokenTtlSeconds = 900;
      const journey = login(source);
      journey.start = "password";
      journey.order = ["password", "identify", "email-otp"];
      journey.steps.identify.enabled = false;
    });
    expect(p1.items.map((item) => item.path)).toEqual([
      "/client/settings/accessTokenTtlSeconds",
      `${J}/start`,
      `${J}/order`,
      `${J}/steps/identify/enabled`,
    ]);

    const plan = planRevert(structuredClone(t0), p1.items);

    expect(plan.alreadyReverted).toEqual(p1.items.map((item) => item.path));
    expect(plan.conflicts).toEqual([]);
    expect(plan.changes).toEqual([]);
  });

  it('never holds a client setting\'s revert for a journey, even for one keyed "undefined"', () => {
    const t0: ApplicationDocument = { ...application(), journeys: { undefined: login(application()) } };
    const p1 = propagate(t0, (source) => {
      source.client!.settings.accessTokenTtlSeconds = 900;
      const journey = source.journeys.undefined;
      journey.steps.totp = step("TOTP", "App code", { success: "COMPLETE", failure: "DENY" });
      journey.order.push("totp");
    });
    const later = structuredClone(p1.after);
    later.journeys.undefined.steps.password.transitions.failure = "totp";

    const plan = planRevert(later, p1.items);

    expect(plan.conflicts.map((c) => [c.path, c.message])).toEqual([
      [
        "/journeys/undefined/steps/totp",
        'Removing step "totp" would break /journeys/undefined/steps/password/transitions/failure, which a later change pointed at it',
      ],
    ]);
    expect(plan.changes.map((c) => [c.path, c.oldValue, c.newValue])).toEqual([["/client/settings/accessTokenTtlSeconds", 900, 3600]]);
  });
});

describe("planRevert: references to steps removed since", () => {
  it("holds the start's revert when it would start the journey at a step a later change removed", () => {
    const t0 = application();
    const p1 = propagate(t0, (source) => {
      login(source).start = "password";
    });
    const later = structuredClone(p1.after);
    delete login(later).steps.identify;
    login(later).order = ["password", "email-otp"];

    const plan = planRevert(later, p1.items);

    expect(plan.conflicts).toEqual([
      {
        path: `${J}/start`,
        propagatedValue: "password",
        currentValue: "password",
        message: `Reverting ${J}/start would point ${J}/start at step "identify", which was removed after this propagation`,
      },
    ]);
    expect(plan.changes).toEqual([]);
  });

  it("holds a transition's revert when it would point at a step a later change removed", () => {
    const t0 = application();
    const p1 = propagate(t0, (source) => {
      login(source).steps.identify.transitions.success = "email-otp";
    });
    const later = structuredClone(p1.after);
    delete login(later).steps.password;
    login(later).order = ["identify", "email-otp"];

    const plan = planRevert(later, p1.items);

    const path = `${J}/steps/identify/transitions/success`;
    expect(plan.conflicts).toEqual([
      {
        path,
        propagatedValue: "email-otp",
        currentValue: "email-otp",
        message: `Reverting ${path} would point ${path} at step "password", which was removed after this propagation`,
      },
    ]);
    expect(plan.changes).toEqual([]);
  });

  it("holds the revert of a step's removal when the step's own transition would point at a step a later change removed", () => {
    const t0 = application();
    const p1 = propagate(t0, removePassword);
    const later = structuredClone(p1.after);
    delete login(later).steps["email-otp"];
    login(later).order = ["identify"];
    login(later).steps.identify.transitions.success = "COMPLETE";

    const plan = planRevert(later, p1.items);

    expect(plan.conflicts).toEqual([
      {
        path: `${J}/steps/identify/transitions/success`,
        propagatedValue: "email-otp",
        currentValue: "COMPLETE",
        message: `${J}/steps/identify/transitions/success was changed after this propagation; reverting would overwrite that later change`,
      },
      {
        path: `${J}/steps/password`,
        propagatedValue: null,
        currentValue: null,
        message: `Reverting ${J}/steps/password would point ${J}/steps/password/transitions/success at step "email-otp", which was removed after this propagation`,
      },
    ]);
    expect(plan.changes).toEqual([]);
  });

  it("holds the removal of a step that a conflict's reference still points at, and names that conflict", () => {
    const t0 = application();
    login(t0).steps["email-otp"].transitions.failure = "password";
    const p1 = propagate(t0, (source) => {
      const journey = login(source);
      journey.steps.totp = step("TOTP", "App code", { success: "COMPLETE", failure: "DENY" });
      journey.order.push("totp");
      journey.steps["email-otp"].transitions.failure = "totp";
    });
    const later = structuredClone(p1.after);
    delete login(later).steps.password;
    login(later).order = ["identify", "email-otp", "totp"];
    login(later).steps.identify.transitions.success = "email-otp";

    const plan = planRevert(later, p1.items);

    const rewire = `${J}/steps/email-otp/transitions/failure`;
    expect(plan.conflicts).toEqual([
      {
        path: rewire,
        propagatedValue: "totp",
        currentValue: "totp",
        message: `Reverting ${rewire} would point ${rewire} at step "password", which was removed after this propagation`,
      },
      {
        path: `${J}/steps/totp`,
        propagatedValue: login(later).steps.totp,
        currentValue: login(later).steps.totp,
        message: `Removing step "totp" needs the revert of ${rewire}, which is a conflict`,
      },
    ]);
    expect(plan.changes).toEqual([]);
  });

  it("names the last of several references that hold a step, in display order and by outcome, not in key order", () => {
    const t0 = application();
    const p1 = propagate(t0, (source) => {
      const journey = login(source);
      journey.steps.totp = step("TOTP", "App code", { success: "COMPLETE", failure: "DENY" });
      journey.order.push("totp");
    });
    const later = structuredClone(p1.after);
    login(later).steps.password.transitions = { success: "totp", failure: "totp" };

    const plan = planRevert(later, p1.items);

    expect(plan.conflicts.map((c) => c.message)).toEqual([
      `Removing step "totp" would break ${J}/steps/password/transitions/success, which a later change pointed at it`,
    ]);
  });

  it("holds every item of a journey the target already holds broken, rather than plan a revert that cannot apply", () => {
    const t0 = application();
    const p1 = propagate(t0, (source) => {
      login(source).steps.identify.name = "Who are you";
      login(source).steps.password.settings.minLength = 16;
    });
    const broken = structuredClone(p1.after);
    login(broken).steps["email-otp"].transitions.failure = "ghost";

    const plan = planRevert(broken, p1.items);

    expect(plan.conflicts).toEqual(
      p1.items.map((item) => ({
        path: item.path,
        propagatedValue: item.newValue,
        currentValue: item.newValue,
        message: `Reverting ${item.path} would leave journey "login" invalid`,
      })),
    );
    expect(plan.changes).toEqual([]);
  });
  it("holds the items of a journey the target holds broken for the journey, even one that would also break its step", () => {
    const broken = application();
    login(broken).steps.password = step("EMAIL_OTP", "Password", { success: "email-otp", failure: "ghost" }, { codeLength: 8 });
    const items: PropagatedChange[] = [{ path: `${J}/steps/password/settings/codeLength`, oldValue: null, newValue: 8 }];

    const plan = planRevert(broken, items);

    expect(plan.conflicts.map((c) => c.message)).toEqual([
      `Reverting ${J}/steps/password/settings/codeLength would leave journey "login" invalid`,
    ]);
  });
});

describe("planRevert: restored steps", () => {
  it("brings a removed step back after the nearest step before it that is still there, when the one right before it is gone", () => {
    const t0 = application();
    const p1 = propagateRecorded(t0, (source) => {
      const journey = login(source);
      delete journey.steps["email-otp"];
      journey.order = ["identify", "password"];
      journey.steps.password.transitions.success = "COMPLETE";
    });
    const later = structuredClone(p1.after);
    delete login(later).steps.password;
    login(later).order = ["identify"];
    login(later).steps.identify.transitions.success = "COMPLETE";

    const plan = planRevert(later, p1.items);

    expect(plan.conflicts.map((c) => c.path)).toEqual([`${J}/steps/password/transitions/success`]);
    expect(plan.changes.map((c) => [c.path, c.kind])).toEqual([[`${J}/steps/email-otp`, "ADDED"]]);
    expect(login(applied(later, plan.changes)).order).toEqual(["identify", "email-otp"]);
  });
});

describe("planRevert: reverts that would leave a journey or a step invalid", () => {
  it("holds the revert of a removal that would give the journey more steps than it may have, and not of one that fills it", () => {
    const t0 = withSteps(application(), 200);
    const p1 = propagate(t0, removesS1);
    const later = structuredClone(p1.after);
    login(later).steps.extra = step("PASSKEY", "Extra passkey", { success: "COMPLETE" });
    login(later).order.push("extra");

    const plan = planRevert(later, p1.items);

    expect(plan.conflicts).toEqual([
      {
        path: `${J}/steps/s1`,
        propagatedValue: null,
        currentValue: null,
        message: `Reverting ${J}/steps/s1 would leave journey "login" invalid: too many steps`,
      },
    ]);
    expect(plan.changes).toEqual([]);

    // with nothing added since, the revert fills the journey to its limit exactly
    const full = planRevert(p1.after, p1.items);
    expect(full.conflicts).toEqual([]);
    expect(full.changes.map((c) => [c.path, c.kind])).toEqual([[`${J}/steps/s1`, "ADDED"]]);
    expect(Object.keys(login(applied(p1.after, full.changes)).steps)).toHaveLength(200);
  });

  it("holds each item of a journey the revert would leave invalid for its own reason: a retyped step's settings, then the step count", () => {
    const t0 = withSteps(withSmsOtp(application()), 200);
    const p1 = propagate(t0, (source) => {
      removesS1(source);
      const settings = login(source).steps["sms-otp"].settings;
      delete settings.senderId;
      settings.codeLength = 8;
    });
    const later = structuredClone(p1.after);
    login(later).steps["sms-otp"] = step("EMAIL_OTP", "SMS code", { success: "COMPLETE" }, { codeLength: 8 });
    login(later).steps.extra = step("PASSKEY", "Extra passkey", { success: "COMPLETE" });
    login(later).order.push("extra");

    const plan = planRevert(later, p1.items);

    const settingsProblem =
      'would leave step "sms-otp" of journey "login" invalid: steps.sms-otp.settings.senderId is not a known setting of EMAIL_OTP';
    expect(plan.conflicts.map((c) => [c.path, c.message])).toEqual([
      [`${J}/steps/sms-otp/settings/codeLength`, `Reverting ${J}/steps/sms-otp/settings/codeLength ${settingsProblem}`],
      [`${J}/steps/sms-otp/settings/senderId`, `Reverting ${J}/steps/sms-otp/settings/senderId ${settingsProblem}`],
      [`${J}/steps/s1`, `Reverting ${J}/steps/s1 would leave journey "login" invalid: too many steps`],
    ]);
    expect(plan.changes).toEqual([]);
  });

  it("holds the items of a journey the revert would leave invalid in another way, with the problem (a start at a terminal, from a malformed record)", () => {
    const items: PropagatedChange[] = [{ path: `${J}/start`, oldValue: "DENY", newValue: "identify" }];

    const plan = planRevert(application(), items);

    expect(plan.conflicts).toEqual([
      {
        path: `${J}/start`,
        propagatedValue: "identify",
        currentValue: "identify",
        message: `Reverting ${J}/start would leave journey "login" invalid: start must name a step, not the terminal DENY`,
      },
    ]);
    expect(plan.changes).toEqual([]);
  });

  it("holds only the settings of a step a later change retyped, and reverts its other items", () => {
    const t0 = withSmsOtp(application());
    const p1 = propagate(t0, (source) => {
      const sms = login(source).steps["sms-otp"];
      delete sms.settings.senderId;
      sms.name = "Text code";
      sms.enabled = false;
      sms.transitions.failure = "DENY";
    });
    const later = structuredClone(p1.after);
    login(later).steps["sms-otp"] = { ...step("EMAIL_OTP", "Text code", { success: "COMPLETE", failure: "DENY" }), enabled: false };

    const plan = planRevert(later, p1.items);

    expect(plan.conflicts).toEqual([
      {
        path: `${J}/steps/sms-otp/settings/senderId`,
        propagatedValue: null,
        currentValue: null,
        message: `Reverting ${J}/steps/sms-otp/settings/senderId would leave step "sms-otp" of journey "login" invalid: steps.sms-otp.settings.senderId is not a known setting of EMAIL_OTP`,
      },
    ]);
    expect(plan.changes.map((c) => [c.path, c.oldValue, c.newValue])).toEqual([
      [`${J}/steps/sms-otp/name`, "Text code", "SMS code"],
      [`${J}/steps/sms-otp/enabled`, false, true],
      [`${J}/steps/sms-otp/transitions/failure`, "DENY", null],
    ]);
  });

  it("holds a setting's revert that would leave a retyped step without its type's default (a setting the propagation added, from a record of before that type defaulted it)", () => {
    const current = application();
    login(current).steps.password = step("EMAIL_OTP", "Password", { success: "email-otp", failure: "DENY" }, { codeLength: 8 });
    const items: PropagatedChange[] = [{ path: `${J}/steps/password/settings/codeLength`, oldValue: null, newValue: 8 }];

    const plan = planRevert(current, items);

    expect(plan.conflicts).toEqual([
      {
        path: `${J}/steps/password/settings/codeLength`,
        propagatedValue: 8,
        currentValue: 8,
        message: `Reverting ${J}/steps/password/settings/codeLength would leave step "password" of journey "login" invalid: steps.password.settings would not hold its type's defaults`,
      },
    ]);
    expect(plan.changes).toEqual([]);
  });

  it("holds the transitions a revert would add back to a step that a later change gave others, past the limit of transitions", () => {
    const t0 = withSmsOtp(application());
    const transitions = login(t0).steps["sms-otp"].transitions;
    for (let i = 1; i <= 19; i++) transitions[`o${i}`] = "DENY"; // 20 transitions
    const p1 = propagate(t0, (source) => {
      const sms = login(source).steps["sms-otp"];
      delete sms.transitions.o1;
      delete sms.transitions.o2;
      sms.transitions.n1 = "DENY";
      sms.transitions.success = "email-otp";
      delete sms.settings.senderId;
    });
    const later = structuredClone(p1.after);
    login(later).steps["sms-otp"].transitions.x1 = "DENY"; // 20 again

    const plan = planRevert(later, p1.items);

    const problem =
      'would leave step "sms-otp" of journey "login" invalid: steps.sms-otp.transitions must not contain more than 20 transitions (it has 21)';
    expect(plan.conflicts).toEqual(
      [`${J}/steps/sms-otp/transitions/o1`, `${J}/steps/sms-otp/transitions/o2`].map((path) => ({
        path,
        propagatedValue: null,
        currentValue: null,
        message: `Reverting ${path} ${problem}`,
      })),
    );
    expect(plan.changes.map((c) => [c.path, c.oldValue, c.newValue])).toEqual([
      [`${J}/steps/sms-otp/settings/senderId`, null, "Acme"],
      [`${J}/steps/sms-otp/transitions/n1`, "DENY", null],
      [`${J}/steps/sms-otp/transitions/success`, "email-otp", "COMPLETE"],
    ]);
    expect(Object.keys(login(applied(later, plan.changes)).steps["sms-otp"].transitions)).toHaveLength(19);

    // with no transition added since, the revert gives the step 20, its limit
    const full = planRevert(p1.after, p1.items);
    expect(full.conflicts).toEqual([]);
    expect(Object.keys(login(applied(p1.after, full.changes)).steps["sms-otp"].transitions)).toHaveLength(20);
  });
});

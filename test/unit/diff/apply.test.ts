import { describe, expect, it } from "vitest";
import { applyChanges } from "../../../src/domain/apply.js";
import { canonicalJson } from "../../../src/domain/canonical-json.js";
import type { ApplicationDocument } from "../../../src/domain/change.js";
import { StaleSelectionError } from "../../../src/domain/errors.js";
import { casePair, PATH_CASES } from "./cases.js";
import { application, changeAt, diff, login, loginJourney, pair, step } from "./fixtures.js";

const J = "/journeys/login";

/** The refusal of a selection naming exactly `changeIds`, in the order given. */
const staleSelection = (changeIds: string[]) => expect.objectContaining({ code: "STALE_SELECTION", changeIds });

/** The login journey with an SMS step that has no sender id. */
function withSmsStep(app: ApplicationDocument = application()): ApplicationDocument {
  login(app).steps["sms-otp"] = step("SMS_OTP", "SMS code", { success: "COMPLETE" });
  login(app).order.push("sms-otp");
  return app;
}

function withRegistration(app: ApplicationDocument): ApplicationDocument {
  app.journeys.registration = loginJourney();
  return app;
}

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
    expect(() => applyChanges(to, changes)).toThrow(staleSelection([stale.id]));
  });

  it("refuses an addition of a journey that is already there, and changes to a journey the target lacks", () => {
    const { from, to } = pair((app) => {
      app.journeys.registration = structuredClone(login(app));
      login(app).start = "password";
    });
    const { changes } = diff(from, to);
    const start = changeAt(changes, `${J}/start`);
    const registration = changeAt(changes, "/journeys/registration");
    const target = application();
    target.journeys.registration = structuredClone(login(target));
    delete target.journeys.login;
    expect(() => applyChanges(target, changes)).toThrow(staleSelection([start.id, registration.id]));
    // each half alone
    const withLogin = structuredClone(target);
    withLogin.journeys.login = loginJourney();
    expect(() => applyChanges(withLogin, changes)).toThrow(staleSelection([registration.id]));
    delete withLogin.journeys.registration;
    expect(() => applyChanges(withLogin, changes)).not.toThrow();
    expect(() => applyChanges(target, [start])).toThrow(staleSelection([start.id]));
  });

  it("refuses an addition of a step, a setting, a transition or the client that the target already has", () => {
    const { from, to } = pair((app) => {
      login(app).steps.totp = step("TOTP", "App code", { success: "COMPLETE" });
      login(app).order.push("totp");
      login(app).steps["email-otp"].transitions["high-risk"] = "DENY";
    }, withSmsStep());
    login(from).steps["sms-otp"].settings.senderId = "Acme";
    const { changes } = diff(from, to);
    const target = structuredClone(from);
    expect(() => applyChanges(target, changes)).toThrow(staleSelection(changes.map((c) => c.id)));
    expect(changes.map((c) => c.kind)).toEqual(["ADDED", "ADDED", "ADDED"]);

    const client = changeAt(diff(application(), { ...application(), client: null }).changes, "/client");
    expect(() => applyChanges(application(), [client])).toThrow(staleSelection([client.id]));
  });

  it("refuses a removal whose old value moved since the diff, or is already gone", () => {
    const { from, to } = pair((app) => {
      delete login(app).steps["sms-otp"];
      login(app).order.pop();
      delete login(app).steps["email-otp"].transitions.failure;
      delete app.journeys.registration;
    }, withRegistration(withSmsStep()));
    const { changes } = diff(from, to);
    expect(changes.map((c) => c.kind)).toEqual(["REMOVED", "REMOVED", "REMOVED"]);
    const moved = structuredClone(to);
    login(moved).steps["sms-otp"].name = "Text message";
    login(moved).steps["email-otp"].transitions.failure = "COMPLETE";
    moved.journeys.registration.start = "password";
    expect(() => applyChanges(moved, changes)).toThrow(staleSelection(changes.map((c) => c.id)));
    expect(() => applyChanges(from, changes)).toThrow(staleSelection(changes.map((c) => c.id)));
    const applied = applyChanges(to, changes);
    expect(applied.ok && canonicalJson(applied.value)).toBe(canonicalJson(from));
  });

  it("refuses a change at a path no diff writes, or under a step, a journey or a client the target lacks", () => {
    const { from, to } = pair((app) => {
      login(app).steps["email-otp"].settings.codeLength = 8;
      login(app).steps["email-otp"].name = "Code by email";
      app.client!.settings.pkceRequired = false;
    });
    const { changes } = diff(from, to);
    const setting = changeAt(changes, `${J}/steps/email-otp/settings/codeLength`);
    const name = changeAt(changes, `${J}/steps/email-otp/name`);
    const client = changeAt(changes, "/client/settings/pkceRequired");
    const nowhere = { ...setting, id: "chg_nowhere", path: `${J}/steps/email-otp/colour` };
    const relative = { ...setting, id: "chg_relative", path: setting.path.slice(1) };
    expect(() => applyChanges(to, [nowhere, setting, relative])).toThrow(staleSelection([nowhere.id, relative.id]));

    const withoutStep = structuredClone(to);
    delete login(withoutStep).steps["email-otp"];
    expect(() => applyChanges(withoutStep, [setting, name])).toThrow(staleSelection([setting.id, name.id]));
    const withoutClient = { ...structuredClone(to), client: null };
    expect(() => applyChanges(withoutClient, [client, setting])).toThrow(staleSelection([client.id]));
  });

  it("refuses a change whose kind does not match its values, which no diff makes", () => {
    const { from, to } = pair((app) => {
      login(app).steps.password.settings.minLength = 16;
    });
    const change = changeAt(diff(from, to).changes, `${J}/steps/password/settings/minLength`);
    const malformed = [
      { ...change, id: "chg_added_nothing", kind: "ADDED" as const, oldValue: null, newValue: null },
      { ...change, id: "chg_removed_keeping", kind: "REMOVED" as const },
      { ...change, id: "chg_modified_to_nothing", newValue: null },
    ];
    for (const bad of malformed) expect(() => applyChanges(to, [bad])).toThrow(staleSelection([bad.id]));
    const absent = {
      ...change,
      id: "chg_added_over",
      path: `${J}/steps/password/settings/colour`,
      kind: "ADDED" as const,
      oldValue: null,
      newValue: null,
    };
    expect(() => applyChanges(to, [absent])).toThrow(staleSelection([absent.id]));
  });

  it("reports values that hold null as problems of the result", () => {
    const { from, to } = pair((app) => {
      login(app).steps.totp = { ...step("TOTP", "App code", { success: "COMPLETE" }), settings: { digits: 6, issuer: null } };
      login(app).order.push("totp");
    });
    expect(applyChanges(to, diff(from, to).changes)).toEqual({
      ok: false,
      problems: [
        {
          path: "journeys.login.steps.totp.settings.issuer",
          message: "Journey login: steps.totp.settings.issuer must be a string, not null",
        },
      ],
    });
  });

  it("validates a whole client it writes", () => {
    const to = { ...application(), client: null };
    const { from } = pair((app) => {
      app.client = { settings: { ...application().client!.settings, pkceRequired: "yes" as unknown as boolean } };
    }, to);
    expect(applyChanges(to, diff(from, to).changes)).toEqual({
      ok: false,
      problems: [
        { path: "client.settings.pkceRequired", message: "Client settings: settings.pkceRequired must be true or false, not a string" },
      ],
    });
  });

  it("leaves out a journey that later changes remove after earlier ones wrote it (never two changes of one diff)", () => {
    const { from, to } = pair((app) => {
      app.journeys.registration = { ...loginJourney(), start: "nowhere" };
    });
    const add = changeAt(diff(from, to).changes, "/journeys/registration");
    const remove = { ...add, id: "chg_remove_again", kind: "REMOVED" as const, oldValue: add.newValue, newValue: null };
    expect(applyChanges(to, [add, remove])).toEqual({ ok: true, value: to });
  });

  it("reports client settings the changes leave invalid, placed in the application", () => {
    const { from, to } = pair((app) => {
      app.client!.settings.accessTokenTtlSeconds = 5;
    });
    expect(applyChanges(to, diff(from, to).changes)).toEqual({
      ok: false,
      problems: [
        {
          path: "client.settings.accessTokenTtlSeconds",
          message: "Client settings: settings.accessTokenTtlSeconds must be between 60 and 86400",
        },
      ],
    });
  });

  it("validates only what the changes touch: a journey or client settings they leave alone are not their problem", () => {
    const { from, to } = pair((app) => {
      login(app).steps.password.settings.minLength = 16;
    });
    const target = structuredClone(to);
    target.client!.settings.accessTokenTtlSeconds = 5;
    target.journeys.registration = { ...loginJourney(), start: "nowhere" };
    const result = applyChanges(target, diff(from, to).changes);
    expect(result.ok && result.value.client).toEqual(target.client);
    expect(result.ok && login(result.value).steps.password.settings.minLength).toBe(16);
  });

  it("applies the removal of the whole client", () => {
    const to = application();
    const { changes } = diff({ ...application(), client: null }, to);
    expect(applyChanges(to, changes)).toEqual({ ok: true, value: { client: null, journeys: to.journeys } });
  });

  it("places a problem about a whole journey at the journey", () => {
    const to = application();
    const { from } = pair((app) => {
      // more problems than a list holds: its last entry, about the document as a whole, says so
      for (let i = 0; i < 6; i++) {
        const transitions = Object.fromEntries(Array.from({ length: 20 }, (_, o) => [`outcome-${o}`, `gone-${i}-${o}`]));
        login(app).steps[`step-${i}`] = step("PASSWORD", `Step ${i}`, transitions);
        login(app).order.push(`step-${i}`);
      }
    }, to);
    const result = applyChanges(to, diff(from, to).changes);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems.at(-1)).toEqual({
      path: "journeys.login",
      message: "Journey login: More problems were found; only the first 99 are listed",
    });
  });

  it("appends added steps with numeric-looking keys in diff order, not in the key order of objects", () => {
    const { from, to } = pair((app) => {
      login(app).steps.totp = step("TOTP", "App code", { success: "COMPLETE" });
      login(app).steps["2"] = step("SMS_OTP", "SMS code", { success: "COMPLETE" });
      login(app).order.push("totp", "2");
    });
    const { changes } = diff(from, to);
    expect(changes.map((c) => c.path)).toEqual([`${J}/steps/totp`, `${J}/steps/2`]);
    const result = applyChanges(to, changes);
    expect(result.ok && login(result.value).order).toEqual(["identify", "password", "email-otp", "totp", "2"]);
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

import { describe, expect, it } from "vitest";
import { diffApplication, diffApplicationInSteps, diffSide } from "../../../src/domain/diff.js";
import { casePair, PATH_CASES } from "./cases.js";
import { application, changeAt, diff, login, loginJourney, pair, step } from "./fixtures.js";

describe("diff paths", () => {
  it.each(PATH_CASES)("shows $name as one change at its JSON Pointer", (c) => {
    const { from, to } = casePair(c);
    const { changes } = diff(from, to);
    expect(changes).toHaveLength(1);
    const { newValue, ...expected } = c.expected;
    expect(changes[0]).toMatchObject(expected);
    expect(changes[0].newValue).toEqual(newValue === undefined ? expect.anything() : newValue);
    expect(changes[0].requires).toEqual([]);
  });

  it("gives the value in `to` as the old value and the value in `from` as the new one", () => {
    const { from, to } = pair((app) => {
      login(app).steps["email-otp"].settings.codeLength = 8;
    });
    expect(diff(from, to).changes[0]).toMatchObject({ oldValue: 6, newValue: 8 });
    expect(diff(to, from).changes[0]).toMatchObject({ oldValue: 8, newValue: 6, summary: "Email code · code length: 8 → 6" });
  });

  it("escapes keys in paths as RFC 6901 says", () => {
    const { from, to } = pair((app) => {
      login(app).steps["email-otp"].settings["a/b~c"] = 1;
    });
    expect(diff(from, to).changes[0].path).toBe("/journeys/login/steps/email-otp/settings/a~1b~0c");
  });

  it("keys steps by key: inserting a step changes nothing about the steps after it", () => {
    const { from, to } = pair((app) => {
      const journey = login(app);
      journey.steps["sms-otp"] = step("SMS_OTP", "SMS code", { success: "email-otp" });
      journey.steps.password.transitions.success = "sms-otp";
      journey.order = ["identify", "password", "sms-otp", "email-otp"];
    });
    expect(diff(from, to).changes.map((c) => c.path)).toEqual([
      "/journeys/login/order",
      "/journeys/login/steps/password/transitions/success",
      "/journeys/login/steps/sms-otp",
    ]);
  });

  it("lists client settings first, then journeys by key; in a journey start, order, then steps in display order", () => {
    const { from, to } = pair((app) => {
      app.client!.settings.pkceRequired = false;
      app.journeys.registration = loginJourney();
      const journey = login(app);
      journey.start = "password";
      journey.order = ["password", "identify", "email-otp"];
      journey.steps["email-otp"].settings.ttlSeconds = 600;
      journey.steps.identify.name = "Who are you?";
    });
    expect(diff(from, to).changes.map((c) => c.path)).toEqual([
      "/client/settings/pkceRequired",
      "/journeys/login/start",
      "/journeys/login/order",
      "/journeys/login/steps/identify/name",
      "/journeys/login/steps/email-otp/settings/ttlSeconds",
      "/journeys/registration",
    ]);
  });

  it("lists steps no order names (only in documents that are not valid) after the others, sorted by key", () => {
    const { from, to } = pair((app) => {
      const journey = login(app);
      journey.steps.zeta = step("TOTP", "App code", { success: "COMPLETE" });
      journey.steps.alpha = step("SMS_OTP", "SMS code", { success: "COMPLETE" });
      journey.steps.password.name = "Your password";
    });
    expect(diff(from, to).changes.map((c) => c.path)).toEqual([
      "/journeys/login/steps/password/name",
      "/journeys/login/steps/alpha",
      "/journeys/login/steps/zeta",
    ]);
  });

  it("lists unlisted steps of `from` even when a removed step is listed (the count of keys is exact)", () => {
    const to = application();
    login(to).steps.retired = step("TOTP", "Old app code", { success: "COMPLETE" });
    login(to).order.push("retired");
    const { from } = pair((app) => {
      const journey = login(app);
      delete journey.steps.retired;
      journey.order = journey.order.filter((key) => key !== "retired");
      journey.steps.zeta = step("TOTP", "App code", { success: "COMPLETE" });
      journey.steps.alpha = step("SMS_OTP", "SMS code", { success: "COMPLETE" });
    }, to);
    expect(diff(from, to).changes.map((c) => `${c.kind} ${c.path}`)).toEqual([
      "REMOVED /journeys/login/steps/retired",
      "ADDED /journeys/login/steps/alpha",
      "ADDED /journeys/login/steps/zeta",
    ]);
  });

  it("compares settings and transitions by their own keys: a key named like an Object method is a key like any other", () => {
    const { from, to } = pair((app) => {
      const { settings, transitions } = login(app).steps["email-otp"];
      Object.assign(settings, { toString: "text", constructor: 1 });
      delete settings.codeLength;
      Object.assign(transitions, { valueOf: "DENY" });
      delete transitions.failure;
    });
    expect(diff(from, to).changes.map((c) => `${c.kind} ${c.path}`)).toEqual([
      "REMOVED /journeys/login/steps/email-otp/settings/codeLength",
      "ADDED /journeys/login/steps/email-otp/settings/constructor",
      "ADDED /journeys/login/steps/email-otp/settings/toString",
      "REMOVED /journeys/login/steps/email-otp/transitions/failure",
      "ADDED /journeys/login/steps/email-otp/transitions/valueOf",
    ]);
    expect(diff(to, from).changes.map((c) => `${c.kind} ${c.path}`)).toEqual([
      "ADDED /journeys/login/steps/email-otp/settings/codeLength",
      "REMOVED /journeys/login/steps/email-otp/settings/constructor",
      "REMOVED /journeys/login/steps/email-otp/settings/toString",
      "ADDED /journeys/login/steps/email-otp/transitions/failure",
      "REMOVED /journeys/login/steps/email-otp/transitions/valueOf",
    ]);
  });

  it("names a step by the name it has in `from`", () => {
    const { from, to } = pair((app) => {
      login(app).steps.password.name = "Your password";
      login(app).steps.password.settings.minLength = 16;
    });
    expect(changeAt(diff(from, to).changes, "/journeys/login/steps/password/settings/minLength").summary).toBe(
      "Your password · minimum length: 12 → 16",
    );
  });
});

describe("order changes", () => {
  it("do not exist when steps are only added at the end or removed", () => {
    const { from, to } = pair((app) => {
      const journey = login(app);
      delete journey.steps.password;
      journey.steps.identify.transitions.success = "email-otp";
      journey.steps["sms-otp"] = step("SMS_OTP", "SMS code", { success: "COMPLETE" });
      journey.order = ["identify", "email-otp", "sms-otp"];
    });
    expect(diff(from, to).changes.some((c) => c.path.endsWith("/order"))).toBe(false);
  });

  it("exist when an added step is not last", () => {
    const { from, to } = pair((app) => {
      login(app).steps["sms-otp"] = step("SMS_OTP", "SMS code", { success: "COMPLETE" });
      login(app).order = ["identify", "sms-otp", "password", "email-otp"];
    });
    expect(changeAt(diff(from, to).changes, "/journeys/login/order").summary).toBe("Step order: sms-otp placed before password");
  });

  it("exist when `to` leaves a step out of its order (a document that is not valid) that `from` lists", () => {
    const to = application();
    login(to).order = ["identify", "password"];
    const { from } = pair(() => {}, to);
    login(from).order = ["identify", "password", "email-otp"];
    expect(changeAt(diff(from, to).changes, "/journeys/login/order")).toMatchObject({
      oldValue: ["identify", "password"],
      newValue: ["identify", "password", "email-otp"],
    });
  });

  it("name every step that moved", () => {
    const { from, to } = pair((app) => {
      login(app).order = ["email-otp", "password", "identify"];
    });
    expect(changeAt(diff(from, to).changes, "/journeys/login/order").summary).toBe("Step order: password, identify moved");
  });
});

describe("diff scope and skipping", () => {
  it("skips journeys whose hashes match without reading them", () => {
    const { from, to } = pair((app) => {
      login(app).start = "password";
    });
    const fromSide = diffSide(from);
    const toSide = diffSide(to);
    toSide.journeys.login.hash = fromSide.journeys.login.hash;
    expect(diffApplication(fromSide, toSide).changes).toEqual([]);
  });

  it("limits the diff to the journeys asked for, and leaves client settings out when asked", () => {
    const { from, to } = pair((app) => {
      app.client!.settings.pkceRequired = false;
      app.journeys.registration = loginJourney();
      login(app).start = "password";
    });
    const changes = diffApplication(diffSide(from), diffSide(to), { journeyKeys: ["login"], includeClient: false }).changes;
    expect(changes.map((c) => c.path)).toEqual(["/journeys/login/start"]);
  });

  it("diffs a journey asked for twice once, and one that neither side has not at all", () => {
    const { from, to } = pair((app) => {
      login(app).start = "password";
    });
    const changes = diffApplication(diffSide(from), diffSide(to), { journeyKeys: ["nowhere", "login", "login"] }).changes;
    expect(changes.map((c) => c.path)).toEqual(["/journeys/login/start"]);
  });

  it("shows a removed client as a whole", () => {
    const to = application();
    const from = { ...application(), client: null };
    expect(diff(from, to).changes).toMatchObject([{ path: "/client", kind: "REMOVED", summary: "Removed client settings" }]);
  });

  it("is empty between identical applications, and between two with no client", () => {
    expect(diff(application(), application())).toEqual({ changes: [], bundles: [] });
    expect(diff({ client: null, journeys: {} }, { client: null, journeys: {} })).toEqual({ changes: [], bundles: [] });
  });
});

describe("a diff in steps", () => {
  it("pauses every few journeys and changes, and ends with what the diff in one piece gives", () => {
    const to = application();
    for (let i = 0; i < 40; i++) to.journeys[`journey-${i}`] = loginJourney();
    const { from } = pair((app) => {
      for (let i = 0; i < 40; i++) app.journeys[`journey-${i}`].steps.password.name = `Password ${i}`;
    }, to);
    const steps = diffApplicationInSteps(diffSide(from), diffSide(to));
    let pauses = 0;
    let next = steps.next();
    while (!next.done) {
      pauses++;
      next = steps.next();
    }
    // after every 4 journeys compared (10), and once before bundling
    expect(pauses).toBe(11);
    expect(next.value).toEqual(diffApplication(diffSide(from), diffSide(to)));
    expect(next.value.changes).toHaveLength(40);
  });

  it("pauses after every 400 changes it finishes, twice over: ids, then the changes", () => {
    const pausesFor = (count: number) => {
      const { from, to } = pair((app) => {
        for (let i = 0; i < count; i++) login(app).steps.identify.settings[`extra${i}`] = i;
      });
      const steps = diffApplicationInSteps(diffSide(from), diffSide(to));
      let pauses = 0;
      while (!steps.next().done) pauses++;
      return pauses;
    };
    expect(pausesFor(399)).toBe(1);
    expect(pausesFor(800)).toBe(5);
  });
});

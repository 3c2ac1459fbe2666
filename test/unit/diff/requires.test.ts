import { describe, expect, it } from "vitest";
import type { ApplicationDocument, ConfigChange } from "../../../src/domain/change.js";
import { application, changeAt, diff, login, pair, step } from "./fixtures.js";

const J = "/journeys/login";

/** path → the paths of the changes it requires */
function requiresByPath(changes: readonly ConfigChange[]): Record<string, string[]> {
  const pathOf = new Map(changes.map((c) => [c.id, c.path]));
  return Object.fromEntries(changes.map((c) => [c.path, c.requires.map((id) => pathOf.get(id)!)]));
}

function withSmsStep(app: ApplicationDocument): void {
  login(app).steps["sms-otp"] = step("SMS_OTP", "SMS code", { success: "COMPLETE", failure: "DENY" });
  login(app).order.push("sms-otp");
}

interface RequiresCase {
  name: string;
  /** prepares `to` (default: the login journey) */
  base?: (to: ApplicationDocument) => void;
  edit: (from: ApplicationDocument) => void;
  requires: Record<string, string[]>;
}

const CASES: RequiresCase[] = [
  {
    name: "a transition to an added step requires its addition",
    edit: (from) => {
      withSmsStep(from);
      login(from).steps.password.transitions.failure = "sms-otp";
    },
    requires: {
      [`${J}/steps/password/transitions/failure`]: [`${J}/steps/sms-otp`],
      [`${J}/steps/sms-otp`]: [],
    },
  },
  {
    name: "a transition added towards an added step requires its addition",
    edit: (from) => {
      withSmsStep(from);
      login(from).steps.password.transitions["high-risk"] = "sms-otp";
    },
    requires: {
      [`${J}/steps/password/transitions/high-risk`]: [`${J}/steps/sms-otp`],
      [`${J}/steps/sms-otp`]: [],
    },
  },
  {
    name: "an added step whose transitions point at another added step requires that addition (not its own)",
    edit: (from) => {
      withSmsStep(from);
      login(from).steps.totp = step("TOTP", "App code", { success: "sms-otp", retry: "totp", failure: "DENY" });
      login(from).order.push("totp");
    },
    requires: {
      [`${J}/steps/sms-otp`]: [],
      [`${J}/steps/totp`]: [`${J}/steps/sms-otp`],
    },
  },
  {
    name: "a start that points at an added step requires its addition",
    edit: (from) => {
      withSmsStep(from);
      login(from).start = "sms-otp";
    },
    requires: {
      [`${J}/start`]: [`${J}/steps/sms-otp`],
      [`${J}/steps/sms-otp`]: [],
    },
  },
  {
    name: "a retyped step whose new transitions point at an added step requires its addition",
    edit: (from) => {
      withSmsStep(from);
      login(from).steps["email-otp"] = step("TOTP", "App code", { success: "COMPLETE", failure: "sms-otp" });
    },
    requires: {
      [`${J}/steps/email-otp`]: [`${J}/steps/sms-otp`],
      [`${J}/steps/sms-otp`]: [],
    },
  },
  {
    name: "removing the start step requires the start change",
    edit: (from) => {
      delete login(from).steps.identify;
      login(from).order.shift();
      login(from).start = "password";
    },
    requires: {
      [`${J}/start`]: [],
      [`${J}/steps/identify`]: [`${J}/start`],
    },
  },
  {
    name: "removing a step requires the transitions of staying steps that stop pointing at it, redirected or removed",
    base: (to) => {
      login(to).steps.identify.transitions.failure = "email-otp";
    },
    edit: (from) => {
      delete login(from).steps["email-otp"];
      login(from).order.pop();
      login(from).steps.password.transitions.success = "COMPLETE";
      delete login(from).steps.identify.transitions.failure;
    },
    requires: {
      [`${J}/steps/identify/transitions/failure`]: [],
      [`${J}/steps/password/transitions/success`]: [],
      [`${J}/steps/email-otp`]: [`${J}/steps/identify/transitions/failure`, `${J}/steps/password/transitions/success`],
    },
  },
  {
    name: "removing a step requires the removal of removed steps that point at it",
    edit: (from) => {
      delete login(from).steps.password;
      delete login(from).steps["email-otp"];
      login(from).order = ["identify"];
      login(from).steps.identify.transitions.success = "COMPLETE";
    },
    requires: {
      [`${J}/steps/identify/transitions/success`]: [],
      [`${J}/steps/password`]: [`${J}/steps/identify/transitions/success`],
      [`${J}/steps/email-otp`]: [`${J}/steps/password`],
    },
  },
  {
    name: "removing a step requires the retype of a step that points at it (the retype replaces its transitions)",
    edit: (from) => {
      delete login(from).steps["email-otp"];
      login(from).order.pop();
      login(from).steps.password = step("PASSKEY", "Passkey", { success: "COMPLETE" });
    },
    requires: {
      [`${J}/steps/password`]: [],
      [`${J}/steps/email-otp`]: [`${J}/steps/password`],
    },
  },
  {
    name: "removing a step that points at itself requires nothing for that loop",
    base: (to) => {
      withSmsStep(to);
      login(to).steps["sms-otp"].transitions.retry = "sms-otp";
    },
    edit: (from) => {
      delete login(from).steps["sms-otp"];
      login(from).order.pop();
    },
    requires: { [`${J}/steps/sms-otp`]: [] },
  },
  {
    name: "the order change requires nothing and nothing requires it",
    edit: (from) => {
      withSmsStep(from);
      login(from).order = ["sms-otp", "identify", "password", "email-otp"];
      login(from).steps.identify.transitions.success = "sms-otp";
      delete login(from).steps.password;
      login(from).order = login(from).order.filter((key) => key !== "password");
      login(from).steps["sms-otp"].transitions.success = "email-otp";
    },
    requires: {
      [`${J}/order`]: [],
      [`${J}/steps/identify/transitions/success`]: [`${J}/steps/sms-otp`],
      [`${J}/steps/sms-otp`]: [],
      [`${J}/steps/password`]: [`${J}/steps/identify/transitions/success`],
    },
  },
  {
    name: "settings, names, enabled flags and client settings require nothing",
    edit: (from) => {
      from.client!.settings.pkceRequired = false;
      login(from).steps.password.settings.minLength = 16;
      login(from).steps.password.name = "Your password";
      login(from).steps.password.enabled = false;
    },
    requires: {
      "/client/settings/pkceRequired": [],
      [`${J}/steps/password/name`]: [],
      [`${J}/steps/password/enabled`]: [],
      [`${J}/steps/password/settings/minLength`]: [],
    },
  },
];

describe("requires", () => {
  it.each(CASES)("$name", ({ base, edit, requires }) => {
    const to = application();
    base?.(to);
    const { from } = pair(edit, to);
    expect(requiresByPath(diff(from, to).changes)).toEqual(requires);
  });

  it("lists required ids in diff order, each once", () => {
    const to = application();
    login(to).steps.password.transitions = { success: "email-otp", failure: "email-otp" };
    const { from } = pair((app) => {
      delete login(app).steps["email-otp"];
      login(app).order.pop();
      login(app).steps.password.transitions = { success: "COMPLETE", failure: "DENY" };
    }, to);
    const { changes } = diff(from, to);
    expect(changeAt(changes, `${J}/steps/email-otp`).requires).toEqual([
      changeAt(changes, `${J}/steps/password/transitions/failure`).id,
      changeAt(changes, `${J}/steps/password/transitions/success`).id,
    ]);
  });
});

describe("bundles", () => {
  it("group the changes that enable a feature together, labelled by what they enable", () => {
    const { from, to } = pair((app) => {
      app.client!.settings.accessTokenTtlSeconds = 900;
      const journey = login(app);
      journey.steps["sms-otp"] = step("SMS_OTP", "SMS code", { success: "COMPLETE", failure: "DENY" });
      journey.steps.password.transitions.success = "sms-otp";
      delete journey.steps["email-otp"];
      journey.order = ["identify", "password", "sms-otp"];
    });
    const { changes, bundles } = diff(from, to);
    expect(bundles.map((b) => ({ label: b.label, paths: b.changeIds.map((id) => changes.find((c) => c.id === id)!.path) }))).toEqual([
      {
        label: "Client settings · access token lifetime (seconds): 3600 → 900",
        paths: ["/client/settings/accessTokenTtlSeconds"],
      },
      {
        label: "Add step SMS code, remove step Email code",
        paths: [`${J}/steps/password/transitions/success`, `${J}/steps/sms-otp`, `${J}/steps/email-otp`],
      },
    ]);
    for (const change of changes) expect(bundles.find((b) => b.id === change.bundleId)!.changeIds).toContain(change.id);
  });

  it.each([
    [
      "Add step SMS code",
      (app: ApplicationDocument) => {
        withSmsStep(app);
        login(app).steps.password.transitions.failure = "sms-otp";
      },
    ],
    [
      "Remove step Email code",
      (app: ApplicationDocument) => {
        delete login(app).steps["email-otp"];
        login(app).order.pop();
        login(app).steps.password.transitions.success = "COMPLETE";
      },
    ],
    [
      "Add steps SMS code and App code",
      (app: ApplicationDocument) => {
        withSmsStep(app);
        login(app).steps.totp = step("TOTP", "App code", { success: "sms-otp" });
        login(app).order.push("totp");
        login(app).steps.password.transitions.failure = "totp";
      },
    ],
  ])("are labelled %s", (label, edit) => {
    const { from, to } = pair(edit);
    expect(diff(from, to).bundles.map((b) => b.label)).toEqual([label]);
  });

  it("have content-addressed ids: the same members give the same id, a bundle of one is its change", () => {
    const { from, to } = pair((app) => {
      withSmsStep(app);
      login(app).steps.password.transitions.failure = "sms-otp";
      login(app).steps.password.settings.minLength = 16;
    });
    const first = diff(from, to);
    expect(diff(structuredClone(from), structuredClone(to)).bundles).toEqual(first.bundles);
    const single = first.bundles.find((b) => b.changeIds.length === 1)!;
    expect(single.id).toBe(`bdl_${single.changeIds[0].slice("chg_".length)}`);
    const pairBundle = first.bundles.find((b) => b.changeIds.length === 2)!;
    expect(pairBundle.id).toMatch(/^bdl_[0-9a-f]{24}$/);
    expect(pairBundle.id).not.toBe(single.id);
  });
});

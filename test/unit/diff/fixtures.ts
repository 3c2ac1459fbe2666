import type { ApplicationDocument, ConfigChange } from "../../../src/domain/change.js";
import { DEFAULT_CLIENT_SETTINGS } from "../../../src/domain/client-settings.js";
import { type ApplicationDiff, type DiffOptions, diffApplication, diffSide } from "../../../src/domain/diff.js";
import type { JourneyDocument, JourneyStepDefinition, JsonObject } from "../../../src/domain/journey-document.js";
import { STEP_CATALOGUE, type StepType } from "../../../src/domain/step-catalogue.js";

/** A step with its type's default settings, overridden by `settings`. */
export function step(
  type: StepType,
  name: string,
  transitions: Record<string, string>,
  settings: Record<string, unknown> = {},
): JourneyStepDefinition {
  return {
    type,
    name,
    enabled: true,
    settings: STEP_CATALOGUE[type].settings.parse(settings) as JsonObject,
    transitions,
  };
}

/** The login journey of ARCHITECTURE.md, "The domain". */
export function loginJourney(): JourneyDocument {
  return {
    start: "identify",
    order: ["identify", "password", "email-otp"],
    steps: {
      identify: step("IDENTIFIER", "Enter email", { success: "password" }, { rememberMe: true }),
      password: step("PASSWORD", "Password", { success: "email-otp", failure: "DENY" }),
      "email-otp": step("EMAIL_OTP", "Email code", { success: "COMPLETE", failure: "DENY" }),
    },
  };
}

/** An application whose client has the default settings and whose only journey is `login`. */
export function application(login: JourneyDocument = loginJourney()): ApplicationDocument {
  return { client: { settings: { ...DEFAULT_CLIENT_SETTINGS, grantTypes: [...DEFAULT_CLIENT_SETTINGS.grantTypes] } }, journeys: { login } };
}

/** `to` and a copy of it that `edit` turns into `from`. */
export function pair(edit: (from: ApplicationDocument) => void, to: ApplicationDocument = application()) {
  const from = structuredClone(to);
  edit(from);
  return { from, to };
}

export function diff(from: ApplicationDocument, to: ApplicationDocument, options?: DiffOptions): ApplicationDiff {
  return diffApplication(diffSide(from), diffSide(to), options);
}

export function changeAt(changes: readonly ConfigChange[], path: string): ConfigChange {
  const change = changes.find((c) => c.path === path);
  if (change === undefined) throw new Error(`no change at ${path}; changes: ${changes.map((c) => c.path).join(", ")}`);
  return change;
}

/** The login journey of `app`, for edits. */
export function login(app: ApplicationDocument): JourneyDocument {
  return app.journeys.login;
}

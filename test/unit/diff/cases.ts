import type { ApplicationDocument, ChangeKind } from "../../../src/domain/change.js";
import type { JsonValue } from "../../../src/domain/journey-document.js";
import { application, login, loginJourney, pair, step } from "./fixtures.js";

/**
 * One difference per path kind of the diff (ARCHITECTURE.md, "The domain"): `edit` turns a copy of `to` into `from`, and the
 * diff holds exactly the expected change. Shared by the diff and the apply tests.
 */
export interface PathCase {
  name: string;
  to?: () => ApplicationDocument;
  edit: (from: ApplicationDocument) => void;
  expected: {
    path: string;
    kind: ChangeKind;
    oldValue: JsonValue | null;
    newValue?: JsonValue | null;
    summary: string;
    journeyKey: string | null;
    stepKey: string | null;
  };
}

/** The login journey with an SMS step that has no sender id yet. */
function withSmsStep(): ApplicationDocument {
  const app = application();
  login(app).steps["sms-otp"] = step("SMS_OTP", "SMS code", { success: "COMPLETE" });
  login(app).order.push("sms-otp");
  return app;
}

export const PATH_CASES: PathCase[] = [
  {
    name: "a client setting",
    edit: (from) => {
      from.client!.settings.accessTokenTtlSeconds = 900;
    },
    expected: {
      path: "/client/settings/accessTokenTtlSeconds",
      kind: "MODIFIED",
      oldValue: 3600,
      newValue: 900,
      summary: "Client settings · access token lifetime (seconds): 3600 → 900",
      journeyKey: null,
      stepKey: null,
    },
  },
  {
    name: "a client setting that is a list, as a whole value",
    edit: (from) => {
      from.client!.settings.grantTypes = ["authorization_code"];
    },
    expected: {
      path: "/client/settings/grantTypes",
      kind: "MODIFIED",
      oldValue: ["authorization_code", "refresh_token"],
      newValue: ["authorization_code"],
      summary: "Client settings · grant types: [authorization_code, refresh_token] → [authorization_code]",
      journeyKey: null,
      stepKey: null,
    },
  },
  {
    name: "the whole client, when the target has none",
    to: () => ({ ...application(), client: null }),
    edit: (from) => {
      from.client = application().client;
    },
    expected: {
      path: "/client",
      kind: "ADDED",
      oldValue: null,
      summary: "Added client settings",
      journeyKey: null,
      stepKey: null,
    },
  },
  {
    name: "a whole journey added",
    edit: (from) => {
      from.journeys.registration = loginJourney();
    },
    expected: {
      path: "/journeys/registration",
      kind: "ADDED",
      oldValue: null,
      summary: "Added journey registration",
      journeyKey: "registration",
      stepKey: null,
    },
  },
  {
    name: "a whole journey removed",
    edit: (from) => {
      delete from.journeys.login;
    },
    expected: {
      path: "/journeys/login",
      kind: "REMOVED",
      oldValue: loginJourney() as unknown as JsonValue,
      newValue: null,
      summary: "Removed journey login",
      journeyKey: "login",
      stepKey: null,
    },
  },
  {
    name: "the start step",
    edit: (from) => {
      login(from).start = "password";
    },
    expected: {
      path: "/journeys/login/start",
      kind: "MODIFIED",
      oldValue: "identify",
      newValue: "password",
      summary: "Start: identify → password",
      journeyKey: "login",
      stepKey: null,
    },
  },
  {
    name: "the step order",
    edit: (from) => {
      login(from).order = ["identify", "email-otp", "password"];
    },
    expected: {
      path: "/journeys/login/order",
      kind: "MODIFIED",
      oldValue: ["identify", "password", "email-otp"],
      newValue: ["identify", "email-otp", "password"],
      summary: "Step order: password moved last",
      journeyKey: "login",
      stepKey: null,
    },
  },
  {
    name: "a step added (last, referenced by nothing)",
    edit: (from) => {
      login(from).steps["sms-otp"] = step("SMS_OTP", "SMS code", { success: "COMPLETE", failure: "DENY" });
      login(from).order.push("sms-otp");
    },
    expected: {
      path: "/journeys/login/steps/sms-otp",
      kind: "ADDED",
      oldValue: null,
      summary: "Added step SMS code (SMS_OTP)",
      journeyKey: "login",
      stepKey: "sms-otp",
    },
  },
  {
    name: "a step removed (referenced by nothing)",
    to: withSmsStep,
    edit: (from) => {
      delete login(from).steps["sms-otp"];
      login(from).order.pop();
    },
    expected: {
      path: "/journeys/login/steps/sms-otp",
      kind: "REMOVED",
      oldValue: step("SMS_OTP", "SMS code", { success: "COMPLETE" }) as unknown as JsonValue,
      newValue: null,
      summary: "Removed step SMS code (SMS_OTP)",
      journeyKey: "login",
      stepKey: "sms-otp",
    },
  },
  {
    name: "a step retyped, as one change of the whole step",
    edit: (from) => {
      login(from).steps["email-otp"] = step("SMS_OTP", "SMS code", { success: "COMPLETE", failure: "DENY" });
    },
    expected: {
      path: "/journeys/login/steps/email-otp",
      kind: "MODIFIED",
      oldValue: step("EMAIL_OTP", "Email code", { success: "COMPLETE", failure: "DENY" }) as unknown as JsonValue,
      summary: "Replaced step Email code (EMAIL_OTP) with SMS code (SMS_OTP)",
      journeyKey: "login",
      stepKey: "email-otp",
    },
  },
  {
    name: "a step retyped under the same name",
    edit: (from) => {
      login(from).steps["email-otp"] = step("TOTP", "Email code", { success: "COMPLETE", failure: "DENY" });
    },
    expected: {
      path: "/journeys/login/steps/email-otp",
      kind: "MODIFIED",
      oldValue: step("EMAIL_OTP", "Email code", { success: "COMPLETE", failure: "DENY" }) as unknown as JsonValue,
      summary: "Changed step Email code from EMAIL_OTP to TOTP",
      journeyKey: "login",
      stepKey: "email-otp",
    },
  },
  {
    name: "a step name",
    edit: (from) => {
      login(from).steps.password.name = "Your password";
    },
    expected: {
      path: "/journeys/login/steps/password/name",
      kind: "MODIFIED",
      oldValue: "Password",
      newValue: "Your password",
      summary: "Renamed step Password → Your password",
      journeyKey: "login",
      stepKey: "password",
    },
  },
  {
    name: "a step disabled",
    edit: (from) => {
      login(from).steps.password.enabled = false;
    },
    expected: {
      path: "/journeys/login/steps/password/enabled",
      kind: "MODIFIED",
      oldValue: true,
      newValue: false,
      summary: "Disabled step Password",
      journeyKey: "login",
      stepKey: "password",
    },
  },
  {
    name: "a step setting",
    edit: (from) => {
      login(from).steps["email-otp"].settings.codeLength = 8;
    },
    expected: {
      path: "/journeys/login/steps/email-otp/settings/codeLength",
      kind: "MODIFIED",
      oldValue: 6,
      newValue: 8,
      summary: "Email code · code length: 6 → 8",
      journeyKey: "login",
      stepKey: "email-otp",
    },
  },
  {
    name: "a step setting that is a list, as a whole value",
    edit: (from) => {
      login(from).steps.identify.settings.identifiers = ["email", "phone"];
    },
    expected: {
      path: "/journeys/login/steps/identify/settings/identifiers",
      kind: "MODIFIED",
      oldValue: ["email"],
      newValue: ["email", "phone"],
      summary: "Enter email · identifiers: [email] → [email, phone]",
      journeyKey: "login",
      stepKey: "identify",
    },
  },
  {
    name: "an optional step setting added",
    to: withSmsStep,
    edit: (from) => {
      login(from).steps["sms-otp"].settings.senderId = "Acme";
    },
    expected: {
      path: "/journeys/login/steps/sms-otp/settings/senderId",
      kind: "ADDED",
      oldValue: null,
      newValue: "Acme",
      summary: "SMS code · sender ID: not set → Acme",
      journeyKey: "login",
      stepKey: "sms-otp",
    },
  },
  {
    name: "an optional step setting removed",
    to: () => {
      const app = withSmsStep();
      login(app).steps["sms-otp"].settings.senderId = "Acme";
      return app;
    },
    edit: (from) => {
      delete login(from).steps["sms-otp"].settings.senderId;
    },
    expected: {
      path: "/journeys/login/steps/sms-otp/settings/senderId",
      kind: "REMOVED",
      oldValue: "Acme",
      newValue: null,
      summary: "SMS code · sender ID: Acme → not set",
      journeyKey: "login",
      stepKey: "sms-otp",
    },
  },
  {
    name: "a transition redirected",
    to: () => {
      const app = application();
      login(app).steps.password.transitions.failure = "email-otp";
      return app;
    },
    edit: (from) => {
      login(from).steps.password.transitions.failure = "DENY";
    },
    expected: {
      path: "/journeys/login/steps/password/transitions/failure",
      kind: "MODIFIED",
      oldValue: "email-otp",
      newValue: "DENY",
      summary: "Password · on failure → DENY (was email-otp)",
      journeyKey: "login",
      stepKey: "password",
    },
  },
  {
    name: "a transition added",
    edit: (from) => {
      login(from).steps.password.transitions["high-risk"] = "DENY";
    },
    expected: {
      path: "/journeys/login/steps/password/transitions/high-risk",
      kind: "ADDED",
      oldValue: null,
      newValue: "DENY",
      summary: "Password · on high-risk → DENY (new outcome)",
      journeyKey: "login",
      stepKey: "password",
    },
  },
  {
    name: "a transition removed",
    edit: (from) => {
      delete login(from).steps.password.transitions.failure;
    },
    expected: {
      path: "/journeys/login/steps/password/transitions/failure",
      kind: "REMOVED",
      oldValue: "DENY",
      newValue: null,
      summary: "Password · on failure: removed (was DENY)",
      journeyKey: "login",
      stepKey: "password",
    },
  },
];

/** The two sides of a case. */
export function casePair(c: PathCase): { from: ApplicationDocument; to: ApplicationDocument } {
  return pair(c.edit, c.to ? c.to() : application());
}

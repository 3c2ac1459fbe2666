import type { JourneyDocument } from "../../src/domain/journey-document.js";
import { DEMO_LOGIN, DEMO_REGISTRATION } from "../../src/services/seed.js";

/** Password recovery: identify → risk check → email code. */
export const PASSWORD_RECOVERY: JourneyDocument = {
  start: "identify",
  order: ["identify", "risk", "email-otp"],
  steps: {
    identify: {
      type: "IDENTIFIER",
      name: "Enter email",
      enabled: true,
      settings: { identifiers: ["email", "username"] },
      transitions: { success: "risk" },
    },
    risk: {
      type: "RISK_CHECK",
      name: "Risk check",
      enabled: true,
      settings: { threshold: 80, action: "deny" },
      transitions: { success: "email-otp", "high-risk": "DENY" },
    },
    "email-otp": {
      type: "EMAIL_OTP",
      name: "Email code",
      enabled: true,
      settings: { codeLength: 8, ttlSeconds: 600 },
      transitions: { success: "COMPLETE", failure: "DENY" },
    },
  },
};

/** The three journeys every benchmark application gets. */
export const BENCH_JOURNEYS = [
  { key: "login", name: "Login", type: "LOGIN", document: DEMO_LOGIN },
  { key: "password-recovery", name: "Password recovery", type: "PASSWORD_RECOVERY", document: PASSWORD_RECOVERY },
  { key: "registration", name: "Registration", type: "REGISTRATION", document: DEMO_REGISTRATION },
] as const;

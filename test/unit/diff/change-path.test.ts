import { describe, expect, it } from "vitest";
import {
  type ChangeTarget,
  changePath,
  escapePointerToken,
  parseChangePath,
  unescapePointerToken,
} from "../../../src/domain/change-path.js";

const TARGETS: [string, ChangeTarget][] = [
  ["/client", { kind: "client" }],
  ["/client/settings/accessTokenTtlSeconds", { kind: "clientSetting", key: "accessTokenTtlSeconds" }],
  ["/journeys/login", { kind: "journey", journeyKey: "login" }],
  ["/journeys/login/start", { kind: "start", journeyKey: "login" }],
  ["/journeys/login/order", { kind: "order", journeyKey: "login" }],
  ["/journeys/login/steps/email-otp", { kind: "step", journeyKey: "login", stepKey: "email-otp" }],
  ["/journeys/login/steps/email-otp/name", { kind: "stepName", journeyKey: "login", stepKey: "email-otp" }],
  ["/journeys/login/steps/email-otp/enabled", { kind: "stepEnabled", journeyKey: "login", stepKey: "email-otp" }],
  [
    "/journeys/login/steps/email-otp/settings/codeLength",
    { kind: "stepSetting", journeyKey: "login", stepKey: "email-otp", key: "codeLength" },
  ],
  [
    "/journeys/login/steps/password/transitions/success",
    { kind: "transition", journeyKey: "login", stepKey: "password", outcome: "success" },
  ],
  ["/journeys/a~1b/steps/c~0d/settings/~01", { kind: "stepSetting", journeyKey: "a/b", stepKey: "c~d", key: "~1" }],
];

describe("change paths", () => {
  it.each(TARGETS)("%s is written and read back", (path, target) => {
    expect(changePath(target)).toBe(path);
    expect(parseChangePath(path)).toEqual(target);
  });

  it("escapes ~ before /, as RFC 6901 says, and unescapes in the reverse order", () => {
    expect(escapePointerToken("a~/b")).toBe("a~0~1b");
    expect(escapePointerToken("a/b")).toBe("a~1b");
    expect(escapePointerToken("a~b")).toBe("a~0b");
    expect(escapePointerToken("email-otp")).toBe("email-otp");
    expect(unescapePointerToken("a~0~1b")).toBe("a~/b");
    expect(unescapePointerToken("~01")).toBe("~1");
    expect(unescapePointerToken("a~1b")).toBe("a/b");
    expect(unescapePointerToken("email-otp")).toBe("email-otp");
  });

  it.each([
    "",
    "client",
    "/clients",
    "/client/settings",
    "/journeys",
    "/journeys/login/steps",
    "/journeys/login/steps/x/other",
    "/journeys/login/name",
    "xjourneys/login",
    "_client",
    "/client/secrets/x",
    "/client/settings/x/y",
    "/other/login",
    "/journeys/login/start/x",
    "/journeys/login/order/x",
    "/journeys/login/other/x",
    "/journeys/login/steps/x/name/y",
    "/journeys/login/steps/x/enabled/y",
    "/journeys/login/steps/x/settings",
    "/journeys/login/steps/x/settings/a/b",
    "/journeys/login/steps/x/transitions",
    "/journeys/login/steps/x/transitions/a/b",
    "/journeys/login/steps/x/other/y",
  ])("rejects %j, which no diff produces", (path) => {
    expect(parseChangePath(path)).toBeNull();
  });
});

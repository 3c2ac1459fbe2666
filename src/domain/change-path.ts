/**
 * Where a change lands in the application's promotable document, as a structured target and as
 * the JSON Pointer (RFC 6901) that clients see. Both directions are exact inverses, so a change
 * read back from an audit row or a client request can be applied from its path alone.
 */
export type ChangeTarget =
  | { kind: "client" }
  | { kind: "clientSetting"; key: string }
  | { kind: "journey"; journeyKey: string }
  | { kind: "start"; journeyKey: string }
  | { kind: "order"; journeyKey: string }
  | { kind: "step"; journeyKey: string; stepKey: string }
  | { kind: "stepName"; journeyKey: string; stepKey: string }
  | { kind: "stepEnabled"; journeyKey: string; stepKey: string }
  | { kind: "stepSetting"; journeyKey: string; stepKey: string; key: string }
  | { kind: "transition"; journeyKey: string; stepKey: string; outcome: string };

/** RFC 6901: `~` becomes `~0`, then `/` becomes `~1`. */
export function escapePointerToken(token: string): string {
  // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent, a shortcut: replacing in a token without ~ or / changes nothing
  if (!token.includes("~") && !token.includes("/")) return token;
  return token.replace(/~/g, "~0").replace(/\//g, "~1");
}

export function unescapePointerToken(token: string): string {
  // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent, a shortcut: replacing in a token without ~ changes nothing
  if (!token.includes("~")) return token;
  return token.replace(/~1/g, "/").replace(/~0/g, "~");
}

export function changePath(target: ChangeTarget): string {
  const e = escapePointerToken;
  switch (target.kind) {
    case "client":
      return "/client";
    case "clientSetting":
      return `/client/settings/${e(target.key)}`;
    case "journey":
      return `/journeys/${e(target.journeyKey)}`;
    case "start":
      return `/journeys/${e(target.journeyKey)}/start`;
    case "order":
      return `/journeys/${e(target.journeyKey)}/order`;
    case "step":
      return `/journeys/${e(target.journeyKey)}/steps/${e(target.stepKey)}`;
    case "stepName":
      return `/journeys/${e(target.journeyKey)}/steps/${e(target.stepKey)}/name`;
    case "stepEnabled":
      return `/journeys/${e(target.journeyKey)}/steps/${e(target.stepKey)}/enabled`;
    case "stepSetting":
      return `/journeys/${e(target.journeyKey)}/steps/${e(target.stepKey)}/settings/${e(target.key)}`;
    case "transition":
      return `/journeys/${e(target.journeyKey)}/steps/${e(target.stepKey)}/transitions/${e(target.outcome)}`;
  }
}

/** The target a change path names, or null when the path is not one a diff produces. */
export function parseChangePath(path: string): ChangeTarget | null {
  if (!path.startsWith("/")) return null;
  const t = path.slice(1).split("/").map(unescapePointerToken);
  if (t[0] === "client") {
    if (t.length === 1) return { kind: "client" };
    if (t.length === 3 && t[1] === "settings") return { kind: "clientSetting", key: t[2] };
    return null;
  }
  // Stryker disable next-line ConditionalExpression: `t.length < 2` is equivalent (a lone "/journeys" has no t[2] === "steps" below); the rest is covered
  if (t[0] !== "journeys" || t.length < 2) return null;
  const journeyKey = t[1];
  if (t.length === 2) return { kind: "journey", journeyKey };
  if (t.length === 3 && t[2] === "start") return { kind: "start", journeyKey };
  if (t.length === 3 && t[2] === "order") return { kind: "order", journeyKey };
  // Stryker disable next-line ConditionalExpression: `t.length < 4` is equivalent (no length-3 path is read below); the rest is covered
  if (t[2] !== "steps" || t.length < 4) return null;
  const stepKey = t[3];
  if (t.length === 4) return { kind: "step", journeyKey, stepKey };
  if (t.length === 5 && t[4] === "name") return { kind: "stepName", journeyKey, stepKey };
  if (t.length === 5 && t[4] === "enabled") return { kind: "stepEnabled", journeyKey, stepKey };
  if (t.length === 6 && t[4] === "settings") return { kind: "stepSetting", journeyKey, stepKey, key: t[5] };
  if (t.length === 6 && t[4] === "transitions") return { kind: "transition", journeyKey, stepKey, outcome: t[5] };
  return null;
}

import type { JsonObject, JsonValue, Problem } from "./journey-document.js";

/**
 * Variables (DESIGN.md §6): organization-wide keys with one value per environment. Configurations
 * hold references to them — `&{webhook.host}` — never their values, so a promotion carries the
 * reference upward and each environment resolves it to its own value. This module is the pure part:
 * the reference syntax, the kinds and what fits them, and resolving a configuration value against
 * one environment's values. Storage, secrets' encryption and the checks that need data live above.
 */

export const VARIABLE_KINDS = ["STRING", "NUMBER", "BOOLEAN", "URL", "JSON", "SECRET"] as const;
export type VariableKind = (typeof VARIABLE_KINDS)[number];

export const VARIABLE_LIMITS = {
  /** Characters of a key. */
  keyLength: 100,
  /** Characters of a STRING, URL or SECRET value. */
  textLength: 4_096,
  /** Bytes of a JSON value, as JSON. */
  jsonBytes: 64 * 1024,
} as const;

/** A key: a slug with dots, e.g. `webhook.host`, `otp-length`. */
const KEY = /^[a-z][a-z0-9]*(?:[.-][a-z0-9]+)*$/;

export function isVariableKey(value: string): boolean {
  return value.length <= VARIABLE_LIMITS.keyLength && KEY.test(value);
}

/** A piece of a string as written in a configuration: literal text, or a reference. */
export type Segment = { text: string } | { key: string };

/** How a string reads: its segments (escapes undone in the text) and what is malformed in it. */
export interface ParsedText {
  segments: Segment[];
  problems: string[];
}

const REFERENCE_OPEN = "&{";
const ESCAPED_OPEN = "\\&{";

/**
 * Reads a string: `&{key}` is a reference, `\&{` a literal `&{`; any other character is itself. An
 * `&{` without its `}` or with a key that is not one is a problem (never silently literal text: a
 * typo in a reference must not reach production as text).
 */
export function parseText(value: string): ParsedText {
  const segments: Segment[] = [];
  const problems: string[] = [];
  let text = "";
  let i = 0;
  while (i < value.length) {
    if (value.startsWith(ESCAPED_OPEN, i)) {
      text += REFERENCE_OPEN;
      i += ESCAPED_OPEN.length;
      continue;
    }
    if (value.startsWith(REFERENCE_OPEN, i)) {
      const close = value.indexOf("}", i + REFERENCE_OPEN.length);
      if (close === -1) {
        problems.push(`"&{" at ${i} has no closing "}" (write \\&{ for a literal "&{")`);
        text += value.slice(i);
        break;
      }
      const key = value.slice(i + REFERENCE_OPEN.length, close);
      if (!isVariableKey(key)) {
        problems.push(
          `"&{${key.length > 40 ? `${key.slice(0, 40)}…` : key}}" is not a variable reference: a key is lower-case letters and digits, in parts joined by "." or "-"`,
        );
      } else {
        if (text) segments.push({ text });
        text = "";
        segments.push({ key });
      }
      i = close + 1;
      continue;
    }
    text += value[i];
    i++;
  }
  if (text || segments.length === 0) segments.push({ text });
  return { segments, problems };
}

/** The key of a string that is one whole reference (`"&{otp.length}"`), else null. */
export function wholeReference(value: string): string | null {
  const { segments, problems } = parseText(value);
  return problems.length === 0 && segments.length === 1 && "key" in segments[0] ? segments[0].key : null;
}

/** Whether a string holds references or escapes, i.e. reads as something other than itself. */
function isPlain(value: string): boolean {
  return !value.includes(REFERENCE_OPEN);
}

/** One use of a variable in a configuration value. */
export interface ReferenceUse {
  key: string;
  /** Where, as problems name paths (`steps.webhook.settings.url`). */
  path: string;
  /** The whole value is the reference (it takes the variable's typed value). */
  whole: boolean;
}

const join = (path: string, part: string | number) => (path ? `${path}.${part}` : String(part));

/** Every reference in a JSON value, and every malformed one as a problem at its path. */
export function referencesIn(value: JsonValue, path = ""): { uses: ReferenceUse[]; problems: Problem[] } {
  const uses: ReferenceUse[] = [];
  const problems: Problem[] = [];
  const visit = (v: JsonValue, at: string) => {
    if (typeof v === "string") {
      // Stryker disable next-line ConditionalExpression: a shortcut (`false` is equivalent: parseText of a text without "&{" gives one text segment and no problem, so no use); `true` is killed by the tests
      if (isPlain(v)) return;
      const parsed = parseText(v);
      for (const message of parsed.problems) problems.push({ path: at, message });
      const keys = parsed.segments.filter((s): s is { key: string } => "key" in s);
      // Stryker disable next-line ConditionalExpression: `keys.length === 1` → true is equivalent, `whole` is read only for a key, and a single segment that is a key is the only key; the line's other mutants are killed by the tests
      const whole = parsed.segments.length === 1 && keys.length === 1;
      for (const { key } of keys) uses.push({ key, path: at, whole });
      return;
    }
    // (A disable comment is seen before a statement, not before an `else if`.)
    // Stryker disable next-line ConditionalExpression: `false` is equivalent, an array then takes the object branch, whose Object.entries gives the same indices in order, joined to the same paths; `true` is killed by the tests
    if (Array.isArray(v)) {
      for (const [index, item] of v.entries()) visit(item, join(at, index));
    } else if (v !== null && typeof v === "object") {
      for (const [key, item] of Object.entries(v)) visit(item, join(at, key));
    }
  };
  visit(value, path);
  return { uses, problems };
}

/**
 * Whether a path (as problems name them) lies in settings — a step's (`…steps.<key>.settings…`)
 * or a client's (`…client.settings…`, or `settings…` of client settings alone): the only places a
 * reference means anything. Text like `&{x}` in a step's name is just text.
 */
export function isSettingPath(path: string): boolean {
  const parts = path.split(".");
  if (parts[0] === "settings") return true;
  // Stryker disable next-line EqualityOperator: `<=` is equivalent, parts[parts.length] is undefined and matches nothing; `>=` is killed by the tests
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] === "steps" && parts[i + 2] === "settings") return true;
    if (parts[i] === "client" && parts[i + 1] === "settings") return true;
  }
  return false;
}

/** The references of a configuration value that lie in settings (see isSettingPath). */
export function settingReferencesIn(value: JsonValue, path: string): ReferenceUse[] {
  return referencesIn(value, path).uses.filter((use) => isSettingPath(use.path));
}

/** Why a value does not fit a kind, or null when it does. */
export function valueProblem(kind: VariableKind, value: unknown): string | null {
  switch (kind) {
    case "STRING":
    case "SECRET":
      if (typeof value !== "string") return `a ${kind} value is a string`;
      if (kind === "SECRET" && value.length === 0) return "a SECRET value is not empty";
      if (value.length > VARIABLE_LIMITS.textLength) return `at most ${VARIABLE_LIMITS.textLength} characters`;
      if (value.includes("\u0000")) return "no NUL characters";
      return null;
    case "URL": {
      if (typeof value !== "string") return "a URL value is a string";
      if (value.length > VARIABLE_LIMITS.textLength) return `at most ${VARIABLE_LIMITS.textLength} characters`;
      if (!URL.canParse(value)) return "an absolute URL, e.g. https://hooks.example.com/risk";
      const { protocol } = new URL(value);
      return protocol === "https:" || protocol === "http:" ? null : "an http or https URL";
    }
    case "NUMBER":
      // Stryker disable next-line ConditionalExpression: `typeof value === "number"` → true is equivalent, Number.isFinite is false for anything but a number (it does not convert); the line's other mutants are killed by the tests
      return typeof value === "number" && Number.isFinite(value) ? null : "a NUMBER value is a finite number";
    case "BOOLEAN":
      return typeof value === "boolean" ? null : "a BOOLEAN value is true or false";
    case "JSON": {
      if (value === undefined) return "a JSON value";
      const text = JSON.stringify(value);
      if (text === undefined) return "a JSON value";
      return new TextEncoder().encode(text).length > VARIABLE_LIMITS.jsonBytes
        ? `at most ${VARIABLE_LIMITS.jsonBytes} bytes as JSON`
        : null;
    }
  }
}

/** One environment's variable as resolution sees it: its kind and, where it has one, its value. */
export interface ResolvableVariable {
  kind: VariableKind;
  /** Absent: the environment has no value. For SECRET, the plaintext only when secrets are resolved. */
  value?: JsonValue;
}

export interface Resolution {
  /** The value with references replaced; a reference that cannot be replaced stays as written. */
  value: JsonValue;
  /** Referenced variables that do not exist or have no value in the environment, each once, by key (misplaced ones too). */
  missing: string[];
  /** References that are used where they may not be (a NUMBER inside a text, a SECRET outside a secret setting…). */
  problems: Problem[];
}

export interface ResolveOptions {
  /** Paths (as problems name them) of secret settings: they take only a whole SECRET reference. */
  secretPaths?: ReadonlySet<string>;
  /**
   * `reference`: secret settings keep their reference (what any reader but the runtime sees);
   * `value`: they get the plaintext (the runtime's configuration only).
   */
  secrets: "reference" | "value";
}

/**
 * A configuration value as one environment runs it: each whole reference takes the variable's typed
 * value, each embedded one (STRING or URL only) its text, `\&{` reads as `&{`. Secrets stay
 * references unless `secrets: "value"`. What cannot be resolved is reported, never guessed.
 */
export function resolveValue(
  value: JsonValue,
  lookup: (key: string) => ResolvableVariable | undefined,
  options: ResolveOptions,
  path = "",
): Resolution {
  const missing = new Set<string>();
  const problems: Problem[] = [];
  const secretPaths = options.secretPaths ?? new Set<string>();

  const resolveText = (text: string, at: string): JsonValue => {
    if (isPlain(text)) {
      if (secretPaths.has(at))
        problems.push({ path: at, message: "a secret setting takes a whole reference to a SECRET variable, e.g. &{webhook.secret}" });
      return text;
    }
    const parsed = parseText(text);
    for (const message of parsed.problems) problems.push({ path: at, message });
    if (parsed.problems.length > 0) return text;
    const isSecretSetting = secretPaths.has(at);
    if (parsed.segments.length === 1 && "key" in parsed.segments[0]) {
      const { key } = parsed.segments[0];
      const variable = lookup(key);
      if (variable && (variable.kind === "SECRET") !== isSecretSetting) {
        // Misplaced and without a value: both are said (a propagation is refused for the missing value).
        if (variable.value === undefined) missing.add(key);
        problems.push({
          path: at,
          message: isSecretSetting
            ? `&{${key}} is a ${variable.kind} variable: a secret setting takes a SECRET variable`
            : `&{${key}} is a SECRET variable: secrets go only into secret settings (e.g. WEBHOOK's signingSecret)`,
        });
        return text;
      }
      if (!variable || variable.value === undefined) {
        missing.add(key);
        return text;
      }
      if (variable.kind === "SECRET" && options.secrets === "reference") return text;
      return variable.value;
    }
    if (isSecretSetting) {
      problems.push({ path: at, message: "a secret setting takes a whole reference to a SECRET variable, nothing around it" });
      return text;
    }
    let resolved = "";
    let complete = true;
    for (const segment of parsed.segments) {
      if ("text" in segment) {
        resolved += segment.text;
        continue;
      }
      const variable = lookup(segment.key);
      if (variable && variable.kind !== "STRING" && variable.kind !== "URL") {
        if (variable.value === undefined) missing.add(segment.key);
        problems.push({
          path: at,
          message: `&{${segment.key}} is a ${variable.kind} variable: only STRING and URL variables can be part of a text`,
        });
        complete = false;
        continue;
      }
      if (!variable || typeof variable.value !== "string") {
        missing.add(segment.key);
        complete = false;
        continue;
      }
      resolved += variable.value;
    }
    return complete ? resolved : text;
  };

  const visit = (v: JsonValue, at: string): JsonValue => {
    if (typeof v === "string") return resolveText(v, at);
    if (secretPaths.has(at)) {
      problems.push({ path: at, message: "a secret setting takes a whole reference to a SECRET variable, e.g. &{webhook.secret}" });
      return v;
    }
    if (Array.isArray(v)) return v.map((item, index) => visit(item, join(at, index)));
    if (v !== null && typeof v === "object") {
      // fromEntries defines each key as an own property, `__proto__` included.
      return Object.fromEntries(Object.entries(v).map(([key, item]) => [key, visit(item, join(at, key))])) as JsonObject;
    }
    return v;
  };

  const resolved = visit(value, path);
  return { value: resolved, missing: [...missing].sort(), problems };
}

import type { ChangeKind, UnbundledChange } from "./change.js";
import { type ChangeTarget, parseChangePath } from "./change-path.js";
import { clientSettingLabel } from "./client-settings.js";
import type { JsonValue } from "./journey-document.js";
import { settingLabel, stepTypeLabel } from "./step-catalogue.js";

/**
 * One-line human descriptions of changes ("Email code · code length: 6 → 8") and labels of
 * bundles ("Add step Email code"). References to steps (start, transitions, order) show step
 * keys, because those are what the values hold; steps themselves are shown by their name.
 */

export interface SummaryInput {
  target: ChangeTarget;
  kind: ChangeKind;
  oldValue: JsonValue | null;
  newValue: JsonValue | null;
  /** Display name of the step a step-level change is about (its name in `from` when it has one). */
  stepName?: string;
}

const MAX_VALUE_LENGTH = 80;

export function summarizeChange({ target, kind, oldValue, newValue, stepName = "" }: SummaryInput): string {
  return oneLine(summaryText(target, kind, oldValue, newValue, stepName));
}

function summaryText(
  target: ChangeTarget,
  kind: ChangeKind,
  oldValue: JsonValue | null,
  newValue: JsonValue | null,
  stepName: string,
): string {
  switch (target.kind) {
    case "client":
      // diffs compare the settings of two clients key by key: only a whole client appears or disappears
      return `${kind === "ADDED" ? "Added" : "Removed"} client settings`;
    case "clientSetting":
      return `Client settings · ${clientSettingLabel(target.key)}: ${formatValue(oldValue)} → ${formatValue(newValue)}`;
    case "journey":
      // a journey on both sides is diffed inside: a whole journey only appears or disappears
      return `${kind === "ADDED" ? "Added" : "Removed"} journey ${target.journeyKey}`;
    case "start":
      return `Start: ${formatValue(oldValue)} → ${formatValue(newValue)}`;
    case "order":
      return orderSummary(stringList(oldValue), stringList(newValue));
    case "step":
      return stepSummary(target.stepKey, kind, oldValue, newValue);
    case "stepName":
      return `Renamed step ${formatValue(oldValue)} → ${formatValue(newValue)}`;
    case "stepEnabled":
      return `${newValue === false ? "Disabled" : "Enabled"} step ${stepName}`;
    case "stepSetting":
      return `${stepName} · ${settingLabel(target.key)}: ${formatValue(oldValue)} → ${formatValue(newValue)}`;
    case "transition":
      if (kind === "ADDED") return `${stepName} · on ${target.outcome} → ${formatValue(newValue)} (new outcome)`;
      if (kind === "REMOVED") return `${stepName} · on ${target.outcome}: removed (was ${formatValue(oldValue)})`;
      return `${stepName} · on ${target.outcome} → ${formatValue(newValue)} (was ${formatValue(oldValue)})`;
  }
}

function stepSummary(key: string, kind: ChangeKind, oldValue: JsonValue | null, newValue: JsonValue | null): string {
  if (kind === "ADDED") return `Added step ${describeStep(newValue, key)}`;
  if (kind === "REMOVED") return `Removed step ${describeStep(oldValue, key)}`;
  const before = stepParts(oldValue, key);
  const after = stepParts(newValue, key);
  if (before.name === after.name) return `Changed step ${after.name} from ${before.type} to ${after.type}`;
  return `Replaced step ${describeStep(oldValue, key)} with ${describeStep(newValue, key)}`;
}

/** "Email code (EMAIL_OTP)" */
function describeStep(step: JsonValue | null, key: string): string {
  const { name, type } = stepParts(step, key);
  return `${name} (${type})`;
}

function stepParts(step: JsonValue | null, key: string): { name: string; type: string } {
  // a value that is not a step object (a malformed stored one) has neither a name nor a type: a
  // string's, a number's or a list's `type` and `name` read as undefined
  const record = (step ?? {}) as { name?: unknown; type?: unknown };
  const type = typeof record.type === "string" ? record.type : "?";
  return { name: stepDisplayName(record.name, type, key), type };
}

/** The step's name; a nameless step is shown by its type's label, then by its key. */
export function stepDisplayName(name: unknown, type: unknown, key: string): string {
  if (typeof name === "string" && name.trim() !== "") return name;
  if (typeof type === "string" && type !== "") return stepTypeLabel(type);
  return key;
}

/**
 * Names the steps whose place differs from where they would land without the order change (the
 * steps present on both sides in `to`'s order, then the added ones): those outside a heaviest
 * common subsequence of the two, where keeping a step present on both sides outweighs keeping any
 * number of added ones, so an added step is named before a step that was there already.
 */
function orderSummary(before: string[], after: string[]): string {
  const afterSet = new Set(after);
  const beforeSet = new Set(before);
  // Stryker disable next-line MethodExpression: `before` unfiltered is equivalent, a removed step matches no step of `after`, so the walk below skips it
  const implied = [...before.filter((key) => afterSet.has(key)), ...after.filter((key) => !beforeSet.has(key))];
  const kept = heaviestCommonSubsequence(implied, after, (key) => (beforeSet.has(key) ? after.length + 1 : 1));
  const moved = after.filter((key) => !kept.has(key));
  if (moved.length === 0) return `Step order: ${after.join(", ")}`;
  if (moved.length === 1) {
    const [key] = moved;
    const verb = beforeSet.has(key) ? "moved" : "placed";
    const next = after[after.indexOf(key) + 1];
    return next === undefined ? `Step order: ${key} ${verb} last` : `Step order: ${key} ${verb} before ${next}`;
  }
  const shown = moved.slice(0, 3).join(", ");
  return moved.length > 3 ? `Step order: ${shown} and ${moved.length - 3} more moved` : `Step order: ${shown} moved`;
}

function heaviestCommonSubsequence(a: readonly string[], b: readonly string[], weight: (key: string) => number): Set<string> {
  const width = b.length + 1;
  const best = new Float64Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      const skip = Math.max(best[(i + 1) * width + j], best[i * width + j + 1]);
      best[i * width + j] = a[i] === b[j] ? Math.max(skip, best[(i + 1) * width + j + 1] + weight(a[i])) : skip;
    }
  }
  const common = new Set<string>();
  // Stryker disable next-line EqualityOperator,ConditionalExpression: `<=`, and `i < a.length` → `true`, are equivalent: one step past either end no key matches (a[i] or b[j] is undefined) and the walk ends at the other; the whole condition's `true` and `false` are killed by the tests
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    // Keys are unique in each list, so a key both have here is in a heaviest common subsequence
    // from here: one without it cannot use b[j] either, so it is one from (i + 1, j + 1), lighter.
    if (a[i] === b[j]) {
      common.add(a[i]);
      i++;
      j++;
    } else if (best[(i + 1) * width + j] >= best[i * width + j + 1]) i++;
    else j++;
  }
  return common;
}

function stringList(value: JsonValue | null): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

/** `6`, `on`, `[email, phone]`, `not set` */
export function formatValue(value: JsonValue | null): string {
  const text = formatJson(value, true);
  return text.length > MAX_VALUE_LENGTH ? `${text.slice(0, MAX_VALUE_LENGTH - 1)}…` : text;
}

function formatJson(value: JsonValue | null, top: boolean): string {
  if (value === null) return top ? "not set" : "null";
  if (typeof value === "boolean") return value ? "on" : "off";
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return `[${value.map((item) => formatJson(item, false)).join(", ")}]`;
  return `{${Object.keys(value)
    .sort()
    .map((key) => `${key}: ${formatJson(value[key], false)}`)
    .join(", ")}}`;
}

/** Values may hold line breaks or runs of spaces; a summary is one line. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/**
 * What a bundle enables: "Add step Email code", "Add step Email code, remove step SMS code". A
 * bundle of one change is labelled by its summary.
 */
export function bundleLabel(changes: readonly UnbundledChange[]): string {
  if (changes.length === 1) return changes[0].summary;
  const added: string[] = [];
  const removed: string[] = [];
  for (const change of changes) {
    const target = parseChangePath(change.path);
    if (target?.kind !== "step") continue;
    if (change.kind === "ADDED") added.push(stepParts(change.newValue, target.stepKey).name);
    if (change.kind === "REMOVED") removed.push(stepParts(change.oldValue, target.stepKey).name);
  }
  const parts: string[] = [];
  if (added.length > 0) parts.push(`add ${added.length === 1 ? "step" : "steps"} ${listing(added)}`);
  if (removed.length > 0) parts.push(`remove ${removed.length === 1 ? "step" : "steps"} ${listing(removed)}`);
  if (parts.length === 0) return changes[0].summary;
  const label = parts.join(", ");
  return label.charAt(0).toUpperCase() + label.slice(1);
}

/** "a", "a and b", "a, b and c", "a, b, c and 2 more" */
function listing(names: readonly string[]): string {
  if (names.length === 1) return names[0];
  if (names.length <= 3) return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
  return `${names.slice(0, 3).join(", ")} and ${names.length - 3} more`;
}

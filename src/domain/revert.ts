import { canonicalHash, canonicalJson } from "./canonical-json.js";
import type { ApplicationDocument, ChangeBundle, ConfigChange } from "./change.js";
import { type ChangeTarget, changePath, parseChangePath } from "./change-path.js";
import { type DiffSide, diffApplication, type JourneySide } from "./diff.js";
import type { JourneyDocument, JourneyStepDefinition, JsonValue } from "./journey-document.js";
import { JOURNEY_LIMITS, journeyProblems, normalizeOrder, validateStep } from "./journey-validation.js";
import { jsonEqual } from "./json-equal.js";

/**
 * Reverting a past propagation, three-way (DESIGN.md §7). For each item the propagation applied
 * (path, old → new), the target's current value decides:
 *
 * - still the propagated (new) value: the revert sets it back to the old one;
 * - already the old value: reverted before, nothing to do;
 * - anything else: a later change owns it, and the item is a **conflict**, shown and never applied.
 *
 * The reverted configuration is the current one with every revertible item set back; the revert's
 * changes are diff(reverted → current), so they have ids, `requires` and bundles like any diff, and
 * every selection closed under `requires` applies to a valid configuration. That needs the
 * reverted configuration itself to be valid, which a later change can prevent: a step this
 * propagation added that a later change points at cannot be removed, and a reference this
 * propagation replaced cannot come back when the step it named was removed later. Such items are
 * conflicts too, with a message that says which reference (or which conflict) holds them.
 */

/** What a revert reads of one item of the propagation it reverts. */
export interface PropagatedChange {
  path: string;
  /** The target's value before the propagation; null where there was none. */
  oldValue: JsonValue | null;
  /** The value the propagation wrote; null where it removed one. */
  newValue: JsonValue | null;
  /**
   * For a step the propagation removed: its journey's order in the target before, so that a revert
   * brings the step back in its place (without it, the step comes back last).
   */
  oldOrder?: readonly string[];
}

export interface RevertConflict {
  path: string;
  /** The value the propagation wrote (null: it removed the value). */
  propagatedValue: JsonValue | null;
  /** The target's value now (null: there is none). */
  currentValue: JsonValue | null;
  message: string;
}

export interface RevertPlan {
  /** diff(reverted → current): what reverting every revertible item changes in the target. */
  changes: ConfigChange[];
  bundles: ChangeBundle[];
  /** Items a later change owns, in the propagation's order. */
  conflicts: RevertConflict[];
  /** Paths of items whose old value the target holds again: nothing to revert there. */
  alreadyReverted: string[];
}

/** Where a value sits: whether its parent (client, journey or step) exists, and the value if any. */
interface Located {
  parentExists: boolean;
  value: JsonValue | undefined;
}

/**
 * What a propagation records of a change it applies to `before` (the target as it was): the path,
 * both values, and for a step it removes, the journey's order, so that a revert can put it back.
 */
export function propagatedChange(
  before: ApplicationDocument,
  change: Pick<ConfigChange, "path" | "oldValue" | "newValue">,
): PropagatedChange {
  const { path, oldValue, newValue } = change;
  const target = parseChangePath(path);
  if (target?.kind === "step" && newValue === null) {
    const journey = own(before.journeys, target.journeyKey);
    if (journey !== undefined) return { path, oldValue, newValue, oldOrder: [...journey.order] };
  }
  return { path, oldValue, newValue };
}

export function planRevert(current: ApplicationDocument, items: readonly PropagatedChange[]): RevertPlan {
  const conflicts = new Map<string, RevertConflict>();
  const alreadyReverted: string[] = [];
  const candidates = new Map<string, { item: PropagatedChange; target: ChangeTarget }>();
  const conflictItems = new Map<string, PropagatedChange>();

  for (const item of items) {
    const target = parseChangePath(item.path);
    if (target === null) {
      conflicts.set(item.path, conflict(item, undefined, `${item.path} is not a place a propagation writes, so it cannot be reverted`));
      conflictItems.set(item.path, item);
      continue;
    }
    const located = locate(current, target);
    if (holds(current, target, located, item.newValue)) {
      candidates.set(item.path, { item, target });
    } else if (located.parentExists && holds(current, target, located, item.oldValue)) {
      alreadyReverted.push(item.path);
    } else {
      conflicts.set(item.path, conflict(item, located.value, movedMessage(item, target, located)));
      conflictItems.set(item.path, item);
    }
  }

  // A journey whose order the propagation wrote gets its order back from that item, or keeps it (a conflict).
  const orderItems = new Set<string>();
  for (const item of items) {
    const target = parseChangePath(item.path);
    if (target?.kind === "order") orderItems.add(target.journeyKey);
  }
  // Items whose revert would leave a reference to a missing step become conflicts, until none is left.
  let reverted: ApplicationDocument;
  for (;;) {
    reverted = revertedDocument(current, [...candidates.values()], orderItems);
    const held = heldItems(reverted, candidates, conflictItems);
    if (held.size === 0) break;
    for (const [path, message] of held) {
      const { item, target } = candidates.get(path)!;
      candidates.delete(path);
      conflicts.set(path, conflict(item, locate(current, target).value, message));
      conflictItems.set(path, item);
    }
  }

  const journeyKeys = new Set<string>();
  // Stryker disable next-line BooleanLiteral: equivalent, without a client candidate the reverted client is the current one, and diffing it finds nothing
  let includeClient = false;
  for (const { target } of candidates.values()) {
    if ("journeyKey" in target) journeyKeys.add(target.journeyKey);
    else includeClient = true;
  }
  // Stryker disable next-line ObjectLiteral: equivalent, both sides hold only the journeys of journeyKeys, and the client differs only when a client candidate sets includeClient
  const { changes, bundles } = diffApplication(side(reverted, journeyKeys), side(current, journeyKeys), {
    journeyKeys: [...journeyKeys],
    includeClient,
  });
  const order = new Map(items.map((item, index) => [item.path, index]));
  return {
    changes,
    bundles,
    conflicts: [...conflicts.values()].sort((a, b) => order.get(a.path)! - order.get(b.path)!),
    alreadyReverted,
  };
}

function side(document: ApplicationDocument, journeyKeys: ReadonlySet<string>): DiffSide {
  const journeys: Record<string, JourneySide> = {};
  for (const key of journeyKeys) {
    const journey = own(document.journeys, key);
    if (journey !== undefined) journeys[key] = { document: journey, hash: canonicalHash(journey) };
  }
  return { client: document.client, journeys };
}

function conflict(item: PropagatedChange, current: JsonValue | undefined, message: string): RevertConflict {
  return { path: item.path, propagatedValue: item.newValue, currentValue: current ?? null, message };
}

/** Why an item's value is neither what the propagation wrote nor what it replaced. */
function movedMessage(item: PropagatedChange, target: ChangeTarget, located: Located): string {
  if (!located.parentExists) {
    return `${item.path} cannot be reverted: the ${parentName(target)} that held it was removed after this propagation`;
  }
  if (located.value === undefined)
    return `${item.path} was removed after this propagation; reverting would bring back what a later change removed`;
  if (item.newValue === null) return `${item.path} was added again after this propagation; reverting would overwrite that later change`;
  return `${item.path} was changed after this propagation; reverting would overwrite that later change`;
}

function parentName(target: ChangeTarget): string {
  switch (target.kind) {
    case "clientSetting":
      return "client";
    case "start":
    case "order":
    case "step":
      return "journey";
    default:
      return "step";
  }
}

/**
 * Whether the target holds `value` (null: nothing) at an item's place. An `order` is compared as
 * applying it left it: normalized against the journey's steps, the steps it does not list after it
 * in the target's order (not in the document's key order, which storage does not keep).
 */
function holds(current: ApplicationDocument, target: ChangeTarget, located: Located, value: JsonValue | null): boolean {
  if (value === null) return located.parentExists && located.value === undefined;
  if (located.value === undefined) return false;
  if (target.kind === "order" && Array.isArray(value)) {
    const journey = own(current.journeys, target.journeyKey)!;
    return jsonEqual(located.value, normalizeOrder({ ...journey, order: [...(value as string[]), ...journey.order] }).order);
  }
  return jsonEqual(located.value, value);
}

function locate(document: ApplicationDocument, target: ChangeTarget): Located {
  switch (target.kind) {
    case "client":
      return { parentExists: true, value: document.client === null ? undefined : json(document.client) };
    case "clientSetting":
      return document.client === null
        ? // Stryker disable next-line ObjectLiteral: equivalent, a missing parentExists reads as false wherever it is read
          { parentExists: false, value: undefined }
        : { parentExists: true, value: own(json(document.client.settings) as Record<string, JsonValue>, target.key) };
    case "journey":
      return { parentExists: true, value: json(own(document.journeys, target.journeyKey)) };
  }
  const journey = own(document.journeys, target.journeyKey);
  // Stryker disable next-line ObjectLiteral: equivalent, a missing parentExists reads as false wherever it is read
  if (journey === undefined) return { parentExists: false, value: undefined };
  switch (target.kind) {
    case "start":
      return { parentExists: true, value: journey.start };
    case "order":
      return { parentExists: true, value: journey.order };
    case "step":
      return { parentExists: true, value: json(own(journey.steps, target.stepKey)) };
  }
  const step = own(journey.steps, target.stepKey);
  // Stryker disable next-line ObjectLiteral: equivalent, a missing parentExists reads as false wherever it is read
  if (step === undefined) return { parentExists: false, value: undefined };
  switch (target.kind) {
    case "stepName":
      return { parentExists: true, value: step.name };
    case "stepEnabled":
      return { parentExists: true, value: step.enabled };
    case "stepSetting":
      return { parentExists: true, value: own(step.settings, target.key) };
    case "transition":
      return { parentExists: true, value: own(step.transitions, target.outcome) };
  }
}

/**
 * The current document with every candidate set back to its old value; touched journeys' orders
 * normalized. A step that comes back goes to its old place, unless the propagation wrote that
 * journey's order: then the order item puts it there, or, a conflict, leaves the order as it is.
 */
function revertedDocument(
  current: ApplicationDocument,
  candidates: readonly { item: PropagatedChange; target: ChangeTarget }[],
  orderItems: ReadonlySet<string>,
) {
  const client = current.client === null ? null : { settings: { ...current.client.settings } };
  const result: ApplicationDocument = { client, journeys: { ...current.journeys } };
  const copied = new Set<string>();
  const journeyFor = (key: string): JourneyDocument => {
    // Stryker disable next-line ConditionalExpression: a shortcut (copy on write; `true` copies again the journey of `result`, already a copy, and each item writes to the copy it gets); `false` is killed by the tests
    if (!copied.has(key)) {
      copied.add(key);
      const journey = result.journeys[key];
      result.journeys[key] = { ...journey, order: [...journey.order], steps: { ...journey.steps } };
    }
    return result.journeys[key];
  };
  const steps = new Set<string>();
  const stepFor = (journey: JourneyDocument, journeyKey: string, stepKey: string): JourneyStepDefinition => {
    const id = `${journeyKey}\u0000${stepKey}`;
    // Stryker disable next-line ConditionalExpression: a shortcut (copy on write; `true` copies again the step of the journey copy, already a copy, and each item writes to the copy it gets); `false` is killed by the tests
    if (!steps.has(id)) {
      steps.add(id);
      const step = journey.steps[stepKey];
      journey.steps[stepKey] = { ...step, settings: { ...step.settings }, transitions: { ...step.transitions } };
    }
    return journey.steps[stepKey];
  };

  const restoredSteps: { journeyKey: string; stepKey: string; oldOrder: readonly string[] }[] = [];
  for (const { item, target } of candidates) {
    const value = item.oldValue;
    switch (target.kind) {
      case "client":
        // Stryker disable next-line ConditionalExpression: `false` is equivalent, structuredClone(null) is null; `true` is killed by the tests
        result.client = value === null ? null : (structuredClone(value) as unknown as ApplicationDocument["client"]);
        continue;
      case "clientSetting":
        setOrDelete(result.client!.settings as unknown as Record<string, JsonValue>, target.key, value);
        continue;
      case "journey":
        if (value === null) delete result.journeys[target.journeyKey];
        else result.journeys[target.journeyKey] = structuredClone(value) as unknown as JourneyDocument;
        copied.add(target.journeyKey);
        continue;
    }
    const journey = journeyFor(target.journeyKey);
    switch (target.kind) {
      case "start":
        journey.start = value as string;
        continue;
      case "order":
        // the steps the old order does not list keep the target's order after it
        journey.order = [...(value as string[]), ...journey.order];
        continue;
      case "step":
        if (
          // Stryker disable next-line ConditionalExpression: `true` is equivalent, a step the revert removes (value null) is dropped from the order by normalizeOrder below even if placed in it; `false` is killed by the tests
          value !== null &&
          item.oldOrder !== undefined &&
          !orderItems.has(target.journeyKey) &&
          !Object.hasOwn(journey.steps, target.stepKey)
        ) {
          restoredSteps.push({ journeyKey: target.journeyKey, stepKey: target.stepKey, oldOrder: item.oldOrder });
        }
        setOrDelete(journey.steps as unknown as Record<string, JsonValue>, target.stepKey, value);
        // Stryker disable next-line StringLiteral: a shortcut, the step written here is a fresh clone; a wrong id only lets stepFor copy it again
        steps.add(`${target.journeyKey}\u0000${target.stepKey}`);
        continue;
    }
    const step = stepFor(journey, target.journeyKey, target.stepKey);
    switch (target.kind) {
      case "stepName":
        step.name = value as string;
        continue;
      case "stepEnabled":
        step.enabled = value as boolean;
        continue;
      case "stepSetting":
        setOrDelete(step.settings, target.key, value);
        continue;
      case "transition":
        setOrDelete(step.transitions as unknown as Record<string, JsonValue>, target.outcome, value);
        continue;
    }
  }
  placeRestoredSteps(result, restoredSteps);
  for (const key of copied) {
    const journey = own(result.journeys, key);
    if (journey !== undefined) result.journeys[key] = normalizeOrder(journey);
  }
  return result;
}

/**
 * Puts each step a revert brings back right after the nearest step before it in the order it had that is still there, or first.
 * Taken in the old order's sequence, so that neighbours that come back together keep theirs: with
 * nothing moved since, the target's order is the one before the propagation exactly.
 */
function placeRestoredSteps(
  result: ApplicationDocument,
  restored: readonly { journeyKey: string; stepKey: string; oldOrder: readonly string[] }[],
): void {
  // Stryker disable next-line MethodExpression,ArrowFunction,ArithmeticOperator: equivalent for a propagation's items, which record one order per journey: a step placed before the one before it comes back goes after the same step, and that one, placed later, lands right before it; any sequence gives the same order
  const byPlace = [...restored].sort((a, b) => a.oldOrder.indexOf(a.stepKey) - b.oldOrder.indexOf(b.stepKey));
  for (const { journeyKey, stepKey, oldOrder } of byPlace) {
    const journey = own(result.journeys, journeyKey);
    // Stryker disable next-line ConditionalExpression,LogicalOperator: guards never reached with a propagation's items on a stored target (no diff has an item inside a journey it adds or removes whole, a stored order lists only steps the journey has, and the recorded order, the journey's before the step was removed, lists the step); `true` is killed by the tests
    if (journey === undefined || journey.order.includes(stepKey) || !oldOrder.includes(stepKey)) continue;
    let at = 0;
    for (let i = oldOrder.indexOf(stepKey) - 1; i >= 0; i--) {
      const before = journey.order.indexOf(oldOrder[i]);
      if (before !== -1) {
        at = before + 1;
        break;
      }
    }
    journey.order.splice(at, 0, stepKey);
  }
}

function setOrDelete(record: Record<string, JsonValue>, key: string, value: JsonValue | null): void {
  if (value === null) delete record[key];
  else record[key] = structuredClone(value);
}

/**
 * Candidates whose revert leaves a journey invalid, each with the reason: a reference to a step
 * that is missing in the reverted journey is held by the candidate that wrote it back, or else by
 * the candidate that removes the step it names (the reference came from a later change, or from
 * an item that is itself a conflict). A step whose settings the revert leaves invalid for its
 * type (a later change retyped it: a setting of the old type does not fit the new one) holds the
 * candidates that write its settings; a step with too many transitions, those that add one back.
 * A journey invalid for any other reason (too many steps) holds all its candidates.
 */
function heldItems(
  reverted: ApplicationDocument,
  candidates: ReadonlyMap<string, { item: PropagatedChange; target: ChangeTarget }>,
  conflicts: ReadonlyMap<string, PropagatedChange>,
): Map<string, string> {
  const held = new Map<string, string>();
  const byJourney = new Map<string, string[]>();
  for (const [path, { target }] of candidates) {
    if (!("journeyKey" in target)) continue;
    const paths = byJourney.get(target.journeyKey) ?? [];
    paths.push(path);
    byJourney.set(target.journeyKey, paths);
  }
  for (const [journeyKey, paths] of byJourney) {
    const journey = own(reverted.journeys, journeyKey);
    if (journey === undefined) continue;
    const stepPath = (stepKey: string) => changePath({ kind: "step", journeyKey, stepKey });
    const references: { path: string; owners: string[]; to: string }[] = [
      { path: changePath({ kind: "start", journeyKey }), owners: [changePath({ kind: "start", journeyKey })], to: journey.start },
    ];
    // in display order and by outcome, not in the document's key order (storage does not keep it), so
    // that a step several references hold is held with the same message whatever the key order
    for (const stepKey of journey.order) {
      const transitions = journey.steps[stepKey].transitions;
      for (const outcome of Object.keys(transitions).sort()) {
        const path = changePath({ kind: "transition", journeyKey, stepKey, outcome });
        references.push({ path, owners: [path, stepPath(stepKey)], to: transitions[outcome] });
      }
    }
    let found = false;
    for (const reference of references) {
      if (reference.to === "COMPLETE" || reference.to === "DENY" || Object.hasOwn(journey.steps, reference.to)) continue;
      found = true;
      const owner = reference.owners.find((path) => candidates.has(path));
      if (owner !== undefined) {
        held.set(
          owner,
          `Reverting ${owner} would point ${reference.path} at step "${reference.to}", which was removed after this propagation`,
        );
        continue;
      }
      const removal = stepPath(reference.to);
      if (!candidates.has(removal)) continue;
      const conflicted = reference.owners.find((path) => conflicts.has(path));
      held.set(
        removal,
        conflicted !== undefined
          ? `Removing step "${reference.to}" needs the revert of ${conflicted}, which is a conflict`
          : `Removing step "${reference.to}" would break ${reference.path}, which a later change pointed at it`,
      );
    }
    if (found && paths.every((path) => !held.has(path))) {
      for (const path of paths) held.set(path, `Reverting ${path} would leave journey "${journeyKey}" invalid`);
    }
    if (!found) heldSettings(journeyKey, journey, paths, candidates, held);
    if (!found && paths.every((path) => !held.has(path))) {
      const problems =
        Object.keys(journey.steps).length > JOURNEY_LIMITS.steps ? ["too many steps"] : journeyProblems(journey).map((p) => p.message);
      if (problems.length > 0) {
        for (const path of paths) held.set(path, `Reverting ${path} would leave journey "${journeyKey}" invalid: ${problems[0]}`);
      }
    }
  }
  return held;
}

/**
 * Holds the setting candidates of each step whose settings the revert leaves invalid, or not as its type defaults them,
 * and the candidates that add a transition back to a step that would then have too many (a later change added others).
 */
function heldSettings(
  journeyKey: string,
  journey: JourneyDocument,
  paths: readonly string[],
  candidates: ReadonlyMap<string, { item: PropagatedChange; target: ChangeTarget }>,
  held: Map<string, string>,
): void {
  const byStep = new Map<string, string[]>();
  const readded = new Map<string, string[]>();
  for (const path of paths) {
    const { item, target } = candidates.get(path)!;
    if (target.kind === "transition" && item.newValue === null) readded.set(target.stepKey, [...(readded.get(target.stepKey) ?? []), path]);
    if (target.kind !== "stepSetting") continue;
    byStep.set(target.stepKey, [...(byStep.get(target.stepKey) ?? []), path]);
  }
  for (const [stepKey, settingPaths] of byStep) {
    const step = own(journey.steps, stepKey);
    // Stryker disable next-line ConditionalExpression: `false` is a guard never reached (a setting's item is a candidate only where its step is, and only an item of the step itself, never in a diff with one inside it, could remove it); `true` is killed by the tests
    if (step === undefined) continue;
    // without its transitions, whose number (the only limit a revert can break there) is checked below
    const validated = validateStep(stepKey, { ...step, transitions: {} });
    const problem = !validated.ok
      ? validated.problems[0].message
      : canonicalJson(validated.value.settings) !== canonicalJson(step.settings)
        ? `steps.${stepKey}.settings would not hold its type's defaults`
        : undefined;
    if (problem === undefined) continue;
    for (const path of settingPaths) {
      held.set(path, `Reverting ${path} would leave step "${stepKey}" of journey "${journeyKey}" invalid: ${problem}`);
    }
  }
  for (const [stepKey, transitionPaths] of readded) {
    const count = Object.keys(journey.steps[stepKey].transitions).length;
    if (count <= JOURNEY_LIMITS.transitionsPerStep) continue;
    const problem = `steps.${stepKey}.transitions must not contain more than ${JOURNEY_LIMITS.transitionsPerStep} transitions (it has ${count})`;
    for (const path of transitionPaths) {
      held.set(path, `Reverting ${path} would leave step "${stepKey}" of journey "${journeyKey}" invalid: ${problem}`);
    }
  }
}

function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function json(value: object | undefined): JsonValue | undefined {
  return value as unknown as JsonValue | undefined;
}

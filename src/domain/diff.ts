import { bundleChanges } from "./bundles.js";
import { canonicalHash } from "./canonical-json.js";
import { type ApplicationDocument, type ChangeBundle, type ChangeKind, type ConfigChange, changeId } from "./change.js";
import { type ChangeTarget, changePath } from "./change-path.js";
import { stepDisplayName, summarizeChange } from "./change-summary.js";
import type { ClientSettings, JourneyDocument, JourneyStepDefinition, JsonObject, JsonValue } from "./journey-document.js";
import { jsonEqual } from "./json-equal.js";

/**
 * The diff of an application's promotable configuration between two environments (ARCHITECTURE.md, "The domain").
 * diff(from → to) lists what promoting would change in `to`. Journeys whose hashes match are
 * skipped without being read, unchanged steps after one walk that stops at the first difference;
 * only the differences found are hashed into ids, summarized and linked by `requires`.
 */

/** A journey's document with its hash: equal hashes must mean equal canonical documents. */
export interface JourneySide {
  document: JourneyDocument;
  /** canonicalHash(document), as stored with each version */
  hash: string;
}

/** One environment's side of a diff. */
export interface DiffSide {
  client: { settings: ClientSettings } | null;
  journeys: Readonly<Record<string, JourneySide>>;
}

export interface DiffOptions {
  /** Diff only these journeys (the `journeyId` of the query). Default: all of both sides. */
  journeyKeys?: readonly string[];
  /** Whether client settings are compared. Default: true. */
  includeClient?: boolean;
}

export interface ApplicationDiff {
  changes: ConfigChange[];
  bundles: ChangeBundle[];
}

/** The diff side of a document held in memory; hashes every journey. */
export function diffSide(document: ApplicationDocument): DiffSide {
  const journeys: Record<string, JourneySide> = {};
  for (const key of Object.keys(document.journeys)) {
    const journey = document.journeys[key];
    journeys[key] = { document: journey, hash: canonicalHash(journey) };
  }
  return { client: document.client, journeys };
}

export function diffApplication(from: DiffSide, to: DiffSide, options: DiffOptions = {}): ApplicationDiff {
  const steps = diffApplicationInSteps(from, to, options);
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

/** Journeys compared, and changes finished, between two pauses of {@link diffApplicationInSteps}. */
const JOURNEYS_PER_STEP = 4;
const CHANGES_PER_STEP = 400;

/**
 * {@link diffApplication} in steps: it pauses (yields) every few journeys and every few hundred
 * changes, so a caller on a shared thread can let other work run between them (a diff of a large
 * application takes a tenth of a second or more in one piece). The result is the same.
 */
export function* diffApplicationInSteps(from: DiffSide, to: DiffSide, options: DiffOptions = {}): Generator<void, ApplicationDiff, void> {
  const drafts: Draft[] = [];
  if (options.includeClient ?? true) diffClient(from.client, to.client, drafts);

  const keys = options.journeyKeys ?? unionKeys(from.journeys, to.journeys);
  let compared = 0;
  for (const journeyKey of [...new Set(keys)].sort(compareStrings)) {
    const f = own(from.journeys, journeyKey);
    const t = own(to.journeys, journeyKey);
    if (f === undefined && t === undefined) continue;
    if (t === undefined) {
      drafts.push(draft({ kind: "journey", journeyKey }, "ADDED", null, json(f!.document)));
    } else if (f === undefined) {
      drafts.push(draft({ kind: "journey", journeyKey }, "REMOVED", json(t.document), null));
    } else if (f.hash !== t.hash) {
      diffJourney(journeyKey, f.document, t.document, drafts);
      // Stryker disable next-line UpdateOperator: equivalent, counting down yields after every JOURNEYS_PER_STEP comparisons as well, and a yield only gives the event loop a turn
      if (++compared % JOURNEYS_PER_STEP === 0) yield;
    }
  }
  return yield* finish(drafts);
}

/** A change before its id, summary and bundle are computed; `requires` holds paths. */
interface Draft {
  target: ChangeTarget;
  path: string;
  kind: ChangeKind;
  oldValue: JsonValue | null;
  newValue: JsonValue | null;
  stepName?: string;
  requiresPaths: readonly string[];
}

const NO_PATHS: readonly string[] = [];

function draft(
  target: ChangeTarget,
  kind: ChangeKind,
  oldValue: JsonValue | null,
  newValue: JsonValue | null,
  requiresPaths: readonly string[] = NO_PATHS,
  stepName?: string,
): Draft {
  return { target, path: changePath(target), kind, oldValue, newValue, stepName, requiresPaths };
}

function diffClient(from: DiffSide["client"], to: DiffSide["client"], drafts: Draft[]): void {
  if (from === null && to === null) return;
  if (to === null) {
    drafts.push(draft({ kind: "client" }, "ADDED", null, json(from!)));
    return;
  }
  if (from === null) {
    drafts.push(draft({ kind: "client" }, "REMOVED", json(to), null));
    return;
  }
  const f = from.settings as unknown as JsonObject;
  const t = to.settings as unknown as JsonObject;
  for (const key of unionKeys(f, t).sort(compareStrings)) {
    const change = valueChange(own(t, key), own(f, key));
    if (change !== undefined) drafts.push(draft({ kind: "clientSetting", key }, change.kind, change.oldValue, change.newValue));
  }
}

/**
 * One journey present on both sides. The `requires` rules (ARCHITECTURE.md, "The domain", made precise; the property
 * tests check that every closed selection applied to a valid `to` validates):
 *
 * References are `start` and transitions; `order` is normalized on apply and never breaks a
 * document. After applying a selection, a reference is broken only if it names a step that does
 * not exist then: either an added step whose addition was not selected, or a removed step whose
 * removal was selected. So:
 *
 * 1. Anything that writes a reference to an added step requires that step's addition: the `start`
 *    change, a transition change, an added step (its transitions come with it), and a retyped step
 *    (a retype is one whole-step change whose transitions come from `from`, so the rule of added
 *    steps applies to it too).
 * 2. Removing step x requires every change that takes away a reference to x in `to`: the `start`
 *    change when `to` starts at x; for each step s of `to` with a transition to x, the change that
 *    replaces that transition. That is the transition change when s keeps its type, the retype of
 *    s when s is retyped (it has no transition changes of its own: the contract names only "steps that
 *    stay", but a retyped step stays too and still points at x until its retype is applied), and
 *    the removal of s when s is removed as well. A change for each of these always exists, because
 *    x is not in `from`, so nothing in `from` points at it.
 * 3. The order change requires nothing and nothing requires it.
 */
function diffJourney(journeyKey: string, from: JourneyDocument, to: JourneyDocument, drafts: Draft[]): void {
  const fSteps = from.steps;
  const tSteps = to.steps;
  const added = new Set<string>();
  const removed = new Set<string>();
  let fromCount = 0;
  for (const key in fSteps) {
    // Stryker disable next-line UpdateOperator: equivalent, the count only serves stepKeysInDisplayOrder's shortcut, whose `false` form is equivalent
    fromCount++;
    if (!has(tSteps, key)) added.add(key);
  }
  for (const key in tSteps) if (!has(fSteps, key)) removed.add(key);

  const stepPath = (stepKey: string) => changePath({ kind: "step", journeyKey, stepKey });
  const additionsReferenced = (step: JourneyStepDefinition, self: string): readonly string[] => {
    // Stryker disable next-line ConditionalExpression: a shortcut (`false` is equivalent: with no step added, no transition targets one, and the empty list found equals NO_PATHS); `true` is killed by the tests
    if (added.size === 0) return NO_PATHS;
    const paths = new Set<string>();
    for (const outcome in step.transitions) {
      const next = step.transitions[outcome];
      if (next !== self && added.has(next)) paths.add(stepPath(next));
    }
    return [...paths];
  };

  if (from.start !== to.start) {
    const requires = added.has(from.start) ? [stepPath(from.start)] : NO_PATHS;
    drafts.push(draft({ kind: "start", journeyKey }, "MODIFIED", to.start, from.start, requires));
  }
  if (orderChanged(from, to, added)) {
    drafts.push(draft({ kind: "order", journeyKey }, "MODIFIED", [...to.order], [...from.order]));
  }

  // Stryker disable next-line ConditionalExpression: a shortcut (`false` is equivalent: removalRequires is read only for a removed step, and with none removed it is never read); `true` is killed by the tests
  const removalRequires = removed.size === 0 ? undefined : referencesToRemoved(journeyKey, to, from, removed);

  for (const stepKey of stepKeysInDisplayOrder(from, to, fromCount + removed.size)) {
    const f = own(fSteps, stepKey);
    const t = own(tSteps, stepKey);
    // Stryker disable next-line ConditionalExpression: a shortcut, a step compared with itself has no differences
    if (f === t) continue;
    if (t === undefined) {
      const target: ChangeTarget = { kind: "step", journeyKey, stepKey };
      drafts.push(draft(target, "ADDED", null, json(f!), additionsReferenced(f!, stepKey)));
    } else if (f === undefined) {
      const target: ChangeTarget = { kind: "step", journeyKey, stepKey };
      // Stryker disable next-line OptionalChaining: equivalent, a step of `to` alone is a removed one, so removalRequires exists
      drafts.push(draft(target, "REMOVED", json(t), null, removalRequires?.get(stepKey) ?? NO_PATHS));
    } else if (f.type !== t.type) {
      const target: ChangeTarget = { kind: "step", journeyKey, stepKey };
      drafts.push(draft(target, "MODIFIED", json(t), json(f), additionsReferenced(f, stepKey)));
    } else {
      diffStep(journeyKey, stepKey, f, t, added, stepPath, drafts);
    }
  }
}

/** Rule 2: for each removed step, the paths of the changes that take away references to it in `to`. */
function referencesToRemoved(
  journeyKey: string,
  to: JourneyDocument,
  from: JourneyDocument,
  removed: ReadonlySet<string>,
): Map<string, string[]> {
  const requires = new Map<string, Set<string>>();
  const add = (removedKey: string, path: string) => {
    const paths = requires.get(removedKey);
    if (paths === undefined) requires.set(removedKey, new Set([path]));
    else paths.add(path);
  };
  // Stryker disable next-line ConditionalExpression: equivalent, what is kept for a step that stays is never read
  if (removed.has(to.start)) add(to.start, changePath({ kind: "start", journeyKey }));
  for (const stepKey in to.steps) {
    const transitions = to.steps[stepKey].transitions;
    const replacedWhole = removed.has(stepKey) || from.steps[stepKey].type !== to.steps[stepKey].type;
    for (const outcome in transitions) {
      const next = transitions[outcome];
      if (next === stepKey || !removed.has(next)) continue;
      add(
        next,
        replacedWhole
          ? changePath({ kind: "step", journeyKey, stepKey })
          : changePath({ kind: "transition", journeyKey, stepKey, outcome }),
      );
    }
  }
  return new Map([...requires].map(([key, paths]) => [key, [...paths]]));
}

/**
 * A step of the same type on both sides. Most steps are unchanged: comparing them allocates
 * nothing and stops at the first difference of each part.
 */
function diffStep(
  journeyKey: string,
  stepKey: string,
  f: JourneyStepDefinition,
  t: JourneyStepDefinition,
  added: ReadonlySet<string>,
  stepPath: (stepKey: string) => string,
  drafts: Draft[],
): void {
  const settingKeys = changedKeys(f.settings, t.settings);
  const outcomes = changedKeys(f.transitions, t.transitions);
  // Stryker disable next-line ConditionalExpression: a shortcut, nothing below adds a change for an unchanged step
  if (f.name === t.name && f.enabled === t.enabled && settingKeys === null && outcomes === null) return;

  const stepName = stepDisplayName(f.name, f.type, stepKey);
  if (f.name !== t.name) {
    drafts.push(draft({ kind: "stepName", journeyKey, stepKey }, "MODIFIED", t.name, f.name, NO_PATHS, stepName));
  }
  if (f.enabled !== t.enabled) {
    drafts.push(draft({ kind: "stepEnabled", journeyKey, stepKey }, "MODIFIED", t.enabled, f.enabled, NO_PATHS, stepName));
  }
  for (const key of settingKeys ?? NO_PATHS) {
    const change = valueChange(own(t.settings, key), own(f.settings, key))!;
    const target: ChangeTarget = { kind: "stepSetting", journeyKey, stepKey, key };
    drafts.push(draft(target, change.kind, change.oldValue, change.newValue, NO_PATHS, stepName));
  }
  for (const outcome of outcomes ?? NO_PATHS) {
    const next = own(f.transitions, outcome);
    const change = valueChange(own(t.transitions, outcome), next)!;
    // Stryker disable next-line ConditionalExpression: `next !== undefined` is equivalent, added.has(undefined) is false
    const requires = next !== undefined && added.has(next) ? [stepPath(next)] : NO_PATHS;
    const target: ChangeTarget = { kind: "transition", journeyKey, stepKey, outcome };
    drafts.push(draft(target, change.kind, change.oldValue, change.newValue, requires, stepName));
  }
}

/** The keys whose values differ between two objects (present on one side only included), sorted; null when none. */
function changedKeys(f: Readonly<Record<string, JsonValue>>, t: Readonly<Record<string, JsonValue>>): string[] | null {
  let keys: string[] | null = null;
  let shared = 0;
  for (const key in f) {
    // Own keys only: `t[key]` alone would read a key `t` lacks, such as "toString", from Object.prototype.
    if (!has(t, key)) {
      (keys ??= []).push(key);
      continue;
    }
    // Stryker disable next-line UpdateOperator: `shared` only lets the loop over `t` below be skipped; a wrong count runs it for nothing
    shared++;
    if (!jsonEqual(f[key], t[key])) (keys ??= []).push(key);
  }
  let toCount = 0;
  // Stryker disable next-line UpdateOperator: as `shared` above
  for (const _ in t) toCount++;
  // Stryker disable next-line ConditionalExpression: a shortcut; when the counts are equal, `t` has no key `f` lacks
  if (toCount !== shared) for (const key in t) if (!has(f, key)) (keys ??= []).push(key);
  return keys === null ? null : keys.sort(compareStrings);
}

/**
 * Without an order change, apply keeps `to`'s order of the steps that stay and appends the added
 * steps in `from`'s order (then normalizes). An order change exists exactly when that differs
 * from `from`'s order: the steps present on both sides are in another relative order, or an added
 * step is not at the end. For `from`'s order to be the implied one, it must begin with the steps
 * that stay, in `to`'s order, and continue with added steps only.
 */
function orderChanged(from: JourneyDocument, to: JourneyDocument, added: ReadonlySet<string>): boolean {
  const expected = from.order;
  let i = 0;
  for (const key of to.order) {
    if (!has(from.steps, key)) continue;
    if (expected[i] !== key) return true;
    i++;
  }
  for (; i < expected.length; i++) if (!added.has(expected[i])) return true;
  return false;
}

/**
 * Steps in `from`'s display order, then the removed ones in `to`'s; keys no order lists (only in
 * documents that are not valid) come last, sorted. `count`: the number of distinct step keys.
 */
function stepKeysInDisplayOrder(from: JourneyDocument, to: JourneyDocument, count: number): string[] {
  // Stryker disable next-line ArrayDeclaration: equivalent, a key that neither side has is skipped as unchanged
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const list of [from.order, to.order]) {
    for (const key of list) {
      if (seen.has(key)) continue;
      // Stryker disable next-line ConditionalExpression: equivalent, a listed key that neither side has is skipped as unchanged
      if (!has(from.steps, key) && !has(to.steps, key)) continue;
      seen.add(key);
      keys.push(key);
    }
  }
  // Stryker disable next-line ConditionalExpression: a shortcut (`false` is equivalent: no key is left unlisted); `true` is killed by the tests of unlisted steps
  if (keys.length === count) return keys;
  const unlisted = unionKeys(from.steps, to.steps).filter((key) => !seen.has(key));
  return [...keys, ...unlisted.sort(compareStrings)];
}

/** Ids, summaries, requires as ids, bundles. */
function* finish(drafts: readonly Draft[]): Generator<void, ApplicationDiff, void> {
  const ids: string[] = [];
  const indexByPath = new Map<string, number>();
  for (let i = 0; i < drafts.length; i++) {
    const d = drafts[i];
    ids.push(changeId(d.path, d.oldValue, d.newValue));
    indexByPath.set(d.path, i);
    if ((i + 1) % CHANGES_PER_STEP === 0) yield;
  }
  const changes: ConfigChange[] = [];
  for (let i = 0; i < drafts.length; i++) {
    const d = drafts[i];
    const target = d.target;
    changes.push({
      id: ids[i],
      path: d.path,
      kind: d.kind,
      summary: summarizeChange({ target, kind: d.kind, oldValue: d.oldValue, newValue: d.newValue, stepName: d.stepName }),
      journeyKey: "journeyKey" in target ? target.journeyKey : null,
      stepKey: "stepKey" in target ? target.stepKey : null,
      oldValue: d.oldValue,
      newValue: d.newValue,
      // Stryker disable next-line ConditionalExpression: a shortcut (`false` is equivalent: requiredIds of no paths is empty)
      requires: d.requiresPaths.length === 0 ? [] : requiredIds(d, indexByPath, ids),
      // Stryker disable next-line StringLiteral: equivalent, every change's bundleId is set below
      bundleId: "",
    });
    if ((i + 1) % CHANGES_PER_STEP === 0) yield;
  }
  yield;
  const { bundles, bundleIds } = bundleChanges(changes);
  for (let i = 0; i < changes.length; i++) changes[i].bundleId = bundleIds[i];
  return { changes, bundles };
}

/** The ids of the changes at a draft's required paths, in diff order. */
function requiredIds(d: Draft, indexByPath: ReadonlyMap<string, number>, ids: readonly string[]): string[] {
  const indexes: number[] = [];
  for (const path of d.requiresPaths) {
    const index = indexByPath.get(path);
    // Stryker disable next-line ConditionalExpression,StringLiteral: a guard the diff never reaches, drafts require only paths of drafts
    if (index === undefined) throw new Error(`${d.path} requires ${path}, which is not a change of this diff`);
    indexes.push(index);
  }
  return indexes.sort((a, b) => a - b).map((index) => ids[index]);
}

function valueChange(
  oldValue: JsonValue | undefined,
  newValue: JsonValue | undefined,
): { kind: ChangeKind; oldValue: JsonValue | null; newValue: JsonValue | null } | undefined {
  // Stryker disable next-line ConditionalExpression: a guard never reached, changedKeys gives keys one side at least has
  if (oldValue === undefined && newValue === undefined) return undefined;
  if (oldValue === undefined) return { kind: "ADDED", oldValue: null, newValue: newValue! };
  if (newValue === undefined) return { kind: "REMOVED", oldValue, newValue: null };
  return jsonEqual(oldValue, newValue) ? undefined : { kind: "MODIFIED", oldValue, newValue };
}

const ownProperty = Object.prototype.hasOwnProperty;

function has(record: object, key: string): boolean {
  return ownProperty.call(record, key);
}

function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return has(record, key) ? record[key] : undefined;
}

function unionKeys(a: object, b: object): string[] {
  const keys = Object.keys(a);
  for (const key of Object.keys(b)) if (!has(a, key)) keys.push(key);
  return keys;
}

function compareStrings(a: string, b: string): number {
  // Stryker disable next-line EqualityOperator,ConditionalExpression: equivalent (`a > b` → `a <= b`, `true` or `false`), V8's sort only asks whether a comparison is below 0 and the keys sorted are unique; `a < b`'s forms are killed by the tests
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Documents are JSON; their interfaces only lack the index signature that says so. */
function json(value: object): JsonValue {
  return value as unknown as JsonValue;
}

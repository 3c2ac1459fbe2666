import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyChanges } from "../../../src/domain/apply.js";
import { canonicalHash, canonicalJson } from "../../../src/domain/canonical-json.js";
import type { ApplicationDocument, ConfigChange } from "../../../src/domain/change.js";
import { parseChangePath } from "../../../src/domain/change-path.js";
import { validateClientSettings } from "../../../src/domain/client-settings.js";
import { diffApplication, diffSide } from "../../../src/domain/diff.js";
import type { JsonValue } from "../../../src/domain/journey-document.js";
import { validateJourneyDocument } from "../../../src/domain/journey-validation.js";
import { type PropagatedChange, planRevert, propagatedChange, type RevertPlan } from "../../../src/domain/revert.js";
import { closeSelection } from "../../../src/domain/selection.js";
import { type Gen, LITERAL_SETTINGS, mutateApplication, scenarioArbitrary } from "./arbitraries.js";

/*
 * Reverts over random histories (DESIGN.md §7). A scenario gives a source and a target (t0);
 * propagation P1 applies a random closed part of diff(source → t0) to it (t1); then, in the target,
 * later moves: nothing, edits of the target, propagations of a random closed part of a mutated
 * source's diff or of another scenario's source's diff (t2). The revert of P1 is planned on t2, and
 * a random closed selection of its changes (or all of them) is applied to t2 (r).
 */

// A failing history is reported as found, not shrunk: shrinking one replays its diffs for minutes.
const RUNS = { numRuns: 300, endOnFailure: true };

const diff = (from: ApplicationDocument, to: ApplicationDocument) => diffApplication(diffSide(from), diffSide(to));

function applied(target: ApplicationDocument, changes: readonly ConfigChange[]): ApplicationDocument {
  const result = applyChanges(target, changes);
  if (!result.ok) throw new Error(`a closed selection did not apply: ${JSON.stringify(result.problems)}`);
  return result.value;
}

/** A selection: every change, or the coin flips' pick, closed under `requires` (may be empty). */
type Pick = "all" | boolean[];

const pickArbitrary: fc.Arbitrary<Pick> = fc.oneof(
  { weight: 1, arbitrary: fc.constant("all" as const) },
  { weight: 3, arbitrary: fc.array(fc.boolean(), { minLength: 1, maxLength: 64 }) },
);

/** Like properties.test.ts's `subset` then closeSelection: the picked changes and all they require, in diff order. */
function closedPart(changes: readonly ConfigChange[], pick: Pick): ConfigChange[] {
  if (pick === "all") return [...changes];
  const picked = changes.filter((_, i) => pick[i % pick.length] ?? false).map((c) => c.id);
  const closed = new Set(closeSelection(changes, picked));
  return changes.filter((c) => closed.has(c.id));
}

/** What a propagation records of the changes it applied to `before`. */
const asItems = (before: ApplicationDocument, changes: readonly ConfigChange[]): PropagatedChange[] =>
  changes.map((change) => propagatedChange(before, change));

function expectValid(app: ApplicationDocument): void {
  if (app.client !== null) expect(validateClientSettings(app.client.settings)).toMatchObject({ ok: true });
  for (const [key, journey] of Object.entries(app.journeys)) {
    const validated = validateJourneyDocument(journey);
    expect(validated, `journey ${key}`).toMatchObject({ ok: true });
    // stored documents are normalized: validation changes nothing
    if (validated.ok) expect(canonicalJson(validated.value)).toBe(canonicalJson(journey));
  }
}

/** The value at a change path, walked generically through the document; null where there is none. */
function valueAt(document: ApplicationDocument, path: string): JsonValue | null {
  let current: unknown = document;
  for (const token of path.slice(1).split("/")) {
    const key = token.replace(/~1/g, "/").replace(/~0/g, "~");
    if (typeof current !== "object" || current === null || Array.isArray(current) || !Object.hasOwn(current, key)) return null;
    current = (current as Record<string, unknown>)[key];
  }
  return (current ?? null) as JsonValue | null;
}

/** Every leaf of a document by pointer (lists and scalars are leaves), as canonical JSON. */
function leaves(value: unknown, path = "", into = new Map<string, string>()): Map<string, string> {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) leaves(inner, `${path}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`, into);
  } else {
    into.set(path, canonicalJson(value));
  }
  return into;
}

/** Pointers of the leaves that differ between two documents. */
function changedLeaves(a: ApplicationDocument, b: ApplicationDocument): string[] {
  const left = leaves(a);
  const right = leaves(b);
  return [...new Set([...left.keys(), ...right.keys()])].filter((p) => left.get(p) !== right.get(p));
}

const orderJourney = (path: string): string | null => {
  const target = parseChangePath(path);
  return target?.kind === "order" ? target.journeyKey : null;
};
const isUnder = (path: string, parent: string) => path === parent || path.startsWith(`${parent}/`);

/**
 * Whether a journey's order holds an `order` value as applying it leaves it: the steps the value
 * lists that the journey has come first, in the value's order; the others follow.
 */
function holdsOrder(document: ApplicationDocument, journeyKey: string, value: JsonValue | null): boolean {
  const journey = document.journeys[journeyKey];
  const listed = [...new Set((value ?? []) as string[])].filter((key) => Object.hasOwn(journey.steps, key));
  return canonicalJson(journey.order.slice(0, listed.length)) === canonicalJson(listed);
}

/** Whether the document holds `value` at an item's path (null: nothing); an order as applying it leaves it. */
function holdsAt(document: ApplicationDocument, path: string, value: JsonValue | null): boolean {
  const journeyKey = orderJourney(path);
  if (journeyKey !== null && value !== null && Object.hasOwn(document.journeys, journeyKey)) return holdsOrder(document, journeyKey, value);
  return canonicalJson(valueAt(document, path)) === canonicalJson(value);
}

/** The items of P1 the plan reverts: neither conflicts nor reverted already. */
function candidates(plan: RevertPlan, items: readonly PropagatedChange[]): PropagatedChange[] {
  const conflicted = new Set(plan.conflicts.map((c) => c.path));
  const reverted = new Set(plan.alreadyReverted);
  return items.filter((item) => !conflicted.has(item.path) && !reverted.has(item.path));
}

/**
 * The document with the steps the items removed moved to the end of their journey's order, in the
 * items' order, unless an item changes that order: reverting a removal brings the step back, but
 * the item holds the step, not its place, so it comes back last (normalizeOrder).
 */
function restoredStepsLast(document: ApplicationDocument, items: readonly PropagatedChange[]): ApplicationDocument {
  const result = structuredClone(document);
  for (const [journeyKey, journey] of Object.entries(result.journeys)) {
    if (items.some((item) => orderJourney(item.path) === journeyKey)) continue;
    const restored = items.flatMap((item) => {
      const target = parseChangePath(item.path);
      return target?.kind === "step" && target.journeyKey === journeyKey && item.newValue === null ? [target.stepKey] : [];
    });
    journey.order = [
      ...journey.order.filter((key) => !restored.includes(key)),
      ...restored.filter((key) => Object.hasOwn(journey.steps, key)),
    ];
  }
  return result;
}

type Move = "edit" | "repromote" | "foreign";

interface History {
  /** the source P1 promoted from */
  from: ApplicationDocument;
  /** the target before P1 */
  t0: ApplicationDocument;
  /** the changes P1 applied */
  p1: ConfigChange[];
  /** the target after P1 */
  t1: ApplicationDocument;
  /** the target when the revert is planned */
  t2: ApplicationDocument;
  moves: Move[];
  /** the revert's selection */
  pick: Pick;
}

/** A later move in the target: an edit, or a propagation of a closed part of another source's diff. */
function laterMove(g: Gen, move: Move, from: ApplicationDocument, target: ApplicationDocument): ApplicationDocument {
  switch (move) {
    case "edit":
      return mutateApplication(g, target, 3, LITERAL_SETTINGS);
    case "repromote": {
      const source = mutateApplication(g, from, 3, LITERAL_SETTINGS);
      return applied(
        target,
        closedPart(
          diff(source, target).changes,
          g(() => pickArbitrary),
        ),
      );
    }
    case "foreign": {
      const { from: source } = g(() => scenarioArbitrary());
      return applied(
        target,
        closedPart(
          diff(source, target).changes,
          g(() => pickArbitrary),
        ),
      );
    }
  }
}

/**
 * Histories with up to `maxMoves` later moves. P1 is never empty when the diff is not: an empty
 * pick falls back to one random change and what it requires. (No `.filter` here: a value of
 * `fc.gen()` does not advance the random source it is drawn from, so a rejected one is drawn again
 * and again; the properties skip the rare empty diff with `fc.pre`.)
 */
function historyArbitrary(maxMoves: number): fc.Arbitrary<History> {
  return fc.gen().map((g): History => {
    const { from, to: t0 } = g(() => scenarioArbitrary());
    const { changes } = diff(from, t0);
    let p1 = closedPart(
      changes,
      g(() => pickArbitrary),
    );
    if (p1.length === 0 && changes.length > 0) {
      const one = g(fc.integer, { min: 0, max: changes.length - 1 });
      p1 = closedPart(
        changes,
        changes.map((_, i) => i === one),
      );
    }
    const t1 = applied(t0, p1);
    const moves = g(fc.array, fc.constantFrom<Move>("edit", "repromote", "foreign"), { maxLength: maxMoves });
    let t2 = t1;
    for (const move of moves) t2 = laterMove(g, move, from, t2);
    return { from, t0, p1, t1, t2, moves, pick: g(() => pickArbitrary) };
  });
}

/** Histories with a later move or two, or none. */
const histories = historyArbitrary(2);

describe("a revert of a past propagation, over random histories", () => {
  it("applies any closed selection of its plan to a valid configuration", () => {
    fc.assert(
      fc.property(histories, ({ t0, p1, t2, pick }) => {
        fc.pre(p1.length > 0);
        expectValid(t2);
        const plan = planRevert(t2, asItems(t0, p1));
        const selected = closedPart(plan.changes, pick);
        const result = applyChanges(t2, selected);
        expect(result.ok ? [] : result.problems).toEqual([]);
        if (result.ok) expectValid(result.value);
      }),
      RUNS,
    );
  });

  it("writes each selected change's value, and sets each reverted item back to its value before the propagation", () => {
    fc.assert(
      fc.property(histories, ({ t0, p1, t2, pick }) => {
        fc.pre(p1.length > 0);
        const items = asItems(t0, p1);
        const plan = planRevert(t2, items);
        const selected = closedPart(plan.changes, pick);
        const r = applied(t2, selected);
        for (const change of selected) {
          expect(holdsAt(r, change.path, change.newValue), `${change.path} holds ${canonicalJson(change.newValue)}`).toBe(true);
        }
        const selectedPaths = new Set(selected.map((c) => c.path));
        for (const item of candidates(plan, items)) {
          if (!selectedPaths.has(item.path)) continue;
          expect(holdsAt(r, item.path, item.oldValue), `${item.path} holds ${canonicalJson(item.oldValue)}`).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it("leaves everything else untouched: the result differs from the target only at or under the selected paths", () => {
    fc.assert(
      fc.property(histories, ({ t0, p1, t2, pick }) => {
        fc.pre(p1.length > 0);
        const plan = planRevert(t2, asItems(t0, p1));
        const selected = closedPart(plan.changes, pick);
        const r = applied(t2, selected);
        for (const path of changedLeaves(t2, r)) {
          if (orderJourney(path) !== null) continue;
          expect(
            selected.some((c) => isUnder(path, c.path)),
            `${path} changed without a selected change`,
          ).toBe(true);
        }
        // An order no selected change writes keeps the target's order of the steps that stay; steps added come last.
        for (const [journeyKey, journey] of Object.entries(r.journeys)) {
          if (!Object.hasOwn(t2.journeys, journeyKey) || selected.some((c) => isUnder(`/journeys/${journeyKey}/order`, c.path))) continue;
          const before = t2.journeys[journeyKey].order.filter((key) => Object.hasOwn(journey.steps, key));
          expect(journey.order.slice(0, before.length), `/journeys/${journeyKey}/order`).toEqual(before);
        }
      }),
      RUNS,
    );
  });

  it("with nothing moved since, reverts every item without a conflict and gives back the target as it was, hash for hash", () => {
    fc.assert(
      fc.property(historyArbitrary(0), ({ t0, t1, p1 }) => {
        fc.pre(p1.length > 0);
        const plan = planRevert(t1, asItems(t0, p1));
        expect(plan.conflicts).toEqual([]);
        expect(plan.alreadyReverted).toEqual([]);
        const r = applied(t1, plan.changes);
        expect(canonicalJson(r)).toBe(canonicalJson(t0));
        expect(canonicalHash(r)).toBe(canonicalHash(t0));
      }),
      RUNS,
    );
  });

  it("is undone by a revert of itself: with nothing moved in between, the target's configuration exactly", () => {
    fc.assert(
      fc.property(histories, ({ t0, p1, t2, pick }) => {
        fc.pre(p1.length > 0);
        const p2 = closedPart(planRevert(t2, asItems(t0, p1)).changes, pick);
        fc.pre(p2.length > 0);
        const r = applied(t2, p2);
        const back = planRevert(r, asItems(t2, p2));
        expect(back.conflicts).toEqual([]);
        expect(back.alreadyReverted).toEqual([]);
        expect(canonicalJson(applied(r, back.changes))).toBe(canonicalJson(t2));
      }),
      RUNS,
    );
  });

  it("without the order a step removal recorded (propagations stored before it was), brings the step back last", () => {
    fc.assert(
      fc.property(historyArbitrary(0), ({ t0, t1, p1 }) => {
        fc.pre(p1.length > 0);
        const items = p1.map(({ path, oldValue, newValue }) => ({ path, oldValue, newValue }));
        const r = applied(t1, planRevert(t1, items).changes);
        expect(canonicalJson(r)).toBe(canonicalJson(restoredStepsLast(t0, items)));
      }),
      RUNS,
    );
  });

  it("reports conflicts only at the propagation's paths, never reverts them, and keeps requires within the plan", () => {
    fc.assert(
      fc.property(histories, ({ t0, p1, t2 }) => {
        fc.pre(p1.length > 0);
        const items = asItems(t0, p1);
        const plan = planRevert(t2, items);
        const itemPaths = new Set(items.map((item) => item.path));
        const changePaths = new Set(plan.changes.map((c) => c.path));
        const ids = new Set(plan.changes.map((c) => c.id));
        for (const conflict of plan.conflicts) {
          expect(itemPaths.has(conflict.path), conflict.path).toBe(true);
          expect(changePaths.has(conflict.path), `a change at the conflict ${conflict.path}`).toBe(false);
          expect(conflict.message).toMatch(/\S/);
          expect(conflict.propagatedValue).toEqual(items.find((item) => item.path === conflict.path)!.newValue);
          expect(conflict.currentValue).toEqual(valueAt(t2, conflict.path));
        }
        for (const change of plan.changes) for (const required of change.requires) expect(ids.has(required), required).toBe(true);
        expect(new Set(plan.changes.map((c) => c.bundleId))).toEqual(new Set(plan.bundles.map((b) => b.id)));
        // every item is exactly one of: a conflict, reverted already, reverted by a change at its path
        expect(new Set(plan.conflicts.map((c) => c.path)).size).toBe(plan.conflicts.length);
        for (const path of plan.alreadyReverted) {
          expect(plan.conflicts.some((c) => c.path === path)).toBe(false);
          const item = items.find((i) => i.path === path)!;
          expect(holdsAt(t2, path, item.oldValue), path).toBe(true);
        }
        for (const item of candidates(plan, items)) {
          expect(holdsAt(t2, item.path, item.newValue), item.path).toBe(true);
          if (orderJourney(item.path) !== null) continue;
          const change = plan.changes.find((c) => c.path === item.path);
          expect(change, `the revert of ${item.path}`).toBeDefined();
          expect(change!.newValue).toEqual(item.oldValue);
        }
      }),
      RUNS,
    );
  });

  it("is deterministic, whatever the key order of the target's document, and leaves the target as it was", () => {
    /** The same JSON with every object's keys in another order. */
    const reordered = (value: unknown, depth = 0): unknown => {
      if (typeof value !== "object" || value === null) return value;
      if (Array.isArray(value)) return value.map((v) => reordered(v, depth + 1));
      const entries = Object.entries(value).map(([k, v]) => [k, reordered(v, depth + 1)] as const);
      return Object.fromEntries(depth % 2 === 0 ? entries.reverse() : entries.sort(([a], [b]) => b.length - a.length));
    };
    fc.assert(
      fc.property(histories, ({ t0, p1, t2 }) => {
        fc.pre(p1.length > 0);
        const before = canonicalJson(t2);
        const plan = planRevert(t2, asItems(t0, p1));
        expect(canonicalJson(t2), "the target is not modified").toBe(before);
        expect(planRevert(structuredClone(t2), asItems(t0, structuredClone(p1)))).toEqual(plan);
        expect(planRevert(reordered(t2) as ApplicationDocument, asItems(t0, p1))).toEqual(plan);
      }),
      RUNS,
    );
  });
});

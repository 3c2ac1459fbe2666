import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyChanges } from "../../../src/domain/apply.js";
import { canonicalJson } from "../../../src/domain/canonical-json.js";
import type { ApplicationDocument, ConfigChange } from "../../../src/domain/change.js";
import { diffApplication, diffSide } from "../../../src/domain/diff.js";
import { validateJourneyDocument } from "../../../src/domain/journey-validation.js";
import { closeSelection } from "../../../src/domain/selection.js";
import { scenarioArbitrary } from "./arbitraries.js";

/*
 * Journeys added and removed as wholes (DESIGN.md §10): a journey retired in the lower environment
 * is one REMOVED change at /journeys/<key> upstream, one restored (or created) is one ADDED change;
 * each carries the whole document, requires nothing and is required by nothing in another journey.
 * The diff's promises hold with them: every closed selection applies to a valid configuration that
 * changes exactly the selected journeys, and applying all of them yields the source.
 */

const RUNS = { numRuns: 300 };

/** A scenario where the source lost some of the target's journeys (retired) and has some the target lacks (added). */
// Masks, not lists drawn beside the scenario: a scenario is drawn with fc.gen, whose values fast-check clones.
const wholeJourneysArbitrary = fc
  .tuple(scenarioArbitrary(), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 7 }))
  .map(([{ from, to }, retireMask, addMask]) => {
    const retire = (i: number) => ((retireMask >> i) & 1) === 1;
    const add = (i: number) => ((addMask >> i) & 1) === 1;
    const source = structuredClone(from);
    const target = structuredClone(to);
    Object.keys(target.journeys).forEach((key, i) => {
      if (retire(i)) delete source.journeys[key];
    });
    Object.keys(source.journeys).forEach((key, i) => {
      if (add(i)) delete target.journeys[key];
    });
    return { source, target };
  })
  .filter(({ source, target }) => wholeJourneyKeys(source, target).length > 0);

function wholeJourneyKeys(source: ApplicationDocument, target: ApplicationDocument): string[] {
  const keys = new Set([...Object.keys(source.journeys), ...Object.keys(target.journeys)]);
  return [...keys].filter((key) => key in source.journeys !== key in target.journeys);
}

const diff = (source: ApplicationDocument, target: ApplicationDocument) => diffApplication(diffSide(source), diffSide(target)).changes;

function expectValid(app: ApplicationDocument): void {
  for (const [key, journey] of Object.entries(app.journeys))
    expect(validateJourneyDocument(journey), `journey ${key}`).toMatchObject({ ok: true });
}

/** The journeys a selection touches, by key; null for the client's settings. */
const touched = (changes: readonly ConfigChange[]) => new Set(changes.map((c) => c.journeyKey));

describe("journeys added and removed as wholes", () => {
  it("are one change each, at /journeys/<key>, with the whole document, requiring nothing and required by nothing", () => {
    fc.assert(
      fc.property(wholeJourneysArbitrary, ({ source, target }) => {
        const changes = diff(source, target);
        for (const key of wholeJourneyKeys(source, target)) {
          const own = changes.filter((c) => c.journeyKey === key);
          expect(own).toHaveLength(1);
          const [change] = own;
          expect(change.path).toBe(`/journeys/${key}`);
          if (key in source.journeys) {
            expect(change).toMatchObject({ kind: "ADDED", oldValue: null });
            expect(canonicalJson(change.newValue)).toBe(canonicalJson(source.journeys[key]));
          } else {
            expect(change).toMatchObject({ kind: "REMOVED", newValue: null });
            expect(canonicalJson(change.oldValue)).toBe(canonicalJson(target.journeys[key]));
          }
          expect(change.requires).toEqual([]);
          expect(changes.filter((c) => c.requires.includes(change.id))).toEqual([]);
        }
        // Nothing points across journeys: every requirement stays within its own journey.
        const byId = new Map(changes.map((c) => [c.id, c]));
        for (const change of changes) for (const id of change.requires) expect(byId.get(id)?.journeyKey).toBe(change.journeyKey);
      }),
      RUNS,
    );
  });

  it("every closed selection applies to a valid configuration that differs from the target in the selected journeys only", () => {
    fc.assert(
      fc.property(wholeJourneysArbitrary, fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }), ({ source, target }, flips) => {
        const changes = diff(source, target);
        const picked = changes.filter((_, i) => flips[i % flips.length]).map((c) => c.id);
        const closed = new Set(closeSelection(changes, picked));
        const selected = changes.filter((c) => closed.has(c.id));
        const applied = applyChanges(target, selected);
        expect(applied.ok).toBe(true);
        if (!applied.ok) return;
        expectValid(applied.value);
        const keys = touched(selected);
        for (const key of new Set([...Object.keys(target.journeys), ...Object.keys(source.journeys)])) {
          const after = applied.value.journeys[key];
          if (!keys.has(key)) expect(canonicalJson(after ?? null)).toBe(canonicalJson(target.journeys[key] ?? null));
          // A whole-journey change selected makes the journey the source's: gone, or all of it.
          if (keys.has(key) && key in source.journeys !== key in target.journeys) {
            expect(canonicalJson(after ?? null)).toBe(canonicalJson(source.journeys[key] ?? null));
          }
        }
      }),
      RUNS,
    );
  });

  it("applying every change yields the source, and the diff after it is empty", () => {
    fc.assert(
      fc.property(wholeJourneysArbitrary, ({ source, target }) => {
        const applied = applyChanges(target, diff(source, target));
        expect(applied.ok).toBe(true);
        if (!applied.ok) return;
        expect(canonicalJson(applied.value.journeys)).toBe(canonicalJson(source.journeys));
        expect(
          diff(source, { ...applied.value, client: target.client === null ? null : applied.value.client }).filter(
            (c) => c.journeyKey !== null,
          ),
        ).toEqual([]);
      }),
      RUNS,
    );
  });

  it("a removal applied alone takes out that journey and nothing else; its ADDED counterpart brings it back exactly", () => {
    fc.assert(
      fc.property(wholeJourneysArbitrary, ({ source, target }) => {
        const changes = diff(source, target);
        for (const removal of changes.filter(
          (c) => c.kind === "REMOVED" && c.journeyKey !== null && c.path === `/journeys/${c.journeyKey}`,
        )) {
          const key = removal.journeyKey!;
          const applied = applyChanges(target, [removal]);
          expect(applied.ok).toBe(true);
          if (!applied.ok) continue;
          const { [key]: _gone, ...rest } = target.journeys;
          expect(canonicalJson(applied.value.journeys)).toBe(canonicalJson(rest));
          // Restored: the diff back from the target is one ADDED change of the whole journey.
          const back = diff(target, applied.value).filter((c) => c.journeyKey === key);
          expect(back).toEqual([expect.objectContaining({ kind: "ADDED", path: `/journeys/${key}` })]);
          const restored = applyChanges(applied.value, back);
          expect(restored.ok && canonicalJson(restored.value.journeys)).toBe(canonicalJson(target.journeys));
        }
      }),
      RUNS,
    );
  });
});

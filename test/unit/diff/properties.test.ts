import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyChanges } from "../../../src/domain/apply.js";
import { canonicalJson } from "../../../src/domain/canonical-json.js";
import type { ApplicationDocument, ConfigChange } from "../../../src/domain/change.js";
import { parseChangePath } from "../../../src/domain/change-path.js";
import { validateClientSettings } from "../../../src/domain/client-settings.js";
import { diffApplication, diffSide } from "../../../src/domain/diff.js";
import { validateJourneyDocument } from "../../../src/domain/journey-validation.js";
import { checkSelection, closeSelection } from "../../../src/domain/selection.js";
import { scenarioArbitrary, shuffledKeys } from "./arbitraries.js";

const RUNS = { numRuns: 1000 };

function diff(from: ApplicationDocument, to: ApplicationDocument) {
  return diffApplication(diffSide(from), diffSide(to));
}

function expectValid(app: ApplicationDocument): void {
  if (app.client !== null) expect(validateClientSettings(app.client.settings)).toMatchObject({ ok: true });
  for (const [key, journey] of Object.entries(app.journeys)) {
    const validated = validateJourneyDocument(journey);
    expect(validated, `journey ${key}`).toMatchObject({ ok: true });
    // stored documents are normalized: validation changes nothing
    if (validated.ok) expect(canonicalJson(validated.value)).toBe(canonicalJson(journey));
  }
}

/** The transitive closure of `requires`, computed the plain way, to check the selection module against. */
function referenceClosure(changes: readonly ConfigChange[], selected: ReadonlySet<string>): Set<string> {
  const closure = new Set(selected);
  for (let grew = true; grew; ) {
    grew = false;
    for (const change of changes) {
      if (!closure.has(change.id)) continue;
      for (const required of change.requires) {
        if (!closure.has(required)) {
          closure.add(required);
          grew = true;
        }
      }
    }
  }
  return closure;
}

/** Picks a subset of the changes from a list of coin flips. */
function subset(changes: readonly ConfigChange[], flips: readonly boolean[]): string[] {
  return changes.filter((_, i) => flips[i % flips.length] ?? false).map((change) => change.id);
}

const flipsArbitrary = fc.array(fc.boolean(), { minLength: 1, maxLength: 64 });

const isOrder = (change: ConfigChange) => parseChangePath(change.path)?.kind === "order";

describe("generated configurations", () => {
  it("are valid and normalized on both sides", () => {
    fc.assert(
      fc.property(scenarioArbitrary(), ({ from, to }) => {
        expectValid(from);
        expectValid(to);
      }),
      { numRuns: 300 },
    );
  });
});

describe("diff(from → to) applied to to", () => {
  it("gives from when every change is applied, whatever the key order of to", () => {
    fc.assert(
      fc.property(scenarioArbitrary(), fc.integer(), ({ from, to }, seed) => {
        const { changes } = diff(from, to);
        for (const target of [to, shuffledKeys(to, seed)]) {
          const result = applyChanges(target, changes);
          expect(result).toMatchObject({ ok: true });
          if (result.ok) expect(canonicalJson(result.value)).toBe(canonicalJson(from));
        }
      }),
      RUNS,
    );
  });

  it("is empty between a configuration and itself", () => {
    fc.assert(
      fc.property(scenarioArbitrary(), ({ from, to }) => {
        expect(diff(from, from)).toEqual({ changes: [], bundles: [] });
        expect(diff(to, structuredClone(to))).toEqual({ changes: [], bundles: [] });
      }),
      RUNS,
    );
  });

  it("is deterministic: the same pair gives the same changes, ids and bundles, whatever the key order of its documents", () => {
    fc.assert(
      fc.property(scenarioArbitrary(), fc.integer(), ({ from, to }, seed) => {
        const first = diff(from, to);
        // toEqual ignores key order in values, not the order of changes, requires, bundles and their members
        expect(diff(shuffledKeys(from, seed), shuffledKeys(to, seed))).toEqual(first);
        expect(new Set(first.changes.map((c) => c.id)).size).toBe(first.changes.length);
        expect(new Set(first.changes.map((c) => c.path)).size).toBe(first.changes.length);
      }),
      RUNS,
    );
  });
});

describe("selections closed under requires", () => {
  it("always apply to a valid configuration", () => {
    fc.assert(
      fc.property(scenarioArbitrary(), flipsArbitrary, ({ from, to }, flips) => {
        const { changes } = diff(from, to);
        const closed = new Set(closeSelection(changes, subset(changes, flips)));
        const result = applyChanges(
          to,
          changes.filter((change) => closed.has(change.id)),
        );
        expect(result.ok ? [] : result.problems).toEqual([]);
        if (result.ok) expectValid(result.value);
      }),
      RUNS,
    );
  });

  it("change exactly the selected paths, to the selected values, and nothing else", () => {
    fc.assert(
      fc.property(scenarioArbitrary(), flipsArbitrary, ({ from, to }, flips) => {
        const { changes } = diff(from, to);
        const closed = new Set(closeSelection(changes, subset(changes, flips)));
        const selected = changes.filter((change) => closed.has(change.id));
        const result = applyChanges(to, selected);
        if (!result.ok) expect.fail(`a closed selection did not apply: ${JSON.stringify(result.problems)}`);
        // ids are content-addressed (path, value in to, value written): what is left between the result and to is
        // exactly the selected changes. Orders are normalized on apply, so they are checked apart.
        const after = diff(result.value, to).changes;
        expect(new Set(after.filter((c) => !isOrder(c)).map((c) => c.id))).toEqual(
          new Set(selected.filter((c) => !isOrder(c)).map((c) => c.id)),
        );
        for (const [journeyKey, journey] of Object.entries(result.value.journeys)) {
          if (!Object.hasOwn(to.journeys, journeyKey)) continue;
          const has = (key: string) => Object.hasOwn(journey.steps, key);
          const orderChange = selected.find((c) => isOrder(c) && c.journeyKey === journeyKey);
          if (orderChange === undefined) {
            // to's order of the steps that stay, then the added ones in from's order
            const implied = [...new Set([...to.journeys[journeyKey].order, ...(from.journeys[journeyKey]?.order ?? [])])].filter(has);
            expect(journey.order, `/journeys/${journeyKey}/order`).toEqual(implied);
          } else {
            // the order written, of the steps there are; steps it does not list (their removal not selected) after it
            const written = (orderChange.newValue as string[]).filter(has);
            expect(journey.order.slice(0, written.length), `/journeys/${journeyKey}/order`).toEqual(written);
          }
        }
      }),
      RUNS,
    );
  });

  it("include every bundle whole, so each bundle alone applies to a valid configuration", () => {
    fc.assert(
      fc.property(scenarioArbitrary(), ({ from, to }) => {
        const { changes, bundles } = diff(from, to);
        for (const bundle of bundles) {
          expect(checkSelection(changes, bundle.changeIds)).toEqual({ unknownIds: [], missingIds: [] });
          const members = new Set(bundle.changeIds);
          const result = applyChanges(
            to,
            changes.filter((change) => members.has(change.id)),
          );
          expect(result.ok ? [] : result.problems).toEqual([]);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("selections not closed under requires", () => {
  it("are reported with exactly the missing ids, and unknown ids as stale", () => {
    fc.assert(
      fc.property(scenarioArbitrary(), flipsArbitrary, ({ from, to }, flips) => {
        const { changes } = diff(from, to);
        const selected = subset(changes, flips);
        const expected = referenceClosure(changes, new Set(selected));
        const check = checkSelection(changes, [...selected, "chg_superseded"]);
        expect(check.unknownIds).toEqual(["chg_superseded"]);
        expect(new Set(check.missingIds)).toEqual(new Set([...expected].filter((id) => !selected.includes(id))));
        expect(new Set(closeSelection(changes, selected))).toEqual(expected);
      }),
      RUNS,
    );
  });
});

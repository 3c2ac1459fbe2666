import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyChanges } from "../../../src/domain/apply.js";
import { canonicalJson } from "../../../src/domain/canonical-json.js";
import type { ApplicationDocument, ConfigChange } from "../../../src/domain/change.js";
import { validateClientSettings } from "../../../src/domain/client-settings.js";
import { diffApplication, diffSide } from "../../../src/domain/diff.js";
import { validateJourneyDocument } from "../../../src/domain/journey-validation.js";
import { checkSelection, closeSelection } from "../../../src/domain/selection.js";
import { scenarioArbitrary } from "./arbitraries.js";

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
  it("gives from when every change is applied", () => {
    fc.assert(
      fc.property(scenarioArbitrary(), ({ from, to }) => {
        const result = applyChanges(to, diff(from, to).changes);
        expect(result).toMatchObject({ ok: true });
        if (result.ok) expect(canonicalJson(result.value)).toBe(canonicalJson(from));
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

  it("is deterministic: the same pair gives the same changes, ids and bundles", () => {
    fc.assert(
      fc.property(scenarioArbitrary(), ({ from, to }) => {
        const first = diff(from, to);
        expect(diff(structuredClone(from), structuredClone(to))).toEqual(first);
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

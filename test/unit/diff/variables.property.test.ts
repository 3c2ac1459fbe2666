import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyChanges } from "../../../src/domain/apply.js";
import { canonicalJson } from "../../../src/domain/canonical-json.js";
import type { ApplicationDocument, ConfigChange } from "../../../src/domain/change.js";
import { clientSettingsSchema } from "../../../src/domain/client-settings.js";
import { diffApplication, diffSide } from "../../../src/domain/diff.js";
import type { JourneyDocument, JsonValue, Problem } from "../../../src/domain/journey-document.js";
import {
  journeyVariableProblems,
  resolveJourneyDocument,
  settingsProblemsIn,
  validateJourneyDocument,
} from "../../../src/domain/journey-validation.js";
import { jsonEqual } from "../../../src/domain/json-equal.js";
import { closeSelection } from "../../../src/domain/selection.js";
import { stepTypeOf } from "../../../src/domain/step-catalogue.js";
import { type ResolvableVariable, referencesIn, resolveValue, valueProblem } from "../../../src/domain/variables.js";
import { scenarioArbitrary } from "./arbitraries.js";
import { step } from "./fixtures.js";
import {
  completeVariableWorldArbitrary,
  type EnvironmentRole,
  lookupIn,
  REFERENCING_SETTINGS,
  type VariableWorld,
  variableWorldArbitrary,
  withTargetValuesFor,
} from "./variable-arbitraries.js";

/**
 * Issue 14's proof (DESIGN.md §6): configurations hold references, never values. For generated
 * applications whose settings hold references and generated per-environment values (some missing,
 * some that fit their kind but not the setting):
 *
 * (a) the diff depends on what is written only, never on the values;
 * (b) after applying any selection closed under `requires`, the variables the check reports missing
 *     for the target are exactly the referenced keys of the result the target has no value for;
 * (c) when none is missing, either every resolved document passes the step schemas and the check
 *     reports nothing, or each of its problems names a variable of a setting whose value does not fit.
 *
 * The expected sides are computed here, independently of resolveValue: references found with a
 * regular expression, values substituted by hand, each setting parsed with its own catalogue schema.
 *
 *   VARIABLES_PROPERTY_SEED=<n> npx vitest run test/unit/diff/variables.property.test.ts
 */

const SEED = Number(process.env.VARIABLES_PROPERTY_SEED ?? 14_014);
/**
 * ~200 runs each (VARIABLES_PROPERTY_RUNS to change). Shrinking generated applications can take
 * minutes (and gigabytes): the time limit stops it after 10 s with the smallest counterexample so
 * far, still reported as a failure; a passing run takes about a second.
 */
const RUNS = { seed: SEED, numRuns: Number(process.env.VARIABLES_PROPERTY_RUNS ?? 200), interruptAfterTimeLimit: 10_000 };
/** vitest's own limit, above the property's. */
const TEST_TIMEOUT = 60_000;
const TARGET_NAME = "Staging";
const SOURCE_NAME = "Development";

const scenarios = scenarioArbitrary(6, REFERENCING_SETTINGS);
const flipsArbitrary = fc.array(fc.boolean(), { minLength: 1, maxLength: 64 });

/** How often each interesting case came up: a property that never meets its case proves nothing. */
const seen = new Map<string, number>();
const count = (what: string) => seen.set(what, (seen.get(what) ?? 0) + 1);

/** After a property: each of its cases came up often enough to mean something. */
function expectCasesSeen(...cases: string[]): void {
  for (const what of cases) {
    expect(seen.get(what) ?? 0, `${what} (cases seen: ${JSON.stringify(Object.fromEntries(seen))})`).toBeGreaterThanOrEqual(5);
  }
}

function diff(from: ApplicationDocument, to: ApplicationDocument) {
  return diffApplication(diffSide(from), diffSide(to));
}

function subset(changes: readonly ConfigChange[], flips: readonly boolean[]): string[] {
  return changes.filter((_, i) => flips[i % flips.length] ?? false).map((change) => change.id);
}

// ---------------------------------------------------------------------------------------------
// the expected side, computed without the code under test

const REFERENCE = /&\{([a-z][a-z0-9]*(?:[.-][a-z0-9]+)*)\}/g;
const WHOLE = /^&\{([a-z][a-z0-9]*(?:[.-][a-z0-9]+)*)\}$/;

/** Every key referenced anywhere in a value (the generated configurations hold no escapes). */
function keysIn(value: unknown, into = new Set<string>()): Set<string> {
  if (typeof value === "string") for (const match of value.matchAll(REFERENCE)) into.add(match[1]);
  else if (Array.isArray(value)) for (const item of value) keysIn(item, into);
  else if (value !== null && typeof value === "object") for (const item of Object.values(value)) keysIn(item, into);
  return into;
}

type Lookup = (key: string) => ResolvableVariable | undefined;

/**
 * One setting as an environment with every referenced value would run it: a whole reference takes
 * the typed value (a secret setting keeps its reference), an embedded one its text. `misplaced`: a
 * variable of a kind that may not go there (a SECRET outside a secret setting, a non-SECRET in one,
 * anything but STRING or URL inside a text, anything but a whole reference in a secret setting).
 */
function substitute(value: JsonValue, lookup: Lookup, secret: boolean): { value: JsonValue; misplaced: boolean } {
  if (typeof value === "string") {
    const whole = WHOLE.exec(value);
    if (whole) {
      const variable = lookup(whole[1])!;
      if ((variable.kind === "SECRET") !== secret) return { value, misplaced: true };
      return { value: secret ? value : variable.value!, misplaced: false };
    }
    if (!value.includes("&{")) return { value, misplaced: secret };
    let misplaced = secret;
    const text = value.replace(REFERENCE, (_, key: string) => {
      const variable = lookup(key)!;
      if (variable.kind !== "STRING" && variable.kind !== "URL") misplaced = true;
      return String(variable.value);
    });
    return { value: text, misplaced };
  }
  if (Array.isArray(value)) {
    const items = value.map((item) => substitute(item, lookup, false));
    return { value: items.map((i) => i.value), misplaced: items.some((i) => i.misplaced) };
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).map(([k, v]) => [k, substitute(v, lookup, false)] as const);
    return { value: Object.fromEntries(entries.map(([k, v]) => [k, v.value])), misplaced: entries.some(([, v]) => v.misplaced) };
  }
  return { value, misplaced: false };
}

interface SettingsVerdict {
  /** Setting key → the keys it references, for the settings that reference any. */
  referencing: Map<string, Set<string>>;
  /** Settings that reference a variable of a kind that may not go there. */
  misplaced: Set<string>;
  /** Settings whose resolved value fails their own schema (and are not misplaced). */
  unfit: Set<string>;
}

/** Judges each referencing setting alone with its own schema, every referenced variable having a value. */
function judgeSettings(
  shape: Record<string, { safeParse(value: unknown): { success: boolean } }>,
  settings: Record<string, JsonValue>,
  lookup: Lookup,
  secretKeys: readonly string[],
): SettingsVerdict {
  const verdict: SettingsVerdict = { referencing: new Map(), misplaced: new Set(), unfit: new Set() };
  for (const [key, value] of Object.entries(settings)) {
    const keys = keysIn(value);
    if (keys.size === 0) continue;
    verdict.referencing.set(key, keys);
    const resolved = substitute(value, lookup, secretKeys.includes(key));
    if (resolved.misplaced) verdict.misplaced.add(key);
    else if (!shape[key].safeParse(resolved.value).success) verdict.unfit.add(key);
  }
  return verdict;
}

/** The setting a problem is about: the first segment after `<base>.` (problems may go deeper, into lists). */
function settingOf(problem: Problem, base: string): string {
  expect(problem.path.startsWith(`${base}.`), `${problem.path} is under ${base}`).toBe(true);
  return problem.path.slice(base.length + 1).split(".")[0];
}

/** What the check says about one group of settings must be what judging them alone says. */
function expectProblemsMatch(problems: readonly Problem[], base: string, verdict: SettingsVerdict): void {
  // A misplaced reference is reported before anything is resolved; the schema is not tried then.
  const expected = verdict.misplaced.size > 0 ? verdict.misplaced : verdict.unfit;
  const reported = new Set(problems.map((p) => settingOf(p, base)));
  expect([...reported].sort(), `problems under ${base}: ${JSON.stringify(problems)}`).toEqual([...expected].sort());
  for (const problem of problems) {
    const keys = verdict.referencing.get(settingOf(problem, base))!;
    const named = [...keys].filter((key) => problem.message.includes(`&{${key}}`));
    expect(named.length, `"${problem.message}" names one of ${[...keys].join(", ")}`).toBeGreaterThan(0);
  }
}

// ---------------------------------------------------------------------------------------------
// running the code under test

/** Both checks over a whole application in one environment, as checkVariablesIn runs them. */
function checkApplication(app: ApplicationDocument, lookup: Lookup, environmentName: string) {
  const journeys = Object.entries(app.journeys).map(([key, doc]) => ({
    key,
    check: journeyVariableProblems(doc, lookup, environmentName, `journeys.${key}`),
  }));
  const client = app.client
    ? settingsProblemsIn(clientSettingsSchema, app.client.settings as never, "client.settings", lookup, environmentName)
    : null;
  const missing = new Set([...journeys.flatMap((j) => j.check.missing), ...(client?.missing ?? [])]);
  return { journeys, client, missing };
}

/** Everything values are used for: resolving both ways and checking, for both environments. */
function useValues(from: ApplicationDocument, to: ApplicationDocument, world: VariableWorld): void {
  for (const [app, role, name] of [
    [from, "source", SOURCE_NAME],
    [to, "target", TARGET_NAME],
  ] as const) {
    const lookup = lookupIn(world, role);
    for (const doc of Object.values(app.journeys)) {
      resolveJourneyDocument(doc, lookup, "reference");
      resolveJourneyDocument(doc, lookup, "value");
    }
    if (app.client) resolveValue(app.client.settings as never, lookup, { secrets: "value" });
    checkApplication(app, lookup, name);
  }
}

// ---------------------------------------------------------------------------------------------

describe("generated variables and configurations", () => {
  it(
    "hold values that fit their kind, and configurations that are valid with references in them",
    () => {
      fc.assert(
        fc.property(scenarios, variableWorldArbitrary, ({ from, to }, world) => {
          for (const role of ["source", "target"] as EnvironmentRole[]) {
            for (const [key, value] of Object.entries(world.values[role])) expect(valueProblem(world.kinds[key], value)).toBeNull();
          }
          for (const app of [from, to]) {
            for (const doc of Object.values(app.journeys)) expect(validateJourneyDocument(doc)).toMatchObject({ ok: true });
            if (keysIn(app.journeys).size > 0) count("journeys with references");
            if (app.client && keysIn(app.client).size > 0) count("client settings with references");
          }
        }),
        { ...RUNS, numRuns: 100 },
      );
      expectCasesSeen("journeys with references", "client settings with references");
    },
    TEST_TIMEOUT,
  );
});

describe("(a) the diff never depends on the values", () => {
  it(
    "is the same whatever the environments' values, and compares settings as written",
    () => {
      fc.assert(
        fc.property(scenarios, variableWorldArbitrary, variableWorldArbitrary, ({ from, to }, first, second) => {
          const written = canonicalJson({ from, to });
          const expected = diff(from, to);
          for (const world of [first, second]) {
            useValues(from, to, world);
            expect(diff(from, to)).toEqual(expected);
          }
          // resolving and checking wrote nothing into the documents
          expect(canonicalJson({ from, to })).toBe(written);

          // A setting of a step of the same type on both sides is a change exactly when it is written
          // differently, whatever each environment resolves it to; the change carries what is written.
          const byPath = new Map(expected.changes.map((c) => [c.path, c]));
          const source = lookupIn(first, "source");
          const target = lookupIn(first, "target");
          for (const [journeyKey, f] of Object.entries(from.journeys)) {
            const t = to.journeys[journeyKey];
            if (t === undefined) continue;
            for (const [stepKey, fStep] of Object.entries(f.steps)) {
              const tStep = t.steps[stepKey];
              if (tStep === undefined || tStep.type !== fStep.type) continue;
              for (const key of new Set([...Object.keys(fStep.settings), ...Object.keys(tStep.settings)])) {
                const fv = fStep.settings[key];
                const tv = tStep.settings[key];
                const change = byPath.get(`/journeys/${journeyKey}/steps/${stepKey}/settings/${key}`);
                const sameWritten = fv !== undefined && tv !== undefined && jsonEqual(fv, tv);
                if (sameWritten) {
                  expect(change).toBeUndefined();
                  if (keysIn(fv).size > 0) {
                    const fr = resolveValue(fv, source, { secrets: "value" });
                    const tr = resolveValue(tv, target, { secrets: "value" });
                    if (!jsonEqual(fr.value, tr.value)) count("(a) same reference, values differ: no change");
                  }
                } else {
                  expect(change, `a change of ${journeyKey}.${stepKey}.${key}`).toBeDefined();
                  expect(change!.newValue ?? undefined).toEqual(fv);
                  expect(change!.oldValue ?? undefined).toEqual(tv);
                  if (keysIn([fv ?? null, tv ?? null]).size > 0) count("(a) a change of a referencing setting");
                }
              }
            }
          }
          // references travel as written: every key a change carries is written on its side
          for (const change of expected.changes) {
            for (const key of keysIn(change.newValue)) expect(keysIn(from).has(key)).toBe(true);
            for (const key of keysIn(change.oldValue)) expect(keysIn(to).has(key)).toBe(true);
          }
        }),
        RUNS,
      );
      expectCasesSeen("(a) same reference, values differ: no change", "(a) a change of a referencing setting");
    },
    TEST_TIMEOUT,
  );
});

describe("(b) after applying a closed selection, missing variables", () => {
  it(
    "are exactly the referenced keys of the result that the target has no value for",
    () => {
      fc.assert(
        fc.property(scenarios, flipsArbitrary, variableWorldArbitrary, ({ from, to }, flips, world) => {
          const { changes } = diff(from, to);
          const closed = new Set(closeSelection(changes, subset(changes, flips)));
          const selected = changes.filter((change) => closed.has(change.id));
          const applied = applyChanges(to, selected);
          expect(applied.ok ? [] : applied.problems).toEqual([]);
          if (!applied.ok) return;
          const result = applied.value;

          const lookup = lookupIn(world, "target");
          const referenced = keysIn(result);
          // the regular expression and the domain's reader agree on what is referenced
          expect(referenced).toEqual(new Set(referencesIn(result as unknown as JsonValue).uses.map((u) => u.key)));
          const expected = [...referenced].filter((key) => lookup(key)?.value === undefined).sort();
          const check = checkApplication(result, lookup, TARGET_NAME);
          expect([...check.missing].sort()).toEqual(expected);
          count(expected.length > 0 ? "(b) something missing" : referenced.size > 0 ? "(b) references, none missing" : "(b) no references");

          // each missing variable is named, with why, at every setting that references it
          const problems = [...check.journeys.flatMap((j) => j.check.problems), ...(check.client?.problems ?? [])];
          for (const key of expected) {
            const why = lookup(key) === undefined ? "which names no variable" : `which has no value in ${TARGET_NAME}`;
            expect(problems.some((p) => p.message.includes(`references &{${key}}, ${why}`))).toBe(true);
          }

          // A target whose own configuration resolves there (values in use cannot be removed): what is
          // missing after applying is what the selected changes bring that the target has no value for
          // — what the diff's missingVariables names before anything is applied.
          const consistent = withTargetValuesFor(world, keysIn(to));
          const consistentLookup = lookupIn(consistent, "target");
          const brought = new Set(selected.flatMap((change) => [...keysIn(change.newValue)]));
          const expectedMissing = [...brought].filter((key) => consistentLookup(key)?.value === undefined).sort();
          expect([...checkApplication(result, consistentLookup, TARGET_NAME).missing].sort()).toEqual(expectedMissing);
          if (expectedMissing.length > 0) count("(b) consistent target, changes bring missing variables");
        }),
        RUNS,
      );
      expectCasesSeen("(b) something missing", "(b) references, none missing", "(b) consistent target, changes bring missing variables");
    },
    TEST_TIMEOUT,
  );
});

describe("(c) when nothing is missing", () => {
  it(
    "the resolved result passes the step schemas, or each problem names a variable whose value does not fit",
    () => {
      fc.assert(
        fc.property(
          scenarios,
          flipsArbitrary, // values for every key half the time, so that nothing is missing as often as not
          fc.oneof(completeVariableWorldArbitrary, variableWorldArbitrary),
          ({ from, to }, flips, world) => {
            const { changes } = diff(from, to);
            const closed = new Set(closeSelection(changes, subset(changes, flips)));
            const applied = applyChanges(
              to,
              changes.filter((change) => closed.has(change.id)),
            );
            expect(applied.ok).toBe(true);
            if (!applied.ok) return;
            const result = applied.value;
            const lookup = lookupIn(world, "target");
            const check = checkApplication(result, lookup, TARGET_NAME);
            if (check.missing.size > 0) return;
            // (nothing missing: every referenced variable exists and has a value in the target)
            for (const key of keysIn(result)) expect(lookup(key)?.value).toBeDefined();

            let fits = true;
            for (const [journeyKey, doc] of Object.entries(result.journeys)) {
              const journeyCheck = check.journeys.find((j) => j.key === journeyKey)!.check;
              for (const [stepKey, s] of Object.entries(doc.steps)) {
                const definition = stepTypeOf(s.type)!;
                const base = `journeys.${journeyKey}.steps.${stepKey}.settings`;
                const verdict = judgeSettings(definition.settings.shape as never, s.settings, lookup, definition.secretSettings);
                expectProblemsMatch(
                  journeyCheck.problems.filter((p) => p.path.startsWith(`${base}.`)),
                  base,
                  verdict,
                );
                if (verdict.misplaced.size + verdict.unfit.size > 0) fits = false;
              }
              // no problem about anything but a step's settings
              for (const problem of journeyCheck.problems) expect(problem.path).toMatch(/^journeys\.[^.]+\.steps\.[^.]+\.settings\./);
            }
            if (result.client && check.client) {
              const verdict = judgeSettings(clientSettingsSchema.shape as never, result.client.settings as never, lookup, []);
              expectProblemsMatch(check.client.problems, "client.settings", verdict);
              if (verdict.misplaced.size + verdict.unfit.size > 0) fits = false;
            }

            const problems = [...check.journeys.flatMap((j) => j.check.problems), ...(check.client?.problems ?? [])];
            expect(problems.length === 0).toBe(fits);
            if (fits) {
              // the result as the target runs it passes every step schema, and validates as a whole
              for (const doc of Object.values(result.journeys)) {
                const resolved: JourneyDocument = resolveJourneyDocument(doc, lookup, "reference");
                for (const s of Object.values(resolved.steps)) {
                  const parsed = stepTypeOf(s.type)!.settings.safeParse(s.settings);
                  expect(parsed.success, JSON.stringify(s.settings)).toBe(true);
                }
                expect(validateJourneyDocument(resolved)).toMatchObject({ ok: true });
              }
              if (result.client) {
                expect(
                  clientSettingsSchema.safeParse(resolveValue(result.client.settings as never, lookup, { secrets: "reference" }).value)
                    .success,
                ).toBe(true);
              }
              count(keysIn(result).size > 0 ? "(c) references that all fit" : "(c) no references");
            } else {
              count("(c) a value that does not fit");
              if (problems.some((p) => /must be between 4 and 10 \(&\{[a-z.-]+\} in Staging\)/.test(p.message)))
                count("(c) a code length out of 4–10");
            }
          },
        ),
        RUNS,
      );
      expectCasesSeen("(c) references that all fit", "(c) a value that does not fit", "(c) a code length out of 4–10");
    },
    TEST_TIMEOUT,
  );

  it("counts a misplaced reference without a value as missing too (the propagation is refused MISSING_VARIABLES)", () => {
    // Found by (b): a SECRET in an ordinary setting, or a NUMBER inside a text, was only "misplaced".
    const lookup = (key: string): ResolvableVariable | undefined =>
      key === "sms.sender" ? { kind: "SECRET" } : key === "region" ? { kind: "NUMBER" } : undefined;
    const doc: JourneyDocument = {
      start: "sms",
      order: ["sms"],
      steps: {
        sms: {
          ...step("SMS_OTP", "SMS code", { success: "COMPLETE" }),
          settings: { codeLength: 6, ttlSeconds: 300, senderId: "&{sms.sender}" },
        },
      },
    };
    const embedded = structuredClone(doc);
    embedded.steps.sms.settings.senderId = "ACME-&{region}";
    for (const [document, key, why] of [
      [doc, "sms.sender", "is a SECRET variable"],
      [embedded, "region", "is a NUMBER variable"],
    ] as const) {
      const check = journeyVariableProblems(document, lookup, TARGET_NAME, "journeys.login");
      expect(check.missing).toEqual([key]);
      expect(check.problems.map((p) => p.message)).toEqual([
        expect.stringContaining(`&{${key}} ${why}`),
        expect.stringContaining(`references &{${key}}, which has no value in Staging`),
      ]);
    }
  });

  it("names the variable whose NUMBER of 99 does not fit a code length of 4–10", () => {
    const doc: JourneyDocument = {
      start: "email-otp",
      order: ["email-otp"],
      steps: {
        "email-otp": {
          ...step("EMAIL_OTP", "Email code", { success: "COMPLETE" }),
          settings: { codeLength: "&{otp.length}", ttlSeconds: 300 },
        },
      },
    };
    expect(validateJourneyDocument(doc)).toMatchObject({ ok: true });
    const lookup = (key: string): ResolvableVariable | undefined => (key === "otp.length" ? { kind: "NUMBER", value: 99 } : undefined);
    expect(journeyVariableProblems(doc, lookup, TARGET_NAME, "journeys.login")).toEqual({
      problems: [
        {
          path: "journeys.login.steps.email-otp.settings.codeLength",
          message: "journeys.login.steps.email-otp.settings.codeLength must be between 4 and 10 (&{otp.length} in Staging)",
        },
      ],
      missing: [],
    });
  });
});

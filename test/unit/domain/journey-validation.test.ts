import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../../src/domain/canonical-json.js";
import type { JourneyDocument, Problem, Validated } from "../../../src/domain/journey-document.js";
import {
  defaultJourneyDocument,
  JOURNEY_LIMITS,
  journeyProblems,
  normalizeOrder,
  validateJourneyDocument,
  validateStep,
} from "../../../src/domain/journey-validation.js";

/** The example of ARCHITECTURE.md, "The domain". */
const designExample = () => ({
  start: "identify",
  order: ["identify", "password", "email-otp"],
  steps: {
    identify: {
      type: "IDENTIFIER",
      name: "Enter email",
      enabled: true,
      settings: { identifiers: ["email"], rememberMe: true },
      transitions: { success: "password" },
    },
    password: {
      type: "PASSWORD",
      name: "Password",
      enabled: true,
      settings: { minLength: 12 },
      transitions: { success: "email-otp", failure: "DENY" },
    },
    "email-otp": {
      type: "EMAIL_OTP",
      name: "Email code",
      enabled: true,
      settings: { codeLength: 6, ttlSeconds: 300 },
      transitions: { success: "COMPLETE", failure: "DENY" },
    },
  },
});

type Doc = ReturnType<typeof designExample> & Record<string, unknown>;

function messages<T>(result: Validated<T>): string[] {
  return result.ok ? [] : result.problems.map((p) => p.message);
}

function withDoc(change: (doc: Doc) => void): unknown {
  const doc = designExample() as Doc;
  change(doc);
  return doc;
}

function valid(input: unknown): JourneyDocument {
  const result = validateJourneyDocument(input);
  if (!result.ok) throw new Error(result.problems.map((p) => p.message).join("\n"));
  return result.value;
}

describe("validating a journey document", () => {
  it("accepts the DESIGN example and fills in the settings it leaves out", () => {
    const doc = valid(designExample());
    expect(doc.steps.password.settings).toEqual({ minLength: 12, allowReset: true });
    expect(doc.order).toEqual(["identify", "password", "email-otp"]);
  });

  it("normalizes to byte-identical canonical JSON whether or not defaults were given", () => {
    const explicit = withDoc((doc) => {
      (doc.steps.password.settings as Record<string, unknown>).allowReset = true;
    });
    const sparse = JSON.parse(JSON.stringify(designExample()));
    for (const step of Object.values(sparse.steps) as Array<Record<string, unknown>>) delete step.enabled;
    delete sparse.steps["email-otp"].settings;
    delete sparse.order;
    sparse.steps.password.name = "  Password ";

    const reordered = {
      steps: Object.fromEntries(
        Object.entries(designExample().steps).map(([key, step]) => [
          key,
          { transitions: step.transitions, settings: step.settings, enabled: step.enabled, name: step.name, type: step.type },
        ]),
      ),
      order: designExample().order,
      start: "identify",
    };

    const canonical = canonicalJson(valid(designExample()));
    expect(canonicalJson(valid(explicit))).toBe(canonical);
    expect(canonicalJson(valid(sparse))).toBe(canonical);
    expect(canonicalJson(valid(reordered))).toBe(canonical);
  });

  it("returns a document that validates to itself", () => {
    const once = valid(designExample());
    expect(valid(JSON.parse(JSON.stringify(once)))).toEqual(once);
  });

  it("defaults order to the step keys in insertion order", () => {
    const doc = valid(withDoc((d) => delete (d as Record<string, unknown>).order));
    expect(doc.order).toEqual(["identify", "password", "email-otp"]);
  });

  it("defaults enabled to true and keeps false", () => {
    const doc = valid(
      withDoc((d) => {
        delete (d.steps.identify as Record<string, unknown>).enabled;
        d.steps.password.enabled = false;
      }),
    );
    expect(doc.steps.identify.enabled).toBe(true);
    expect(doc.steps.password.enabled).toBe(false);
  });

  it("allows a step to transition to itself", () => {
    expect(validateJourneyDocument(withDoc((d) => (d.steps.password.transitions.failure = "password"))).ok).toBe(true);
  });

  it("rejects anything that is not an object", () => {
    for (const input of [null, [], "doc", 3]) {
      expect(validateJourneyDocument(input).ok).toBe(false);
    }
    expect(messages(validateJourneyDocument([]))).toEqual(["The document must be an object, not a list"]);
  });

  it("rejects fields other than start, order and steps", () => {
    expect(messages(validateJourneyDocument(withDoc((d) => (d.version = 2))))).toEqual([
      "version is not a known field of a journey document",
    ]);
  });

  it("requires start and steps", () => {
    expect(messages(validateJourneyDocument({}))).toEqual(["steps is required", "start is required"]);
  });

  it("requires at least one step", () => {
    expect(messages(validateJourneyDocument({ start: "a", steps: {} }))).toEqual([
      "steps must contain at least one step",
      'start points to unknown step "a"',
    ]);
  });
});

describe("whole-journey rules", () => {
  it("start must name an existing step", () => {
    const result = validateJourneyDocument(withDoc((d) => (d.start = "x")));
    expect(result).toEqual({ ok: false, problems: [{ path: "start", message: 'start points to unknown step "x"' }] });
  });

  it("start must not be a terminal", () => {
    expect(messages(validateJourneyDocument(withDoc((d) => (d.start = "COMPLETE"))))).toEqual([
      "start must name a step, not the terminal COMPLETE",
    ]);
  });

  it("start must be a string", () => {
    expect(messages(validateJourneyDocument(withDoc((d) => ((d as Record<string, unknown>).start = 1))))).toEqual([
      "start must be a step key, not a number",
    ]);
  });

  it("every transition must point to an existing step or a terminal", () => {
    const result = validateJourneyDocument(withDoc((d) => (d.steps.password.transitions.success = "otp")));
    expect(result).toEqual({
      ok: false,
      problems: [
        {
          path: "steps.password.transitions.success",
          message: 'steps.password.transitions.success points to unknown step "otp"',
        },
      ],
    });
  });

  it("hints at the spelling of terminals", () => {
    expect(messages(validateJourneyDocument(withDoc((d) => (d.steps.password.transitions.failure = "deny"))))).toEqual([
      'steps.password.transitions.failure points to unknown step "deny" (the terminals are written COMPLETE and DENY)',
    ]);
  });

  it("order must not list unknown steps", () => {
    expect(messages(validateJourneyDocument(withDoc((d) => d.order.push("x"))))).toEqual(['order lists unknown step "x"']);
  });

  it("order must list each step only once", () => {
    expect(messages(validateJourneyDocument(withDoc((d) => d.order.push("password"))))).toEqual([
      'order lists step "password" more than once',
    ]);
  });

  it("order must list every step", () => {
    expect(messages(validateJourneyDocument(withDoc((d) => d.order.pop())))).toEqual(['order does not list step "email-otp"']);
  });

  it("order must be a list of strings", () => {
    expect(messages(validateJourneyDocument(withDoc((d) => ((d as Record<string, unknown>).order = "identify"))))).toEqual([
      "order must be a list of step keys, not a string",
    ]);
  });

  it("journeyProblems reports the rules on a step-valid document, which validation also uses", () => {
    const doc = valid(designExample());
    expect(journeyProblems(doc)).toEqual([]);
    const broken: JourneyDocument = {
      ...doc,
      start: "gone",
      order: ["password", "identify", "removed"],
      steps: { ...doc.steps, password: { ...doc.steps.password, transitions: { success: "gone" } } },
    };
    expect(journeyProblems(broken).map((p) => p.message)).toEqual([
      'start points to unknown step "gone"',
      'steps.password.transitions.success points to unknown step "gone"',
      'order lists unknown step "removed"',
      'order does not list step "email-otp"',
    ]);
  });
});

describe("validating steps", () => {
  it("requires step keys to be slugs", () => {
    for (const key of ["Email", "email_otp", "-a", "a--b", "a-", "", "x".repeat(65)]) {
      const result = validateStep(key, { type: "PASSWORD", name: "P", transitions: {} });
      expect(result.ok, key).toBe(false);
      expect((result as { problems: Problem[] }).problems[0].path).toBe("steps");
    }
    for (const key of ["email-otp", "a1", "42", "x".repeat(64)]) {
      expect(validateStep(key, { type: "PASSWORD", name: "P", transitions: {} }).ok, key).toBe(true);
    }
  });

  it("reports an unknown step type and does not guess its settings", () => {
    expect(messages(validateStep("x", { type: "FOO", name: "x", settings: { a: 1 }, transitions: {} }))).toEqual([
      'steps.x.type "FOO" is not a known step type',
    ]);
  });

  it("requires a type, a name and transitions", () => {
    expect(messages(validateStep("x", {}))).toEqual([
      "steps.x.type is required",
      "steps.x.name is required",
      "steps.x.transitions is required",
    ]);
  });

  it("trims the name and requires it to be non-empty and at most 200 characters", () => {
    const ok = validateStep("x", { type: "PASSWORD", name: "  Password  ", transitions: {} });
    expect(ok.ok && ok.value.name).toBe("Password");
    expect(messages(validateStep("x", { type: "PASSWORD", name: "   ", transitions: {} }))).toEqual(["steps.x.name must not be empty"]);
    expect(messages(validateStep("x", { type: "PASSWORD", name: "n".repeat(201), transitions: {} }))).toEqual([
      "steps.x.name must be at most 200 characters long",
    ]);
  });

  it("requires enabled to be a boolean", () => {
    expect(messages(validateStep("x", { type: "PASSWORD", name: "P", enabled: "yes", transitions: {} }))).toEqual([
      "steps.x.enabled must be true or false, not a string",
    ]);
  });

  it("rejects unknown fields of a step", () => {
    expect(messages(validateStep("x", { type: "PASSWORD", name: "P", transitions: {}, key: "x" }))).toEqual([
      "steps.x.key is not a known field of a step",
    ]);
  });

  it("requires outcome names to be slugs and targets to be step keys or terminals", () => {
    const result = validateStep("x", {
      type: "PASSWORD",
      name: "P",
      transitions: { Success: "COMPLETE", failure: 3, retry: "Not A Key", again: "x" },
    });
    expect(messages(result)).toEqual([
      'steps.x.transitions contains the invalid outcome "Success": use lower-case letters, digits and single hyphens, at most 64 characters (like "high-risk")',
      "steps.x.transitions.failure must name a step key or the terminal COMPLETE or DENY, not a number",
      'steps.x.transitions.retry must name a step key or the terminal COMPLETE or DENY, not "Not A Key"',
    ]);
  });

  it("accepts transitions to steps it does not know: those are whole-journey rules", () => {
    expect(validateStep("x", { type: "PASSWORD", name: "P", transitions: { success: "later" } }).ok).toBe(true);
  });

  it("returns the normalized step", () => {
    expect(validateStep("email-otp", { type: "EMAIL_OTP", name: "Email code", transitions: { success: "COMPLETE" } })).toEqual({
      ok: true,
      value: {
        type: "EMAIL_OTP",
        name: "Email code",
        enabled: true,
        settings: { codeLength: 6, ttlSeconds: 300 },
        transitions: { success: "COMPLETE" },
      },
    });
  });

  it("describes a setting out of range with both bounds", () => {
    expect(validateStep("email-otp", { type: "EMAIL_OTP", name: "E", settings: { codeLength: 12 }, transitions: {} })).toEqual({
      ok: false,
      problems: [{ path: "steps.email-otp.settings.codeLength", message: "steps.email-otp.settings.codeLength must be between 4 and 10" }],
    });
  });

  it("names the step type of an unknown setting", () => {
    expect(messages(validateStep("x", { type: "EMAIL_OTP", name: "E", settings: { foo: 1 }, transitions: {} }))).toEqual([
      "steps.x.settings.foo is not a known setting of EMAIL_OTP",
    ]);
  });

  it('reports a "__proto__" setting as unknown rather than ignoring it', () => {
    const input = JSON.parse('{"type":"PASSWORD","name":"P","settings":{"__proto__":{"minLength":1}},"transitions":{}}');
    expect(messages(validateStep("x", input))).toEqual(["steps.x.settings.__proto__ is not a known setting of PASSWORD"]);
  });
});

describe("reporting every problem", () => {
  it("reports problems of several steps and of the whole journey at once", () => {
    const result = validateJourneyDocument(
      withDoc((d) => {
        d.start = "x";
        d.steps.password.settings.minLength = 4;
        (d.steps["email-otp"].settings as Record<string, unknown>).foo = true;
        (d.steps.identify as Record<string, unknown>).type = "FOO";
        d.steps.password.transitions.success = "otp";
        d.order.pop();
      }),
    );
    expect(result.ok ? [] : result.problems).toEqual([
      { path: "steps.identify.type", message: 'steps.identify.type "FOO" is not a known step type' },
      { path: "steps.password.settings.minLength", message: "steps.password.settings.minLength must be between 8 and 128" },
      { path: "steps.email-otp.settings.foo", message: "steps.email-otp.settings.foo is not a known setting of EMAIL_OTP" },
      { path: "start", message: 'start points to unknown step "x"' },
      { path: "steps.password.transitions.success", message: 'steps.password.transitions.success points to unknown step "otp"' },
      { path: "order", message: 'order does not list step "email-otp"' },
    ]);
  });

  it("still checks transitions of a step whose settings are invalid", () => {
    expect(
      messages(
        validateJourneyDocument(
          withDoc((d) => {
            d.steps.password.settings.minLength = 1000;
            d.steps.password.transitions.failure = "nowhere";
          }),
        ),
      ),
    ).toEqual([
      "steps.password.settings.minLength must be between 8 and 128",
      'steps.password.transitions.failure points to unknown step "nowhere"',
    ]);
  });

  it(`caps the list at ${JOURNEY_LIMITS.problems} problems and says so`, () => {
    const steps = Object.fromEntries(
      Array.from({ length: 150 }, (_, i) => [`s${i}`, { type: "FOO", name: "", transitions: { a: "nowhere" } }]),
    );
    const result = validateJourneyDocument({ start: "s0", steps });
    expect(result.ok).toBe(false);
    const problems = (result as { problems: Problem[] }).problems;
    expect(problems).toHaveLength(JOURNEY_LIMITS.problems);
    expect(problems.at(-1)?.message).toBe(`More problems were found; only the first ${JOURNEY_LIMITS.problems - 1} are listed`);
  });

  it(`rejects more than ${JOURNEY_LIMITS.steps} steps without validating each`, () => {
    const steps = Object.fromEntries(
      Array.from({ length: JOURNEY_LIMITS.steps + 1 }, (_, i) => [`s${i}`, { type: "PASSWORD", name: "P", transitions: {} }]),
    );
    expect(messages(validateJourneyDocument({ start: "s0", steps }))).toEqual([
      `steps must not contain more than ${JOURNEY_LIMITS.steps} steps (it has ${JOURNEY_LIMITS.steps + 1})`,
    ]);
  });

  it(`rejects more than ${JOURNEY_LIMITS.transitionsPerStep} transitions on a step`, () => {
    const transitions = Object.fromEntries(Array.from({ length: JOURNEY_LIMITS.transitionsPerStep + 1 }, (_, i) => [`o${i}`, "COMPLETE"]));
    expect(messages(validateStep("x", { type: "PASSWORD", name: "P", transitions }))).toEqual([
      `steps.x.transitions must not contain more than ${JOURNEY_LIMITS.transitionsPerStep} transitions (it has ${JOURNEY_LIMITS.transitionsPerStep + 1})`,
    ]);
  });

  it("does not echo huge hostile values back in full", () => {
    const type = "T".repeat(100_000);
    const [message] = messages(validateStep("x", { type, name: "P", transitions: {} }));
    expect(message.length).toBeLessThan(200);
  });
});

describe("the default journey document", () => {
  it("is one IDENTIFIER step that completes the journey, and is valid", () => {
    const doc = defaultJourneyDocument();
    expect(doc).toEqual({
      start: "identify",
      order: ["identify"],
      steps: {
        identify: {
          type: "IDENTIFIER",
          name: "Enter email",
          enabled: true,
          settings: { identifiers: ["email"], rememberMe: false },
          transitions: { success: "COMPLETE" },
        },
      },
    });
    expect(validateJourneyDocument(doc)).toEqual({ ok: true, value: doc });
  });

  it("is a fresh object each time", () => {
    const one = defaultJourneyDocument();
    (one.steps.identify.settings.identifiers as string[]).push("phone");
    expect(defaultJourneyDocument().steps.identify.settings.identifiers).toEqual(["email"]);
  });
});

describe("normalizing order", () => {
  const doc = () => valid(designExample());

  it("drops names of steps that do not exist and repeats", () => {
    expect(normalizeOrder({ ...doc(), order: ["password", "gone", "identify", "password", "email-otp"] }).order).toEqual([
      "password",
      "identify",
      "email-otp",
    ]);
  });

  it("appends missing steps in key insertion order", () => {
    expect(normalizeOrder({ ...doc(), order: ["email-otp"] }).order).toEqual(["email-otp", "identify", "password"]);
  });

  it("leaves a complete order alone and does not modify its input", () => {
    const input = { ...doc(), order: ["email-otp"] };
    expect(normalizeOrder(doc())).toEqual(doc());
    normalizeOrder(input);
    expect(input.order).toEqual(["email-otp"]);
  });

  it("always yields an order that satisfies the whole-journey rules", () => {
    const normalized = normalizeOrder({ ...doc(), order: ["x", "identify", "identify"] });
    expect(journeyProblems(normalized)).toEqual([]);
  });
});

import { describe, expect, it } from "vitest";
import { z } from "zod";
import { canonicalJson } from "../../../src/domain/canonical-json.js";
import type { JourneyDocument, Problem, Validated } from "../../../src/domain/journey-document.js";
import {
  defaultJourneyDocument,
  JOURNEY_LIMITS,
  journeyProblems,
  journeyVariableProblems,
  normalizeOrder,
  parseWithProblems,
  parseWithReferences,
  resolveJourneyDocument,
  settingsProblemsIn,
  validateJourneyDocument,
  validateStep,
} from "../../../src/domain/journey-validation.js";
import { STEP_CATALOGUE } from "../../../src/domain/step-catalogue.js";
import type { ResolvableVariable } from "../../../src/domain/variables.js";

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

  it("requires steps to be an object of steps", () => {
    expect(validateJourneyDocument({ start: "a", steps: ["a"] })).toEqual({
      ok: false,
      problems: [{ path: "steps", message: "steps must be an object that maps step keys to steps, not a list" }],
    });
    expect(messages(validateJourneyDocument({ start: "a", steps: 3 }))).toEqual([
      "steps must be an object that maps step keys to steps, not a number",
    ]);
  });

  it("requires each step to be an object", () => {
    expect(validateJourneyDocument({ start: "a", steps: { a: "Enter email" } })).toEqual({
      ok: false,
      problems: [{ path: "steps.a", message: "steps.a must be an object, not a string" }],
    });
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

  it("order must list step keys, and says which entries are not", () => {
    expect(
      validateJourneyDocument(withDoc((d) => ((d as Record<string, unknown>).order = ["identify", 3, "password", null, "email-otp"]))),
    ).toEqual({
      ok: false,
      problems: [
        { path: "order.1", message: "order.1 must be a step key, not a number" },
        { path: "order.3", message: "order.3 must be a step key, not null" },
      ],
    });
  });

  it(`order must not list more than ${JOURNEY_LIMITS.steps} steps, and is then not checked entry by entry`, () => {
    const order = Array.from({ length: JOURNEY_LIMITS.steps + 1 }, () => "identify");
    expect(validateJourneyDocument(withDoc((d) => (d.order = order)))).toEqual({
      ok: false,
      problems: [
        { path: "order", message: `order must not list more than ${JOURNEY_LIMITS.steps} steps (it lists ${JOURNEY_LIMITS.steps + 1})` },
      ],
    });
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

  it("says what a step key must look like", () => {
    expect(validateStep("Email", { type: "PASSWORD", name: "P", transitions: {} })).toEqual({
      ok: false,
      problems: [
        {
          path: "steps",
          message:
            'steps contains the invalid step key "Email": use lower-case letters, digits and single hyphens, at most 64 characters (like "email-otp")',
        },
      ],
    });
  });

  it("requires a step to be an object", () => {
    expect(validateStep("x", 3)).toEqual({
      ok: false,
      problems: [{ path: "steps.x", message: "steps.x must be an object, not a number" }],
    });
  });

  it("requires transitions to be an object of outcomes", () => {
    expect(validateStep("x", { type: "PASSWORD", name: "P", transitions: ["COMPLETE"] })).toEqual({
      ok: false,
      problems: [
        { path: "steps.x.transitions", message: "steps.x.transitions must be an object that maps outcomes to step keys, not a list" },
      ],
    });
  });

  it("does not take a list for a transition's target, even one holding a step key", () => {
    expect(messages(validateStep("x", { type: "PASSWORD", name: "P", transitions: { success: ["next"] } }))).toEqual([
      "steps.x.transitions.success must name a step key or the terminal COMPLETE or DENY, not a list",
    ]);
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

  it(`validates neither the steps nor the whole-journey rules of more than ${JOURNEY_LIMITS.steps} steps`, () => {
    const steps = Object.fromEntries(
      Array.from({ length: JOURNEY_LIMITS.steps + 1 }, (_, i) => [`s${i}`, { type: "PASSWORD", name: "", transitions: { a: "nowhere" } }]),
    );
    expect(validateJourneyDocument({ start: "nowhere", steps })).toEqual({
      ok: false,
      problems: [
        { path: "steps", message: `steps must not contain more than ${JOURNEY_LIMITS.steps} steps (it has ${JOURNEY_LIMITS.steps + 1})` },
      ],
    });
  });

  it(`accepts exactly ${JOURNEY_LIMITS.steps} steps, listed in an order of as many`, () => {
    const keys = Array.from({ length: JOURNEY_LIMITS.steps }, (_, i) => `s${i}`);
    const steps = Object.fromEntries(keys.map((key) => [key, { type: "PASSWORD", name: "P", transitions: { success: "COMPLETE" } }]));
    const result = validateJourneyDocument({ start: "s0", order: [...keys].reverse(), steps });
    expect(result.ok && result.value.order).toEqual([...keys].reverse());
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

const lookupIn =
  (variables: Record<string, ResolvableVariable>) =>
  (key: string): ResolvableVariable | undefined =>
    Object.hasOwn(variables, key) ? variables[key] : undefined;

describe("settings with variable references", () => {
  it("keeps a referenced setting as written and parses the others, in the schema's order", () => {
    const result = validateStep("otp", {
      type: "SMS_OTP",
      name: "SMS",
      settings: { senderId: "  ACME  ", ttlSeconds: 60, codeLength: "&{otp.length}" },
      transitions: {},
    });
    expect(result).toStrictEqual({
      ok: true,
      value: {
        type: "SMS_OTP",
        name: "SMS",
        enabled: true,
        settings: { codeLength: "&{otp.length}", ttlSeconds: 60, senderId: "ACME" },
        transitions: {},
      },
    });
    expect(Object.keys((result as { value: { settings: object } }).value.settings)).toEqual(["codeLength", "ttlSeconds", "senderId"]);
  });

  it("fills in the defaults beside a reference and leaves optional settings out", () => {
    const result = validateStep("hook", { type: "WEBHOOK", name: "W", settings: { url: "&{hook.url}" }, transitions: {} });
    expect(result.ok && result.value.settings).toStrictEqual({ url: "&{hook.url}", timeoutMs: 3000 });
  });

  it("reports the other invalid settings beside a reference", () => {
    const result = validateStep("otp", {
      type: "EMAIL_OTP",
      name: "E",
      settings: { codeLength: "&{otp.length}", ttlSeconds: 5 },
      transitions: {},
    });
    expect(result).toEqual({
      ok: false,
      problems: [{ path: "steps.otp.settings.ttlSeconds", message: "steps.otp.settings.ttlSeconds must be between 30 and 3600" }],
    });
  });

  it("reports a malformed reference at its setting, and not also the setting's type", () => {
    const result = validateStep("otp", { type: "EMAIL_OTP", name: "E", settings: { codeLength: "&{Otp}" }, transitions: {} });
    expect(result).toEqual({
      ok: false,
      problems: [
        {
          path: "steps.otp.settings.codeLength",
          message:
            'steps.otp.settings.codeLength "&{Otp}" is not a variable reference: a key is lower-case letters and digits, in parts joined by "." or "-"',
        },
      ],
    });
  });

  it("reports a reference in an unknown setting as an unknown setting", () => {
    expect(messages(validateStep("otp", { type: "EMAIL_OTP", name: "E", settings: { foo: "&{otp.foo}" }, transitions: {} }))).toEqual([
      "steps.otp.settings.foo is not a known setting of EMAIL_OTP",
    ]);
  });

  it("takes a whole reference in a secret setting", () => {
    const result = validateStep("hook", {
      type: "WEBHOOK",
      name: "W",
      settings: { url: "https://hooks.example.com/risk", signingSecret: "&{hook.secret}" },
      transitions: {},
    });
    expect(result.ok && result.value.settings).toStrictEqual({
      url: "https://hooks.example.com/risk",
      timeoutMs: 3000,
      signingSecret: "&{hook.secret}",
    });
  });

  it.each([
    ["a text around a reference", "v1-&{hook.secret}"],
    ["a list holding a reference", ["&{hook.secret}"]],
    ["an object holding a reference", { key: "&{hook.secret}" }],
  ])("refuses %s in a secret setting", (_, signingSecret) => {
    const result = validateStep("hook", {
      type: "WEBHOOK",
      name: "W",
      settings: { url: "https://hooks.example.com/risk", signingSecret },
      transitions: {},
    });
    expect(result).toEqual({
      ok: false,
      problems: [
        {
          path: "steps.hook.settings.signingSecret",
          message:
            "steps.hook.settings.signingSecret is a secret setting: it takes a whole reference to a SECRET variable, e.g. &{webhook.signing-secret}",
        },
      ],
    });
  });

  it("without a reference, parses exactly as parseWithProblems does (a loose schema keeps what it passes through)", () => {
    const schema = z.looseObject({ a: z.number(), b: z.number().default(2) });
    const unknownKey = (keyPath: string) => `${keyPath} is unknown`;
    for (const input of [{ a: 1, extra: true }, { a: "1" }]) {
      expect(parseWithReferences(schema, input, "s", unknownKey)).toEqual(parseWithProblems(schema, input, "s", unknownKey));
    }
    expect(parseWithReferences(schema, { extra: true, a: 1 }, "s", unknownKey)).toEqual({ ok: true, value: { extra: true, a: 1, b: 2 } });
  });

  it("keeps apart settings whose names run together when it parses without the referenced ones", () => {
    const schema = z.strictObject({ max: z.number(), retries: z.number(), maxretries: z.number() });
    const unknownKey = (keyPath: string) => `${keyPath} is not a known setting`;
    for (let round = 0; round < 2; round++) {
      expect(parseWithReferences(schema, { max: "&{a}", retries: "&{b}", maxretries: 1 }, "s", unknownKey)).toEqual({
        ok: true,
        value: { max: "&{a}", retries: "&{b}", maxretries: 1 },
      });
      expect(parseWithReferences(schema, { max: 1, retries: 2, maxretries: "&{c}" }, "s", unknownKey)).toEqual({
        ok: true,
        value: { max: 1, retries: 2, maxretries: "&{c}" },
      });
      expect(parseWithReferences(schema, { retries: "&{b}", max: "&{a}" }, "s", unknownKey)).toEqual({
        ok: false,
        problems: [{ path: "s.maxretries", message: "s.maxretries is required" }],
      });
    }
  });
});

describe("settings in one environment", () => {
  const otp = STEP_CATALOGUE.SMS_OTP.settings;
  const path = "steps.otp.settings";

  it("has nothing to say when every reference has a value that fits", () => {
    const lookup = lookupIn({ "otp.length": { kind: "NUMBER", value: 8 } });
    expect(settingsProblemsIn(otp, { codeLength: "&{otp.length}", ttlSeconds: 300 }, path, lookup, "Production")).toEqual({
      problems: [],
      missing: [],
    });
  });

  it("names each reference to a variable that does not exist or has no value there, at its own setting", () => {
    const lookup = lookupIn({ "otp.length": { kind: "NUMBER", value: 6 }, "otp.ttl": { kind: "NUMBER" } });
    const settings = { codeLength: "&{otp.length}", ttlSeconds: "&{otp.ttl}", senderId: "&{sms.sender}" };
    expect(settingsProblemsIn(otp, settings, path, lookup, "Production")).toEqual({
      problems: [
        {
          path: "steps.otp.settings.ttlSeconds",
          message: "steps.otp.settings.ttlSeconds references &{otp.ttl}, which has no value in Production",
        },
        { path: "steps.otp.settings.senderId", message: "steps.otp.settings.senderId references &{sms.sender}, which names no variable" },
      ],
      missing: ["otp.ttl", "sms.sender"],
    });
  });

  it("adds to a problem of the resolved settings the variables behind it, and only those", () => {
    const lookup = lookupIn({ "otp.length": { kind: "NUMBER", value: 12 }, "otp.ttl": { kind: "NUMBER", value: 60 } });
    expect(settingsProblemsIn(otp, { codeLength: "&{otp.length}", ttlSeconds: "&{otp.ttl}" }, path, lookup, "Production")).toEqual({
      problems: [
        {
          path: "steps.otp.settings.codeLength",
          message: "steps.otp.settings.codeLength must be between 4 and 10 (&{otp.length} in Production)",
        },
      ],
      missing: [],
    });
  });

  it("names every variable of a text that resolves to something invalid", () => {
    const lookup = lookupIn({ brand: { kind: "STRING", value: "AcmeCorporation" }, region: { kind: "STRING", value: "Europe" } });
    expect(settingsProblemsIn(otp, { senderId: "&{brand}-&{region}" }, path, lookup, "Staging").problems).toEqual([
      {
        path: "steps.otp.settings.senderId",
        message: "steps.otp.settings.senderId must be at most 16 characters long (&{brand}, &{region} in Staging)",
      },
    ]);
  });

  it("names the variables inside a setting and the one a setting is, for problems of the setting and inside it", () => {
    const identify = STEP_CATALOGUE.IDENTIFIER.settings;
    const inside = lookupIn({ "id.extra": { kind: "STRING", value: "email" } });
    expect(
      settingsProblemsIn(identify, { identifiers: ["email", "phone", "username", "&{id.extra}"] }, "s", inside, "Production").problems,
    ).toEqual([{ path: "s.identifiers", message: "s.identifiers must list at most 3 entries (&{id.extra} in Production)" }]);
    const whole = lookupIn({ "id.list": { kind: "JSON", value: ["email", "fax"] } });
    expect(settingsProblemsIn(identify, { identifiers: "&{id.list}" }, "s", whole, "Production").problems).toEqual([
      { path: "s.identifiers.1", message: 's.identifiers.1 must be one of "email", "phone", "username" (&{id.list} in Production)' },
    ]);
  });

  it("reports a setting the schema does not know as it is", () => {
    const lookup = lookupIn({ "otp.length": { kind: "NUMBER", value: 6 } });
    expect(settingsProblemsIn(otp, { codeLength: "&{otp.length}", foo: 1 }, path, lookup, "Production")).toEqual({
      problems: [{ path: "steps.otp.settings.foo", message: "steps.otp.settings.foo is not a known setting" }],
      missing: [],
    });
  });
});

describe("a journey document in one environment", () => {
  const variables = lookupIn({
    "hook.url": { kind: "URL", value: "https://hooks.example.com/risk" },
    "hook.timeout": { kind: "NUMBER", value: 5000 },
    "hook.secret": { kind: "SECRET", value: "s3cret" },
    "risk.level": { kind: "NUMBER", value: 80 },
  });
  const withReferences = (): JourneyDocument => {
    const doc = valid({
      start: "hook",
      steps: {
        hook: {
          type: "WEBHOOK",
          name: "Webhook",
          settings: { url: "&{hook.url}", timeoutMs: "&{hook.timeout}", signingSecret: "&{hook.secret}" },
          transitions: { success: "COMPLETE" },
        },
        password: { type: "PASSWORD", name: "Password", transitions: { success: "COMPLETE" } },
      },
    });
    // a step of a type the catalogue no longer knows, as a stored version may hold
    doc.steps.retired = { type: "RETIRED", name: "Old", enabled: true, settings: { level: "&{risk.level}" }, transitions: {} };
    return doc;
  };

  it("resolves each reference, keeping secrets as references", () => {
    const doc = withReferences();
    const resolved = resolveJourneyDocument(doc, variables, "reference");
    expect(resolved.steps.hook.settings).toEqual({
      url: "https://hooks.example.com/risk",
      timeoutMs: 5000,
      signingSecret: "&{hook.secret}",
    });
    expect(resolved.steps.password).toEqual(doc.steps.password);
    expect(resolved.steps.retired.settings).toEqual({ level: 80 });
    expect(resolved.start).toBe("hook");
    expect(resolved.order).toEqual(["hook", "password"]);
  });

  it("resolves secrets to their values for the runtime", () => {
    const resolved = resolveJourneyDocument(withReferences(), variables, "value");
    expect(resolved.steps.hook.settings).toEqual({ url: "https://hooks.example.com/risk", timeoutMs: 5000, signingSecret: "s3cret" });
  });

  it("leaves a document without references as it is", () => {
    const doc = valid(designExample());
    expect(resolveJourneyDocument(doc, variables, "value")).toEqual(doc);
  });

  it("checks the references of every step of a known type, pathed under the document's path", () => {
    const doc = withReferences();
    doc.steps = {
      otp: { ...doc.steps.password, type: "EMAIL_OTP", settings: { codeLength: "&{otp.length}", ttlSeconds: 300 } },
      ...doc.steps,
    };
    const lookup = lookupIn({ "hook.timeout": { kind: "NUMBER", value: 50 }, "hook.secret": { kind: "SECRET" } });
    const expected = (prefix: string) => ({
      problems: [
        {
          path: `${prefix}steps.otp.settings.codeLength`,
          message: `${prefix}steps.otp.settings.codeLength references &{otp.length}, which names no variable`,
        },
        {
          path: `${prefix}steps.hook.settings.signingSecret`,
          message: `${prefix}steps.hook.settings.signingSecret references &{hook.secret}, which has no value in Production`,
        },
        {
          path: `${prefix}steps.hook.settings.url`,
          message: `${prefix}steps.hook.settings.url references &{hook.url}, which names no variable`,
        },
      ],
      missing: ["hook.secret", "hook.url", "otp.length"],
    });
    expect(journeyVariableProblems(doc, lookup, "Production")).toEqual(expected(""));
    expect(journeyVariableProblems(doc, lookup, "Production", "journeys.login")).toEqual(expected("journeys.login."));
    expect(journeyVariableProblems(doc, variables, "Production").problems).toEqual([
      { path: "steps.otp.settings.codeLength", message: "steps.otp.settings.codeLength references &{otp.length}, which names no variable" },
    ]);
  });
});

import { z } from "zod";
import {
  type JourneyDocument,
  type JourneyStepDefinition,
  type JsonObject,
  type Problem,
  TERMINALS,
  type Validated,
} from "./journey-document.js";
import { STEP_CATALOGUE, stepTypeOf } from "./step-catalogue.js";
import { type ResolvableVariable, referencesIn, resolveValue, wholeReference } from "./variables.js";

/**
 * Validation of journey configuration documents (ARCHITECTURE.md, "The domain"). Untrusted JSON goes in; out comes
 * either the normalized document (trimmed names, defaulted settings) or every problem found, each
 * a sentence that starts with the dotted path it is about. Limits keep hostile input from
 * producing unbounded work or megabytes of problems.
 */

export const JOURNEY_LIMITS = {
  steps: 200,
  transitionsPerStep: 20,
  keyLength: 64,
  nameLength: 200,
  problems: 100,
} as const;

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const SLUG_RULE = `use lower-case letters, digits and single hyphens, at most ${JOURNEY_LIMITS.keyLength} characters`;
const STEP_FIELDS = new Set(["type", "name", "enabled", "settings", "transitions"]);
const DOCUMENT_FIELDS = new Set(["start", "order", "steps"]);

/** Step keys and outcome names are slugs: `email-otp`, `high-risk`. */
export function isSlug(value: string): boolean {
  return value.length <= JOURNEY_LIMITS.keyLength && SLUG.test(value);
}

function isTerminal(value: string): boolean {
  return (TERMINALS as readonly string[]).includes(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Echoes untrusted text into a message without letting it grow the message unboundedly. */
function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

function pathSegment(segment: PropertyKey): string {
  const text = String(segment);
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}

function joinPath(base: string, segments: readonly PropertyKey[]): string {
  const tail = segments.map(pathSegment).join(".");
  if (base === "") return tail;
  return tail === "" ? base : `${base}.${tail}`;
}

function problem(path: string, tail: string): Problem {
  return { path, message: `${path === "" ? "The document" : path} ${tail}` };
}

/** Collects problems up to JOURNEY_LIMITS.problems; the last slot then says that more exist. */
class ProblemList {
  readonly items: Problem[] = [];
  private truncated = false;

  // Stryker disable next-line BlockStatement: equivalent, an empty getter answers undefined, and each reader of `full` is a shortcut whose `false` form is equivalent (add ignores problems once the list is full)
  get full(): boolean {
    return this.truncated;
  }

  add(...problems: Problem[]): void {
    for (const p of problems) {
      if (this.truncated) return;
      if (this.items.length === JOURNEY_LIMITS.problems - 1) {
        this.items.push({
          path: "",
          message: `More problems were found; only the first ${JOURNEY_LIMITS.problems - 1} are listed`,
        });
        this.truncated = true;
        return;
      }
      this.items.push(p);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// zod issues → messages

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  switch (typeof value) {
    case "string":
      return "a string";
    case "number":
      return "a number";
    case "boolean":
      return "a boolean";
    case "object":
      return "an object";
    default:
      return typeof value;
  }
}

const EXPECTED: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  array: "a list",
  object: "an object",
  null: "null",
};

function showValue(value: unknown): string {
  return typeof value === "string" ? quote(value) : String(value);
}

function oneOf(values: readonly unknown[]): string {
  const shown = values.map(showValue);
  if (shown.length === 1) return shown[0];
  if (shown.length === 2) return `${shown[0]} or ${shown[1]}`;
  return `one of ${shown.join(", ")}`;
}

/** Both bounds of the schema that raised a size issue, read from zod's public `minValue`/`minLength` accessors. */
function boundsOf(schema: unknown, origin: string): { min?: number; max?: number } {
  if (typeof schema !== "object" || schema === null) return {};
  const s = schema as { minValue?: unknown; maxValue?: unknown; minLength?: unknown; maxLength?: unknown };
  const [min, max] = origin === "string" ? [s.minLength, s.maxLength] : [s.minValue, s.maxValue];
  // Stryker disable next-line ConditionalExpression: `true` is equivalent, Number.isFinite is false for anything but a number
  const finite = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
  return { min: finite(min), max: finite(max) };
}

function sizeMessage(iss: z.core.$ZodRawIssue<z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig>): string {
  const small = iss.code === "too_small";
  const limit = Number(small ? iss.minimum : iss.maximum);
  const exclusive = iss.inclusive === false;
  switch (iss.origin) {
    case "string": {
      if (small && limit === 1) return "must not be empty";
      const { min, max } = boundsOf(iss.schema, "string");
      // Stryker disable next-line ConditionalExpression: `min !== undefined` is equivalent (`undefined > 1` is false); the other conditions are killed by the bound-text tests
      if (min !== undefined && max !== undefined && min > 1) return `must be between ${min} and ${max} characters long`;
      return small ? `must be at least ${limit} characters long` : `must be at most ${limit} characters long`;
    }
    case "array":
    case "set": {
      if (small && limit === 1) return "must list at least one entry";
      return small ? `must list at least ${limit} entries` : `must list at most ${limit} entries`;
    }
    default: {
      // Stryker disable next-line StringLiteral: equivalent, boundsOf tells only "string" apart from the other origins
      const { min, max } = boundsOf(iss.schema, "number");
      if (!exclusive && min !== undefined && max !== undefined) return `must be between ${min} and ${max}`;
      if (small) return exclusive ? `must be greater than ${limit}` : `must be at least ${limit}`;
      return exclusive ? `must be less than ${limit}` : `must be at most ${limit}`;
    }
  }
}

/**
 * zod error map producing the part of a message after the path ("must be between 4 and 10").
 * Messages a schema sets itself (`{ error: "must be an https URL" }`) take precedence over it.
 */
export function zodIssueMessage(iss: z.core.$ZodRawIssue): string {
  switch (iss.code) {
    case "invalid_type": {
      if (iss.input === undefined) return "is required";
      if (iss.expected === "int" && typeof iss.input === "number") return "must be a whole number";
      const expected = EXPECTED[iss.expected] ?? iss.expected;
      return `must be ${expected}, not ${kindOf(iss.input)}`;
    }
    case "too_small":
    case "too_big":
      return sizeMessage(iss);
    case "invalid_value":
      return `must be ${oneOf(iss.values)}`;
    case "invalid_format":
      return iss.format === "url" ? "must be a valid URL" : `must be a valid ${iss.format}`;
    case "not_multiple_of":
      return `must be a multiple of ${iss.divisor}`;
    case "unrecognized_keys":
      return `has unknown fields ${iss.keys.map(quote).join(", ")}`;
    case "invalid_union":
      return "does not match any of the allowed forms";
    case "invalid_key":
    case "invalid_element":
      return "has an invalid entry";
    default:
      return "is not valid";
  }
}

/**
 * Parses `input` with `schema`; problems are pathed under `path`. An unknown key of the top-level
 * object is described by `unknownKey(keyPath)` (e.g. "… is not a known setting of EMAIL_OTP").
 */
export function parseWithProblems<T>(
  schema: z.ZodType<T, unknown>,
  input: unknown,
  path: string,
  unknownKey: (keyPath: string) => string = (keyPath) => `${keyPath} is not a known field`,
): Validated<T> {
  const result = schema.safeParse(input, { error: zodIssueMessage });
  if (result.success) return { ok: true, value: result.data };
  const problems: Problem[] = [];
  // zod may report one value several times (a wrong type, then a size check run on it anyway): the first says it best.
  const reported = new Set<string>();
  for (const issue of result.error.issues) {
    const issuePath = joinPath(path, issue.path);
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const keyPath = joinPath(issuePath, [key]);
        problems.push({
          path: keyPath,
          message: issue.path.length === 0 ? unknownKey(keyPath) : `${keyPath} is not a known field`,
        });
      }
    } else if (!reported.has(issuePath)) {
      problems.push(problem(issuePath, issue.message));
      reported.add(issuePath);
    }
  }
  return { ok: false, problems };
}

// ---------------------------------------------------------------------------------------------
// settings with variable references (DESIGN.md §6)

/**
 * Settings schemas without the settings that hold references, by schema and omitted keys: building
 * one (`omit`) costs more than parsing with it, and a propagation validates hundreds of steps whose
 * settings hold the same references. Schemas are module constants, so the cache stays small: at most
 * one entry per set of referenced settings of a step type (or the client).
 */
const SCHEMAS_WITHOUT = new WeakMap<z.ZodObject, Map<string, z.ZodObject>>();

function schemaWithout(schema: z.ZodObject, keys: ReadonlySet<string>): z.ZodObject {
  let bySchema = SCHEMAS_WITHOUT.get(schema);
  // Stryker disable next-line ConditionalExpression: a cache (`true` only forgoes the schemas built before); `false` is killed by the reference tests
  if (bySchema === undefined) SCHEMAS_WITHOUT.set(schema, (bySchema = new Map()));
  // Only keys of the schema's shape reach here (settings it does not know are never "referenced").
  // Stryker disable next-line MethodExpression: equivalent, the id only keys the cache: unsorted, one set of keys may get several equal entries
  const id = [...keys].sort().join("\u0000");
  let without = bySchema.get(id);
  // Stryker disable next-line ConditionalExpression: a cache (`true` builds an equal schema again); `false` is killed by the reference tests
  if (without === undefined) {
    without = schema.omit(Object.fromEntries([...keys].map((key) => [key, true])) as Record<string, true> & Record<number, never>);
    bySchema.set(id, without);
  }
  return without;
}

/**
 * Parses settings that may hold variable references (`"codeLength": "&{otp.length}"`). A setting
 * whose value holds a reference is kept as written: the value it takes depends on the environment,
 * and is checked where the configuration is saved or promoted ({@link settingsProblemsIn}). Every
 * other setting is parsed as usual, defaults filled in. Malformed references, and a secret setting
 * that is not one whole reference, are problems here.
 */
export function parseWithReferences(
  schema: z.ZodObject,
  input: unknown,
  path: string,
  unknownKey: (keyPath: string) => string,
  // Stryker disable next-line ArrayDeclaration: equivalent, the default has only to name no setting, and no settings schema has one called "Stryker was here"
  secretKeys: readonly string[] = [],
): Validated<Record<string, unknown>> {
  if (!isPlainObject(input)) return parseWithProblems(schema, input, path, unknownKey);
  const shape = schema.shape as Record<string, unknown>;
  const referenced = new Set<string>();
  const problems: Problem[] = [];
  for (const [key, value] of Object.entries(input)) {
    if (!Object.hasOwn(shape, key)) continue;
    const keyPath = joinPath(path, [key]);
    const found = referencesIn(value as never, keyPath);
    problems.push(...found.problems.map((p) => problem(p.path, p.message)));
    // A malformed reference says what is wrong with it; a type error on top would only repeat it.
    if (found.uses.length > 0 || found.problems.length > 0) referenced.add(key);
    // Without a reference, the setting's own schema says what it takes; with one, it is not parsed here.
    if (referenced.has(key) && secretKeys.includes(key) && (typeof value !== "string" || wholeReference(value) === null)) {
      problems.push(
        problem(keyPath, "is a secret setting: it takes a whole reference to a SECRET variable, e.g. &{webhook.signing-secret}"),
      );
    }
  }
  if (referenced.size === 0) {
    const parsed = parseWithProblems(schema, input, path, unknownKey);
    // Stryker disable next-line ConditionalExpression,ObjectLiteral,BooleanLiteral,ArrayDeclaration: `problems` is empty here (each problem above marks its setting referenced), so the second branch is never taken; `false` is killed by the tests
    return problems.length === 0 ? parsed : { ok: false, problems: [...problems, ...(parsed.ok ? [] : parsed.problems)] };
  }
  const rest = Object.fromEntries(Object.entries(input).filter(([key]) => !referenced.has(key)));
  const parsed = parseWithProblems(schemaWithout(schema, referenced), rest, path, unknownKey);
  if (!parsed.ok) problems.push(...parsed.problems);
  if (problems.length > 0 || !parsed.ok) return { ok: false, problems };
  // In the schema's order, so equal settings are written alike.
  const value: Record<string, unknown> = {};
  for (const key of Object.keys(shape)) {
    if (referenced.has(key)) value[key] = input[key];
    else if (Object.hasOwn(parsed.value, key)) value[key] = parsed.value[key];
  }
  return { ok: true, value };
}

/** What settings with references mean in one environment: problems, and the referenced variables that have no value there. */
export interface VariableCheck {
  problems: Problem[];
  /** Keys of referenced variables that do not exist or have no value in the environment, each once. */
  missing: string[];
}

/**
 * Checks stored settings in one environment (DESIGN.md §6): every reference must name a variable
 * with a value there, used where its kind may go (a SECRET only as a whole secret setting, only
 * STRING and URL inside a text), and the settings resolved with that environment's values must pass
 * the schema — a problem then names the variable (`&{otp.length} in Production`).
 */
export function settingsProblemsIn(
  schema: z.ZodObject,
  settings: Record<string, unknown>,
  path: string,
  lookup: (key: string) => ResolvableVariable | undefined,
  environmentName: string,
  // Stryker disable next-line ArrayDeclaration: equivalent, the default has only to name no setting, and no settings schema has one called "Stryker was here"
  secretKeys: readonly string[] = [],
): VariableCheck {
  const { uses } = referencesIn(settings as never, path);
  // Stryker disable next-line ConditionalExpression: a shortcut (`false`: settings without references resolve to themselves and were validated when saved); `true` is killed by the tests
  if (uses.length === 0) return { problems: [], missing: [] };
  const secretPaths = new Set(secretKeys.map((key) => joinPath(path, [key])));
  const resolution = resolveValue(settings as never, lookup, { secrets: "reference", secretPaths }, path);
  const problems: Problem[] = resolution.problems.map((p) => problem(p.path, p.message));
  for (const key of resolution.missing) {
    for (const use of uses.filter((u) => u.key === key)) {
      problems.push(
        problem(
          use.path,
          lookup(key) === undefined
            ? `references &{${key}}, which names no variable`
            : `references &{${key}}, which has no value in ${environmentName}`,
        ),
      );
    }
  }
  if (problems.length > 0) return { problems, missing: resolution.missing };
  const parsed = parseWithProblems(schema, resolution.value, path, (keyPath) => `${keyPath} is not a known setting`);
  if (parsed.ok) return { problems: [], missing: [] };
  const keysAt = (at: string) => [
    ...new Set(uses.filter((u) => at === u.path || at.startsWith(`${u.path}.`) || u.path.startsWith(`${at}.`)).map((u) => u.key)),
  ];
  return {
    problems: parsed.problems.map((p) => {
      const keys = keysAt(p.path);
      return keys.length === 0
        ? p
        : { path: p.path, message: `${p.message} (${keys.map((k) => `&{${k}}`).join(", ")} in ${environmentName})` };
    }),
    missing: [],
  };
}

/**
 * A journey document as one environment runs it: each step's references resolved with that
 * environment's values (secret settings keep their reference unless `secrets: "value"`); what
 * cannot be resolved stays as written.
 */
export function resolveJourneyDocument(
  doc: JourneyDocument,
  lookup: (key: string) => ResolvableVariable | undefined,
  secrets: "reference" | "value",
): JourneyDocument {
  // Stryker disable next-line ConditionalExpression,StringLiteral: a shortcut (resolving a document without references gives an equal copy); `true` is killed by the resolving tests
  if (!JSON.stringify(doc).includes("&{")) return doc;
  const secretPaths = new Set<string>();
  for (const [key, step] of Object.entries(doc.steps)) {
    // Stryker disable next-line ArrayDeclaration: `?? []` is equivalent (no step type had a setting called "Stryker was here"); `[key, "settings", setting]` is killed by the tests resolving secrets
    for (const setting of stepTypeOf(step.type)?.secretSettings ?? []) secretPaths.add(joinPath("steps", [key, "settings", setting]));
  }
  const steps = Object.fromEntries(
    Object.entries(doc.steps).map(([key, step]) => [
      key,
      {
        ...step,
        settings: resolveValue(step.settings as never, lookup, { secrets, secretPaths }, joinPath("steps", [key, "settings"]))
          .value as JsonObject,
      },
    ]),
  );
  return { ...doc, steps };
}

/** {@link settingsProblemsIn} for every step of a journey document that has references. */
export function journeyVariableProblems(
  doc: JourneyDocument,
  lookup: (key: string) => ResolvableVariable | undefined,
  environmentName: string,
  path = "",
): VariableCheck {
  const problems: Problem[] = [];
  const missing = new Set<string>();
  for (const [key, step] of Object.entries(doc.steps)) {
    const definition = stepTypeOf(step.type);
    // Stryker disable next-line StringLiteral: a shortcut, settingsProblemsIn finds nothing to check in settings without references
    if (!definition || !JSON.stringify(step.settings).includes("&{")) continue;
    const check = settingsProblemsIn(
      definition.settings,
      step.settings,
      joinPath(path, ["steps", key, "settings"]),
      lookup,
      environmentName,
      definition.secretSettings,
    );
    problems.push(...check.problems);
    for (const k of check.missing) missing.add(k);
  }
  return { problems, missing: [...missing].sort() };
}

// ---------------------------------------------------------------------------------------------
// steps

const stepEnvelope = z.object({
  type: z.string(),
  name: z.string().trim().min(1).max(JOURNEY_LIMITS.nameLength),
  enabled: z.boolean().default(true),
});

interface CheckedStep {
  step?: JourneyStepDefinition;
  /** Transitions whose target is well-formed, for the whole-journey rules even when the step is invalid. */
  transitions: Record<string, string>;
  problems: Problem[];
}

function checkTransitions(path: string, input: unknown, problems: Problem[]): Record<string, string> {
  const transitions: Record<string, string> = {};
  if (input === undefined) {
    problems.push(problem(path, "is required"));
    return transitions;
  }
  if (!isPlainObject(input)) {
    problems.push(problem(path, `must be an object that maps outcomes to step keys, not ${kindOf(input)}`));
    return transitions;
  }
  const outcomes = Object.keys(input);
  if (outcomes.length > JOURNEY_LIMITS.transitionsPerStep) {
    problems.push(problem(path, `must not contain more than ${JOURNEY_LIMITS.transitionsPerStep} transitions (it has ${outcomes.length})`));
    return transitions;
  }
  for (const outcome of outcomes) {
    const target = input[outcome];
    if (!isSlug(outcome)) {
      problems.push(problem(path, `contains the invalid outcome ${quote(outcome)}: ${SLUG_RULE} (like "high-risk")`));
    }
    if (typeof target === "string" && (isSlug(target) || isTerminal(target))) {
      transitions[outcome] = target;
    } else {
      const found = typeof target === "string" ? quote(target) : kindOf(target);
      problems.push(problem(joinPath(path, [outcome]), `must name a step key or the terminal COMPLETE or DENY, not ${found}`));
    }
  }
  return transitions;
}

function checkStep(key: string, input: unknown): CheckedStep {
  const path = joinPath("steps", [key]);
  const problems: Problem[] = [];
  if (!isSlug(key)) {
    problems.push(problem("steps", `contains the invalid step key ${quote(key)}: ${SLUG_RULE} (like "email-otp")`));
  }
  if (!isPlainObject(input)) {
    problems.push(problem(path, `must be an object, not ${kindOf(input)}`));
    return { transitions: {}, problems };
  }

  for (const field of Object.keys(input)) {
    if (!STEP_FIELDS.has(field)) {
      problems.push(problem(joinPath(path, [field]), "is not a known field of a step"));
    }
  }

  const envelope = parseWithProblems(stepEnvelope, input, path);
  if (!envelope.ok) problems.push(...envelope.problems);

  let settings: Validated<Record<string, unknown>> | undefined;
  const type = input.type;
  if (typeof type === "string") {
    const definition = stepTypeOf(type);
    if (definition === undefined) {
      problems.push(problem(joinPath(path, ["type"]), `${quote(type)} is not a known step type`));
    } else {
      settings = parseWithReferences(
        definition.settings,
        input.settings === undefined ? {} : input.settings,
        joinPath(path, ["settings"]),
        (keyPath) => `${keyPath} is not a known setting of ${definition.type}`,
        definition.secretSettings,
      );
      if (!settings.ok) problems.push(...settings.problems);
    }
  }

  const transitions = checkTransitions(joinPath(path, ["transitions"]), input.transitions, problems);

  // Stryker disable next-line ConditionalExpression: `settings === undefined` → `false` is a guard never reached (it is undefined only for a type that is already a problem); the others are killed by the tests
  if (problems.length > 0 || !envelope.ok || settings === undefined || !settings.ok) {
    return { transitions, problems };
  }
  return {
    step: {
      type: type as string,
      name: envelope.value.name,
      enabled: envelope.value.enabled,
      settings: settings.value as JsonObject,
      transitions,
    },
    transitions,
    problems,
  };
}

/** Validates one step (the "save one step" of a draft); problems are pathed `steps.<key>.…`. */
export function validateStep(key: string, input: unknown): Validated<JourneyStepDefinition> {
  const checked = checkStep(key, input);
  if (checked.step !== undefined) return { ok: true, value: checked.step };
  const problems = new ProblemList();
  problems.add(...checked.problems);
  return { ok: false, problems: problems.items };
}

// ---------------------------------------------------------------------------------------------
// whole-journey rules

interface JourneyStructure {
  start?: string;
  order?: readonly string[];
  /** step key → its (well-formed) transitions */
  steps: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

function structureProblems({ start, order, steps }: JourneyStructure, problems: ProblemList): void {
  if (start !== undefined) {
    if (isTerminal(start)) {
      problems.add(problem("start", `must name a step, not the terminal ${start}`));
    } else if (!steps.has(start)) {
      problems.add(problem("start", `points to unknown step ${quote(start)}`));
    }
  }

  for (const [key, transitions] of steps) {
    for (const [outcome, target] of Object.entries(transitions)) {
      if (!isTerminal(target) && !steps.has(target)) {
        const hint = isTerminal(target.toUpperCase()) ? ` (the terminals are written COMPLETE and DENY)` : "";
        problems.add(problem(joinPath("steps", [key, "transitions", outcome]), `points to unknown step ${quote(target)}${hint}`));
      }
    }
    // Stryker disable next-line ConditionalExpression: a shortcut (`false`: ProblemList.add ignores problems once the list is full); `true` is killed by the tests
    if (problems.full) return;
  }

  if (order !== undefined) {
    const listed = new Set<string>();
    for (const name of order) {
      if (!steps.has(name)) {
        problems.add(problem("order", `lists unknown step ${quote(name)}`));
      } else if (listed.has(name)) {
        problems.add(problem("order", `lists step ${quote(name)} more than once`));
      }
      listed.add(name);
      // Stryker disable next-line ConditionalExpression: a shortcut (`false`: ProblemList.add ignores problems once the list is full); `true` is killed by the tests
      if (problems.full) return;
    }
    for (const key of steps.keys()) {
      if (!listed.has(key)) problems.add(problem("order", `does not list step ${quote(key)}`));
    }
  }
}

/**
 * The whole-journey rules of an already step-valid document: `start` names an existing step,
 * every transition points to an existing step or a terminal, and `order` lists every step exactly
 * once. A draft reports these while it is being edited; saving is refused while any remain.
 */
export function journeyProblems(doc: JourneyDocument): Problem[] {
  const problems = new ProblemList();
  structureProblems(
    {
      start: doc.start,
      order: doc.order,
      steps: new Map(Object.entries(doc.steps).map(([key, step]) => [key, step.transitions])),
    },
    problems,
  );
  return problems.items;
}

// ---------------------------------------------------------------------------------------------
// documents

/**
 * Validates an untrusted journey document and reports every problem at once. On success the
 * document is normalized: names trimmed, `enabled` and settings defaulted, `order` defaulted to
 * the step keys in insertion order when absent.
 */
export function validateJourneyDocument(input: unknown): Validated<JourneyDocument> {
  if (!isPlainObject(input)) {
    return { ok: false, problems: [problem("", `must be an object, not ${kindOf(input)}`)] };
  }
  const problems = new ProblemList();

  for (const field of Object.keys(input)) {
    if (!DOCUMENT_FIELDS.has(field)) problems.add(problem(pathSegment(field), "is not a known field of a journey document"));
  }

  const steps: Record<string, JourneyStepDefinition> = {};
  const structure = new Map<string, Record<string, string>>();
  let structureComplete = true;
  const stepsInput = input.steps;
  if (stepsInput === undefined) {
    problems.add(problem("steps", "is required"));
  } else if (!isPlainObject(stepsInput)) {
    problems.add(problem("steps", `must be an object that maps step keys to steps, not ${kindOf(stepsInput)}`));
  } else {
    const keys = Object.keys(stepsInput);
    if (keys.length > JOURNEY_LIMITS.steps) {
      problems.add(problem("steps", `must not contain more than ${JOURNEY_LIMITS.steps} steps (it has ${keys.length})`));
      structureComplete = false;
    } else if (keys.length === 0) {
      problems.add(problem("steps", "must contain at least one step"));
    }
    for (const key of structureComplete ? keys : []) {
      // Stryker disable next-line ConditionalExpression: a shortcut (`false`: ProblemList.add ignores problems once the list is full); `true` is killed by the tests
      if (problems.full) break;
      const checked = checkStep(key, stepsInput[key]);
      problems.add(...checked.problems);
      structure.set(key, checked.transitions);
      // Stryker disable next-line ConditionalExpression: `true` is equivalent, a step without a value has problems, so `steps` is not returned; `false` is killed by the tests
      if (checked.step !== undefined) steps[key] = checked.step;
    }
  }

  let start: string | undefined;
  if (input.start === undefined) problems.add(problem("start", "is required"));
  else if (typeof input.start !== "string") problems.add(problem("start", `must be a step key, not ${kindOf(input.start)}`));
  else start = input.start;

  let order: string[] | undefined;
  if (input.order === undefined) {
    order = [...structure.keys()];
  } else if (!Array.isArray(input.order)) {
    problems.add(problem("order", `must be a list of step keys, not ${kindOf(input.order)}`));
  } else if (input.order.length > JOURNEY_LIMITS.steps) {
    problems.add(problem("order", `must not list more than ${JOURNEY_LIMITS.steps} steps (it lists ${input.order.length})`));
  } else {
    const names: string[] = [];
    input.order.forEach((name: unknown, index) => {
      if (typeof name === "string") names.push(name);
      else problems.add(problem(joinPath("order", [index]), `must be a step key, not ${kindOf(name)}`));
    });
    order = names;
  }

  // Stryker disable next-line ConditionalExpression: `stepsInput !== undefined` → `true` is equivalent (isPlainObject(undefined) is false); the others are killed by the tests
  if (structureComplete && stepsInput !== undefined && isPlainObject(stepsInput)) {
    structureProblems({ start, order, steps: structure }, problems);
  }

  // Stryker disable next-line ConditionalExpression: `start`/`order === undefined` → `false` are guards never reached (each is undefined only with a problem saying why); the others are killed by the tests
  if (problems.items.length > 0 || start === undefined || order === undefined) {
    return { ok: false, problems: problems.items };
  }
  return { ok: true, value: { start, order, steps } };
}

/** The document of a new journey: one IDENTIFIER step that completes the journey. */
export function defaultJourneyDocument(): JourneyDocument {
  return {
    start: "identify",
    order: ["identify"],
    steps: {
      identify: {
        type: "IDENTIFIER",
        name: "Enter email",
        enabled: true,
        settings: STEP_CATALOGUE.IDENTIFIER.settings.parse({}) as JsonObject,
        transitions: { success: "COMPLETE" },
      },
    },
  };
}

/**
 * A copy of `doc` whose `order` lists every step exactly once: names of steps that do not exist
 * (and repeats) are dropped, existing steps it lacks are appended in key insertion order.
 */
export function normalizeOrder(doc: JourneyDocument): JourneyDocument {
  const order: string[] = [];
  const listed = new Set<string>();
  for (const name of [...doc.order, ...Object.keys(doc.steps)]) {
    if (Object.hasOwn(doc.steps, name) && !listed.has(name)) {
      order.push(name);
      listed.add(name);
    }
  }
  return { ...doc, order };
}

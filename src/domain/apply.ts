import type { ApplicationDocument, ConfigChange } from "./change.js";
import { type ChangeTarget, parseChangePath } from "./change-path.js";
import { validateClientSettings } from "./client-settings.js";
import { StaleSelectionError } from "./errors.js";
import type { ClientSettings, JourneyDocument, JsonObject, JsonValue, Problem, Validated } from "./journey-document.js";
import { normalizeOrder, validateJourneyDocument } from "./journey-validation.js";
import { jsonEqual } from "./json-equal.js";

/**
 * Applies selected changes of diff(from → to) to `to` and validates every journey (and the client
 * settings) they touch. Changes should come in diff order (as resolveSelection returns them): steps
 * added without the order change are appended in that order, then `order` is normalized.
 *
 * Each change must still describe `to`: its old value must be what is there (nothing, for an
 * addition). Otherwise the target moved since the diff was computed and the whole application is
 * refused with StaleSelectionError, so nothing is applied that nobody reviewed. The input is not
 * modified.
 */
export function applyChanges(target: ApplicationDocument, changes: readonly ConfigChange[]): Validated<ApplicationDocument> {
  const state: ApplyState = {
    client: target.client === null ? null : { settings: { ...target.client.settings } },
    clientTouched: false,
    journeys: { ...target.journeys },
    touched: new Map(),
  };
  const stale: string[] = [];
  const seen = new Set<string>();
  for (const change of changes) {
    if (seen.has(change.id)) continue;
    seen.add(change.id);
    const changeTarget = parseChangePath(change.path);
    if (changeTarget === null || !applyOne(state, changeTarget, change)) stale.push(change.id);
  }
  if (stale.length > 0) throw new StaleSelectionError(stale);

  const problems: Problem[] = [];
  if (state.clientTouched && state.client !== null) {
    const validated = validateClientSettings(state.client.settings);
    if (!validated.ok) problems.push(...validated.problems.map((p) => within("client", "Client settings", p)));
  }
  for (const [journeyKey, { added }] of state.touched) {
    const journey = own(state.journeys, journeyKey);
    if (journey === undefined) continue;
    const normalized = normalizeOrder({ ...journey, order: [...journey.order, ...added] });
    state.journeys[journeyKey] = normalized;
    const validated = validateJourneyDocument(normalized);
    if (!validated.ok) {
      problems.push(...validated.problems.map((p) => within(`journeys.${journeyKey}`, `Journey ${journeyKey}`, p)));
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: { client: state.client, journeys: state.journeys } };
}

interface ApplyState {
  client: { settings: ClientSettings } | null;
  clientTouched: boolean;
  journeys: Record<string, JourneyDocument>;
  /** Journeys copied for writing, with the steps added to them in change order. */
  touched: Map<string, { added: string[] }>;
}

/** Applies one change; false when `to` no longer holds the change's old value. */
function applyOne(state: ApplyState, target: ChangeTarget, change: ConfigChange): boolean {
  switch (target.kind) {
    case "client": {
      if (!holds(state.client === null ? undefined : json(state.client), change)) return false;
      // Stryker disable next-line ConditionalExpression: equivalent, cloneJson(null) is null
      state.client = change.newValue === null ? null : (cloneJson(change.newValue) as unknown as { settings: ClientSettings });
      state.clientTouched = true;
      return true;
    }
    case "clientSetting": {
      if (state.client === null) return false;
      state.clientTouched = true;
      return write(state.client.settings, target.key, change);
    }
    case "journey": {
      if (!holds(json(own(state.journeys, target.journeyKey)), change)) return false;
      if (change.newValue === null) {
        delete state.journeys[target.journeyKey];
      } else {
        state.journeys[target.journeyKey] = cloneJson(change.newValue) as unknown as JourneyDocument;
        // Stryker disable next-line ArrayDeclaration: equivalent, normalizeOrder drops names that are not steps of the journey
        state.touched.set(target.journeyKey, { added: [] });
      }
      return true;
    }
  }

  const journey = writableJourney(state, target.journeyKey);
  if (journey === undefined) return false;
  const { doc, added } = journey;
  switch (target.kind) {
    case "start":
      return write(doc, "start", change);
    case "order":
      return write(doc, "order", change);
    case "step": {
      const applied = write(doc.steps, target.stepKey, change);
      // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent, normalizeOrder keeps a step once and drops one that is gone
      if (applied && change.kind === "ADDED") added.push(target.stepKey);
      return applied;
    }
  }

  const step = own(doc.steps, target.stepKey);
  if (step === undefined) return false;
  switch (target.kind) {
    case "stepName":
      return write(step, "name", change);
    case "stepEnabled":
      return write(step, "enabled", change);
    case "stepSetting":
      return write(step.settings, target.key, change);
    case "transition":
      return write(step.transitions, target.outcome, change);
  }
}

/** The journey copied for writing on first use; undefined when `to` has no such journey. */
function writableJourney(state: ApplyState, journeyKey: string): { doc: JourneyDocument; added: string[] } | undefined {
  const current = own(state.journeys, journeyKey);
  if (current === undefined) return undefined;
  let touched = state.touched.get(journeyKey);
  if (touched === undefined) {
    // Stryker disable next-line ArrayDeclaration: equivalent, normalizeOrder drops names that are not steps of the journey
    touched = { added: [] };
    state.touched.set(journeyKey, touched);
    state.journeys[journeyKey] = cloneJson(current as unknown as JsonValue) as unknown as JourneyDocument;
  }
  return { doc: state.journeys[journeyKey], added: touched.added };
}

/** Sets (or, for a removal, deletes) `record[key]` when it holds the change's old value. */
function write(record: object, key: string, change: ConfigChange): boolean {
  const values = record as Record<string, JsonValue>;
  if (!holds(own(values, key), change)) return false;
  if (change.newValue === null) delete values[key];
  else values[key] = cloneJson(change.newValue);
  return true;
}

/** Whether the current value is the one the change was computed from. */
function holds(current: JsonValue | undefined, change: ConfigChange): boolean {
  switch (change.kind) {
    case "ADDED":
      return current === undefined && change.newValue !== null;
    case "REMOVED":
      // Stryker disable next-line ConditionalExpression,LogicalOperator: `current !== undefined` is equivalent, jsonEqual(undefined, v) is false for JSON v; the newValue test is covered
      return current !== undefined && change.newValue === null && jsonEqual(current, change.oldValue);
    case "MODIFIED":
      // Stryker disable next-line ConditionalExpression,LogicalOperator: `current !== undefined` is equivalent, jsonEqual(undefined, v) is false for JSON v; the newValue test is covered
      return current !== undefined && change.newValue !== null && jsonEqual(current, change.oldValue);
  }
}

/** A problem of one journey (or the client settings) placed in the application document. */
function within(prefix: string, label: string, problem: Problem): Problem {
  return {
    path: problem.path === "" ? prefix : `${prefix}.${problem.path}`,
    message: `${label}: ${problem.message}`,
  };
}

function cloneJson(value: JsonValue): JsonValue {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneJson);
  const copy: JsonObject = {};
  for (const key of Object.keys(value)) copy[key] = cloneJson(value[key]);
  return copy;
}

function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function json(value: object | undefined): JsonValue | undefined {
  return value as unknown as JsonValue | undefined;
}

import { NotFoundError, ValidationError } from "./errors.js";
import { type JourneyDocument, type JourneyStepDefinition, TERMINALS } from "./journey-document.js";

/*
 * The edits of a journey draft, as pure functions of its document: each returns the next document
 * or throws the domain error the edit is refused with. Whole-journey rules (reachability, a start
 * step) are not checked here: a draft may break them until it is saved.
 */

/**
 * Puts a (validated) step into the document: a new key is inserted at `position` of the order
 * (at the end without one); an existing key is replaced, staying where it was unless `position`
 * moves it. Its transitions must lead to itself, a terminal, or a step already in the document.
 */
export function putStep(document: JourneyDocument, key: string, step: JourneyStepDefinition, position?: number): JourneyDocument {
  const missing = Object.entries(step.transitions).filter(
    ([, to]) => to !== key && !(TERMINALS as readonly string[]).includes(to) && !Object.hasOwn(document.steps, to),
  );
  if (missing.length > 0) {
    throw new ValidationError(
      missing.map(([outcome, to]) => ({
        path: `steps.${key}.transitions.${outcome}`,
        message: `steps.${key}.transitions.${outcome} points to unknown step "${to.slice(0, 64)}": add that step first`,
      })),
    );
  }
  const order = document.order.filter((k) => k !== key);
  const current = document.order.indexOf(key);
  const at = position ?? (current >= 0 ? current : order.length);
  if (at > order.length) {
    throw new ValidationError([{ path: "position", message: `position must be at most ${order.length}` }]);
  }
  order.splice(at, 0, key);
  return { ...document, order, steps: { ...document.steps, [key]: step } };
}

/** Removes a step. What pointed at it becomes a problem of the draft; the start step cannot go. */
export function removeStep(document: JourneyDocument, key: string): JourneyDocument {
  if (!Object.hasOwn(document.steps, key)) throw new NotFoundError(`step "${key.slice(0, 64)}" in this journey`);
  if (document.start === key) {
    throw new ValidationError([{ path: "stepKey", message: `stepKey "${key}" is the start step: set another start before removing it` }]);
  }
  const { [key]: _removed, ...steps } = document.steps;
  return { ...document, order: document.order.filter((k) => k !== key), steps };
}

/** Makes a step of the document the one the journey starts with. */
export function setStart(document: JourneyDocument, key: string): JourneyDocument {
  if (!Object.hasOwn(document.steps, key)) throw new NotFoundError(`step "${key.slice(0, 64)}" in this journey`);
  return { ...document, start: key };
}

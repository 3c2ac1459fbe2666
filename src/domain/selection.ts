import type { ConfigChange } from "./change.js";
import { IncompleteSelectionError, StaleSelectionError } from "./errors.js";

/**
 * Selections of changes to propagate. Ids bind to exactly what was reviewed: an id that is not in
 * the current diff is stale. A selection is closed when it holds everything its changes require,
 * transitively; only a closed selection is guaranteed to leave every journey valid.
 */

export interface SelectionCheck {
  /** Selected ids that are not in the diff (their change was superseded), in the order given. */
  unknownIds: string[];
  /** Ids the selection requires, transitively, but does not hold, in diff order. */
  missingIds: string[];
}

export function checkSelection(changes: readonly ConfigChange[], selectedIds: Iterable<string>): SelectionCheck {
  const byId = indexById(changes);
  const selected = new Set(selectedIds);
  const unknownIds = [...selected].filter((id) => !byId.has(id));
  const closure = requiredClosure(byId, selected);
  const missingIds = changes.filter((change) => closure.has(change.id) && !selected.has(change.id)).map((c) => c.id);
  return { unknownIds, missingIds };
}

/** The selection with everything it requires added, in diff order; unknown ids are left out. */
export function closeSelection(changes: readonly ConfigChange[], selectedIds: Iterable<string>): string[] {
  const closure = requiredClosure(indexById(changes), new Set(selectedIds));
  return changes.filter((change) => closure.has(change.id)).map((change) => change.id);
}

export interface ResolvedSelection {
  /** The changes to apply, in diff order. */
  changes: ConfigChange[];
  /** Required ids that were added because the caller asked for them (`includeRequired`). */
  addedChangeIds: string[];
}

/**
 * The changes a propagation applies. Throws StaleSelectionError when an id is not in the diff, and
 * IncompleteSelectionError naming the missing ids when the selection is not closed, unless
 * `includeRequired` asks to add them.
 */
export function resolveSelection(
  changes: readonly ConfigChange[],
  selectedIds: Iterable<string>,
  options: { includeRequired?: boolean } = {},
): ResolvedSelection {
  const selected = new Set(selectedIds);
  const { unknownIds, missingIds } = checkSelection(changes, selected);
  if (unknownIds.length > 0) throw new StaleSelectionError(unknownIds);
  if (missingIds.length > 0 && !options.includeRequired) throw new IncompleteSelectionError(missingIds);
  const missing = new Set(missingIds);
  return {
    changes: changes.filter((change) => selected.has(change.id) || missing.has(change.id)),
    addedChangeIds: missingIds,
  };
}

function indexById(changes: readonly ConfigChange[]): Map<string, ConfigChange> {
  return new Map(changes.map((change) => [change.id, change]));
}

/** The known selected ids and every id they require, transitively. */
function requiredClosure(byId: ReadonlyMap<string, ConfigChange>, selected: ReadonlySet<string>): Set<string> {
  const closure = new Set<string>();
  const pending = [...selected].filter((id) => byId.has(id));
  while (pending.length > 0) {
    const id = pending.pop()!;
    // Stryker disable next-line ConditionalExpression: a shortcut; an id met again adds nothing, as only ids outside the closure are pushed
    if (closure.has(id)) continue;
    closure.add(id);
    for (const required of byId.get(id)!.requires) {
      if (!closure.has(required) && byId.has(required)) pending.push(required);
    }
  }
  return closure;
}

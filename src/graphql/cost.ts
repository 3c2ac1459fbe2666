import { STEP_TYPES } from "../domain/step-catalogue.js";

import { MAX_PAGE_SIZE } from "./cursors.js";

/**
 * The cost model of operations. Every field costs 1; the selection inside a list costs as many
 * times as the list's size: a connection's `first`/`last` (a literal or a variable: the cost is
 * computed with the operation's variables), else its default page size; a plain list, the size
 * declared here. An object field (e.g. `Journey.application`) multiplies by 1: a cycle costs what
 * it returns, so `journeys { application { journeys … } }` grows as (journeys)^depth and is
 * refused long before it would run. The server refuses an operation over its limit with
 * QUERY_TOO_COMPLEX and the computed cost (src/server/operation-cost.ts).
 *
 * Sizes are what the product plans for, not hard caps: the server's execution time budget is the
 * last line for data far beyond them.
 */
export const LIST_SIZES = {
  /** An organization's environments; also one client and one sync state per environment. */
  environments: 10,
  /** Databases of one environment. */
  databases: 10,
  /** Journeys of one application. */
  journeys: 50,
  /** Steps of one journey. */
  steps: 30,
  /** Transitions of one step. */
  transitions: 5,
  /** Changes of one diff, draft or propagation. */
  changes: 100,
  /** Bundles of one diff. */
  bundles: 50,
  /** Problems of one refusal or draft. */
  problems: 20,
  /** Variables of an organization. */
  variables: 100,
  /** Mapping notes of one client creation plan. */
  mappingNotes: 10,
  /** The step catalogue's types (src/domain/step-catalogue.ts). */
  stepTypes: STEP_TYPES.length,
} as const;

/** A list the schema did not declare a size for. */
export const UNDECLARED_LIST_SIZE = 10;

/** The cost option of a plain list field of a declared size. */
export function listCost(size: number) {
  return { field: 1, multiplier: size };
}

/**
 * The cost option of a connection field: its page size as asked, or its default. A size beyond
 * MAX_PAGE_SIZE costs that much: the connection refuses it with VALIDATION_FAILED, which says why.
 */
export function pageCost(defaultSize: number) {
  return (args: { first?: number | null; last?: number | null }) => ({
    field: 1,
    multiplier: Math.min(MAX_PAGE_SIZE, Math.max(0, args.first ?? args.last ?? defaultSize)),
  });
}

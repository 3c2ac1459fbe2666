import { canonicalHash } from "./canonical-json.js";
import type { ClientSettings, JourneyDocument, JsonValue } from "./journey-document.js";

/**
 * The application's promotable document: what moves between environments. Environment-specific
 * client fields (database, redirect URIs, origins) are not part of it. `client` is null where the
 * application has no client in that environment.
 */
export interface ApplicationDocument {
  client: { settings: ClientSettings } | null;
  journeys: Record<string, JourneyDocument>;
}

export const CHANGE_KINDS = ["ADDED", "REMOVED", "MODIFIED"] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/**
 * One difference between two environments. diff(from → to) lists what promoting would change in
 * `to`: `oldValue` is the value in `to` (null when ADDED), `newValue` the value in `from` (null
 * when REMOVED).
 */
export interface ConfigChange {
  id: string;
  /** JSON Pointer into the promotable document (see change-path.ts). */
  path: string;
  kind: ChangeKind;
  summary: string;
  /** null for client settings */
  journeyKey: string | null;
  stepKey: string | null;
  oldValue: JsonValue | null;
  newValue: JsonValue | null;
  /** Ids of the changes this one cannot be applied without, in diff order. */
  requires: string[];
  bundleId: string;
}

/** A change before bundles are formed from the `requires` of all changes. */
export type UnbundledChange = Omit<ConfigChange, "bundleId">;

/** Changes that enable a feature together: a connected group of `requires`. */
export interface ChangeBundle {
  id: string;
  label: string;
  changeIds: string[];
}

const ID_HEX_LENGTH = 24;

/**
 * Content-addressed: the same difference always has the same id, and a change whose either side
 * moved gets a new one, so a selection binds to exactly what was reviewed.
 */
export function changeId(path: string, oldValue: JsonValue | null, newValue: JsonValue | null): string {
  return `chg_${canonicalHash([path, oldValue, newValue]).slice(0, ID_HEX_LENGTH)}`;
}

/**
 * Content-addressed from its members, independent of their order. Most bundles hold one change;
 * theirs is the change's own hash, so only bundles of several changes cost a hash.
 */
export function bundleId(changeIds: readonly string[]): string {
  if (changeIds.length === 1) return `bdl_${changeIds[0].slice(changeIds[0].indexOf("_") + 1)}`;
  return `bdl_${canonicalHash([...changeIds].sort()).slice(0, ID_HEX_LENGTH)}`;
}

import { LRUCache } from "lru-cache";
import type { ClientSummaryRow, EnvironmentRow, JourneyRow } from "../db/repositories/rows.js";
import type { DiffSide } from "../domain/diff.js";
import {
  changeCount,
  clientSyncStatus,
  journeyDiffSide,
  journeySyncStates,
  type SyncState as SyncStateOf,
  type SyncStatus,
} from "../domain/sync.js";
import type { Loaders } from "./loaders.js";

/** A sync state between two of the organization's environments (the rules: src/domain/sync.ts). */
export type SyncState = SyncStateOf<EnvironmentRow>;

/**
 * Change counts by pair of hashes. Versions are immutable and a count is a function of content,
 * so an entry is never stale; the least recently used goes first.
 */
const changeCounts = new LRUCache<string, number>({ max: 20_000 });

/** The state's change count, memoized by its pair of hashes; `sides` is called only on a miss. */
export function memoizedChangeCount(
  state: Omit<SyncStateOf, "environment" | "sourceEnvironment">,
  sides: () => [DiffSide, DiffSide],
): number {
  if (state.status !== "OUT_OF_SYNC") return 0;
  const key = `${state.sourceHash ?? "absent"}>${state.targetHash ?? "absent"}`;
  let value = changeCounts.get(key);
  if (value === undefined) {
    value = changeCount(state, ...sides());
    changeCounts.set(key, value);
  }
  return value;
}

/**
 * A journey's sync state, with the numbers of the head versions its hashes are of: its change count
 * diffs those versions (immutable), not the heads as they are when the count is asked.
 */
export type JourneySyncState = SyncState & { journeyId: string; sourceVersion: number | null; targetVersion: number | null };

/** Sync states of a journey in every environment that has a lower one (hash comparison only). */
export async function syncStatesOfJourney(loaders: Loaders, journey: JourneyRow): Promise<JourneySyncState[]> {
  const [environments, { clients, heads }] = await Promise.all([
    loaders.environments(),
    loaders.syncInputsByApplication.load(journey.applicationId),
  ]);
  const own = heads.filter((h) => h.journeyId === journey.id);
  const versionIn = new Map(own.map((h) => [h.environmentId, h.version]));
  return journeySyncStates(environments, clients, own).map((s) => ({
    ...s,
    journeyId: journey.id,
    sourceVersion: versionIn.get(s.sourceEnvironment.id) ?? null,
    targetVersion: versionIn.get(s.environment.id) ?? null,
  }));
}

export async function syncStatusOfClient(loaders: Loaders, client: ClientSummaryRow): Promise<SyncStatus> {
  const [environments, clients] = await Promise.all([loaders.environments(), loaders.clientsByApplication.load(client.applicationId)]);
  return clientSyncStatus(environments, clients, client);
}

/**
 * How many changes promoting the source would make: a diff of the two versions the state's hashes
 * are of, memoized by those hashes. The versions are read by number, not as the heads are now: a
 * save committed since the heads were read must not be counted under their hashes (the count is
 * kept for every later request, notification and organization).
 */
export async function changeCountOf(loaders: Loaders, state: JourneySyncState): Promise<number> {
  if (state.status !== "OUT_OF_SYNC") return 0;
  const load = async (hash: string | null, environmentId: string, version: number | null) => {
    if (!hash || version === null) return null;
    const row = await loaders.version.load({ journeyId: state.journeyId, environmentId, version });
    if (row?.hash !== hash) throw new Error(`version ${version} of a journey does not have the hash its head had`);
    return row;
  };
  const [source, target] = await Promise.all([
    load(state.sourceHash, state.sourceEnvironment.id, state.sourceVersion),
    load(state.targetHash, state.environment.id, state.targetVersion),
  ]);
  return memoizedChangeCount(state, () => [journeyDiffSide(source), journeyDiffSide(target)]);
}

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

/** Sync states of a journey in every environment that has a lower one (hash comparison only). */
export async function syncStatesOfJourney(loaders: Loaders, journey: JourneyRow): Promise<(SyncState & { journeyId: string })[]> {
  const [environments, clients, heads] = await Promise.all([
    loaders.environments(),
    loaders.clientsByApplication.load(journey.applicationId),
    loaders.headsByApplication.load(journey.applicationId),
  ]);
  const own = heads.filter((h) => h.journeyId === journey.id);
  return journeySyncStates(environments, clients, own).map((s) => ({ ...s, journeyId: journey.id }));
}

export async function syncStatusOfClient(loaders: Loaders, client: ClientSummaryRow): Promise<SyncStatus> {
  const [environments, clients] = await Promise.all([loaders.environments(), loaders.clientsByApplication.load(client.applicationId)]);
  return clientSyncStatus(environments, clients, client);
}

/** How many changes promoting the source would make: a diff of the two heads, memoized by their hashes. */
export async function changeCountOf(loaders: Loaders, state: SyncState & { journeyId: string }): Promise<number> {
  if (state.status !== "OUT_OF_SYNC") return 0;
  const load = (hash: string | null, environmentId: string) =>
    hash ? loaders.headVersion.load({ journeyId: state.journeyId, environmentId }) : Promise.resolve(null);
  const [source, target] = await Promise.all([
    load(state.sourceHash, state.sourceEnvironment.id),
    load(state.targetHash, state.environment.id),
  ]);
  return memoizedChangeCount(state, () => [journeyDiffSide(source), journeyDiffSide(target)]);
}

import type { ClientSummaryRow, EnvironmentRow, JourneyHeadRow, JourneyRow, JourneyVersionRow } from "../db/repositories/rows.js";
import { type DiffSide, diffApplication } from "../domain/diff.js";
import type { Loaders } from "./loaders.js";

export type SyncStatus = "IN_SYNC" | "OUT_OF_SYNC" | "NOT_CREATED";

export const SYNC_MESSAGES = {
  journey: { IN_SYNC: "Journey Configuration in Sync", OUT_OF_SYNC: "Journey Configuration out of Sync" },
  client: { IN_SYNC: "Client Settings in Sync", OUT_OF_SYNC: "Client Settings out of Sync" },
} as const;

export function syncMessage(subject: "journey" | "client", status: SyncStatus, environment: EnvironmentRow): string {
  return status === "NOT_CREATED" ? `No client in ${environment.name}: create it first` : SYNC_MESSAGES[subject][status];
}

/** A journey's (or the client settings') state in an environment against its lower neighbour. */
export interface SyncState {
  environment: EnvironmentRow;
  sourceEnvironment: EnvironmentRow;
  status: SyncStatus;
  /** Hash of the source side, null where absent. */
  sourceHash: string | null;
  /** Hash of the target side, null where absent. */
  targetHash: string | null;
}

/**
 * Sync states of one journey in every environment that has a lower one, from stored head hashes
 * alone: no document is read and no diff computed.
 */
export function journeySyncStates(
  environments: EnvironmentRow[],
  clients: ClientSummaryRow[],
  heads: Pick<JourneyHeadRow, "environmentId" | "hash">[],
): SyncState[] {
  const hashIn = new Map(heads.map((h) => [h.environmentId, h.hash]));
  const hasClient = new Set(clients.map((c) => c.environmentId));
  return environments.slice(1).map((environment, index) => {
    const sourceEnvironment = environments[index];
    const sourceHash = hashIn.get(sourceEnvironment.id) ?? null;
    const targetHash = hashIn.get(environment.id) ?? null;
    const status: SyncStatus = !hasClient.has(environment.id) ? "NOT_CREATED" : sourceHash === targetHash ? "IN_SYNC" : "OUT_OF_SYNC";
    return { environment, sourceEnvironment, status, sourceHash, targetHash };
  });
}

/**
 * The client settings' state in the client's environment against the lower neighbour's client.
 * The lowest environment, or one whose lower neighbour has no client, has nothing to be out of
 * sync with.
 */
export function clientSyncStatus(environments: EnvironmentRow[], clients: ClientSummaryRow[], client: ClientSummaryRow): SyncStatus {
  const index = environments.findIndex((e) => e.id === client.environmentId);
  if (index <= 0) return "IN_SYNC";
  const lower = clients.find((c) => c.environmentId === environments[index - 1].id);
  if (!lower) return "IN_SYNC";
  return lower.settingsHash === client.settingsHash ? "IN_SYNC" : "OUT_OF_SYNC";
}

const changeCounts = new Map<string, number>();
const CHANGE_COUNT_CACHE = 20_000;

/**
 * The number of changes between two versions of a journey. Versions are immutable and the diff is
 * a function of content, so the count is memoized by the pair of hashes.
 */
export function memoizedChangeCount(sourceHash: string, targetHash: string, count: () => number): number {
  const key = `${sourceHash}>${targetHash}`;
  let value = changeCounts.get(key);
  if (value === undefined) {
    value = count();
    if (changeCounts.size >= CHANGE_COUNT_CACHE) changeCounts.delete(changeCounts.keys().next().value!);
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
  const side = (version: JourneyVersionRow | null): DiffSide => ({
    client: null,
    journeys: version ? { journey: { document: version.document, hash: version.hash } } : {},
  });
  return memoizedChangeCount(
    state.sourceHash ?? "absent",
    state.targetHash ?? "absent",
    () => diffApplication(side(source), side(target), { includeClient: false }).changes.length,
  );
}

/** The client settings' state in every environment that has a lower one (see clientSyncStatus). */
export function clientSyncStates(environments: EnvironmentRow[], clients: ClientSummaryRow[]): SyncState[] {
  return environments.slice(1).map((environment, index) => {
    const sourceEnvironment = environments[index];
    const client = clients.find((c) => c.environmentId === environment.id);
    const source = clients.find((c) => c.environmentId === sourceEnvironment.id);
    return {
      environment,
      sourceEnvironment,
      status: client ? clientSyncStatus(environments, clients, client) : "NOT_CREATED",
      sourceHash: source?.settingsHash ?? null,
      targetHash: client?.settingsHash ?? null,
    };
  });
}

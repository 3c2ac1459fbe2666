import { type DiffSide, diffApplication } from "./diff.js";
import type { ClientSettings, JourneyDocument } from "./journey-document.js";

/*
 * Sync between neighbouring environments (ARCHITECTURE.md): a journey, or a client's shared
 * settings, is in sync in an environment when it is the same as in the environment just below.
 * Pure rules over stored hashes and documents; reading them is the services' part.
 */

export type SyncStatus = "IN_SYNC" | "OUT_OF_SYNC" | "NOT_CREATED";

export const SYNC_MESSAGES = {
  journey: { IN_SYNC: "Journey Configuration in Sync", OUT_OF_SYNC: "Journey Configuration out of Sync" },
  client: { IN_SYNC: "Client Settings in Sync", OUT_OF_SYNC: "Client Settings out of Sync" },
} as const;

export function syncMessage(subject: "journey" | "client", status: SyncStatus, environment: { name: string }): string {
  return status === "NOT_CREATED" ? `No client in ${environment.name}: create it first` : SYNC_MESSAGES[subject][status];
}

/** What the rules need of an environment; `environments` arguments are lowest first. */
interface Environment {
  id: string;
}

/** What the rules need of a client: where it is, and the hash of its shared settings. */
interface Client {
  environmentId: string;
  settingsHash: string;
}

/** A journey's (or the client settings') state in an environment against its lower neighbour. */
export interface SyncState<E extends Environment = Environment> {
  environment: E;
  sourceEnvironment: E;
  status: SyncStatus;
  /** Hash of the source side, null where absent. */
  sourceHash: string | null;
  /** Hash of the target side, null where absent. */
  targetHash: string | null;
}

/**
 * Sync states of one journey in every environment that has a lower one, from its head hashes
 * alone: no document is needed. Where the application has no client, the state is NOT_CREATED.
 */
export function journeySyncStates<E extends Environment>(
  environments: readonly E[],
  clients: readonly Pick<Client, "environmentId">[],
  heads: readonly { environmentId: string; hash: string }[],
): SyncState<E>[] {
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
export function clientSyncStatus(environments: readonly Environment[], clients: readonly Client[], client: Client): SyncStatus {
  const index = environments.findIndex((e) => e.id === client.environmentId);
  if (index <= 0) return "IN_SYNC";
  const lower = clients.find((c) => c.environmentId === environments[index - 1].id);
  if (!lower) return "IN_SYNC";
  return lower.settingsHash === client.settingsHash ? "IN_SYNC" : "OUT_OF_SYNC";
}

/** The client settings' state in every environment that has a lower one (see clientSyncStatus). */
export function clientSyncStates<E extends Environment>(environments: readonly E[], clients: readonly Client[]): SyncState<E>[] {
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

/** One journey's version as a side of a diff; null where the journey has no version. */
export function journeyDiffSide(version: { document: JourneyDocument; hash: string } | null): DiffSide {
  return { client: null, journeys: version ? { journey: { document: version.document, hash: version.hash } } : {} };
}

/** A client's shared settings as a side of a diff; null where there is no client. */
export function clientDiffSide(settings: ClientSettings | null): DiffSide {
  return { client: settings ? { settings } : null, journeys: {} };
}

/**
 * How many changes promoting the source side would make: none unless the state is out of sync.
 * A function of the two contents, so callers may memoize it by the pair of hashes.
 */
export function changeCount(state: Pick<SyncState, "status">, source: DiffSide, target: DiffSide): number {
  return state.status === "OUT_OF_SYNC" ? diffApplication(source, target).changes.length : 0;
}

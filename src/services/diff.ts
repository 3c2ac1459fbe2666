import { LRUCache } from "lru-cache";
import type { Db } from "../db/client.js";
import { pipelined } from "../db/pipelined.js";
import { findClientsByApplicationIds } from "../db/repositories/clients.js";
import { findDiffInputs, findHeads, findJourneysByApplicationIds } from "../db/repositories/journeys.js";
import type { ApplicationRow, ClientRow, EnvironmentRow, JourneyRow } from "../db/repositories/rows.js";
import type { ChangeBundle, ConfigChange } from "../domain/change.js";
import { type ApplicationDiff, type DiffSide, diffApplication, diffApplicationInSteps, type JourneySide } from "../domain/diff.js";
import { InvalidDirectionError, NotFoundError } from "../domain/errors.js";
import type { JsonValue } from "../domain/journey-document.js";
import { sha256Hex } from "../domain/sha256.js";
import { type SyncStatus, syncMessage } from "../domain/sync.js";
import { isUuid } from "../domain/uuid.js";
import { settingReferencesIn } from "../domain/variables.js";
import type { Actor } from "./actor.js";
import { documentsOf } from "./documents.js";
import { applicationOf, environmentOf } from "./lookups.js";
import { inSnapshot } from "./transaction.js";
import { variablesIn } from "./variables.js";

/** A change with the journey it belongs to (null for client settings). */
export type ChangeView = ConfigChange & { journeyId: string | null };

export interface ConfigurationDiff {
  from: EnvironmentRow;
  to: EnvironmentRow;
  status: SyncStatus;
  message: string;
  changes: ChangeView[];
  bundles: ChangeBundle[];
  /** Referenced variables the target has no value for, once the changes are applied, with the changes that reference each. */
  missingVariables: { key: string; changeIds: string[] }[];
  /** What the diff was computed from, of what writes to other applications change too (see {@link diffInputsUnchanged}). */
  inputs: DiffInputs;
}

/**
 * The rows a diff read that a write to another application of its organization revises as well
 * (the heads of two environments, the clients table): the journeys it compared with their heads'
 * content hashes in both environments, and both clients' settings hashes. A diff is a function of
 * those contents and of rows no such write changes (the application, the environments, its journeys,
 * the target's variables), so while they are the same the diff is.
 */
export interface DiffInputs {
  applicationId: string;
  fromEnvironmentId: string;
  toEnvironmentId: string;
  journeyIds: string[];
  /** Heads and clients as `findDiffInputs` reads them (`<journey>@<environment>=<hash>`, `client@<environment>=<id>:<settings hash>`), sorted. */
  contents: string;
}

function inputContents(
  heads: readonly { journeyId: string; environmentId: string; hash: string }[],
  clients: readonly { id: string; environmentId: string; settingsHash: string }[],
  environmentIds: readonly string[],
): string {
  return [
    ...heads.map((h) => `${h.journeyId}@${h.environmentId}=${h.hash}`),
    ...clients.filter((c) => environmentIds.includes(c.environmentId)).map((c) => `client@${c.environmentId}=${c.id}:${c.settingsHash}`),
  ]
    .sort()
    .join(",");
}

/**
 * Whether what a diff was computed from is still what the database holds: its journeys' heads in
 * both environments and the application's clients there, in one statement (a diff reads six or
 * more, and its documents). Its caller knows that nothing else the diff read has changed.
 */
export async function diffInputsUnchanged(db: Db, actor: Actor, inputs: DiffInputs): Promise<boolean> {
  const items = await findDiffInputs(db, actor.organizationId, {
    applicationId: inputs.applicationId,
    journeyIds: inputs.journeyIds,
    environmentIds: [inputs.fromEnvironmentId, inputs.toEnvironmentId],
  });
  return items.sort().join(",") === inputs.contents;
}

export interface DiffRequest {
  applicationId: string;
  fromEnvironmentId: string;
  toEnvironmentId: string;
  journeyId?: string | null;
}

/** Everything a diff (and a propagation) reads about both sides, loaded in a fixed number of statements. */
export interface DiffContext extends DiffTarget {
  fromClient: ClientRow;
  toClient: ClientRow | null;
  /** Head version numbers in the target of the journeys that differ. */
  targetVersions: Map<string, number>;
  fromSide: DiffSide;
  toSide: DiffSide;
  inputs: DiffInputs;
}

/** The application, environments and (optional) journey a diff or propagation names, checked. */
export interface DiffTarget {
  application: ApplicationRow;
  from: EnvironmentRow;
  to: EnvironmentRow;
  journeys: JourneyRow[];
  journey: JourneyRow | null;
}

export async function resolveDiffTarget(db: Db, actor: Actor, request: DiffRequest): Promise<DiffTarget> {
  // One round trip; checked in this order. The journeys are the organization's of that id: none of
  // a foreign application's (which is NOT_FOUND first).
  const [application, from, to, journeys] = await pipelined(
    applicationOf(db, actor, request.applicationId),
    environmentOf(db, actor, request.fromEnvironmentId),
    environmentOf(db, actor, request.toEnvironmentId),
    isUuid(request.applicationId) ? findJourneysByApplicationIds(db, actor.organizationId, [request.applicationId]) : [],
  );
  let journey: JourneyRow | null = null;
  if (request.journeyId != null) {
    journey = journeys.find((j) => j.id === request.journeyId) ?? null;
    if (!journey) throw new NotFoundError("journey of this application", request.journeyId);
  }
  if (from.rank >= to.rank) throw new InvalidDirectionError(from.name, to.name);
  return { application, from, to, journeys, journey };
}

/**
 * Loads both sides of a diff. Journeys whose head hashes match are left out of both sides, so
 * their documents are never read: the diff skips them anyway.
 */
export async function loadDiffContext(db: Db, actor: Actor, target: DiffTarget): Promise<DiffContext> {
  const { application, from, to, journeys, journey } = target;
  const inScope = journey ? [journey] : journeys;
  // One round trip. The two environments' heads only: a write to a third environment's leaves a kept diff exact.
  const [clients, heads] = await pipelined(
    findClientsByApplicationIds(db, actor.organizationId, [application.id]),
    findHeads(
      db,
      actor.organizationId,
      inScope.flatMap((j) => [
        { journeyId: j.id, environmentId: from.id },
        { journeyId: j.id, environmentId: to.id },
      ]),
    ),
  );
  const fromClient = clients.find((c) => c.environmentId === from.id);
  if (!fromClient) throw new NotFoundError(`client of ${application.name} in ${from.name}`);
  const toClient = clients.find((c) => c.environmentId === to.id) ?? null;

  const headOf = (journeyId: string, environmentId: string) =>
    heads.find((h) => h.journeyId === journeyId && h.environmentId === environmentId) ?? null;
  const differing = toClient ? inScope.filter((j) => headOf(j.id, from.id)?.hash !== headOf(j.id, to.id)?.hash) : [];
  const differingHeads = differing.flatMap((j) => [headOf(j.id, from.id), headOf(j.id, to.id)]).filter((h) => h !== null);
  const documents = await documentsOf(db, actor.organizationId, differingHeads);
  const side = (environmentId: string, client: ClientRow | null): DiffSide => {
    const sideJourneys: Record<string, JourneySide> = {};
    for (const j of differing) {
      const head = headOf(j.id, environmentId);
      if (head) sideJourneys[j.key] = { document: documents.get(head.hash)!, hash: head.hash };
    }
    return { client: client && { settings: client.settings }, journeys: sideJourneys };
  };
  return {
    ...target,
    fromClient,
    toClient,
    targetVersions: new Map(differingHeads.filter((h) => h.environmentId === to.id).map((h) => [h.journeyId, h.version])),
    fromSide: side(from.id, fromClient),
    toSide: side(to.id, toClient),
    inputs: {
      applicationId: application.id,
      fromEnvironmentId: from.id,
      toEnvironmentId: to.id,
      journeyIds: inScope.map((j) => j.id),
      contents: inputContents(heads, clients, [from.id, to.id]),
    },
  };
}

/** The diff's changes with their journeys' ids; the changes are the diff's own, fresh objects, extended in place. */
const withJourneyIds = (context: DiffContext, result: ApplicationDiff): { changes: ChangeView[]; bundles: ChangeBundle[] } => {
  const journeyIds = new Map(context.journeys.map((j) => [j.key, j.id]));
  for (const change of result.changes as ChangeView[]) {
    change.journeyId = change.journeyKey === null ? null : (journeyIds.get(change.journeyKey) ?? null);
  }
  return { changes: result.changes as ChangeView[], bundles: result.bundles };
};

const diffOptions = (context: DiffContext) => ({
  journeyKeys: context.journey ? [context.journey.key] : undefined,
  includeClient: !context.journey,
});

/** The changes promoting `from` → `to` would make, with ids, requires and bundles (ARCHITECTURE.md, "The domain"). */
export function computeDiff(context: DiffContext): { changes: ChangeView[]; bundles: ChangeBundle[] } {
  if (!context.toClient) return { changes: [], bundles: [] };
  return withJourneyIds(context, diffApplication(context.fromSide, context.toSide, diffOptions(context)));
}

/**
 * {@link computeDiff} with a turn of the event loop between its steps: a diff query of a large
 * application no longer holds the thread for its whole computation (other requests run between the
 * steps). Propagations, which hold their locks meanwhile, compute in one piece.
 */
async function computeDiffInTurns(context: DiffContext): Promise<{ changes: ChangeView[]; bundles: ChangeBundle[] }> {
  if (!context.toClient) return { changes: [], bundles: [] };
  const key = contentKey(context);
  const known = diffResults.get(key);
  if (known) return withJourneyIds(context, known);
  const steps = diffApplicationInSteps(context.fromSide, context.toSide, diffOptions(context));
  for (;;) {
    const next = steps.next();
    if (next.done) {
      diffResults.set(key, next.value);
      return withJourneyIds(context, next.value);
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/**
 * Diffs of the query by the content they compare. A diff is a function of the two sides' documents,
 * and each document is named by its hash: the same hashes give the same diff, so an entry is never
 * stale (a save or promotion changes a hash, hence the key). Dashboards that ask again, and aliases
 * across requests, cost the reading of the heads, not the comparison. Bounded by the changes held.
 */
const diffResults = new LRUCache<string, ApplicationDiff>({
  maxSize: 50_000,
  sizeCalculation: (diff) => diff.changes.length + 1,
});

function contentKey(context: DiffContext): string {
  const { journey, fromClient, toClient, fromSide, toSide } = context;
  const keys = Object.keys(fromSide.journeys);
  for (const key of Object.keys(toSide.journeys)) if (!Object.hasOwn(fromSide.journeys, key)) keys.push(key);
  const journeys = keys
    .sort()
    .map((key) => `${key}:${fromSide.journeys[key]?.hash ?? "-"}:${toSide.journeys[key]?.hash ?? "-"}`)
    .join(",");
  const scope = journey ? `journey:${journey.key}` : `client:${fromClient.settingsHash}:${toClient?.settingsHash ?? "-"}`;
  return sha256Hex(`${context.application.id}|${scope}|${journeys}`);
}

/**
 * The variables the changes reference that the target has no value for (DESIGN.md §6): what a
 * propagation of those changes would be refused for (MISSING_VARIABLES), named before it is tried.
 * Configurations already in the target always resolve there (values in use cannot be removed).
 */
/** Whether a value holds the text of a reference anywhere: most values do not, and are skipped cheaply. */
function mayReference(value: JsonValue): boolean {
  if (typeof value === "string") return value.includes("&{");
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) return value.some(mayReference);
  for (const key in value) if (mayReference(value[key])) return true;
  return false;
}

export async function missingVariablesOf(db: Db, actor: Actor, to: EnvironmentRow, changes: ChangeView[]) {
  const byKey = new Map<string, string[]>();
  for (const change of changes) {
    if (!mayReference(change.newValue as JsonValue)) continue;
    // The change's pointer (`/journeys/login/steps/hook/settings/url`) as the path the references lie under.
    const base = change.path.split("/").slice(1).join(".");
    for (const key of new Set(settingReferencesIn(change.newValue as JsonValue, base).map((u) => u.key))) {
      byKey.set(key, [...(byKey.get(key) ?? []), change.id]);
    }
  }
  if (byKey.size === 0) return [];
  const lookup = await variablesIn(db, actor.organizationId, to.id);
  return [...byKey.entries()]
    .filter(([key]) => lookup(key)?.value === undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, changeIds]) => ({ key, changeIds }));
}

export async function diff(db: Db, actor: Actor, request: DiffRequest): Promise<ConfigurationDiff> {
  // One snapshot: a promotion committed between the clients' read and the heads' would otherwise
  // give a diff of neither the state before it nor the state after it.
  const context = await inSnapshot(db, async (tx) => loadDiffContext(tx, actor, await resolveDiffTarget(tx, actor, request)));
  const { changes, bundles } = await computeDiffInTurns(context);
  const missingVariables = await missingVariablesOf(db, actor, context.to, changes);
  const status: SyncStatus = !context.toClient ? "NOT_CREATED" : changes.length > 0 ? "OUT_OF_SYNC" : "IN_SYNC";
  return {
    from: context.from,
    to: context.to,
    status,
    message: syncMessage("journey", status, context.to),
    changes,
    bundles,
    missingVariables,
    inputs: context.inputs,
  };
}

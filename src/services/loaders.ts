import DataLoader from "dataloader";
import type { Db } from "../db/client.js";
import { findApplicationsByIds } from "../db/repositories/applications.js";
import { findAuditEventsByIds } from "../db/repositories/audit.js";
import { findClientSummariesByApplicationIds, findClientsByIds } from "../db/repositories/clients.js";
import { findDrafts } from "../db/repositories/drafts.js";
import {
  findDatabasesByEnvironmentIds,
  findDatabasesByIds,
  findEnvironmentsByIds,
  listEnvironments,
} from "../db/repositories/environments.js";
import {
  findHeads,
  findHeadsByApplicationIds,
  findHeadVersions,
  findJourneysByIds,
  findJourneysWithPresenceByApplicationIds,
  findVersions,
  type JourneyEnvironmentKey,
  journeyEnvironmentKey,
} from "../db/repositories/journeys.js";
import { findOrganizationsByIds } from "../db/repositories/organizations.js";
import {
  findPromotionRequestsByIds,
  findPropagationsByRequestIds,
  findReviewsByRequestIds,
} from "../db/repositories/promotion-requests.js";
import { findPropagationsByIds, findRevertsOf } from "../db/repositories/propagations.js";
import { byKeys, groupByKeys } from "../db/repositories/rows.js";
import { findNotificationsBySeqs } from "../db/repositories/sync-notifications.js";
import { findApiTokensByIds } from "../db/repositories/tokens.js";
import {
  findValueChanges,
  findValuesByVariableIds,
  findVariablesByIds,
  listLatestValueChanges,
  listVariables,
} from "../db/repositories/variables.js";
import type { VariableUse } from "../domain/errors.js";
import { isUuid } from "../domain/uuid.js";
import type { Actor } from "./actor.js";
import { inSnapshot } from "./transaction.js";
import { referencesToKeys } from "./variable-references.js";

type Environment = Awaited<ReturnType<typeof listEnvironments>>[number];
/** An application's clients and journey heads of one moment. */
export interface SyncInputs {
  clients: Awaited<ReturnType<typeof findClientSummariesByApplicationIds>>;
  heads: Awaited<ReturnType<typeof findHeadsByApplicationIds>>;
}
type Finder<R> = (db: Db, org: string, ids: readonly string[]) => Promise<R[]>;
type KeyedFinder<R> = (db: Db, org: string, keys: readonly JourneyEnvironmentKey[]) => Promise<R[]>;

const changeKey = (k: { variableId: string; environmentId: string; version: number }) => `${k.variableId}:${k.environmentId}:${k.version}`;
const versionKey = (k: JourneyEnvironmentKey & { version: number }) => `${k.journeyId}:${k.environmentId}:${k.version}`;
const validKeys = (keys: readonly JourneyEnvironmentKey[]) => keys.filter((k) => isUuid(k.journeyId) && isUuid(k.environmentId));

const byId = <R extends { id: string }>(db: Db, org: string, find: Finder<R>) =>
  new DataLoader<string, R | null>(async (ids) => byKeys(ids, await find(db, org, ids.filter(isUuid)), (r) => r.id));

const grouped = <R>(db: Db, org: string, find: Finder<R>, keyOf: (row: R) => string) =>
  new DataLoader<string, R[]>(async (ids) => groupByKeys(ids, await find(db, org, ids.filter(isUuid)), keyOf));

const byJourneyEnvironment = <R extends JourneyEnvironmentKey>(db: Db, org: string, find: KeyedFinder<R>) =>
  new DataLoader<JourneyEnvironmentKey, R | null, string>(
    async (keys) => byKeys(keys.map(journeyEnvironmentKey), await find(db, org, validKeys(keys)), journeyEnvironmentKey),
    { cacheKeyFn: journeyEnvironmentKey },
  );

/** How each loader is made; a `Loaders` makes one on its first use. */
const FACTORIES = {
  environmentList: (db: Db, org: string) =>
    new DataLoader<"all", Environment[]>(async (keys) => {
      const rows = await listEnvironments(db, org);
      return keys.map(() => rows);
    }),
  // From the pipeline's list; an id it lacks may be a deleted environment, which the history still
  // names (propagations, notifications, requests, value changes): read by id.
  environment: (db: Db, org: string, loaders: Loaders) =>
    new DataLoader<string, Environment | null>(async (ids) => {
      const rows = await loaders.environments();
      const missing = ids.filter((id) => isUuid(id) && !rows.some((e) => e.id === id));
      const deleted = missing.length === 0 ? [] : await findEnvironmentsByIds(db, org, missing);
      return ids.map((id) => rows.find((e) => e.id === id) ?? deleted.find((e) => e.id === id) ?? null);
    }),
  organization: (db: Db, org: string) =>
    new DataLoader<string, Awaited<ReturnType<typeof findOrganizationsByIds>>[number] | null>(async (ids) =>
      byKeys(
        ids,
        await findOrganizationsByIds(
          db,
          ids.filter((id) => id === org),
        ),
        (r) => r.id,
      ),
    ),
  apiToken: (db: Db, org: string) => byId(db, org, findApiTokensByIds),
  database: (db: Db, org: string) => byId(db, org, findDatabasesByIds),
  databasesByEnvironment: (db: Db, org: string) => grouped(db, org, findDatabasesByEnvironmentIds, (r) => r.environmentId),
  application: (db: Db, org: string) => byId(db, org, findApplicationsByIds),
  client: (db: Db, org: string) => byId(db, org, findClientsByIds),
  // Lists and sync states need no settings: those load by id (`client`) when a field asks for them.
  clientsByApplication: (db: Db, org: string) => grouped(db, org, findClientSummariesByApplicationIds, (r) => r.applicationId),
  journey: (db: Db, org: string) => byId(db, org, findJourneysByIds),
  journeysByApplication: (db: Db, org: string) => grouped(db, org, findJourneysWithPresenceByApplicationIds, (r) => r.applicationId),
  propagation: (db: Db, org: string) => byId(db, org, findPropagationsByIds),
  auditEvent: (db: Db, org: string) => byId(db, org, findAuditEventsByIds),
  revertsOf: (db: Db, org: string) => grouped(db, org, findRevertsOf, (r) => r.revertOfId!),
  promotionRequest: (db: Db, org: string) => byId(db, org, findPromotionRequestsByIds),
  reviewsOfRequest: (db: Db, org: string) => grouped(db, org, findReviewsByRequestIds, (r) => r.requestId),
  /** The propagation that executed a request, by the request's id. */
  propagationOfRequest: (db: Db, org: string) =>
    new DataLoader<string, Awaited<ReturnType<typeof findPropagationsByRequestIds>>[number] | null>(async (ids) =>
      byKeys(ids, await findPropagationsByRequestIds(db, org, ids.filter(isUuid)), (r) => r.promotionRequestId!),
    ),
  /** By number in the organization (`seq`). */
  syncNotification: (db: Db, org: string) =>
    new DataLoader<number, Awaited<ReturnType<typeof findNotificationsBySeqs>>[number] | null>(async (seqs) => {
      const valid = seqs.filter((n) => Number.isSafeInteger(n) && n > 0);
      return byKeys(seqs, await findNotificationsBySeqs(db, org, valid), (r) => r.seq);
    }),
  /**
   * An application's clients and journey heads read in one snapshot, for a status computed from both
   * (`syncStatesOfJourney`): a client's deletion removes its heads with it, and a status of the
   * clients before it and the heads after it would be one that never was.
   */
  syncInputsByApplication: (db: Db, org: string) =>
    new DataLoader<string, SyncInputs>(async (ids) => {
      const valid = ids.filter(isUuid);
      const [clients, heads] = await inSnapshot(db, (tx) =>
        Promise.all([findClientSummariesByApplicationIds(tx, org, valid), findHeadsByApplicationIds(tx, org, valid)]),
      );
      const clientsOf = groupByKeys(ids, clients, (r) => r.applicationId);
      const headsOf = groupByKeys(ids, heads, (r) => r.applicationId);
      return ids.map((_, i) => ({ clients: clientsOf[i], heads: headsOf[i] }));
    }),
  variableList: (db: Db, org: string) =>
    new DataLoader<"all", Awaited<ReturnType<typeof listVariables>>>(async (keys) => {
      const rows = await listVariables(db, org);
      return keys.map(() => rows);
    }),
  variable: (db: Db, org: string) => byId(db, org, findVariablesByIds),
  /** Where configurations reference each variable key: one queued scan for the keys of a request. */
  variableReferences: (db: Db, org: string) =>
    new DataLoader<string, VariableUse[]>(async (keys) => {
      const found = await referencesToKeys(db, org, keys, {}, { queued: true });
      return keys.map((key) => found.get(key) ?? []);
    }),
  /** The newest changes of each variable (first pages of `history`, all environments): one statement for the variables of a request. */
  variableHistoryHead: (db: Db, org: string) =>
    new DataLoader<{ variableId: string; limit: number }, Awaited<ReturnType<typeof listLatestValueChanges>>, string>(
      async (keys) => {
        const limit = Math.max(...keys.map((k) => k.limit));
        const rows = await listLatestValueChanges(db, org, keys.map((k) => k.variableId).filter(isUuid), limit);
        return keys.map((k) => rows.filter((r) => r.variableId === k.variableId).slice(0, k.limit));
      },
      { cacheKeyFn: (k) => `${k.variableId}:${k.limit}` },
    ),
  /** By (variable, environment, number). */
  variableValueChange: (db: Db, org: string) =>
    new DataLoader<
      { variableId: string; environmentId: string; version: number },
      Awaited<ReturnType<typeof findValueChanges>>[number] | null,
      string
    >(
      async (keys) => {
        const valid = keys.filter((k) => isUuid(k.variableId) && isUuid(k.environmentId));
        return byKeys(keys.map(changeKey), await findValueChanges(db, org, valid), changeKey);
      },
      { cacheKeyFn: changeKey },
    ),
  valuesByVariable: (db: Db, org: string) => grouped(db, org, findValuesByVariableIds, (r) => r.variableId),
  draft: (db: Db, org: string) => byJourneyEnvironment(db, org, findDrafts),
  head: (db: Db, org: string) => byJourneyEnvironment(db, org, findHeads),
  headVersion: (db: Db, org: string) => byJourneyEnvironment(db, org, findHeadVersions),
  version: (db: Db, org: string) =>
    new DataLoader<JourneyEnvironmentKey & { version: number }, Awaited<ReturnType<typeof findVersions>>[number] | null, string>(
      async (keys) =>
        byKeys(
          keys.map(versionKey),
          await findVersions(
            db,
            org,
            keys.filter((k) => isUuid(k.journeyId) && isUuid(k.environmentId) && Number.isSafeInteger(k.version)),
          ),
          versionKey,
        ),
      { cacheKeyFn: versionKey },
    ),
};

type Made = { [K in keyof typeof FACTORIES]?: ReturnType<(typeof FACTORIES)[K]> };

/**
 * Per-request (and per-subscription-event) DataLoaders over the batch repository functions, all
 * scoped to the caller's organization: a row of another organization is simply not found. Each
 * loader is made on first use, so a context that reads little (an idle subscription) costs little.
 */
export class Loaders {
  readonly #db: Db;
  readonly #org: string;
  #made?: Made;
  #memo?: Map<string, Promise<unknown>>;

  constructor(db: Db, organizationId: string) {
    this.#db = db;
    this.#org = organizationId;
  }

  #get<K extends keyof typeof FACTORIES>(key: K): NonNullable<Made[K]> {
    const made = (this.#made ??= {});
    return (made[key] ??= FACTORIES[key](this.#db, this.#org, this) as Made[K]) as NonNullable<Made[K]>;
  }

  /** Forgets everything loaded: after a write, what is read next is read anew. */
  clear(): void {
    this.#made = undefined;
    this.#memo = undefined;
  }

  /**
   * One computation per key until the next clear(): aliases of one expensive field with the same
   * arguments (twenty `diff`s in one query) share one answer, as the same row shares one load.
   */
  memo<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const memo = (this.#memo ??= new Map());
    let found = memo.get(key) as Promise<T> | undefined;
    if (found === undefined) {
      found = compute();
      memo.set(key, found);
    }
    return found;
  }

  /** All environments of the organization, lowest first: read once, every environment lookup uses them. */
  environments(): Promise<Environment[]> {
    return this.#get("environmentList").load("all");
  }
  get environment() {
    return this.#get("environment");
  }
  get organization() {
    return this.#get("organization");
  }
  get apiToken() {
    return this.#get("apiToken");
  }
  get database() {
    return this.#get("database");
  }
  get databasesByEnvironment() {
    return this.#get("databasesByEnvironment");
  }
  get application() {
    return this.#get("application");
  }
  get client() {
    return this.#get("client");
  }
  get clientsByApplication() {
    return this.#get("clientsByApplication");
  }
  get journey() {
    return this.#get("journey");
  }
  get journeysByApplication() {
    return this.#get("journeysByApplication");
  }
  get propagation() {
    return this.#get("propagation");
  }
  get auditEvent() {
    return this.#get("auditEvent");
  }
  /** The propagations that revert a propagation, oldest first. */
  get revertsOf() {
    return this.#get("revertsOf");
  }
  get promotionRequest() {
    return this.#get("promotionRequest");
  }
  /** A request's reviews, oldest first. */
  get reviewsOfRequest() {
    return this.#get("reviewsOfRequest");
  }
  get propagationOfRequest() {
    return this.#get("propagationOfRequest");
  }
  get syncNotification() {
    return this.#get("syncNotification");
  }
  /** An application's clients and the head versions and hashes of its journeys in every environment, read in one snapshot. */
  get syncInputsByApplication() {
    return this.#get("syncInputsByApplication");
  }
  /** The organization's variables (not deleted), by key. */
  variables() {
    return this.#get("variableList").load("all");
  }
  get variable() {
    return this.#get("variable");
  }
  get variableReferences() {
    return this.#get("variableReferences");
  }
  get variableHistoryHead() {
    return this.#get("variableHistoryHead");
  }
  get variableValueChange() {
    return this.#get("variableValueChange");
  }
  /** A variable's values, in every environment that has one (a SECRET's without its ciphertext). */
  get valuesByVariable() {
    return this.#get("valuesByVariable");
  }
  get draft() {
    return this.#get("draft");
  }
  /** Head version number and hash only: enough for `configuration { version hash }`, without the document. */
  get head() {
    return this.#get("head");
  }
  /** The head version row, with its document. */
  get headVersion() {
    return this.#get("headVersion");
  }
  /** A version row (with its document), by journey, environment and number. */
  get version() {
    return this.#get("version");
  }
}

export function createLoaders(db: Db, actor: Actor): Loaders {
  return new Loaders(db, actor.organizationId);
}

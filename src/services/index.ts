import type { Db } from "../db/client.js";
import { partitionName, type Revisions } from "../db/read-tracking.js";
import { listApplications } from "../db/repositories/applications.js";
import { type AuditFilter, listAuditEvents } from "../db/repositories/audit.js";
import {
  listPromotionRequests,
  type PromotionRequestRow,
  type RequestEventFilter,
  type RequestFilter,
} from "../db/repositories/promotion-requests.js";
import { listPropagations } from "../db/repositories/propagations.js";
import { listNotifications, type NotificationFilter } from "../db/repositories/sync-notifications.js";
import { TooManyRequestsError } from "../domain/errors.js";
import { generateSecretKey, Keyring } from "../domain/secret-box.js";
import type { EventHub } from "../events/hub.js";
import type { Actor } from "./actor.js";
import * as applications from "./applications.js";
import { auditedAll } from "./audit.js";
import { authenticationCacheOf } from "./authentication-cache.js";
import * as clients from "./clients.js";
import * as diffs from "./diff.js";
import * as drafts from "./drafts.js";
import * as environments from "./environments.js";
import * as journeys from "./journeys.js";
import { createLoaders, type Loaders } from "./loaders.js";
import * as requests from "./promotion-requests.js";
import * as propagation from "./propagations.js";
import { TokenBuckets } from "./rate.js";
import { ReadQueue } from "./read-queue.js";
import * as reverts from "./reverts.js";
import { RevisedResults } from "./revised-results.js";
import * as runtime from "./runtime.js";
import * as notifications from "./sync-stream.js";
import * as tokens from "./tokens.js";
import * as variables from "./variables.js";

export type { AuditEventRow } from "../db/repositories/audit.js";
export type {
  PromotionRequestEventRow,
  PromotionRequestRow,
  PromotionReviewRow,
  RequestStatus,
} from "../db/repositories/promotion-requests.js";
export type * from "../db/repositories/rows.js";
export type { SyncNotificationRow } from "../db/repositories/sync-notifications.js";
export { resolveJourneyDocument } from "../domain/journey-validation.js";
export { Keyring } from "../domain/secret-box.js";
export type { SyncStatus } from "../domain/sync.js";
export { syncMessage } from "../domain/sync.js";
export type { Actor } from "./actor.js";
export { hasRole, isRuntime, ROLES } from "./actor.js";
export type { ClientCreationPlan } from "./clients.js";
export type { ChangeView, ConfigurationDiff } from "./diff.js";
export type { JourneyDraftRow } from "./drafts.js";
export { draftChanges, draftProblems } from "./drafts.js";
export type { Loaders } from "./loaders.js";
export type { ExecuteResult, RequestResult } from "./promotion-requests.js";
export type { PropagationResult, PropagationRow } from "./propagations.js";
export type { RevertPreview } from "./reverts.js";
export type { RuntimeConfiguration } from "./runtime.js";
export type { SyncState } from "./sync.js";
export { changeCountOf, type JourneySyncState, syncStatesOfJourney, syncStatusOfClient } from "./sync.js";
export type { VariableRow, VariableValueChangeRow, VariableValueRow } from "./variables.js";
export { variablesInLoaded } from "./variables.js";

/** Configuration reads a RUNTIME token makes at once, and then per second (each opens secrets and is audited). */
export const RUNTIME_READS = { burst: 20, perSecond: 5 } as const;

/** History events a resumed subscription gets at once per organization, and then per second. */
export const HISTORY_BURST = 2_000;
export const HISTORY_PER_SECOND = 500;

/**
 * A keyring whose key lives only in this process: secrets set with it are unreadable after a restart.
 * For tests and tools that never keep secrets; the server is given the configured one.
 */
export const ephemeralKeyring = () => new Keyring(generateSecretKey());

export interface ServiceOptions {
  /** What promotion requests expire by (default: the system clock); tests move it instead of sleeping. */
  clock?: requests.Clock;
  /**
   * This process is the database's only writer (the embedded database): tokens checked are kept
   * until their organization writes (src/services/authentication-cache.ts). Never with a PostgreSQL
   * server, which other instances write.
   */
  onlyWriter?: boolean;
}

/** The use-cases, bound to one database: what the GraphQL layer and the CLI call. */
export function createServices(db: Db, hub: EventHub, keyring: Keyring = ephemeralKeyring(), options: ServiceOptions = {}) {
  const clock = options.clock ?? (() => new Date());
  const authentications = options.onlyWriter ? authenticationCacheOf(db) : undefined;
  const readTokens = tokens.tokenReader(db);
  /** The loaders of each event being delivered; gone with the event. */
  const loadersOfEvents = new WeakMap<object, Loaders>();
  /**
   * Fresh loaders for events, one set for all of them: a live event alone, a page of history (up to
   * 100 events) together, so the rows a page names are read in a few batched statements, not a few
   * per event.
   */
  const prepareEvents = (events: readonly object[], actor: Actor) => {
    const fresh = events.filter((event) => !loadersOfEvents.has(event));
    if (fresh.length === 0) return;
    const loaders = createLoaders(db, actor);
    for (const event of fresh) loadersOfEvents.set(event, loaders);
  };
  // History of resumed subscriptions: one read at a time per organization, two in all.
  const historyReads = new ReadQueue(1, 2);
  // History delivered per organization: 2,000 events at once (a dashboard resuming after a long
  // disconnect), then 500 a second (a flood of resumes is served, without holding the server: at
  // 1,000 a second a flood of 100 resumes on PostgreSQL raised another tenant's p99 4.7–6×, at 500
  // 1.8×, docs/performance.md).
  const historyRate = new TokenBuckets(HISTORY_BURST, HISTORY_PER_SECOND);
  // Diffs: one at a time per organization, four in all, each after a turn of the event loop. A diff
  // compares documents in this thread (about 0.15 ms a differing journey); twenty aliased diffs of a
  // large application would otherwise run back to back and hold the thread for seconds. Identical
  // diffs that wait share one computation.
  const diffRuns = new ReadQueue(1, 4);
  // Diffs kept while the tables and environments' rows they read are unchanged: a dashboard's or an
  // attacker's repeated diff reads nothing (src/services/revised-results.ts). Bounded by the changes held.
  const diffResults = new RevisedResults<diffs.ConfigurationDiff>({ max: 1_000, maxSize: 50_000, sizeOf: (d) => d.changes.length + 1 });
  /**
   * Checks of kept diffs against what they were computed from (one statement each): two at a time
   * per organization, four in all, apart from the diffs being computed (with those, eight of the
   * pool's ten connections at most); identical checks under way at one revision run once (by key and
   * revision).
   */
  const diffCheckRuns = new ReadQueue(2, 4);
  const diffChecks = new Map<string, Promise<boolean>>();
  const runtimeReads = new TokenBuckets(RUNTIME_READS.burst, RUNTIME_READS.perSecond);
  /**
   * The mutations' use-cases, by mutation name: each runs in an audit scope named after its mutation,
   * so its transaction appends the audit event (src/services/audit.ts). A mutation is added here.
   */
  const mutations = {
    createEnvironment: (actor: Actor, input: environments.CreateEnvironmentInput) => environments.createEnvironment(db, actor, input),
    createDatabase: (actor: Actor, input: environments.CreateDatabaseInput) => environments.createDatabase(db, actor, input),
    createApplication: (actor: Actor, input: applications.CreateApplicationInput) => applications.createApplication(db, actor, input),
    createClient: (actor: Actor, input: clients.CreateClientInput) => clients.createClient(db, actor, input),
    createJourney: (actor: Actor, input: journeys.CreateJourneyInput) => journeys.createJourney(db, actor, input),
    updateClient: (actor: Actor, input: clients.UpdateClientInput) => clients.updateClient(db, actor, input),
    saveJourneyStep: (actor: Actor, input: drafts.SaveJourneyStepInput) => drafts.saveJourneyStep(db, actor, input),
    removeJourneyStep: (actor: Actor, input: drafts.StepRefInput) => drafts.removeJourneyStep(db, actor, input),
    setJourneyStart: (actor: Actor, input: drafts.StepRefInput) => drafts.setJourneyStart(db, actor, input),
    discardJourneyDraft: (actor: Actor, input: drafts.DraftRefInput) => drafts.discardJourneyDraft(db, actor, input),
    saveJourney: (actor: Actor, input: drafts.SaveJourneyInput) => drafts.saveJourney(db, actor, input),
    propagateChanges: (actor: Actor, input: propagation.PropagateChangesInput) => propagation.propagateChanges(db, actor, input),
    promoteNow: (actor: Actor, input: propagation.PromoteNowInput) => propagation.promoteNow(db, actor, input),
    revertPropagation: (actor: Actor, input: reverts.RevertPropagationInput) => reverts.revertPropagation(db, actor, input),
    restoreJourneyVersion: (actor: Actor, input: drafts.RestoreJourneyVersionInput) => drafts.restoreJourneyVersion(db, actor, input),
    setApprovalPolicy: (actor: Actor, input: environments.SetApprovalPolicyInput) =>
      environments.setApprovalPolicy(db, actor, input, clock),
    /** A request's plan is a diff (or a revert plan): it waits in the diffs' queue. */
    requestPromotion: (actor: Actor, input: requests.RequestPromotionInput) =>
      diffRuns.run(actor.organizationId, () => requests.requestPromotion(db, actor, input, clock)),
    approvePromotionRequest: (actor: Actor, input: Parameters<typeof requests.approvePromotionRequest>[2]) =>
      requests.approvePromotionRequest(db, actor, input, clock),
    rejectPromotionRequest: (actor: Actor, input: Parameters<typeof requests.rejectPromotionRequest>[2]) =>
      requests.rejectPromotionRequest(db, actor, input, clock),
    cancelPromotionRequest: (actor: Actor, input: Parameters<typeof requests.cancelPromotionRequest>[2]) =>
      requests.cancelPromotionRequest(db, actor, input, clock),
    executePromotionRequest: (actor: Actor, input: Parameters<typeof requests.executePromotionRequest>[2]) =>
      requests.executePromotionRequest(db, actor, input, clock),
    createApiToken: (actor: Actor, input: tokens.CreateApiTokenInput) => tokens.createApiToken(db, actor, input),
    createVariable: (actor: Actor, input: variables.CreateVariableInput) => variables.createVariable(db, actor, input),
    setVariableValue: (actor: Actor, input: variables.SetVariableValueInput) => variables.setVariableValue(db, keyring, actor, input),
    removeVariableValue: (actor: Actor, input: variables.RemoveVariableValueInput) => variables.removeVariableValue(db, actor, input),
    deleteVariable: (actor: Actor, input: { variableId: string }) => variables.deleteVariable(db, actor, input),
    revokeApiToken: (actor: Actor, apiTokenId: string) => tokens.revokeApiToken(db, actor, apiTokenId),
    retireJourney: (actor: Actor, input: journeys.RetireJourneyInput) => journeys.retireJourney(db, actor, input),
    updateJourney: (actor: Actor, input: journeys.UpdateJourneyInput) => journeys.updateJourney(db, actor, input),
    archiveApplication: (actor: Actor, input: { applicationId: string }) => applications.archiveApplication(db, actor, input),
    unarchiveApplication: (actor: Actor, input: { applicationId: string }) => applications.unarchiveApplication(db, actor, input),
    updateApplication: (actor: Actor, input: applications.UpdateApplicationInput) => applications.updateApplication(db, actor, input),
    deleteClient: (actor: Actor, input: { clientId: string }) => clients.deleteClient(db, actor, input),
    deleteDatabase: (actor: Actor, input: { databaseId: string }) => environments.deleteDatabase(db, actor, input),
    deleteEnvironment: (actor: Actor, input: { environmentId: string }) => environments.deleteEnvironment(db, actor, input),
    updateEnvironment: (actor: Actor, input: environments.UpdateEnvironmentInput) => environments.updateEnvironment(db, actor, input),
  };
  return {
    authenticate: (secret: string) => tokens.authenticate(readTokens, secret, authentications),
    loaders: (actor: Actor) => createLoaders(db, actor),
    /**
     * The loaders a delivered event resolves with: made once and shared by all its subscribers (same
     * organization, same event object), fresh for each event (what it names may have changed).
     */
    eventLoaders: (event: object, actor: Actor): Loaders => {
      if (!loadersOfEvents.has(event)) prepareEvents([event], actor);
      return loadersOfEvents.get(event)!;
    },
    listApplications: (actor: Actor, page: Parameters<typeof listApplications>[2], options: Parameters<typeof listApplications>[3]) =>
      listApplications(db, actor.organizationId, page, options),
    /** The caller got the journey through its organization's loaders: the key is already scoped. */
    journeyVersions: (
      _actor: Actor,
      key: { journeyId: string; environmentId: string },
      page: Parameters<typeof journeys.journeyVersions>[2],
    ) => journeys.journeyVersions(db, key, page),
    /**
     * A diff; with the caller's `revisions` (an HTTP request's), a diff computed before while what it
     * read had those revisions is answered without reading or queueing anything — also once its turn
     * in the queue comes, so that identical diffs asked at once are computed once. One kept through
     * other applications' writes is checked (one statement) in a queue of its own first.
     */
    diff: (actor: Actor, request: diffs.DiffRequest, revisions?: Revisions) => {
      const share = JSON.stringify(request);
      if (!revisions) return diffRuns.run(actor.organizationId, () => diffs.diff(db, actor, request), share);
      const key = `${actor.organizationId}\u0000${actor.role}\u0000${share}`;
      const known = diffResults.get(key, revisions);
      if (known) return Promise.resolve(known);
      // Looked up again when its turn comes: an identical diff that ran meanwhile may have kept it.
      // Only callers at the same revision join one waiting read (the same revisions of every table):
      // a caller after a write that joined one from before it would get what was kept before it.
      // A save or promotion in another application revises the heads of these environments (and a
      // client's settings the clients table) without changing this diff: what it was computed from
      // is checked instead (one statement), and the diff computed again only when that changed.
      const revisable = (table: string) =>
        table === "clients" ||
        table.startsWith(partitionName("journey_versions", "")) ||
        table === partitionName("journey_heads", request.fromEnvironmentId) ||
        table === partitionName("journey_heads", request.toEnvironmentId);
      // The check runs in a queue of its own, not the diffs': one statement, no comparing of
      // documents, so a diff kept through other applications' writes does not wait behind diffs
      // being computed. Identical checks at one revision run once; each caller then takes the result
      // as its own.
      const check = () => diffResults.revalidate(key, revisions, revisable, (kept) => diffs.diffInputsUnchanged(db, actor, kept.inputs));
      const at = `${key}\u0000${revisions.revision}`;
      let checking = diffChecks.get(at);
      if (!checking) {
        checking = diffCheckRuns
          .run(actor.organizationId, check)
          .then((kept) => kept !== undefined)
          .finally(() => diffChecks.delete(at));
        diffChecks.set(at, checking);
      }
      return checking.then(
        (unchanged) =>
          (unchanged && diffResults.get(key, revisions)) ||
          diffRuns.run(
            actor.organizationId,
            // A diff computed while this one waited (for an earlier revision) is checked, not computed again.
            async () =>
              diffResults.get(key, revisions) ??
              (await check()) ??
              diffResults.compute(key, revisions, () => diffs.diff(db, actor, request)),
            `${share}\u0000${revisions.revision}`,
          ),
      );
    },
    clientCreationPlan: (actor: Actor, request: { applicationId: string; environmentId: string }) =>
      clients.clientCreationPlan(db, actor, request),
    /** A revert's plan is a diff of the target: it waits in the diffs' queue. */
    revertPreview: (actor: Actor, propagationId: string) =>
      diffRuns.run(actor.organizationId, () => reverts.revertPreview(db, actor, propagationId), `revert:${propagationId}`),
    /** The audit log (ADMIN, checked by the schema), newest first. */
    listAuditEvents: (actor: Actor, filter: AuditFilter, page: Parameters<typeof listAuditEvents>[3]) =>
      listAuditEvents(db, actor.organizationId, filter, page),
    listPropagations: (actor: Actor, filter: Parameters<typeof listPropagations>[2], page: Parameters<typeof listPropagations>[3]) =>
      listPropagations(db, actor.organizationId, filter, page),
    listSyncNotifications: (actor: Actor, filter: NotificationFilter, page: Parameters<typeof listNotifications>[3]) =>
      listNotifications(db, actor.organizationId, filter, page),
    syncNotificationStream: (actor: Actor, filter: NotificationFilter, after: number | undefined) =>
      notifications.syncNotificationStream(db, hub, historyReads, historyRate, actor, filter, after, (page) => prepareEvents(page, actor)),
    /** Now, by the clock requests expire by. */
    now: () => clock(),
    /** Requests past their expiry become EXPIRED (stored, with events) before they are listed. */
    listPromotionRequests: async (actor: Actor, filter: RequestFilter, page: Parameters<typeof listPromotionRequests>[3]) => {
      await requests.expireDue(db, actor, clock);
      return listPromotionRequests(db, actor.organizationId, filter, page);
    },
    expireDueRequests: (actor: Actor) => requests.expireDue(db, actor, clock),
    /** Whether executing the request now would refuse (PLAN_STALE): a diff, in the diffs' queue. */
    requestIsStale: (actor: Actor, request: PromotionRequestRow) =>
      diffRuns.run(actor.organizationId, () => requests.isStale(db, actor, request, clock()), `stale:${request.id}`),
    requestEventStream: (actor: Actor, filter: RequestEventFilter, after: number | undefined) =>
      notifications.requestEventStream(db, hub, historyReads, historyRate, actor, filter, after, (page) => prepareEvents(page, actor)),
    runtimeConfiguration: (actor: Actor, applicationId: string, subjectId: string) => {
      // Each read opens secrets and writes an audit event: a token reads at most RUNTIME_READS a second.
      const wait = runtimeReads.wait(actor.tokenId);
      if (wait > 0) throw new TooManyRequestsError("configuration reads", Math.max(1, Math.ceil(wait)));
      runtimeReads.charge(actor.tokenId, 1);
      return runtime.runtimeConfiguration(db, keyring, actor, applicationId, subjectId);
    },
    variableHistory: (
      actor: Actor,
      filter: { variableId: string; environmentId?: string },
      page: Parameters<typeof variables.variableHistory>[3],
    ) => variables.variableHistory(db, actor, filter, page),
    ...auditedAll(mutations),
  };
}

export type Services = ReturnType<typeof createServices>;

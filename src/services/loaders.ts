import DataLoader from "dataloader";
import type { Db } from "../db/client.js";
import {
  findApplicationsByIds,
  findClientsByApplicationIds,
  findClientsByIds,
  findDatabasesByEnvironmentIds,
  findDatabasesByIds,
  listEnvironments,
} from "../db/repositories/catalog.js";
import {
  findHeads,
  findHeadsByApplicationIds,
  findHeadVersions,
  findVersions,
  findJourneysByApplicationIds,
  findJourneysByIds,
  journeyEnvironmentKey,
  type JourneyEnvironmentKey,
} from "../db/repositories/journeys.js";
import { findApiTokensByIds, findOrganizationsByIds } from "../db/repositories/organizations.js";
import { findDrafts } from "../db/repositories/drafts.js";
import { findPropagationsByIds } from "../db/repositories/propagations.js";
import { findNotificationsOfOrganization } from "../db/repositories/notifications.js";
import { byKeys, groupByKeys } from "../db/repositories/rows.js";
import type { Actor } from "./actor.js";
import { isUuid } from "./catalog.js";

/**
 * Per-request (and per-subscription-event) DataLoaders over the batch repository functions, all
 * scoped to the caller's organization: a row of another organization is simply not found.
 */
export function createLoaders(db: Db, actor: Actor) {
  const org = actor.organizationId;
  const byId = <R extends { id: string }>(find: (db: Db, org: string, ids: readonly string[]) => Promise<R[]>) =>
    new DataLoader<string, R | null>(async (ids) => byKeys(ids, await find(db, org, ids.filter(isUuid)), (r) => r.id));
  const grouped = <R>(find: (db: Db, org: string, ids: readonly string[]) => Promise<R[]>, keyOf: (row: R) => string) =>
    new DataLoader<string, R[]>(async (ids) => groupByKeys(ids, await find(db, org, ids.filter(isUuid)), keyOf));

  // An organization has a handful of environments: every environment lookup reads them all, once.
  const environmentList = new DataLoader<"all", Awaited<ReturnType<typeof listEnvironments>>>(async (keys) => {
    const rows = await listEnvironments(db, org);
    return keys.map(() => rows);
  });
  const environments = () => environmentList.load("all");
  const environment = new DataLoader<string, Awaited<ReturnType<typeof listEnvironments>>[number] | null>(async (ids) => {
    const rows = await environments();
    return ids.map((id) => rows.find((e) => e.id === id) ?? null);
  });

  return {
    organization: new DataLoader<string, Awaited<ReturnType<typeof findOrganizationsByIds>>[number] | null>(async (ids) =>
      byKeys(ids, await findOrganizationsByIds(db, ids.filter((id) => id === org)), (r) => r.id),
    ),
    apiToken: byId(findApiTokensByIds),
    environment,
    /** All environments of the organization, lowest first. */
    environments,
    database: byId(findDatabasesByIds),
    databasesByEnvironment: grouped(findDatabasesByEnvironmentIds, (r) => r.environmentId),
    application: byId(findApplicationsByIds),
    client: byId(findClientsByIds),
    clientsByApplication: grouped(findClientsByApplicationIds, (r) => r.applicationId),
    journey: byId(findJourneysByIds),
    propagation: byId(findPropagationsByIds),
    syncNotification: new DataLoader<string, Awaited<ReturnType<typeof findNotificationsOfOrganization>>[number] | null>(async (ids) => {
      const numbers = ids.map(Number).filter((n) => Number.isSafeInteger(n) && n > 0);
      return byKeys(ids, await findNotificationsOfOrganization(db, org, numbers), (r) => String(r.id));
    }),
    journeysByApplication: grouped(findJourneysByApplicationIds, (r) => r.applicationId),
    /** Head version numbers and hashes of every journey of an application, in every environment. */
    headsByApplication: grouped(findHeadsByApplicationIds, (r) => r.applicationId),
    draft: new DataLoader(
      async (keys: readonly JourneyEnvironmentKey[]) =>
        byKeys(
          keys.map(journeyEnvironmentKey),
          await findDrafts(db, org, keys.filter((k) => isUuid(k.journeyId) && isUuid(k.environmentId))),
          journeyEnvironmentKey,
        ),
      { cacheKeyFn: journeyEnvironmentKey },
    ),
    /** Head version number and hash only: enough for `configuration { version hash }`, without the document. */
    head: new DataLoader(
      async (keys: readonly JourneyEnvironmentKey[]) =>
        byKeys(
          keys.map(journeyEnvironmentKey),
          await findHeads(db, org, keys.filter((k) => isUuid(k.journeyId) && isUuid(k.environmentId))),
          journeyEnvironmentKey,
        ),
      { cacheKeyFn: journeyEnvironmentKey },
    ),
    /** A version row (with its document), by journey, environment and number. */
    version: new DataLoader(
      async (keys: readonly (JourneyEnvironmentKey & { version: number })[]) =>
        byKeys(keys.map(versionKey), await findVersions(db, org, keys), versionKey),
      { cacheKeyFn: versionKey },
    ),
    headVersion: new DataLoader(
      async (keys: readonly JourneyEnvironmentKey[]) =>
        byKeys(
          keys.map(journeyEnvironmentKey),
          await findHeadVersions(db, org, keys.filter((k) => isUuid(k.journeyId) && isUuid(k.environmentId))),
          journeyEnvironmentKey,
        ),
      { cacheKeyFn: journeyEnvironmentKey },
    ),
  };
}

const versionKey = (k: JourneyEnvironmentKey & { version: number }) => `${k.journeyId}:${k.environmentId}:${k.version}`;

export type Loaders = ReturnType<typeof createLoaders>;

import { asc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { Db } from "../../src/db/client.js";
import { syncNotifications } from "../../src/db/schema.js";
import { createClient, updateClient } from "../../src/services/clients.js";
import { saveJourney, saveJourneyStep } from "../../src/services/drafts.js";
import { promoteNow } from "../../src/services/propagations.js";
import { countQueries } from "../support/database.js";
import { rolledBack } from "../support/rolled-back.js";
import { createServiceCatalogue, type ServiceCatalogue } from "../support/service-catalogue.js";

/**
 * The sync notifications a write records in its own transaction (what live dashboards are told), read
 * straight from the table: each test runs in a transaction rolled back at its end.
 */

const RISK_STEP = {
  key: "risk",
  type: "RISK_CHECK",
  name: "Risk check",
  enabled: true,
  settings: {},
  transitions: [{ outcome: "success", to: "email-otp" }],
};

/** The catalogue with a client in staging too: development and staging start in sync. */
async function withStaging(tx: Db): Promise<ServiceCatalogue & { stagingClientId: string }> {
  const catalogue = await createServiceCatalogue(tx);
  const staging = await createClient(tx, catalogue.actor, {
    applicationId: catalogue.applicationId,
    environmentId: catalogue.environments.staging,
    databaseId: catalogue.databases.staging,
    redirectUris: [],
    allowedOrigins: [],
  });
  return { ...catalogue, stagingClientId: staging.id };
}

/** The organization's notifications in order, with what a watcher reads of them. */
async function notificationsOf(tx: Db, catalogue: ServiceCatalogue) {
  const rows = await tx
    .select()
    .from(syncNotifications)
    .where(eq(syncNotifications.organizationId, catalogue.actor.organizationId))
    .orderBy(asc(syncNotifications.seq));
  const keyOf = Object.fromEntries(Object.entries(catalogue.environments).map(([key, id]) => [id, key]));
  return rows.map((n) => ({
    seq: n.seq,
    subject: n.journeyId === null ? "client" : n.journeyId === catalogue.loginId ? "login" : n.journeyId,
    environment: keyOf[n.environmentId],
    source: keyOf[n.sourceEnvironmentId],
    status: n.status,
    message: n.message,
    changeCount: n.changeCount,
  }));
}

/** Saves a new risk step in development, second in the order. */
async function saveRiskStep(tx: Db, catalogue: ServiceCatalogue) {
  const target = { journeyId: catalogue.loginId, environmentId: catalogue.environments.development };
  const draft = await saveJourneyStep(tx, catalogue.actor, { ...target, step: RISK_STEP, position: 1 });
  return saveJourney(tx, catalogue.actor, { ...target, draftRevision: draft.revision });
}

describe("sync notifications of a write", () => {
  it("records that staging's login is out of sync when development saves a change, numbered after what came before", () =>
    rolledBack(async (tx) => {
      const catalogue = await withStaging(tx);
      const before = await notificationsOf(tx, catalogue);
      await saveRiskStep(tx, catalogue);
      const recorded = (await notificationsOf(tx, catalogue)).slice(before.length);
      expect(recorded).toEqual([
        {
          seq: before.length + 1,
          subject: "login",
          environment: "staging",
          source: "development",
          status: "OUT_OF_SYNC",
          message: "Journey Configuration out of Sync",
          changeCount: 2,
        },
      ]);
    }));

  it("records nothing for a draft edit: a draft changes no environment's configuration", () =>
    rolledBack(async (tx) => {
      const catalogue = await withStaging(tx);
      const before = await notificationsOf(tx, catalogue);
      await saveJourneyStep(tx, catalogue.actor, {
        journeyId: catalogue.loginId,
        environmentId: catalogue.environments.development,
        step: RISK_STEP,
      });
      expect(await notificationsOf(tx, catalogue)).toEqual(before);
    }));

  it("records staging back in sync when the change is promoted", () =>
    rolledBack(async (tx) => {
      const catalogue = await withStaging(tx);
      await saveRiskStep(tx, catalogue);
      const before = await notificationsOf(tx, catalogue);
      await promoteNow(tx, catalogue.actor, {
        applicationId: catalogue.applicationId,
        fromEnvironmentId: catalogue.environments.development,
        toEnvironmentId: catalogue.environments.staging,
      });
      expect((await notificationsOf(tx, catalogue)).slice(before.length)).toMatchObject([
        { subject: "login", environment: "staging", status: "IN_SYNC", message: "Journey Configuration in Sync", changeCount: 0 },
      ]);
    }));

  it("records the client settings out of sync in staging when development's settings change", () =>
    rolledBack(async (tx) => {
      const catalogue = await withStaging(tx);
      const before = await notificationsOf(tx, catalogue);
      await updateClient(tx, catalogue.actor, { clientId: catalogue.clientId, settings: { accessTokenTtlSeconds: 900 } });
      expect((await notificationsOf(tx, catalogue)).slice(before.length)).toMatchObject([
        { subject: "client", environment: "staging", source: "development", status: "OUT_OF_SYNC", changeCount: 1 },
      ]);
    }));

  it("reads again after a write only what the write's statements named: a save its heads, a client's settings the clients", () =>
    rolledBack(async (tx) => {
      const catalogue = await withStaging(tx);
      const target = { journeyId: catalogue.loginId, environmentId: catalogue.environments.development };
      const draft = await saveJourneyStep(tx, catalogue.actor, { ...target, step: RISK_STEP, position: 1 });
      const reads = (queries: string[]) => ({
        environments: queries.filter((q) => /^select .* from "environments" where .*"deleted_at" is null\) order by/s.test(q)).length,
        clients: queries.filter((q) => /^select .* from "clients" where .*"clients"\."application_id" = any\(/s.test(q)).length,
        heads: queries.filter((q) => /^select "journey_heads".*"journeys"\."application_id" = any\(/s.test(q)).length,
      });
      const saved = await countQueries(() => saveJourney(tx, catalogue.actor, { ...target, draftRevision: draft.revision }));
      expect(reads(saved.queries)).toEqual({ environments: 1, clients: 1, heads: 2 });
      const updated = await countQueries(() =>
        updateClient(tx, catalogue.actor, { clientId: catalogue.clientId, settings: { accessTokenTtlSeconds: 900 } }),
      );
      expect(reads(updated.queries)).toMatchObject({ clients: 2, heads: 1 });
      // And what they recorded is what the states became (the tests above check each state).
      expect((await notificationsOf(tx, catalogue)).slice(-2)).toMatchObject([
        { subject: "login", environment: "staging", status: "OUT_OF_SYNC" },
        { subject: "client", environment: "staging", status: "OUT_OF_SYNC" },
      ]);
    }));
});

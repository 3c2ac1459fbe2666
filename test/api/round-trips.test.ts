import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/client.js";
import { type App, createApp } from "../../src/server/app.js";
import { createLogger } from "../../src/server/logger.js";
import { databaseUrl, testDatabase } from "../support/database.js";
import { PROMOTE_NOW, passwordStep, SAVE, SAVE_STEP } from "../support/documents.js";
import { type Api, apiAs, type Catalogue, createCatalogue, createClient } from "../support/fixtures.js";
import { databaseThroughRelay, type relay } from "../support/relay.js";
import { createTenant } from "../support/tenant.js";

/**
 * How many times the server writes to PostgreSQL for a save and a promotion, counted through a
 * relay: a write sent without waiting for an answer can go alone, so the writes bound the round
 * trips from above. Under load every round trip waits for a turn of the event loop and for a core
 * (docs/performance.md): the statements that do not need each other's answers go together. Each
 * count starts once the writes of the operation before have stopped (a delivery's read of new
 * notifications follows a commit), and the fewest of a few repetitions is taken.
 */
describe.runIf(databaseUrl)("round trips of a write on PostgreSQL", () => {
  let proxy: ReturnType<typeof relay>;
  let database: Database;
  let app: App;
  let api: Api;
  let catalogue: Catalogue;

  beforeAll(async () => {
    await testDatabase(); // migrated
    ({ proxy, database } = await databaseThroughRelay(databaseUrl as string, 2));
    app = createApp({ database, logger: createLogger("silent") });
    const url = await app.start(0, "127.0.0.1");
    api = apiAs(`${url}/graphql`, await createTenant("round-trips"));
    catalogue = await createCatalogue(api);
    await createClient(api, {
      applicationId: catalogue.applicationId,
      environmentId: catalogue.environments.staging,
      databaseId: catalogue.databases.staging,
    });
  });

  afterAll(async () => {
    await app?.stop();
    await database?.close();
    await proxy?.stop();
  });

  async function writes(work: () => Promise<unknown>): Promise<number> {
    // What the last operation set off (a delivery's read of new notifications) is done first.
    for (let quiet = 0, seen = proxy.writes; quiet < 3; ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      quiet = proxy.writes === seen ? quiet + 1 : 0;
      seen = proxy.writes;
    }
    const before = proxy.writes;
    await work();
    return proxy.writes - before;
  }

  it("saves a step, saves the journey and promotes it in few round trips each", async () => {
    const ids = { journeyId: catalogue.journeys.login, environmentId: catalogue.environments.development };
    const counts = { saveJourneyStep: [] as number[], saveJourney: [] as number[], promoteNow: [] as number[] };
    // The first rounds prepare the statements on both connections.
    for (let round = 0; round < 8; round++) {
      let revision = 0;
      counts.saveJourneyStep.push(
        await writes(async () => {
          const result = await api.data(SAVE_STEP, { input: { ...ids, step: passwordStep(40 + round) } });
          revision = result.saveJourneyStep.draft.revision;
        }),
      );
      counts.saveJourney.push(
        await writes(async () =>
          expect((await api.data(SAVE, { input: { ...ids, draftRevision: revision } })).saveJourney.__typename).toBe("SaveJourneySuccess"),
        ),
      );
      const input = {
        applicationId: catalogue.applicationId,
        fromEnvironmentId: catalogue.environments.development,
        toEnvironmentId: catalogue.environments.staging,
      };
      counts.promoteNow.push(
        await writes(async () => expect((await api.data(PROMOTE_NOW, { input })).promoteNow.__typename).toBe("PromoteNowSuccess")),
      );
    }
    const fewest = (list: number[]) => Math.min(...list.slice(4));
    // The token, BEGIN, the journey with its environment and application, the configuration and
    // draft locks with the head, the new draft, the audit event and revision, COMMIT.
    expect(fewest(counts.saveJourneyStep)).toBeLessThanOrEqual(8);
    // The token, BEGIN, the journey with its environment and application, the locks with the draft,
    // the head and the sync states, the version with the head moved and the draft dropped, the sync
    // states after, the notifications' documents, the audit event with the notifications, COMMIT.
    expect(fewest(counts.saveJourney)).toBeLessThanOrEqual(10);
    expect(fewest(counts.promoteNow)).toBeLessThanOrEqual(13);
  });
});

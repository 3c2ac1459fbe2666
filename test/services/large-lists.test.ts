import { describe, expect, it } from "vitest";
import { findHeadsByApplicationIds, findVersions } from "../../src/db/repositories/journeys.js";
import { defaultJourneyDocument } from "../../src/domain/journey-validation.js";
import { EventHub } from "../../src/events/hub.js";
import { createServices } from "../../src/services/index.js";
import { storeApplication } from "../bench/large-application.js";
import { testDatabase } from "../support/database.js";

/**
 * Lists of hundreds of keys in one statement. The embedded database answered no rows at all,
 * without an error, to a list of some 280 row constructors (`(a, b, c) in ((…), …)`): a diff of an
 * application with 150 differing journeys failed with an internal error, and a propagation removing
 * as many would have removed nothing. Those lists are now sent as arrays (src/db/repositories/tuples.ts).
 */
describe("hundreds of keys in one statement", () => {
  it("finds every version of 200 journeys in two environments, and diffs them", { timeout: 60_000 }, async () => {
    const database = await testDatabase();
    const journeys = Array.from({ length: 200 }, (_, i) => {
      const development = defaultJourneyDocument();
      const staging = defaultJourneyDocument();
      const [key] = Object.keys(development.steps);
      development.steps[key].name = `Development ${i}`;
      staging.steps[key].name = `Staging ${i}`;
      return { key: `journey-${i}`, development, staging };
    });
    const stored = await storeApplication(database, journeys);
    const heads = await findHeadsByApplicationIds(database.db, stored.actor.organizationId, [stored.applicationId]);
    expect(heads).toHaveLength(400);
    const versions = await findVersions(database.db, stored.actor.organizationId, heads);
    expect(versions).toHaveLength(400);
    const services = createServices(database.db, new EventHub());
    const diff = await services.diff(stored.actor, {
      applicationId: stored.applicationId,
      fromEnvironmentId: stored.development.id,
      toEnvironmentId: stored.staging.id,
    });
    expect(new Set(diff.changes.map((c) => c.journeyKey)).size).toBe(200);
  });
});

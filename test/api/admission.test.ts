import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/server/app.js";
import { createLogger } from "../../src/server/logger.js";
import { testDatabase } from "../support/database.js";
import { gql } from "../support/graphql.js";
import { createTenant, type Tenant } from "../support/tenant.js";

/**
 * Admission under overload (src/server/admission.ts), through the server: here the event loop
 * always counts as fully busy, so an organization filling the server is held once it has requests
 * under way most of the time. Every request still gets its answer, the held ones later.
 */
let app: App;
let endpoint: string;
let heavy: Tenant;
let other: Tenant;
beforeAll(async () => {
  app = createApp({
    database: await testDatabase(),
    logger: createLogger("silent"),
    // The client shares this thread: the heavy organization has fewer requests under way than a remote one would.
    admission: { utilization: () => 1, sampleMs: 20, window: 2, heavy: 0.2 },
  });
  endpoint = `${await app.start(0, "127.0.0.1")}/graphql`;
  heavy = await createTenant("admission-heavy");
  other = await createTenant("admission-other");
});
afterAll(() => app.stop());

const VIEWER = `{ viewer { role organization { name } } }`;

describe("admission under overload", () => {
  it("answers every request of an organization that fills the server, held one at a time, while another organization's go at once", async () => {
    // Keeps the heavy organization at several requests under way for a while, errors among them.
    const rounds = async () => {
      const answers = [];
      for (let round = 0; round < 30; round++) {
        answers.push(
          ...(await Promise.all([
            ...Array.from({ length: 5 }, () => gql(endpoint, heavy.tokens.VIEWER, VIEWER)),
            gql(endpoint, heavy.tokens.VIEWER, "{ noSuchField }"),
          ])),
        );
      }
      return answers;
    };
    // The other organization asks all along, one request at a time.
    let done = false;
    let mostWaiting = 0;
    const otherMs: number[] = [];
    const polling = (async () => {
      while (!done) {
        const started = performance.now();
        const answer = await gql(endpoint, other.tokens.VIEWER, VIEWER);
        otherMs.push(performance.now() - started);
        expect(answer.data.viewer.organization.name).toBe(other.name);
        mostWaiting = Math.max(mostWaiting, app.admission.waiting);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const answers = await rounds();
    done = true;
    await polling;
    expect(answers.filter((a) => a.data?.viewer?.organization?.name === heavy.name)).toHaveLength(150);
    expect(answers.filter((a) => a.errors?.[0]?.extensions?.code === "GRAPHQL_VALIDATION_FAILED")).toHaveLength(30);
    // The heavy organization was held (its requests waited), the other's were answered all along.
    expect(app.admission.isOverloaded).toBe(true);
    expect(mostWaiting).toBeGreaterThan(0);
    expect(app.admission.waiting).toBe(0);
    expect(otherMs.length).toBeGreaterThan(3);
  });
});

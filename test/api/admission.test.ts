import type { ExecutionResult } from "graphql";
import type { Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/server/app.js";
import { createLogger } from "../../src/server/logger.js";
import { testDatabase } from "../support/database.js";
import { gql } from "../support/graphql.js";
import { wsClient } from "../support/subscriptions.js";
import { createTenant, type Tenant } from "../support/tenant.js";

/**
 * Admission under overload (src/server/admission.ts), through the server: here the event loop
 * always counts as fully busy, so an organization filling the server is held once it has requests
 * under way most of the time. Every request still gets its answer, the held ones later.
 */
let app: App;
let endpoint: string;
let wsEndpoint: string;
let heavy: Tenant;
let other: Tenant;
beforeAll(async () => {
  app = createApp({
    database: await testDatabase(),
    logger: createLogger("silent"),
    // The client shares this thread: the heavy organization has fewer requests under way than a remote one would.
    // Utilization never falls, so pauses would grow to 16× the requests' time: 2× keeps the test short on a loaded machine.
    admission: { utilization: () => 1, sampleMs: 20, window: 2, heavy: 0.2, maxPauseFactor: 2 },
  });
  endpoint = `${await app.start(0, "127.0.0.1")}/graphql`;
  wsEndpoint = endpoint.replace(/^http/, "ws");
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

  it("admits operations over WebSocket as it admits requests: a held organization's wait on every socket, the other's never", async () => {
    const [wsHeavy, wsOther] = await Promise.all([createTenant("admission-ws-heavy"), createTenant("admission-ws-other")]);
    const sockets = Array.from({ length: 3 }, () => wsClient(wsEndpoint, wsHeavy.tokens.VIEWER));
    let done = false;
    let heavyMostWaiting = 0;
    let otherMostWaiting = 0;
    const watching = (async () => {
      while (!done) {
        heavyMostWaiting = Math.max(heavyMostWaiting, app.admission.of(wsHeavy.organizationId).waiting);
        otherMostWaiting = Math.max(otherMostWaiting, app.admission.of(wsOther.organizationId).waiting);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    // The other organization asks over HTTP all along; the heavy one only over its sockets.
    const polling = (async () => {
      while (!done) {
        const answer = await gql(endpoint, wsOther.tokens.VIEWER, VIEWER);
        expect(answer.data.viewer.organization.name).toBe(wsOther.name);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const answers: ExecutionResult[] = [];
    for (let round = 0; round < 20; round++) {
      answers.push(...(await Promise.all(sockets.flatMap((socket) => Array.from({ length: 4 }, () => wsQuery(socket, VIEWER))))));
    }
    done = true;
    await Promise.all([watching, polling]);
    expect(answers.filter((a) => (a.data as any)?.viewer?.organization?.name === wsHeavy.name)).toHaveLength(240);
    expect(heavyMostWaiting).toBeGreaterThan(0);
    expect(otherMostWaiting).toBe(0);
    // An operation the server cannot pick (two named, no operationName) is refused as over HTTP, the
    // socket stays open, and nothing of it stays under way.
    const ambiguous = await wsQuery(sockets[0], "query A { viewer { role } } query B { viewer { role } }");
    expect(ambiguous.errors).toEqual([
      { message: "Could not determine what operation to execute.", extensions: { code: "OPERATION_RESOLUTION_FAILURE" } },
    ]);
    expect(((await wsQuery(sockets[0], VIEWER)).data as any).viewer.role).toBe("VIEWER");
    // A socket closed while its operations wait leaves nothing waiting or under way behind it.
    const closing = wsClient(wsEndpoint, wsHeavy.tokens.VIEWER);
    const pending = Array.from({ length: 10 }, () => wsQuery(closing, VIEWER).catch(() => undefined));
    await new Promise((resolve) => setTimeout(resolve, 30));
    await closing.dispose();
    await Promise.all(pending);
    await Promise.all(sockets.map((socket) => socket.dispose()));
    await expect.poll(() => app.admission.of(wsHeavy.organizationId), { timeout: 3_000 }).toMatchObject({ inFlight: 0, waiting: 0 });
  });
});

/** One query over a graphql-ws client: its single result (errors included). */
function wsQuery(client: Client, query: string): Promise<ExecutionResult> {
  return new Promise((resolve, reject) => {
    let result: ExecutionResult | undefined;
    client.subscribe(
      { query },
      {
        next: (value) => (result = value as ExecutionResult),
        error: (error) => (Array.isArray(error) ? resolve({ errors: error }) : reject(error)),
        complete: () => (result ? resolve(result) : reject(new Error("completed without a result"))),
      },
    );
  });
}

import { Client, cacheExchange, fetchExchange, gql, type OperationResult, subscriptionExchange } from "@urql/core";
import { createClient as createSseClient } from "graphql-sse";
import { createClient as createWsClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestServer, type TestServer } from "../support/server.js";
import { clientWorld, passwordStep } from "./world.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

/** What urql's subscriptionExchange needs of a transport: graphql-ws's and graphql-sse's clients both have it. */
interface Transport {
  subscribe(
    payload: { query: string; variables?: Record<string, unknown> | null },
    sink: { next(value: any): void; error(error: unknown): void; complete(): void },
  ): () => void;
  dispose(): void | Promise<void>;
}

/** The transports urql is set up with for subscriptions: graphql-ws, and graphql-sse in each of its modes (on `/graphql`). */
const transports: [string, (token: string) => Transport][] = [
  [
    "graphql-ws",
    (token) =>
      createWsClient({
        url: server.wsEndpoint,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${token}` },
        retryAttempts: 0,
      }),
  ],
  [
    "graphql-sse, distinct connections mode",
    (token) =>
      createSseClient({ url: server.endpoint, singleConnection: false, headers: { authorization: `Bearer ${token}` }, retryAttempts: 0 }),
  ],
  [
    "graphql-sse, single connection mode",
    (token) =>
      createSseClient({ url: server.endpoint, singleConnection: true, headers: { authorization: `Bearer ${token}` }, retryAttempts: 0 }),
  ],
];

const LATEST = gql`
  query LatestNotification { syncNotifications(last: 1) { pageInfo { endCursor } } }
`;
const WATCH = gql`
  subscription Watch($staging: ID, $after: String) {
    syncStatusChanged(environmentId: $staging, after: $after) {
      cursor status message changeCount journey { key } environment { key } sourceEnvironment { key }
    }
  }
`;
const SAVE_STEP = gql`
  mutation SaveStep($input: SaveJourneyStepInput!) {
    saveJourneyStep(input: $input) { __typename ... on SaveJourneyStepSuccess { draft { id revision } } ... on Error { code message } }
  }
`;
const SAVE = gql`
  mutation Save($input: SaveJourneyInput!) {
    saveJourney(input: $input) { __typename ... on SaveJourneySuccess { version { id version } } ... on Error { code message } }
  }
`;

describe.each(transports)("urql with subscriptionExchange over %s", (_name, transport) => {
  it("receives syncStatusChanged after a save, resuming from the cursor it last saw", async () => {
    const w = await clientWorld(server, "urql");
    const token = w.tenant.tokens.EDITOR;
    const subscriptions = transport(token);
    const client = new Client({
      url: server.endpoint,
      fetchOptions: { headers: { authorization: `Bearer ${token}` } },
      exchanges: [
        cacheExchange,
        subscriptionExchange({
          forwardSubscription: (request) => ({
            subscribe: (sink) => ({ unsubscribe: subscriptions.subscribe({ ...request, query: request.query ?? "" }, sink) }),
          }),
        }),
        fetchExchange,
      ],
    });
    const { environments, journeys } = w.catalogue;
    const events: OperationResult[] = [];
    let stop = () => {};
    try {
      const latest = await client.query(LATEST, {}, { requestPolicy: "network-only" }).toPromise();
      expect(latest.error).toBeUndefined();
      const after = latest.data.syncNotifications.pageInfo.endCursor ?? "0";

      let arrived!: () => void;
      const outOfSync = new Promise<void>((resolve) => (arrived = resolve));
      ({ unsubscribe: stop } = client.subscription(WATCH, { staging: environments.staging, after }).subscribe((result) => {
        events.push(result);
        if (result.error || result.data?.syncStatusChanged.status === "OUT_OF_SYNC") arrived();
      }));

      const ids = { journeyId: journeys.login, environmentId: environments.development };
      const step = await client.mutation(SAVE_STEP, { input: { ...ids, step: passwordStep(15) } }).toPromise();
      expect(step.data?.saveJourneyStep.__typename).toBe("SaveJourneyStepSuccess");
      const revision = step.data.saveJourneyStep.draft.revision;
      const saved = await client.mutation(SAVE, { input: { ...ids, draftRevision: revision } }).toPromise();
      expect(saved.data?.saveJourney).toMatchObject({ __typename: "SaveJourneySuccess", version: { version: 2 } });

      await outOfSync;
      expect(events.map((e) => e.error)).toEqual(events.map(() => undefined));
      expect(events.at(-1)?.data?.syncStatusChanged).toMatchObject({
        status: "OUT_OF_SYNC",
        message: "Journey Configuration out of Sync",
        changeCount: expect.any(Number),
        journey: { key: "login" },
        environment: { key: "staging" },
        sourceEnvironment: { key: "development" },
      });
      expect(Number(events.at(-1)?.data?.syncStatusChanged.cursor)).toBeGreaterThan(Number(after));
    } finally {
      stop();
      await subscriptions.dispose();
    }
  });
});

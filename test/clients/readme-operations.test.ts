import { ApolloClient, ApolloLink, gql, HttpLink, InMemoryCache, type PossibleTypesMap } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { createClient as createWsClient } from "graphql-ws";
import { firstValueFrom } from "rxjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { schema } from "../../src/graphql/schema/index.js";
import { asNormalizingClientSends } from "../support/normalizing.js";
import { readmeOperations, readmeShellRequests } from "../support/readme.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { generatedPossibleTypes } from "./codegen.js";
import { clientWorld } from "./world.js";

/**
 * Every GraphQL operation of README.md, run in the README's order through Apollo Client (which adds
 * `__typename` everywhere), once as written and once with `id` added wherever a type has one (as
 * normalizing clients select it): an example the server refuses fails here.
 */

let server: TestServer;
let possibleTypes: PossibleTypesMap;
beforeAll(async () => {
  [server, possibleTypes] = await Promise.all([startTestServer(), generatedPossibleTypes()]);
});
afterAll(() => server.stop());

const OPERATIONS = readmeOperations();

it("finds the README's operations, and every one of them is run below", () => {
  expect(OPERATIONS.length).toBeGreaterThanOrEqual(7);
  expect(new Set(OPERATIONS.map((o) => o.name)).size).toBe(OPERATIONS.length);
  expect(readmeShellRequests().length).toBeGreaterThanOrEqual(1);
});

/** The codes of a result's GraphQL errors (limits, validation…); Apollo reports them in `error`. */
function errorsOf(result: { error?: unknown }): unknown[] {
  const error = result.error as { errors?: { message: string; extensions?: { code?: unknown } }[]; message?: string } | undefined;
  if (!error) return [];
  return error.errors?.map((e) => `${e.extensions?.code}: ${e.message}`) ?? [String(error.message)];
}

describe.each([
  ["as written", (source: string) => source],
  ["with every id selected", (source: string) => asNormalizingClientSends(schema, source)],
])("README operations %s, through Apollo Client", (label, transform) => {
  it("run without an error, each mutation succeeding, the subscription delivering", async () => {
    const w = await clientWorld(server, `readme-${label.replaceAll(" ", "-")}`);
    const token = w.tenant.tokens.ADMIN;
    const ws = createWsClient({
      url: server.wsEndpoint,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
    });
    const isSubscription = (operation: ApolloLink.Operation) => {
      const definition = getMainDefinition(operation.query);
      return definition.kind === "OperationDefinition" && definition.operation === "subscription";
    };
    const client = new ApolloClient({
      link: ApolloLink.split(
        isSubscription,
        new GraphQLWsLink(ws),
        new HttpLink({ uri: server.endpoint, headers: { authorization: `Bearer ${token}` } }),
      ),
      cache: new InMemoryCache({ possibleTypes }),
    });

    const { environments, journeys, applicationId } = w.catalogue;
    // Variables by the names the README gives them; the state-dependent ones are set from earlier answers.
    const known: Record<string, unknown> = {
      production: environments.production,
      development: environments.development,
      staging: environments.staging,
      app: applicationId,
      login: journeys.login,
      after: "0",
    };
    const answers: Record<string, any> = {};
    // A reviewer is another token than the requester's (the README's policy allows no self-approval).
    const reviewer = new ApolloClient({
      link: new HttpLink({ uri: server.endpoint, headers: { authorization: `Bearer ${w.tenant.tokens.PROMOTER}` } }),
      cache: new InMemoryCache({ possibleTypes }),
    });
    try {
      for (const operation of OPERATIONS) {
        const missing = operation.variables.filter((v) => !(v in known));
        expect(missing, `${operation.name} needs variables this test does not provide`).toEqual([]);
        const variables = Object.fromEntries(operation.variables.map((v) => [v, known[v]]));
        const query = gql(transform(operation.source));
        let result: { data?: unknown; error?: unknown };
        if (operation.kind === "query") {
          result = await client.query({ query, variables, fetchPolicy: "network-only", errorPolicy: "all" });
        } else if (operation.kind === "mutation") {
          const as = operation.name === "Approve" ? reviewer : client;
          result = await as.mutate({ mutation: query, variables, errorPolicy: "all" });
        } else {
          result = await firstValueFrom(client.subscribe({ query, variables }));
        }
        expect(errorsOf(result), operation.name).toEqual([]);
        const data = result.data as Record<string, any>;
        expect(data, operation.name).toBeTruthy();
        answers[operation.name] = data;
        for (const [field, value] of Object.entries(data)) {
          if (operation.kind === "mutation") expect(value.__typename, `${operation.name}: ${JSON.stringify(value)}`).toMatch(/Success$/);
          if (operation.kind === "subscription") expect(value.__typename, field).toBe("SyncNotification");
        }
        // What the next operations need from this one's answer.
        if (data.saveJourneyStep) known.revision = data.saveJourneyStep.draft.revision;
        if (data.diff) known.changeIds = data.diff.changes.slice(0, 1).map((c: { id: string }) => c.id);
        if (data.createVariable) known.variable = data.createVariable.variable.id;
        if (data.createJourney) known.legacy = data.createJourney.journey.id;
        // The first propagation is the one the README reverts.
        if (data.propagateChanges) known.propagation ??= data.propagateChanges.propagation.id;
        if (data.requestPromotion) {
          known.request = data.requestPromotion.request.id;
          known.planHash = data.requestPromotion.request.planHash;
        }
      }
    } finally {
      await client.stop();
      await reviewer.stop();
      await ws.dispose();
    }
    expect(Object.keys(answers)).toEqual(OPERATIONS.map((o) => o.name));
    expect(answers.Dashboard.applications.edges).toHaveLength(1);
    expect(answers.Review.diff.status).toBe("OUT_OF_SYNC");
    expect(answers.RevertPreview.revertPreview.conflicts).toEqual([]);
    expect(answers.Revert.revertPropagation.propagation).toMatchObject({ mode: "REVERT", revertOf: { id: known.propagation } });
    expect(answers.Restore.restoreJourneyVersion.draft.restoredFromVersion).toBe(1);
    expect(answers.RetireLegacy.retireJourney.journey).toMatchObject({ key: "legacy-login", configuration: null });
    expect(answers.RetirementDiff.diff.changes).toMatchObject([{ path: "/journeys/legacy-login", kind: "REMOVED" }]);
    expect(answers.PromoteRetirement.propagateChanges.propagation.items).toMatchObject([
      { path: "/journeys/legacy-login", kind: "REMOVED" },
    ]);
    expect(answers.AuditTrail.auditLog.edges[0].node).toMatchObject({ action: "propagateChanges", actor: "admin-token" });
    expect(answers.Approve.approvePromotionRequest.request).toMatchObject({ status: "APPROVED", approvalsNeeded: 0 });
    expect(answers.Execute.executePromotionRequest).toMatchObject({
      request: { status: "EXECUTED" },
      propagation: { mode: "APPROVED_REQUEST", request: { id: known.request } },
    });

    // The shell examples, sent as curl sends them.
    for (const body of readmeShellRequests()) {
      const response = await fetch(server.endpoint, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const json = (await response.json()) as { data?: Record<string, { __typename: string }>; errors?: unknown };
      expect(json.errors, body.query).toBeUndefined();
      for (const value of Object.values(json.data ?? {})) expect(value.__typename, body.query).toMatch(/Success$/);
    }
  });
});

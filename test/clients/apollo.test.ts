import { ApolloClient, gql, HttpLink, InMemoryCache, type PossibleTypesMap } from "@apollo/client";
import { type GraphQLAbstractType, isInterfaceType, isUnionType } from "graphql";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { schema } from "../../src/graphql/schema/index.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { generatedPossibleTypes } from "./codegen.js";
import { type ClientWorld, clientWorld, passwordStep, recordingFetch } from "./world.js";

let server: TestServer;
let possibleTypes: PossibleTypesMap;
beforeAll(async () => {
  [server, possibleTypes] = await Promise.all([startTestServer(), generatedPossibleTypes()]);
});
afterAll(() => server.stop());

/** Apollo Client as a frontend sets it up: an HTTP link with the token, InMemoryCache; every request recorded. */
function apollo(token: string, cacheOptions: { possibleTypes?: PossibleTypesMap } = { possibleTypes }) {
  const { fetch, sent } = recordingFetch();
  const client = new ApolloClient({
    link: new HttpLink({ uri: server.endpoint, fetch, headers: { authorization: `Bearer ${token}` } }),
    cache: new InMemoryCache(cacheOptions),
  });
  return { client, sent };
}

describe("possibleTypes generated with graphql-codegen's fragment-matcher (codegen.ts)", () => {
  it("lists every member of every union and interface of the schema, JourneyVersion and JourneyDraft among the Nodes", () => {
    const abstract = Object.values(schema.getTypeMap()).filter(
      (t): t is GraphQLAbstractType => (isUnionType(t) || isInterfaceType(t)) && !t.name.startsWith("__"),
    );
    expect(Object.keys(possibleTypes).sort()).toEqual(abstract.map((t) => t.name).sort());
    for (const type of abstract) {
      const members = isUnionType(type) ? type.getTypes() : schema.getPossibleTypes(type);
      expect(possibleTypes[type.name].slice().sort()).toEqual(members.map((m) => m.name).sort());
    }
    expect(possibleTypes.Node).toEqual(expect.arrayContaining(["JourneyVersion", "JourneyDraft", "Journey", "Client", "Application"]));
    expect(possibleTypes.Error).toEqual(expect.arrayContaining(["ForbiddenError", "NotFoundError", "ValidationError"]));
  });

  const CREATE_APPLICATION = gql`
    mutation CreateApplication($name: String!) {
      createApplication(input: { name: $name }) {
        ... on CreateApplicationSuccess { application { id name } }
        ... on Error { code message }
      }
    }
  `;

  it("keeps an error union's `... on Error` fields, which vanish silently without them", async () => {
    const w = await clientWorld(server, "apollo-errors");
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    let without: unknown;
    try {
      const bare = apollo(w.tenant.tokens.VIEWER, {});
      without = (await bare.client.mutate({ mutation: CREATE_APPLICATION, variables: { name: "Refused" } })).data;
    } finally {
      warn.mockRestore();
      error.mockRestore();
    }
    // The server answered ForbiddenError with its code; Apollo, not knowing ForbiddenError implements Error, dropped them.
    expect(without).toEqual({ createApplication: { __typename: "ForbiddenError" } });

    const { client } = apollo(w.tenant.tokens.VIEWER);
    const { data } = await client.mutate({ mutation: CREATE_APPLICATION, variables: { name: "Refused" } });
    expect(data).toEqual({ createApplication: { __typename: "ForbiddenError", code: "FORBIDDEN", message: expect.any(String) } });
  });
});

describe("Apollo Client's normalized cache after each mutation, with no refetch", () => {
  let w: ClientWorld;
  let apolloClient: ReturnType<typeof apollo>;
  let variables: Record<string, string>;
  beforeAll(async () => {
    w = await clientWorld(server, "apollo-cache");
    apolloClient = apollo(w.tenant.tokens.ADMIN);
    const { environments, journeys, applicationId } = w.catalogue;
    variables = {
      login: journeys.login,
      app: applicationId,
      development: environments.development,
      staging: environments.staging,
      production: environments.production,
    };
  });

  /** What a journey screen shows: configurations, the draft, sync states and the clients' sync status. */
  const SCREEN = gql`
    query JourneyScreen($login: ID!, $app: ID!, $development: ID!, $staging: ID!) {
      login: node(id: $login) {
        id
        ... on Journey {
          key
          configuration(environmentId: $development) { id version hash }
          stagingConfiguration: configuration(environmentId: $staging) { id version hash origin }
          draft(environmentId: $development) { id revision }
          syncStates { environment { id key } status changeCount }
        }
      }
      app: node(id: $app) {
        id
        ... on Application { clients { id settings syncStatus environment { id key } } }
      }
    }
  `;

  /** The screen as the cache has it: Apollo answers from the cache alone, or fails. */
  async function fromCache() {
    const { client } = apolloClient;
    const cached = client.readQuery({ query: SCREEN, variables });
    expect(cached).not.toBeNull();
    const viaQuery = await client.query({ query: SCREEN, variables, fetchPolicy: "cache-only" });
    expect(viaQuery.data).toEqual(cached);
    return cached as any;
  }

  const stagingState = (screen: any) => screen.login.syncStates.find((s: any) => s.environment.key === "staging");
  const clientIn = (screen: any, key: string) => screen.app.clients.find((c: any) => c.environment.key === key);

  it("shows a saved step, a saved journey, a client update and a promotion from the mutations' own results", async () => {
    const { client, sent } = apolloClient;
    const first = await client.query({ query: SCREEN, variables, fetchPolicy: "network-only" });
    expect(first.error).toBeUndefined();
    const initial = first.data as any;
    expect(initial.login.configuration.version).toBe(1);
    expect(initial.login.draft).toBeNull();
    expect(stagingState(initial)).toMatchObject({ status: "IN_SYNC", changeCount: 0 });
    expect(clientIn(initial, "staging").syncStatus).toBe("IN_SYNC");
    const requests = () => sent.length;
    let expected = requests();

    // 1. A step saved in the draft: the journey's draft is the edited one.
    const step = await client.mutate({
      mutation: gql`
        mutation SaveStep($login: ID!, $development: ID!, $step: JourneyStepInput!) {
          saveJourneyStep(input: { journeyId: $login, environmentId: $development, step: $step }) {
            ... on SaveJourneyStepSuccess {
              draft { id revision changes { summary } }
              journey { id draft(environmentId: $development) { id revision } }
            }
            ... on Error { code message }
          }
        }
      `,
      variables: { ...variables, step: passwordStep(14) },
    });
    const draft = (step.data as any).saveJourneyStep.draft;
    expect(draft.revision).toBeGreaterThan(0);
    expected += 1;
    let screen = await fromCache();
    expect(requests()).toBe(expected);
    expect(screen.login.draft).toEqual({ __typename: "JourneyDraft", id: draft.id, revision: draft.revision });
    // The draft is a normalized entity of its own (JourneyDraft implements Node).
    const draftRef = client.cache.identify({ __typename: "JourneyDraft", id: draft.id });
    expect(draftRef).toBe(`JourneyDraft:${draft.id}`);
    expect(
      client.cache.readFragment({ id: draftRef, fragment: gql`fragment DraftRevision on JourneyDraft { revision changes { summary } }` }),
    ).toMatchObject({ revision: draft.revision, changes: [expect.objectContaining({ summary: expect.any(String) })] });

    // 2. The draft saved: version 2 in development, no draft, staging out of sync.
    const saved = await client.mutate({
      mutation: gql`
        mutation SaveLogin($login: ID!, $development: ID!, $revision: Int!) {
          saveJourney(input: { journeyId: $login, environmentId: $development, draftRevision: $revision }) {
            ... on SaveJourneySuccess {
              version { id version hash }
              journey {
                id
                configuration(environmentId: $development) { id version hash }
                draft(environmentId: $development) { id }
                syncStates { environment { id key } status changeCount }
              }
            }
            ... on Error { code message }
          }
        }
      `,
      variables: { ...variables, revision: draft.revision },
    });
    const version = (saved.data as any).saveJourney.version;
    expect(version.version).toBe(2);
    expected += 1;
    screen = await fromCache();
    expect(requests()).toBe(expected);
    expect(screen.login.configuration).toEqual({ __typename: "JourneyVersion", id: version.id, version: 2, hash: version.hash });
    expect(screen.login.draft).toBeNull();
    expect(stagingState(screen)).toMatchObject({ status: "OUT_OF_SYNC", changeCount: expect.any(Number) });
    expect(stagingState(screen).changeCount).toBeGreaterThan(0);
    expect(client.cache.identify({ __typename: "JourneyVersion", id: version.id })).toBe(`JourneyVersion:${version.id}`);

    // 3. The client's shared settings changed in development: staging's client is out of sync, read through the client's application.
    const updated = await client.mutate({
      mutation: gql`
        mutation UpdateSettings($clientId: ID!, $settings: JSON!) {
          updateClient(input: { clientId: $clientId, settings: $settings }) {
            ... on UpdateClientSuccess { client { id settings syncStatus application { id clients { id syncStatus } } } }
            ... on Error { code message }
          }
        }
      `,
      variables: { clientId: w.catalogue.clientId, settings: { ...initial.app.clients[0].settings, accessTokenTtlSeconds: 900 } },
    });
    expect((updated.data as any).updateClient.__typename).toBe("UpdateClientSuccess");
    expected += 1;
    screen = await fromCache();
    expect(requests()).toBe(expected);
    expect(clientIn(screen, "development").settings).toMatchObject({ accessTokenTtlSeconds: 900 });
    expect(clientIn(screen, "staging").syncStatus).toBe("OUT_OF_SYNC");

    // 4. Everything promoted to staging: the application comes back with current sync states, configurations and client statuses.
    const promoted = await client.mutate({
      mutation: gql`
        mutation PromoteAll($app: ID!, $development: ID!, $staging: ID!) {
          promoteNow(input: { applicationId: $app, fromEnvironmentId: $development, toEnvironmentId: $staging }) {
            ... on PromoteNowSuccess {
              propagation { id }
              application {
                id
                journeys { id configuration(environmentId: $staging) { id version hash origin } syncStates { environment { id key } status changeCount } }
                clients { id settings syncStatus }
              }
            }
            ... on Error { code message }
          }
        }
      `,
      variables,
    });
    expect((promoted.data as any).promoteNow.__typename).toBe("PromoteNowSuccess");
    expected += 1;
    screen = await fromCache();
    expect(requests()).toBe(expected);
    expect(screen.login.stagingConfiguration).toMatchObject({ version: 2, hash: version.hash, origin: "PROPAGATION" });
    expect(stagingState(screen)).toMatchObject({ status: "IN_SYNC", changeCount: 0 });
    expect(clientIn(screen, "staging")).toMatchObject({ syncStatus: "IN_SYNC", settings: { accessTokenTtlSeconds: 900 } });

    // The cache told the truth: the server says the same.
    const truth = await client.query({ query: SCREEN, variables, fetchPolicy: "network-only" });
    expect(truth.data).toEqual(screen);
  });

  it("refetches a version and a draft by id through node (Relay's refetch)", async () => {
    const { client } = apolloClient;
    const step = await w.admin.data(
      `mutation($input: SaveJourneyStepInput!) { saveJourneyStep(input: $input) { ... on SaveJourneyStepSuccess { draft { id revision } } } }`,
      { input: { journeyId: variables.login, environmentId: variables.development, step: passwordStep(16) } },
    );
    const screen = await client.query({ query: SCREEN, variables, fetchPolicy: "network-only" });
    const versionId = (screen.data as any).login.configuration.id;
    const draftId = step.saveJourneyStep.draft.id;
    const NODE = gql`
      query Refetch($id: ID!) {
        node(id: $id) { id ... on JourneyVersion { version } ... on JourneyDraft { revision } }
      }
    `;
    const version = await client.query({ query: NODE, variables: { id: versionId }, fetchPolicy: "network-only" });
    expect(version.data).toEqual({ node: { __typename: "JourneyVersion", id: versionId, version: 2 } });
    const draft = await client.query({ query: NODE, variables: { id: draftId }, fetchPolicy: "network-only" });
    expect(draft.data).toEqual({ node: { __typename: "JourneyDraft", id: draftId, revision: step.saveJourneyStep.draft.revision } });
  });
});

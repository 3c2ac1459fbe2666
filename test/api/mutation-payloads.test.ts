import { describe, expect, it } from "vitest";
import { apiContext } from "../support/api-context.js";
import { createCatalogue, createClient, operation } from "../support/fixtures.js";

/**
 * What a normalizing cache (Apollo, urql's graphcache, Relay) needs from a mutation: the objects it
 * changed, read after the change, so the cache updates without a refetch (DESIGN.md §9). Each
 * mutation's loaders start empty once it has run, so a later mutation of the same request reads
 * its own writes, not what an earlier one loaded.
 */

const { tenantWithApi } = apiContext();

const JOURNEY_STATE = `
  id
  draft(environmentId: $dev) { id revision }
  configuration(environmentId: $dev) { id version }
  syncStates { environment { key } status changeCount }
`;

const step = (minLength: number) => ({
  key: "password",
  type: "PASSWORD",
  name: "Password",
  enabled: true,
  settings: { minLength },
  transitions: [
    { outcome: "success", to: "email-otp" },
    { outcome: "failure", to: "DENY" },
  ],
});

async function world(label: string, { staging = true } = {}) {
  const { api } = await tenantWithApi(label);
  const catalogue = await createCatalogue(api);
  if (staging) {
    const environmentId = catalogue.environments.staging;
    await createClient(api, { applicationId: catalogue.applicationId, environmentId, databaseId: catalogue.databases.staging });
  }
  return { api, catalogue, dev: catalogue.environments.development, journey: catalogue.journeys.login };
}

const stagingOf = (journey: { syncStates: { environment: { key: string }; status: string }[] }) =>
  journey.syncStates.find((s) => s.environment.key === "staging")?.status;

describe("mutation payloads read what the mutation wrote", () => {
  it("two step saves in one request: each returns its own journey state, the second not what the first loaded", async () => {
    const { api, dev, journey } = await world("payload-steps");
    const edit = (alias: string, n: number) => `
      ${alias}: saveJourneyStep(input: { journeyId: $journey, environmentId: $dev, step: { key: "password", type: "PASSWORD", name: "Password", enabled: true, settings: { minLength: ${n} }, transitions: [{ outcome: "success", to: "email-otp" }, { outcome: "failure", to: "DENY" }] } }) {
        ... on SaveJourneyStepSuccess { draft { id revision } journey { ${JOURNEY_STATE} } }
      }`;
    const data = await api.data(`mutation($journey: ID!, $dev: ID!) { ${edit("first", 14)} ${edit("second", 15)} }`, { journey, dev });
    expect(data.first.journey.draft).toEqual(data.first.draft);
    expect(data.first.draft.revision).toBe(1);
    expect(data.second.journey.draft).toEqual({ id: data.first.draft.id, revision: 2 });
    expect(data.second.journey.configuration.version).toBe(1);
  });

  it("saveJourney returns the journey with its new configuration, no draft and current sync states", async () => {
    const { api, dev, journey } = await world("payload-save");
    const SAVE_STEP = operation(
      `mutation($input: SaveJourneyStepInput!) { saveJourneyStep(input: $input) { ... on SaveJourneyStepSuccess { draft { revision } } } }`,
    );
    const revision = (await api.data(SAVE_STEP, { input: { journeyId: journey, environmentId: dev, step: step(14) } })).saveJourneyStep
      .draft.revision;
    const before = await api.data(`query($journey: ID!, $dev: ID!) { node(id: $journey) { ... on Journey { ${JOURNEY_STATE} } } }`, {
      journey,
      dev,
    });
    expect(stagingOf(before.node)).toBe("IN_SYNC");

    const saved = await api.data(
      `mutation($journey: ID!, $dev: ID!, $revision: Int!) {
        saveJourney(input: { journeyId: $journey, environmentId: $dev, draftRevision: $revision }) {
          ... on SaveJourneySuccess { version { id version } journey { ${JOURNEY_STATE} } }
        }
      }`,
      { journey, dev, revision },
    );
    const { version, journey: after } = saved.saveJourney;
    expect(after.id).toBe(journey);
    expect(after.configuration).toEqual(version);
    expect(version.version).toBe(2);
    expect(after.draft).toBeNull();
    expect(stagingOf(after)).toBe("OUT_OF_SYNC");
  });

  it("discardJourneyDraft returns the journey without its draft", async () => {
    const { api, dev, journey } = await world("payload-discard");
    const data = await api.data(
      `mutation($journey: ID!, $dev: ID!, $input: SaveJourneyStepInput!) {
        saveJourneyStep(input: $input) { ... on SaveJourneyStepSuccess { journey { id draft(environmentId: $dev) { revision } } } }
        discardJourneyDraft(input: { journeyId: $journey, environmentId: $dev }) { ... on DiscardJourneyDraftSuccess { journey { id draft(environmentId: $dev) { revision } } } }
      }`,
      { journey, dev, input: { journeyId: journey, environmentId: dev, step: step(14) } },
    );
    expect(data.saveJourneyStep.journey.draft).toEqual({ revision: 1 });
    expect(data.discardJourneyDraft.journey).toEqual({ id: journey, draft: null });
  });

  it.each(["promoteNow", "propagateChanges"])("%s returns the application with current sync states", async (mutation) => {
    const { api, catalogue, dev, journey } = await world(`payload-${mutation}`);
    const SAVE_STEP = operation(
      `mutation($input: SaveJourneyStepInput!) { saveJourneyStep(input: $input) { ... on SaveJourneyStepSuccess { draft { revision } } } }`,
    );
    const revision = (await api.data(SAVE_STEP, { input: { journeyId: journey, environmentId: dev, step: step(14) } })).saveJourneyStep
      .draft.revision;
    const input = { applicationId: catalogue.applicationId, fromEnvironmentId: dev, toEnvironmentId: catalogue.environments.staging };
    const selection = `propagation { id } application { id journeys { id key syncStates { environment { key } status } } clients { id environment { key } syncStatus } }`;
    const data = await api.data(
      `mutation($journey: ID!, $dev: ID!, $revision: Int!, $input: ${mutation === "promoteNow" ? "PromoteNowInput" : "PropagateChangesInput"}!) {
        saveJourney(input: { journeyId: $journey, environmentId: $dev, draftRevision: $revision }) {
          ... on SaveJourneySuccess { journey { id syncStates { environment { key } status } } }
        }
        ${mutation}(input: $input) { ... on ${mutation === "promoteNow" ? "PromoteNowSuccess" : "PropagateChangesSuccess"} { ${selection} } ... on Error { code message } }
      }`,
      { journey, dev, revision, input: mutation === "promoteNow" ? input : { ...input, selectAll: true } },
    );
    expect(stagingOf(data.saveJourney.journey)).toBe("OUT_OF_SYNC");
    const { application } = data[mutation];
    expect(application.id).toBe(catalogue.applicationId);
    const login = application.journeys.find((j: { id: string }) => j.id === journey);
    expect(stagingOf(login)).toBe("IN_SYNC");
    expect(application.clients.find((c: { environment: { key: string } }) => c.environment.key === "staging").syncStatus).toBe("IN_SYNC");
  });

  it("createClient returns the application with the new client", async () => {
    const { api, catalogue } = await world("payload-client", { staging: false });
    const data = await api.data(
      `mutation($input: CreateClientInput!) {
        createClient(input: $input) { ... on CreateClientSuccess { client { id } application { id clients { id environment { key } } } } ... on Error { code message } }
      }`,
      {
        input: {
          applicationId: catalogue.applicationId,
          environmentId: catalogue.environments.staging,
          databaseId: catalogue.databases.staging,
          redirectUris: ["https://portal.example.com/callback"],
          allowedOrigins: [],
        },
      },
    );
    const { client, application } = data.createClient;
    expect(application.clients.map((c: { id: string }) => c.id)).toContain(client.id);
  });
});

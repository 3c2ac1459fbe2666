import { describe, expect, it } from "vitest";
import { globalId } from "../../src/graphql/ids.js";
import { apiContext } from "../support/api-context.js";
import { createApiToken, createCatalogue, localIdOf, operation } from "../support/fixtures.js";

const EDIT_STEP = operation(`
  mutation($input: SaveJourneyStepInput!) { saveJourneyStep(input: $input) { ... on SaveJourneyStepSuccess { draft { id } } } }
`);
const CONFIGURATION = operation(`
  query($journey: ID!, $env: ID!) { node(id: $journey) { ... on Journey { configuration(environmentId: $env) { id } } } }
`);

/** Refetching any object by its global ID with `node`. */

const NODE = operation(`
  query Node($id: ID!) {
    node(id: $id) {
      __typename id
      ... on Organization { name }
      ... on ApiToken { name role revokedAt }
      ... on Environment { key }
      ... on Database { name }
      ... on Application { name }
      ... on Client { clientId }
      ... on Journey { key }
      ... on JourneyVersion { version }
      ... on JourneyDraft { revision journey { key } }
    }
  }
`);

const { tenantWithApi } = apiContext();

describe("node", () => {
  async function everyNode() {
    const { tenant, api } = await tenantWithApi("node");
    const catalogue = await createCatalogue(api);
    const token = await createApiToken(api, { name: "ci", role: "EDITOR" });
    const edit = { journeyId: catalogue.journeys.login, environmentId: catalogue.environments.development };
    const step = { key: "identify", type: "IDENTIFIER", name: "Who are you?", enabled: true, settings: {}, transitions: [] };
    const draft = (await api.data(EDIT_STEP, { input: { ...edit, step } })).saveJourneyStep.draft.id;
    const version = (await api.data(CONFIGURATION, { journey: edit.journeyId, env: edit.environmentId })).node.configuration.id;
    const expected: [string, string, Record<string, unknown>][] = [
      ["Organization", globalId("Organization", tenant.organizationId), { name: tenant.name }],
      ["ApiToken", token.id, { name: "ci", role: "EDITOR", revokedAt: null }],
      ["Environment", catalogue.environments.staging, { key: "staging" }],
      ["Database", catalogue.databases.production, { name: "acme-users-production" }],
      ["Application", catalogue.applicationId, { name: "Customer Portal" }],
      ["Client", catalogue.clientId, { clientId: expect.any(String) }],
      ["Journey", catalogue.journeys.login, { key: "login" }],
      ["JourneyVersion", version, { version: 1 }],
      ["JourneyDraft", draft, { revision: 1, journey: { key: "login" } }],
    ];
    return { api, expected };
  }

  it("resolves the ID of every node type to that object", async () => {
    const { api, expected } = await everyNode();
    for (const [typename, id, fields] of expected) {
      const { node } = await api.data(NODE, { id });
      expect(node).toEqual({ __typename: typename, id, ...fields });
    }
  });

  it("returns null for another organization's ID of every node type", async () => {
    const { expected } = await everyNode();
    const { api } = await tenantWithApi("node-other");
    for (const [, id] of expected) {
      const response = await api.request(NODE, { id });
      expect(response.errors).toBeUndefined();
      expect(response.data.node).toBeNull();
    }
  });

  it.each([
    ["an empty string", ""],
    ["garbage", "not-an-id"],
    ["base64 without a type", Buffer.from("no-colon").toString("base64")],
    ["an unknown type", Buffer.from("Widget:6f1c1b7e-8f0c-4d43-9a43-4f1c2b7e8f0c").toString("base64")],
    ["a type without an id", Buffer.from("Application:").toString("base64")],
    ["an id that is not a UUID", globalId("Application", "not-a-uuid")],
    ["an unknown UUID", globalId("Application", "6f1c1b7e-8f0c-4d43-9a43-4f1c2b7e8f0c")],
    ["a version without a number", globalId("JourneyVersion", "6f1c1b7e-8f0c-4d43-9a43-4f1c2b7e8f0c/6f1c1b7e-8f0c-4d43-9a43-4f1c2b7e8f0c")],
    [
      "a version number beyond an integer",
      globalId("JourneyVersion", "6f1c1b7e-8f0c-4d43-9a43-4f1c2b7e8f0c/6f1c1b7e-8f0c-4d43-9a43-4f1c2b7e8f0c/9999999999"),
    ],
    ["a draft id with a version", globalId("JourneyDraft", "6f1c1b7e-8f0c-4d43-9a43-4f1c2b7e8f0c/6f1c1b7e-8f0c-4d43-9a43-4f1c2b7e8f0c/1")],
    ["a draft id of one UUID", globalId("JourneyDraft", "6f1c1b7e-8f0c-4d43-9a43-4f1c2b7e8f0c")],
    ["a very long string", "A".repeat(5000)],
  ])("returns null for %s", async (_label, id) => {
    const { api } = await tenantWithApi("node-malformed");
    const response = await api.request(NODE, { id });
    expect(response.status).toBe(200);
    expect(response.errors).toBeUndefined();
    expect(response.data.node).toBeNull();
  });

  it("returns null for an existing row's UUID under another type's name", async () => {
    const { api } = await tenantWithApi("node-wrong-type");
    const catalogue = await createCatalogue(api);
    const response = await api.request(NODE, { id: globalId("Application", localIdOf(catalogue.environments.development)) });
    expect(response.errors).toBeUndefined();
    expect(response.data.node).toBeNull();
  });
});

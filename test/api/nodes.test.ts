import { describe, expect, it } from "vitest";
import { globalId } from "../../src/graphql/ids.js";
import { apiContext } from "../support/api-context.js";
import { createApiToken, createCatalogue, localIdOf, operation } from "../support/fixtures.js";

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
    }
  }
`);

const { tenantWithApi } = apiContext();

describe("node", () => {
  async function everyNode() {
    const { tenant, api } = await tenantWithApi("node");
    const catalogue = await createCatalogue(api);
    const token = await createApiToken(api, { name: "ci", role: "EDITOR" });
    const expected: [string, string, Record<string, unknown>][] = [
      ["Organization", globalId("Organization", tenant.organizationId), { name: tenant.name }],
      ["ApiToken", token.id, { name: "ci", role: "EDITOR", revokedAt: null }],
      ["Environment", catalogue.environments.staging, { key: "staging" }],
      ["Database", catalogue.databases.production, { name: "acme-users-production" }],
      ["Application", catalogue.applicationId, { name: "Customer Portal" }],
      ["Client", catalogue.clientId, { clientId: expect.any(String) }],
      ["Journey", catalogue.journeys.login, { key: "login" }],
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

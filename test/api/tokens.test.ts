import { describe, expect, it } from "vitest";
import { globalId } from "../../src/graphql/ids.js";
import { apiContext } from "../support/api-context.js";
import { createApiToken, operation } from "../support/fixtures.js";
import { gql } from "../support/graphql.js";

/** Who a token is and the tokens an administrator issues and revokes. */

const VIEWER = operation(`
  query Viewer { viewer { role organization { id name } } }
`);

const CREATE_API_TOKEN = operation(`
  mutation CreateApiToken($input: CreateApiTokenInput!) {
    createApiToken(input: $input) {
      __typename
      ... on CreateApiTokenSuccess { token apiToken { id name role createdAt revokedAt } }
      ... on Error { code message }
    }
  }
`);

const REVOKE_API_TOKEN = operation(`
  mutation RevokeApiToken($input: RevokeApiTokenInput!) {
    revokeApiToken(input: $input) {
      __typename
      ... on RevokeApiTokenSuccess { apiToken { id name revokedAt } }
      ... on Error { code message }
    }
  }
`);

const context = apiContext();
const { tenantWithApi } = context;

describe("viewer", () => {
  it.each(["VIEWER", "EDITOR", "PROMOTER", "ADMIN"] as const)("names the organization and role of a %s token", async (role) => {
    const { tenant, api } = await tenantWithApi("viewer", role);
    const { viewer } = await api.data(VIEWER);
    expect(viewer).toEqual({ role, organization: { id: globalId("Organization", tenant.organizationId), name: tenant.name } });
  });
});

describe("API tokens", () => {
  it("creates a token that works with its role and shows its record", async () => {
    const { api } = await tenantWithApi("tokens");
    const { createApiToken } = await api.data(CREATE_API_TOKEN, { input: { name: "deploy-bot", role: "PROMOTER" } });
    expect(createApiToken).toEqual({
      __typename: "CreateApiTokenSuccess",
      token: expect.stringMatching(/^jpt_/),
      apiToken: { id: expect.any(String), name: "deploy-bot", role: "PROMOTER", createdAt: expect.any(String), revokedAt: null },
    });
    const viewer = await gql(context.server.endpoint, createApiToken.token, VIEWER);
    expect(viewer.data.viewer.role).toBe("PROMOTER");
  });

  it("revokes a token: its record shows when, and its next request is refused", async () => {
    const { api } = await tenantWithApi("tokens");
    const token = await createApiToken(api, { name: "old", role: "VIEWER" });
    const { revokeApiToken } = await api.data(REVOKE_API_TOKEN, { input: { apiTokenId: token.id } });
    expect(revokeApiToken).toEqual({
      __typename: "RevokeApiTokenSuccess",
      apiToken: { id: token.id, name: "old", revokedAt: expect.any(String) },
    });
    expect((await gql(context.server.endpoint, token.token, VIEWER)).status).toBe(401);
  });

  it("frees a token's name when it is revoked, and lets another organization use any name", async () => {
    const { api } = await tenantWithApi("tokens");
    const { api: otherApi } = await tenantWithApi("tokens-other");
    const first = await createApiToken(api, { name: "ci-bot", role: "VIEWER" });
    await api.data(REVOKE_API_TOKEN, { input: { apiTokenId: first.id } });
    const second = await api.data(CREATE_API_TOKEN, { input: { name: "ci-bot", role: "EDITOR" } });
    expect(second.createApiToken).toMatchObject({ __typename: "CreateApiTokenSuccess", apiToken: { name: "ci-bot", role: "EDITOR" } });
    const elsewhere = await otherApi.data(CREATE_API_TOKEN, { input: { name: "ci-bot", role: "VIEWER" } });
    expect(elsewhere.createApiToken).toMatchObject({ __typename: "CreateApiTokenSuccess", apiToken: { name: "ci-bot" } });
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { passwordStep } from "../support/documents.js";
import { type Api, apiAs, type Catalogue, createApiToken, createCatalogue, createClient, operation } from "../support/fixtures.js";
import { client } from "../support/graphql.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";

/**
 * Audit records (journey versions, drafts, propagations) keep the token that wrote them besides its
 * name: names are unique only among active tokens, so once a token is revoked its name may come back
 * on another one, and the name alone would no longer say who it was.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const TOKEN = "id name role revokedAt";

const SAVE_STEP = operation(`mutation AuditSaveStep($input: SaveJourneyStepInput!) {
  saveJourneyStep(input: $input) {
    __typename ... on SaveJourneyStepSuccess { draft { revision updatedBy updatedByApiToken { ${TOKEN} } } } ... on Error { code message } } }`);

const SAVE = operation(`mutation AuditSave($input: SaveJourneyInput!) {
  saveJourney(input: $input) {
    __typename ... on SaveJourneySuccess { version { version savedBy savedByApiToken { ${TOKEN} } } } ... on Error { code message } } }`);

const PROMOTE_NOW = operation(`mutation AuditPromoteNow($input: PromoteNowInput!) {
  promoteNow(input: $input) { __typename ... on PromoteNowSuccess { propagation { id actor actorApiToken { ${TOKEN} } } } ... on Error { code message } } }`);

const REVOKE = operation(`mutation AuditRevoke($input: RevokeApiTokenInput!) { revokeApiToken(input: $input) { __typename } }`);

const HISTORY = operation(`query AuditHistory($j: ID!, $env: ID!, $a: ID!) {
  journey: node(id: $j) { ... on Journey {
    draft(environmentId: $env) { updatedBy updatedByApiToken { ${TOKEN} } }
    versions(environmentId: $env, first: 10) { edges { node { version savedBy savedByApiToken { ${TOKEN} } } } }
  } }
  propagations(applicationId: $a, first: 10) { edges { node { actor actorApiToken { ${TOKEN} } } } } }`);

const NODE = operation(`query AuditNode($id: ID!) { node(id: $id) { id } }`);

interface World {
  tenant: Tenant;
  admin: Api;
  catalogue: Catalogue;
}

async function world(): Promise<World> {
  const tenant = await createTenant("audit");
  const admin = apiAs(server.endpoint, tenant);
  const catalogue = await createCatalogue(admin);
  await createClient(admin, {
    applicationId: catalogue.applicationId,
    environmentId: catalogue.environments.staging,
    databaseId: catalogue.databases.staging,
  });
  return { tenant, admin, catalogue };
}

/** Edits and saves the login journey in development as `api`; returns the draft and the version it answered. */
async function editAndSave(w: World, api: Api, minLength: number) {
  const ids = { journeyId: w.catalogue.journeys.login, environmentId: w.catalogue.environments.development };
  const { saveJourneyStep } = await api.data(SAVE_STEP, { input: { ...ids, step: passwordStep(minLength) } });
  expect(saveJourneyStep.__typename).toBe("SaveJourneyStepSuccess");
  const { saveJourney } = await api.data(SAVE, { input: { ...ids, draftRevision: saveJourneyStep.draft.revision } });
  expect(saveJourney.__typename).toBe("SaveJourneySuccess");
  return { draft: saveJourneyStep.draft, version: saveJourney.version };
}

describe("audit records keep the token that wrote them", () => {
  it("names the token of a draft edit, a saved version and a propagation, as each mutation answers", async () => {
    const w = await world();
    const editor = await createApiToken(w.admin, { name: "ci-editor", role: "EDITOR" });
    const promoter = await createApiToken(w.admin, { name: "ci-promoter", role: "PROMOTER" });
    const { draft, version } = await editAndSave(w, client(server.endpoint, editor.token), 14);
    const ciEditor = { id: editor.id, name: "ci-editor", role: "EDITOR", revokedAt: null };
    expect(draft).toMatchObject({ updatedBy: "ci-editor", updatedByApiToken: ciEditor });
    expect(version).toMatchObject({ savedBy: "ci-editor", savedByApiToken: ciEditor });
    const { promoteNow } = await client(server.endpoint, promoter.token).data(PROMOTE_NOW, {
      input: {
        applicationId: w.catalogue.applicationId,
        fromEnvironmentId: w.catalogue.environments.development,
        toEnvironmentId: w.catalogue.environments.staging,
      },
    });
    expect(promoteNow.propagation).toMatchObject({
      actor: "ci-promoter",
      actorApiToken: { id: promoter.id, name: "ci-promoter", role: "PROMOTER" },
    });
  });

  it("tells apart two tokens that had the same name, once the first is revoked", async () => {
    const w = await world();
    const first = await createApiToken(w.admin, { name: "ci-bot", role: "EDITOR" });
    await editAndSave(w, client(server.endpoint, first.token), 14);
    expect((await w.admin.data(REVOKE, { input: { apiTokenId: first.id } })).revokeApiToken.__typename).toBe("RevokeApiTokenSuccess");
    const second = await createApiToken(w.admin, { name: "ci-bot", role: "EDITOR" });
    await editAndSave(w, client(server.endpoint, second.token), 15);

    const history = await apiAs(server.endpoint, w.tenant, "VIEWER").data(HISTORY, {
      j: w.catalogue.journeys.login,
      env: w.catalogue.environments.development,
      a: w.catalogue.applicationId,
    });
    const versions = history.journey.versions.edges.map((e: { node: unknown }) => e.node);
    expect(versions.slice(0, 2)).toEqual([
      { version: 3, savedBy: "ci-bot", savedByApiToken: { id: second.id, name: "ci-bot", role: "EDITOR", revokedAt: null } },
      { version: 2, savedBy: "ci-bot", savedByApiToken: { id: first.id, name: "ci-bot", role: "EDITOR", revokedAt: expect.any(String) } },
    ]);
  });

  it("names the token only to its own organization", async () => {
    const [mine, theirs] = [await world(), await world()];
    const { version } = await editAndSave(mine, mine.admin, 14);
    const tokenId = version.savedByApiToken.id;
    expect((await mine.admin.data(NODE, { id: tokenId })).node).toEqual({ id: tokenId });
    expect((await theirs.admin.data(NODE, { id: tokenId })).node).toBeNull();
    const foreign = await theirs.admin.request(HISTORY, {
      j: mine.catalogue.journeys.login,
      env: theirs.catalogue.environments.development,
      a: theirs.catalogue.applicationId,
    });
    expect(foreign.data?.journey ?? null).toBeNull();
  });
});

import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { globalId, type NodeTypeName, parseGlobalId } from "../../src/graphql/ids.js";
import { PROMOTE_NOW, SAVE_STEP } from "../support/documents.js";
import { type Api, apiAs, type Catalogue, createApiToken, createCatalogue, createClient, operation } from "../support/fixtures.js";
import { organizationRows } from "../support/fuzzing.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { subscribeWs, wsClient } from "../support/subscriptions.js";
import { createTenant, type Tenant } from "../support/tenant.js";

/**
 * Two organizations. Everything one organization's token is asked about the other's IDs answers
 * exactly as for IDs that exist nowhere: NOT_FOUND or nothing, never data, never a different error.
 */

interface World {
  tenant: Tenant;
  admin: Api;
  catalogue: Catalogue;
  ids: Record<NodeTypeName, string>;
  /** The plan hash of the promotion request, as a reviewer would send it. */
  planHash: string;
  /** What a lifecycle mutation (DESIGN.md §10) could act on, were it found: an environment and a database nothing uses. */
  unused: { environment: string; database: string };
}

let server: TestServer;
let mine: World;
let theirs: World;

const LATEST = operation(`query { syncNotifications(first: 100) { edges { node { id } } } }`);

async function world(label: string): Promise<World> {
  const tenant = await createTenant(label);
  const admin = apiAs(server.endpoint, tenant);
  const catalogue = await createCatalogue(admin);
  const stagingClient = await createClient(admin, {
    applicationId: catalogue.applicationId,
    environmentId: catalogue.environments.staging,
    databaseId: catalogue.databases.staging,
  });
  const edit = { journeyId: catalogue.journeys.login, environmentId: catalogue.environments.development };
  const step = {
    key: "password",
    type: "PASSWORD",
    name: "Password",
    enabled: true,
    settings: { minLength: 15 },
    transitions: [
      { outcome: "success", to: "email-otp" },
      { outcome: "failure", to: "DENY" },
    ],
  };
  const revision = (await admin.data(SAVE_STEP, { input: { ...edit, step } })).saveJourneyStep.draft.revision;
  const saved = await admin.data(
    `mutation($input: SaveJourneyInput!) { saveJourney(input: $input) { ... on SaveJourneySuccess { version { id } } } }`,
    { input: { ...edit, draftRevision: revision } },
  );
  const propagation = (
    await admin.data(PROMOTE_NOW, {
      input: {
        applicationId: catalogue.applicationId,
        fromEnvironmentId: catalogue.environments.development,
        toEnvironmentId: catalogue.environments.staging,
      },
    })
  ).promoteNow.propagation.id;
  // A request to revert that propagation (approved at once: staging requires no approvals).
  const promotionRequest = (
    await admin.data(
      `mutation($input: RequestPromotionInput!) { requestPromotion(input: $input) { ... on RequestPromotionSuccess { request { id planHash } } } }`,
      {
        input: {
          applicationId: catalogue.applicationId,
          fromEnvironmentId: catalogue.environments.development,
          toEnvironmentId: catalogue.environments.staging,
          revertPropagationId: propagation,
          selectAll: true,
        },
      },
    )
  ).requestPromotion.request;
  // A draft stays open, so drafts are probed too.
  const draft = await admin.data(
    `mutation($input: SaveJourneyStepInput!) { saveJourneyStep(input: $input) { ... on SaveJourneyStepSuccess { draft { id } } } }`,
    { input: { ...edit, step: { ...step, settings: { minLength: 16 } } } },
  );
  const notifications = (await admin.data(LATEST)).syncNotifications.edges;
  const apiToken = await createApiToken(admin, { name: "probe", role: "VIEWER" });
  const variable = await admin.data(
    `mutation($input: CreateVariableInput!) { createVariable(input: $input) { ... on CreateVariableSuccess { variable { id } } } }`,
    { input: { key: "webhook.host", kind: "STRING" } },
  );
  const history = await admin.data(
    `mutation($input: SetVariableValueInput!) { setVariableValue(input: $input) { ... on SetVariableValueSuccess { variable { history(first: 1) { edges { node { id } } } } } } }`,
    {
      input: {
        variableId: variable.createVariable.variable.id,
        environmentId: catalogue.environments.development,
        value: "hooks.example.com",
      },
    },
  );
  const unusedEnvironment = await admin.data(
    `mutation($input: CreateEnvironmentInput!) { createEnvironment(input: $input) { ... on CreateEnvironmentSuccess { environment { id } } } }`,
    { input: { key: "unused", name: "Unused", rank: 3 } },
  );
  const audit = await admin.data(`{ auditLog(first: 1) { edges { node { id } } } }`);
  return {
    tenant,
    admin,
    catalogue,
    ids: {
      Organization: globalId("Organization", tenant.organizationId),
      ApiToken: apiToken.id,
      Environment: catalogue.environments.staging,
      Database: catalogue.databases.staging,
      Application: catalogue.applicationId,
      Client: stagingClient,
      Journey: catalogue.journeys.login,
      JourneyVersion: saved.saveJourney.version.id,
      JourneyDraft: draft.saveJourneyStep.draft.id,
      Propagation: propagation,
      PromotionRequest: promotionRequest.id,
      SyncNotification: notifications.at(-1).node.id,
      Variable: variable.createVariable.variable.id,
      VariableValueChange: history.setVariableValue.variable.history.edges[0].node.id,
      AuditEvent: audit.auditLog.edges[0].node.id,
    },
    planHash: promotionRequest.planHash,
    // Production's database: no client uses it.
    unused: { environment: unusedEnvironment.createEnvironment.environment.id, database: catalogue.databases.production },
  };
}

/** An ID of the same type that names nothing anywhere. */
function nowhere(id: string): string {
  const parsed = parseGlobalId(id)!;
  const local = {
    SyncNotification: "999999999",
    JourneyDraft: `${randomUUID()}/${randomUUID()}`,
    JourneyVersion: `${randomUUID()}/${randomUUID()}/1`,
  };
  return globalId(parsed.typename, local[parsed.typename as keyof typeof local] ?? randomUUID());
}

beforeAll(async () => {
  server = await startTestServer();
  mine = await world("isolation-mine");
  theirs = await world("isolation-theirs");
});
afterAll(() => server.stop());

/** The same response whatever the ID: foreign and non-existent IDs must be indistinguishable. */
function normalized(value: unknown, ids: string[]): string {
  let text = JSON.stringify(value);
  for (const id of ids) text = text.split(id).join("<id>");
  for (const id of ids) {
    const local = parseGlobalId(id)?.id;
    if (local) text = text.split(local).join("<id>");
  }
  return text;
}

describe("node", () => {
  it.each([
    "Organization",
    "ApiToken",
    "Environment",
    "Database",
    "Application",
    "Client",
    "Journey",
    "JourneyVersion",
    "JourneyDraft",
    "Propagation",
    "PromotionRequest",
    "SyncNotification",
    "Variable",
    "VariableValueChange",
  ] as NodeTypeName[])("answers null for the other organization's %s", async (type) => {
    const response = await mine.admin.request(`query($id: ID!) { node(id: $id) { id } }`, { id: theirs.ids[type] });
    expect(response.errors).toBeUndefined();
    expect(response.data.node).toBeNull();
    // …while its own organization sees it.
    expect((await theirs.admin.data(`query($id: ID!) { node(id: $id) { id } }`, { id: theirs.ids[type] })).node).not.toBeNull();
  });
});

const QUERIES: [string, string, (w: World, other: World) => Record<string, unknown>][] = [
  [
    "revertPreview of their propagation",
    `query($p: ID!) { revertPreview(propagationId: $p) { changes { id } conflicts { path } } }`,
    (_w, o) => ({ p: o.ids.Propagation }),
  ],
  [
    "diff of their application",
    `query($a: ID!, $f: ID!, $t: ID!) { diff(applicationId: $a, fromEnvironmentId: $f, toEnvironmentId: $t) { status } }`,
    (w, o) => ({ a: o.catalogue.applicationId, f: w.catalogue.environments.development, t: w.catalogue.environments.staging }),
  ],
  [
    "diff into their environment",
    `query($a: ID!, $f: ID!, $t: ID!) { diff(applicationId: $a, fromEnvironmentId: $f, toEnvironmentId: $t) { status } }`,
    (w, o) => ({ a: w.catalogue.applicationId, f: w.catalogue.environments.development, t: o.catalogue.environments.staging }),
  ],
  [
    "diff of their journey",
    `query($a: ID!, $f: ID!, $t: ID!, $j: ID) { diff(applicationId: $a, fromEnvironmentId: $f, toEnvironmentId: $t, journeyId: $j) { status } }`,
    (w, o) => ({
      a: w.catalogue.applicationId,
      f: w.catalogue.environments.development,
      t: w.catalogue.environments.staging,
      j: o.catalogue.journeys.login,
    }),
  ],
  [
    "clientCreationPlan",
    `query($a: ID!, $e: ID!) { clientCreationPlan(applicationId: $a, environmentId: $e) { requiredFields } }`,
    (w, o) => ({ a: o.catalogue.applicationId, e: w.catalogue.environments.production }),
  ],
  [
    "propagations of their application",
    `query($a: ID) { propagations(applicationId: $a) { edges { node { id } } } }`,
    (_w, o) => ({ a: o.catalogue.applicationId }),
  ],
  [
    "propagations of their environment",
    `query($e: ID) { propagations(environmentId: $e) { edges { node { id } } } }`,
    (_w, o) => ({ e: o.catalogue.environments.staging }),
  ],
  [
    "syncNotifications of their environment",
    `query($e: ID) { syncNotifications(environmentId: $e) { edges { node { id } } } }`,
    (_w, o) => ({ e: o.catalogue.environments.staging }),
  ],
  [
    "syncNotifications of their application",
    `query($a: ID) { syncNotifications(applicationId: $a) { edges { node { id } } } }`,
    (_w, o) => ({ a: o.catalogue.applicationId }),
  ],
  [
    "promotionRequests of their environment",
    `query($e: ID) { promotionRequests(environmentId: $e) { edges { node { id } } } }`,
    (_w, o) => ({ e: o.catalogue.environments.staging }),
  ],
  [
    "promotionRequests of their application",
    `query($a: ID) { promotionRequests(applicationId: $a) { edges { node { id } } } }`,
    (_w, o) => ({ a: o.catalogue.applicationId }),
  ],
  [
    "configuration in their environment",
    `query($j: ID!, $e: ID!) { node(id: $j) { ... on Journey { configuration(environmentId: $e) { version } } } }`,
    (w, o) => ({ j: w.catalogue.journeys.login, e: o.catalogue.environments.development }),
  ],
  [
    "draft in their environment",
    `query($j: ID!, $e: ID!) { node(id: $j) { ... on Journey { draft(environmentId: $e) { revision } } } }`,
    (w, o) => ({ j: w.catalogue.journeys.login, e: o.catalogue.environments.development }),
  ],
  [
    "versions in their environment",
    `query($j: ID!, $e: ID!) { node(id: $j) { ... on Journey { versions(environmentId: $e) { edges { node { version } } } } } }`,
    (w, o) => ({ j: w.catalogue.journeys.login, e: o.catalogue.environments.development }),
  ],
  [
    "a variable's value in their environment",
    `query($v: ID!, $e: ID!) { node(id: $v) { ... on Variable { value(environmentId: $e) { version } } } }`,
    (w, o) => ({ v: w.ids.Variable, e: o.catalogue.environments.development }),
  ],
  [
    "a variable's history in their environment",
    `query($v: ID!, $e: ID) { node(id: $v) { ... on Variable { history(environmentId: $e) { edges { node { version } } } } } }`,
    (w, o) => ({ v: w.ids.Variable, e: o.catalogue.environments.development }),
  ],
  [
    "client in their environment",
    `query($a: ID!, $e: ID!) { node(id: $a) { ... on Application { client(environmentId: $e) { id } } } }`,
    (w, o) => ({ a: w.catalogue.applicationId, e: o.catalogue.environments.development }),
  ],
];

describe("query fields", () => {
  it.each(QUERIES)("refuses %s with NOT_FOUND, as for an ID that exists nowhere", async (_label, query, variables) => {
    const foreignVars = variables(mine, theirs);
    const foreign = await mine.admin.request(query, foreignVars);
    expect(foreign.errors?.map((e) => e.extensions?.code)).toEqual(["NOT_FOUND"]);
    const theirIds = Object.values(foreignVars).filter(
      (v): v is string =>
        typeof v === "string" &&
        Object.values(theirs.ids)
          .concat(Object.values(theirs.catalogue.environments), Object.values(theirs.catalogue.journeys))
          .includes(v),
    );
    const fake = Object.fromEntries(
      Object.entries(foreignVars).map(([k, v]) => [k, theirIds.includes(v as string) ? nowhere(v as string) : v]),
    );
    const unknown = await mine.admin.request(query, fake);
    expect(
      normalized(
        foreign.errors?.map((e) => ({ ...e, locations: undefined })),
        theirIds,
      ),
    ).toBe(
      normalized(
        unknown.errors?.map((e) => ({ ...e, locations: undefined })),
        Object.values(fake) as string[],
      ),
    );
  });
});

const RESULT = `__typename ... on Error { code message }`;
const MUTATIONS: [string, string, (w: World, o: World) => Record<string, unknown>][] = [
  [
    "createDatabase",
    `mutation($input: CreateDatabaseInput!) { createDatabase(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ environmentId: o.catalogue.environments.staging, name: "probe-db" }),
  ],
  [
    "createClient",
    `mutation($input: CreateClientInput!) { createClient(input: $input) { ${RESULT} } }`,
    (w, o) => ({
      applicationId: o.catalogue.applicationId,
      environmentId: w.catalogue.environments.production,
      databaseId: w.catalogue.databases.production,
      redirectUris: [],
      allowedOrigins: [],
    }),
  ],
  [
    "createClient with their database",
    `mutation($input: CreateClientInput!) { createClient(input: $input) { ${RESULT} } }`,
    (w, o) => ({
      applicationId: w.catalogue.applicationId,
      environmentId: w.catalogue.environments.production,
      databaseId: o.catalogue.databases.production,
      redirectUris: [],
      allowedOrigins: [],
    }),
  ],
  [
    "createJourney",
    `mutation($input: CreateJourneyInput!) { createJourney(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ applicationId: o.catalogue.applicationId, key: "probe", name: "Probe", type: "LOGIN" }),
  ],
  [
    "updateClient",
    `mutation($input: UpdateClientInput!) { updateClient(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ clientId: o.catalogue.clientId, settings: { pkceRequired: false } }),
  ],
  [
    "saveJourneyStep",
    `mutation($input: SaveJourneyStepInput!) { saveJourneyStep(input: $input) { ${RESULT} } }`,
    (_w, o) => ({
      journeyId: o.catalogue.journeys.login,
      environmentId: o.catalogue.environments.development,
      step: { key: "x", type: "PASSWORD", name: "x", enabled: true, settings: {}, transitions: [] },
    }),
  ],
  [
    "removeJourneyStep",
    `mutation($input: RemoveJourneyStepInput!) { removeJourneyStep(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ journeyId: o.catalogue.journeys.login, environmentId: o.catalogue.environments.development, stepKey: "password" }),
  ],
  [
    "setJourneyStart",
    `mutation($input: SetJourneyStartInput!) { setJourneyStart(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ journeyId: o.catalogue.journeys.login, environmentId: o.catalogue.environments.development, stepKey: "password" }),
  ],
  [
    "discardJourneyDraft",
    `mutation($input: DiscardJourneyDraftInput!) { discardJourneyDraft(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ journeyId: o.catalogue.journeys.login, environmentId: o.catalogue.environments.development }),
  ],
  [
    "saveJourney",
    `mutation($input: SaveJourneyInput!) { saveJourney(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ journeyId: o.catalogue.journeys.login, environmentId: o.catalogue.environments.development, draftRevision: 1 }),
  ],
  [
    "promoteNow",
    `mutation($input: PromoteNowInput!) { promoteNow(input: $input) { ${RESULT} } }`,
    (_w, o) => ({
      applicationId: o.catalogue.applicationId,
      fromEnvironmentId: o.catalogue.environments.development,
      toEnvironmentId: o.catalogue.environments.staging,
    }),
  ],
  [
    "propagateChanges",
    `mutation($input: PropagateChangesInput!) { propagateChanges(input: $input) { ${RESULT} } }`,
    (_w, o) => ({
      applicationId: o.catalogue.applicationId,
      fromEnvironmentId: o.catalogue.environments.development,
      toEnvironmentId: o.catalogue.environments.staging,
      selectAll: true,
    }),
  ],
  [
    "revertPropagation of their propagation",
    `mutation($input: RevertPropagationInput!) { revertPropagation(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ propagationId: o.ids.Propagation, selectAll: true }),
  ],
  [
    "restoreJourneyVersion of their journey",
    `mutation($input: RestoreJourneyVersionInput!) { restoreJourneyVersion(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ journeyId: o.catalogue.journeys.login, environmentId: o.catalogue.environments.development, version: 1 }),
  ],
  [
    "restoreJourneyVersion in their environment",
    `mutation($input: RestoreJourneyVersionInput!) { restoreJourneyVersion(input: $input) { ${RESULT} } }`,
    (w, o) => ({ journeyId: w.catalogue.journeys.login, environmentId: o.catalogue.environments.development, version: 1 }),
  ],
  [
    "setVariableValue of their variable",
    `mutation($input: SetVariableValueInput!) { setVariableValue(input: $input) { ${RESULT} } }`,
    (w, o) => ({ variableId: o.ids.Variable, environmentId: w.catalogue.environments.development, value: "x" }),
  ],
  [
    "setVariableValue in their environment",
    `mutation($input: SetVariableValueInput!) { setVariableValue(input: $input) { ${RESULT} } }`,
    (w, o) => ({ variableId: w.ids.Variable, environmentId: o.catalogue.environments.development, value: "x" }),
  ],
  [
    "removeVariableValue of their variable",
    `mutation($input: RemoveVariableValueInput!) { removeVariableValue(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ variableId: o.ids.Variable, environmentId: o.catalogue.environments.development }),
  ],
  [
    "removeVariableValue in their environment",
    `mutation($input: RemoveVariableValueInput!) { removeVariableValue(input: $input) { ${RESULT} } }`,
    (w, o) => ({ variableId: w.ids.Variable, environmentId: o.catalogue.environments.development }),
  ],
  [
    "deleteVariable",
    `mutation($input: DeleteVariableInput!) { deleteVariable(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ variableId: o.ids.Variable }),
  ],
  [
    "revokeApiToken",
    `mutation($input: RevokeApiTokenInput!) { revokeApiToken(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ apiTokenId: o.ids.ApiToken }),
  ],
  [
    "setApprovalPolicy",
    `mutation($input: SetApprovalPolicyInput!) { setApprovalPolicy(input: $input) { ${RESULT} } }`,
    (_w, o) => ({
      environmentId: o.catalogue.environments.staging,
      requiredApprovals: 2,
      allowSelfApproval: true,
      requireComment: true,
      expiresAfterHours: 1,
    }),
  ],
  [
    "requestPromotion of their application",
    `mutation($input: RequestPromotionInput!) { requestPromotion(input: $input) { ${RESULT} } }`,
    (w, o) => ({
      applicationId: o.catalogue.applicationId,
      fromEnvironmentId: w.catalogue.environments.development,
      toEnvironmentId: w.catalogue.environments.staging,
      selectAll: true,
    }),
  ],
  [
    "requestPromotion from their environment",
    `mutation($input: RequestPromotionInput!) { requestPromotion(input: $input) { ${RESULT} } }`,
    (w, o) => ({
      applicationId: w.catalogue.applicationId,
      fromEnvironmentId: o.catalogue.environments.development,
      toEnvironmentId: w.catalogue.environments.staging,
      selectAll: true,
    }),
  ],
  [
    "requestPromotion into their environment",
    `mutation($input: RequestPromotionInput!) { requestPromotion(input: $input) { ${RESULT} } }`,
    (w, o) => ({
      applicationId: w.catalogue.applicationId,
      fromEnvironmentId: w.catalogue.environments.development,
      toEnvironmentId: o.catalogue.environments.staging,
      selectAll: true,
    }),
  ],
  [
    "requestPromotion of their journey",
    `mutation($input: RequestPromotionInput!) { requestPromotion(input: $input) { ${RESULT} } }`,
    (w, o) => ({
      applicationId: w.catalogue.applicationId,
      fromEnvironmentId: w.catalogue.environments.development,
      toEnvironmentId: w.catalogue.environments.staging,
      journeyId: o.catalogue.journeys.login,
      selectAll: true,
    }),
  ],
  [
    "requestPromotion reverting their propagation",
    `mutation($input: RequestPromotionInput!) { requestPromotion(input: $input) { ${RESULT} } }`,
    (w, o) => ({
      applicationId: w.catalogue.applicationId,
      fromEnvironmentId: w.catalogue.environments.development,
      toEnvironmentId: w.catalogue.environments.staging,
      revertPropagationId: o.ids.Propagation,
      selectAll: true,
    }),
  ],
  [
    "approvePromotionRequest",
    `mutation($input: ApprovePromotionRequestInput!) { approvePromotionRequest(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ requestId: o.ids.PromotionRequest, planHash: o.planHash, comment: "Looks good" }),
  ],
  [
    "rejectPromotionRequest",
    `mutation($input: RejectPromotionRequestInput!) { rejectPromotionRequest(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ requestId: o.ids.PromotionRequest, comment: "No" }),
  ],
  [
    "cancelPromotionRequest",
    `mutation($input: CancelPromotionRequestInput!) { cancelPromotionRequest(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ requestId: o.ids.PromotionRequest }),
  ],
  [
    "executePromotionRequest",
    `mutation($input: ExecutePromotionRequestInput!) { executePromotionRequest(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ requestId: o.ids.PromotionRequest, idempotencyKey: "probe-execution" }),
  ],
  [
    "retireJourney of their journey",
    `mutation($input: RetireJourneyInput!) { retireJourney(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ journeyId: o.catalogue.journeys.registration, environmentId: o.catalogue.environments.development }),
  ],
  [
    "retireJourney in their environment",
    `mutation($input: RetireJourneyInput!) { retireJourney(input: $input) { ${RESULT} } }`,
    (w, o) => ({ journeyId: w.catalogue.journeys.registration, environmentId: o.catalogue.environments.development }),
  ],
  [
    "updateJourney",
    `mutation($input: UpdateJourneyInput!) { updateJourney(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ journeyId: o.catalogue.journeys.login, name: "Probe" }),
  ],
  [
    "archiveApplication",
    `mutation($input: ArchiveApplicationInput!) { archiveApplication(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ applicationId: o.catalogue.applicationId }),
  ],
  [
    "unarchiveApplication",
    `mutation($input: UnarchiveApplicationInput!) { unarchiveApplication(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ applicationId: o.catalogue.applicationId }),
  ],
  [
    "updateApplication",
    `mutation($input: UpdateApplicationInput!) { updateApplication(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ applicationId: o.catalogue.applicationId, name: "Probe" }),
  ],
  [
    "deleteClient",
    `mutation($input: DeleteClientInput!) { deleteClient(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ clientId: o.ids.Client }),
  ],
  [
    "deleteDatabase of their unused database",
    `mutation($input: DeleteDatabaseInput!) { deleteDatabase(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ databaseId: o.unused.database }),
  ],
  [
    "deleteDatabase of their database in use",
    `mutation($input: DeleteDatabaseInput!) { deleteDatabase(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ databaseId: o.ids.Database }),
  ],
  [
    "deleteEnvironment of their unused environment",
    `mutation($input: DeleteEnvironmentInput!) { deleteEnvironment(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ environmentId: o.unused.environment }),
  ],
  [
    "deleteEnvironment of their environment in use",
    `mutation($input: DeleteEnvironmentInput!) { deleteEnvironment(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ environmentId: o.catalogue.environments.staging }),
  ],
  [
    "updateEnvironment",
    `mutation($input: UpdateEnvironmentInput!) { updateEnvironment(input: $input) { ${RESULT} } }`,
    (_w, o) => ({ environmentId: o.catalogue.environments.staging, name: "Probe" }),
  ],
];

describe("mutations", () => {
  it.each(MUTATIONS)(
    "refuses %s with the other organization's IDs as NOT_FOUND and writes nothing on either side",
    async (_label, mutation, input) => {
      const before = [await organizationRows(mine.tenant.organizationId), await organizationRows(theirs.tenant.organizationId)];
      const response = await mine.admin.request(mutation, { input: input(mine, theirs) });
      expect(response.errors).toBeUndefined();
      const [result] = Object.values(response.data) as { __typename: string; code: string }[];
      expect(result).toMatchObject({ __typename: "NotFoundError", code: "NOT_FOUND" });
      expect([await organizationRows(mine.tenant.organizationId), await organizationRows(theirs.tenant.organizationId)]).toEqual(before);
    },
  );
});

describe("mutations that name no ID", () => {
  it("createApplication and createEnvironment take names and keys another organization uses, writing nothing on its side", async () => {
    // A fresh organization of its own: its new environment must not shift the shared worlds' pipelines.
    const other = apiAs(server.endpoint, await createTenant("isolation-names"));
    const theirsBefore = await organizationRows(theirs.tenant.organizationId);
    const created = await other.data(`mutation { createApplication(input: { name: "Customer Portal" }) { __typename } }`);
    expect(created.createApplication.__typename).toBe("CreateApplicationSuccess");
    const environment = await other.data(
      `mutation { createEnvironment(input: { key: "staging-eu", name: "Staging EU", rank: 1, isProduction: false, editable: false }) { __typename } }`,
    );
    expect(environment.createEnvironment.__typename).toBe("CreateEnvironmentSuccess");
    expect(await organizationRows(theirs.tenant.organizationId)).toEqual(theirsBefore);
  });
});

describe("notification cursors", () => {
  it("count each organization's own notifications, so no cursor tells of the other organization's", async () => {
    for (const w of [mine, theirs]) {
      const edges = (await w.admin.data(LATEST)).syncNotifications.edges as { node: { id: string } }[];
      const page = (await w.admin.data(`query { syncNotifications(first: 100) { edges { cursor node { id } } } }`)).syncNotifications.edges;
      expect(page.map((e: { cursor: string }) => e.cursor)).toEqual(edges.map((_, i) => String(i + 1)));
      for (const edge of edges) expect(parseGlobalId(edge.node.id)!.id.startsWith(`${w.tenant.organizationId}/`)).toBe(true);
    }
  });
});

describe("audit records", () => {
  const AUDIT = operation(`query Audit($j: ID!, $e: ID!) {
    node(id: $j) { ... on Journey {
      versions(environmentId: $e, first: 10) { edges { node { savedByApiToken { id } } } }
      draft(environmentId: $e) { updatedByApiToken { id } } } }
    propagations(first: 10) { edges { node { actorApiToken { id } } } } }`);

  it("name only tokens of their own organization, which the other organization cannot load", async () => {
    for (const [w, other] of [
      [mine, theirs],
      [theirs, mine],
    ]) {
      const data = await w.admin.data(AUDIT, { j: w.catalogue.journeys.login, e: w.catalogue.environments.development });
      const tokens = [
        ...data.node.versions.edges.map((e: { node: { savedByApiToken: { id: string } } }) => e.node.savedByApiToken),
        data.node.draft.updatedByApiToken,
        ...data.propagations.edges.map((e: { node: { actorApiToken: { id: string } } }) => e.node.actorApiToken),
      ];
      expect(tokens.length).toBeGreaterThanOrEqual(3);
      for (const id of new Set(tokens.map((t) => t.id))) {
        expect((await w.admin.data(`query($id: ID!) { node(id: $id) { id } }`, { id })).node).toEqual({ id });
        expect((await other.admin.data(`query($id: ID!) { node(id: $id) { id } }`, { id })).node).toBeNull();
      }
    }
  });
});

describe("subscriptions", () => {
  it.each([
    ["syncStatusChanged", `subscription($e: ID, $a: ID) { syncStatusChanged(environmentId: $e, applicationId: $a) { id } }`],
    [
      "promotionRequestChanged",
      `subscription($e: ID, $a: ID) { promotionRequestChanged(environmentId: $e, applicationId: $a) { cursor } }`,
    ],
  ])("refuses %s filtered on the other organization's environment or application", async (_name, subscription) => {
    const ws = wsClient(server.wsEndpoint, mine.tenant.tokens.VIEWER);
    try {
      for (const variables of [{ e: theirs.catalogue.environments.staging }, { a: theirs.catalogue.applicationId }]) {
        const sub = await subscribeWs(ws, subscription, variables);
        await expect(sub.completed).rejects.toThrow(/NOT_FOUND|No (environment|application)/);
      }
    } finally {
      await ws.dispose();
    }
  });
});

describe("promotion requests", () => {
  const REQUESTS = operation(`query { promotionRequests(first: 100) { edges { node { id } } } }`);

  it("lists only the caller's own organization's requests", async () => {
    for (const [w, other] of [
      [mine, theirs],
      [theirs, mine],
    ]) {
      const ids = (await w.admin.data(REQUESTS)).promotionRequests.edges.map((e: { node: { id: string } }) => e.node.id);
      expect(ids).toContain(w.ids.PromotionRequest);
      expect(ids).not.toContain(other.ids.PromotionRequest);
      const own = (await organizationRows(w.tenant.organizationId)).promotionRequests.map((r) => globalId("PromotionRequest", r.id));
      expect([...ids].sort()).toEqual([...own].sort());
    }
  });

  it("tell a subscriber of promotionRequestChanged only of its own organization's requests, stored or live", async () => {
    const REVERT_REQUEST = operation(`mutation($input: RequestPromotionInput!) {
      requestPromotion(input: $input) { __typename ... on RequestPromotionSuccess { request { id } } } }`);
    const revertAgain = async (w: World) =>
      (
        await w.admin.data(REVERT_REQUEST, {
          input: {
            applicationId: w.catalogue.applicationId,
            fromEnvironmentId: w.catalogue.environments.development,
            toEnvironmentId: w.catalogue.environments.staging,
            revertPropagationId: w.ids.Propagation,
            selectAll: true,
          },
        })
      ).requestPromotion.request.id as string;
    const ws = wsClient(server.wsEndpoint, mine.tenant.tokens.VIEWER);
    try {
      const sub = await subscribeWs(ws, `subscription { promotionRequestChanged(after: "0") { cursor request { id } status } }`);
      // Theirs first: were it delivered, it would come before mine.
      await revertAgain(theirs);
      const second = await revertAgain(mine);
      const events = await sub.waitFor(2);
      expect(events.map((e) => e.promotionRequestChanged.request.id)).toEqual([mine.ids.PromotionRequest, second]);
      expect(events.map((e) => e.promotionRequestChanged.cursor)).toEqual(["1", "2"]);
      await sub.stop();
    } finally {
      await ws.dispose();
    }
  });
});

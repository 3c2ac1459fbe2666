import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { globalId } from "../../src/graphql/ids.js";
import {
  type Api,
  apiAs,
  type Catalogue,
  createApiToken,
  createApplication,
  createCatalogue,
  createClient,
  createDatabase,
  createJourney,
  errorCodes,
  operation,
} from "../support/fixtures.js";
import { organizationRows } from "../support/fuzzing.js";
import { client, gql } from "../support/graphql.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";

/**
 * The role matrix of the README (and schema.graphql's descriptions): every mutation × every role is either allowed or refused with a
 * typed ForbiddenError (HTTP 200) that writes nothing; every query field is readable by every role. A RUNTIME token stands outside
 * the ladder: every mutation and every one of these reads is refused with a FORBIDDEN error, writing nothing (what it may read:
 * test/api/runtime.test.ts).
 */

const ROLES = ["VIEWER", "EDITOR", "PROMOTER", "ADMIN"] as const;
type Role = (typeof ROLES)[number];

const RESULT_FIELDS = `__typename ... on Error { code message }`;

const MUTATIONS = {
  createEnvironment: operation(`
    mutation CreateEnvironment($input: CreateEnvironmentInput!) { createEnvironment(input: $input) { ${RESULT_FIELDS} } }
  `),
  createDatabase: operation(`
    mutation CreateDatabase($input: CreateDatabaseInput!) { createDatabase(input: $input) { ${RESULT_FIELDS} } }
  `),
  createApplication: operation(`
    mutation CreateApplication($input: CreateApplicationInput!) { createApplication(input: $input) { ${RESULT_FIELDS} } }
  `),
  createClient: operation(`
    mutation CreateClient($input: CreateClientInput!) { createClient(input: $input) { ${RESULT_FIELDS} } }
  `),
  createJourney: operation(`
    mutation CreateJourney($input: CreateJourneyInput!) { createJourney(input: $input) { ${RESULT_FIELDS} } }
  `),
  createApiToken: operation(`
    mutation CreateApiToken($input: CreateApiTokenInput!) { createApiToken(input: $input) { ${RESULT_FIELDS} } }
  `),
  revokeApiToken: operation(`
    mutation RevokeApiToken($input: RevokeApiTokenInput!) { revokeApiToken(input: $input) { ${RESULT_FIELDS} } }
  `),
  updateClient: operation(`mutation UpdateClient($input: UpdateClientInput!) { updateClient(input: $input) { ${RESULT_FIELDS} } }`),
  saveJourneyStep: operation(
    `mutation SaveJourneyStep($input: SaveJourneyStepInput!) { saveJourneyStep(input: $input) { ${RESULT_FIELDS} } }`,
  ),
  removeJourneyStep: operation(
    `mutation RemoveJourneyStep($input: RemoveJourneyStepInput!) { removeJourneyStep(input: $input) { ${RESULT_FIELDS} } }`,
  ),
  setJourneyStart: operation(
    `mutation SetJourneyStart($input: SetJourneyStartInput!) { setJourneyStart(input: $input) { ${RESULT_FIELDS} } }`,
  ),
  discardJourneyDraft: operation(
    `mutation DiscardJourneyDraft($input: DiscardJourneyDraftInput!) { discardJourneyDraft(input: $input) { ${RESULT_FIELDS} } }`,
  ),
  saveJourney: operation(`mutation SaveJourney($input: SaveJourneyInput!) { saveJourney(input: $input) { ${RESULT_FIELDS} } }`),
  promoteNow: operation(`mutation PromoteNow($input: PromoteNowInput!) { promoteNow(input: $input) { ${RESULT_FIELDS} } }`),
  propagateChanges: operation(
    `mutation PropagateChanges($input: PropagateChangesInput!) { propagateChanges(input: $input) { ${RESULT_FIELDS} } }`,
  ),
  restoreJourneyVersion: operation(
    `mutation RestoreJourneyVersion($input: RestoreJourneyVersionInput!) { restoreJourneyVersion(input: $input) { ${RESULT_FIELDS} } }`,
  ),
  revertPropagation: operation(
    `mutation RevertPropagation($input: RevertPropagationInput!) { revertPropagation(input: $input) { ${RESULT_FIELDS} } }`,
  ),
  createVariable: operation(`mutation CreateVariable($input: CreateVariableInput!) { createVariable(input: $input) { ${RESULT_FIELDS} } }`),
  setVariableValue: operation(
    `mutation SetVariableValue($input: SetVariableValueInput!) { setVariableValue(input: $input) { ${RESULT_FIELDS} } }`,
  ),
  removeVariableValue: operation(
    `mutation RemoveVariableValue($input: RemoveVariableValueInput!) { removeVariableValue(input: $input) { ${RESULT_FIELDS} } }`,
  ),
  deleteVariable: operation(`mutation DeleteVariable($input: DeleteVariableInput!) { deleteVariable(input: $input) { ${RESULT_FIELDS} } }`),
  setApprovalPolicy: operation(
    `mutation SetApprovalPolicy($input: SetApprovalPolicyInput!) { setApprovalPolicy(input: $input) { ${RESULT_FIELDS} } }`,
  ),
  requestPromotion: operation(
    `mutation RequestPromotion($input: RequestPromotionInput!) { requestPromotion(input: $input) { ${RESULT_FIELDS} } }`,
  ),
  approvePromotionRequest: operation(
    `mutation ApprovePromotionRequest($input: ApprovePromotionRequestInput!) { approvePromotionRequest(input: $input) { ${RESULT_FIELDS} } }`,
  ),
  rejectPromotionRequest: operation(
    `mutation RejectPromotionRequest($input: RejectPromotionRequestInput!) { rejectPromotionRequest(input: $input) { ${RESULT_FIELDS} } }`,
  ),
  cancelPromotionRequest: operation(
    `mutation CancelPromotionRequest($input: CancelPromotionRequestInput!) { cancelPromotionRequest(input: $input) { ${RESULT_FIELDS} } }`,
  ),
  executePromotionRequest: operation(
    `mutation ExecutePromotionRequest($input: ExecutePromotionRequestInput!) { executePromotionRequest(input: $input) { ${RESULT_FIELDS} } }`,
  ),
  retireJourney: operation(`mutation RetireJourney($input: RetireJourneyInput!) { retireJourney(input: $input) { ${RESULT_FIELDS} } }`),
  updateJourney: operation(`mutation UpdateJourney($input: UpdateJourneyInput!) { updateJourney(input: $input) { ${RESULT_FIELDS} } }`),
  archiveApplication: operation(
    `mutation ArchiveApplication($input: ArchiveApplicationInput!) { archiveApplication(input: $input) { ${RESULT_FIELDS} } }`,
  ),
  unarchiveApplication: operation(
    `mutation UnarchiveApplication($input: UnarchiveApplicationInput!) { unarchiveApplication(input: $input) { ${RESULT_FIELDS} } }`,
  ),
  updateApplication: operation(
    `mutation UpdateApplication($input: UpdateApplicationInput!) { updateApplication(input: $input) { ${RESULT_FIELDS} } }`,
  ),
  deleteClient: operation(`mutation DeleteClient($input: DeleteClientInput!) { deleteClient(input: $input) { ${RESULT_FIELDS} } }`),
  deleteDatabase: operation(`mutation DeleteDatabase($input: DeleteDatabaseInput!) { deleteDatabase(input: $input) { ${RESULT_FIELDS} } }`),
  deleteEnvironment: operation(
    `mutation DeleteEnvironment($input: DeleteEnvironmentInput!) { deleteEnvironment(input: $input) { ${RESULT_FIELDS} } }`,
  ),
  updateEnvironment: operation(
    `mutation UpdateEnvironment($input: UpdateEnvironmentInput!) { updateEnvironment(input: $input) { ${RESULT_FIELDS} } }`,
  ),
};

const PREPARE_VARIABLE = operation(`mutation PrepareVariable($input: CreateVariableInput!) {
  createVariable(input: $input) { ... on CreateVariableSuccess { variable { id } } } }`);

/** A new STRING variable (as an ADMIN); with `valueIn`, it has a value there. */
async function variable(n: number, valueIn?: string): Promise<string> {
  const id = (await admin.data(PREPARE_VARIABLE, { input: { key: `prepared-${n}`, kind: "STRING" } })).createVariable.variable.id;
  if (valueIn) await admin.data(MUTATIONS.setVariableValue, { input: { variableId: id, environmentId: valueIn, value: `value-${n}` } });
  return id;
}

const PREPARE_STEP = operation(`mutation Prepare($input: SaveJourneyStepInput!) {
  saveJourneyStep(input: $input) { ... on SaveJourneyStepSuccess { draft { revision } } } }`);
const PREPARE_SAVE = operation(`mutation PrepareSave($input: SaveJourneyInput!) { saveJourney(input: $input) { __typename } }`);
const PREPARE_DIFF = operation(`query PrepareDiff($a: ID!, $from: ID!, $to: ID!) {
  diff(applicationId: $a, fromEnvironmentId: $from, toEnvironmentId: $to) { changes { id } } }`);

/** Adds step `extra-<n>` to the login journey's development draft; returns the draft revision. */
async function draftWithStep(n: number): Promise<number> {
  const result = await admin.data(PREPARE_STEP, {
    input: {
      journeyId: catalogue.journeys.login,
      environmentId: catalogue.environments.development,
      step: {
        key: `extra-${n}`,
        type: "EMAIL_OTP",
        name: `Extra ${n}`,
        enabled: true,
        settings: {},
        transitions: [{ outcome: "success", to: "COMPLETE" }],
      },
    },
  });
  return result.saveJourneyStep.draft.revision;
}

/** Saves a new version of the login journey in development, so staging has something to receive. */
async function developmentChange(n: number): Promise<void> {
  const revision = await draftWithStep(n);
  await admin.data(PREPARE_SAVE, {
    input: { journeyId: catalogue.journeys.login, environmentId: catalogue.environments.development, draftRevision: revision },
  });
}

const PREPARE_PROPAGATION = operation(`mutation PreparePropagation($input: PromoteNowInput!) {
  promoteNow(input: $input) { ... on PromoteNowSuccess { propagation { id } } } }`);

/** A propagation development → staging (by an ADMIN) of a new change; its id. */
async function stagingPropagation(n: number, to: "staging" | "production" = "staging"): Promise<string> {
  await developmentChange(n);
  const into = async (from: string, target: string) =>
    (
      await admin.data(PREPARE_PROPAGATION, {
        input: { applicationId: catalogue.applicationId, fromEnvironmentId: from, toEnvironmentId: target },
      })
    ).promoteNow.propagation.id as string;
  const staging = await into(catalogue.environments.development, catalogue.environments.staging);
  return to === "staging" ? staging : into(catalogue.environments.staging, catalogue.environments.production);
}

const editIds = () => ({ journeyId: catalogue.journeys.login, environmentId: catalogue.environments.development });

/** Sets an environment's approval policy (as an ADMIN): `requiredApprovals`, no self-approval, no comment, 72 hours. */
async function approvals(environmentId: string, requiredApprovals: number): Promise<void> {
  const input = { environmentId, requiredApprovals, allowSelfApproval: false, requireComment: false, expiresAfterHours: 72 };
  const result = await admin.data(MUTATIONS.setApprovalPolicy, { input });
  expect(result.setApprovalPolicy.__typename).toBe("SetApprovalPolicySuccess");
}

const PREPARE_REQUEST = operation(`mutation PrepareRequest($input: RequestPromotionInput!) {
  requestPromotion(input: $input) { __typename ... on RequestPromotionSuccess { request { id planHash status } } ... on Error { message } } }`);

/**
 * A promotion request by `as` (an ADMIN by default) of a new change, development → staging (or staging → production, the
 * change promoted to staging first). `pending`: made under a policy of one approval, so it waits for a review; the policy is
 * set back to none at once (a request keeps the policy it was made under), so direct promotions there still pass.
 */
async function promotionRequest(
  n: number,
  options: { as?: Api; pending?: boolean; to?: "staging" | "production" } = {},
): Promise<{ id: string; planHash: string; status: string }> {
  const to = options.to ?? "staging";
  const from = to === "staging" ? "development" : "staging";
  if (to === "staging") await developmentChange(n);
  else await stagingPropagation(n);
  if (options.pending) await approvals(catalogue.environments[to], 1);
  const made = await (options.as ?? admin).data(PREPARE_REQUEST, {
    input: {
      applicationId: catalogue.applicationId,
      fromEnvironmentId: catalogue.environments[from],
      toEnvironmentId: catalogue.environments[to],
      selectAll: true,
    },
  });
  if (options.pending) await approvals(catalogue.environments[to], 0);
  expect(made.requestPromotion.__typename, made.requestPromotion.message).toBe("RequestPromotionSuccess");
  expect(made.requestPromotion.request.status).toBe(options.pending ? "PENDING" : "APPROVED");
  return made.requestPromotion.request;
}

const PREPARE_ENVIRONMENT = operation(`mutation PrepareEnvironment($input: CreateEnvironmentInput!) {
  createEnvironment(input: $input) { ... on CreateEnvironmentSuccess { environment { id } } } }`);

/** A new environment on top of the pipeline with nothing in it (as an ADMIN); its id. */
async function spareEnvironment(n: number): Promise<string> {
  const input = { key: `spare-${n}`, name: `Spare ${n}`, rank: 1000 };
  return (await admin.data(PREPARE_ENVIRONMENT, { input })).createEnvironment.environment.id;
}

/** A new application (as an ADMIN), archived at once; its id. */
async function archivedApplication(n: number): Promise<string> {
  const applicationId = await createApplication(admin, `Archived ${n}`);
  const archived = await admin.data(MUTATIONS.archiveApplication, { input: { applicationId } });
  expect(archived.archiveApplication.__typename).toBe("ArchiveApplicationSuccess");
  return applicationId;
}

const CREATE_RUNTIME_TOKEN = operation(`mutation CreateRuntimeToken($input: CreateApiTokenInput!) {
  createApiToken(input: $input) { ... on CreateApiTokenSuccess { token } } }`);

type MutationName = keyof typeof MUTATIONS;

let server: TestServer;
let tenant: Tenant;
let admin: Api;
let catalogue: Catalogue;
let calls = 0;
/** A RUNTIME token of the tenant, bound to development. */
let runtimeToken: string;
/** A propagation development → staging, for revertPreview. */
let revertable: string;
/** A second PROMOTER of the tenant: the requester of the requests the tenant's PROMOTER reviews. */
let requester: Api;
/** An executed promotion request, for the reads of requests and of the propagation that executed one. */
let executedRequest: string;

beforeAll(async () => {
  server = await startTestServer();
  tenant = await createTenant("roles");
  admin = apiAs(server.endpoint, tenant);
  catalogue = await createCatalogue(admin);
  for (const key of ["staging", "production"] as const) {
    await createClient(admin, {
      applicationId: catalogue.applicationId,
      environmentId: catalogue.environments[key],
      databaseId: catalogue.databases[key],
    });
  }
  runtimeToken = (
    await admin.data(CREATE_RUNTIME_TOKEN, {
      input: { name: "runtime", role: "RUNTIME", environmentId: catalogue.environments.development },
    })
  ).createApiToken.token;
  revertable = await stagingPropagation(0);
  requester = client(server.endpoint, (await createApiToken(admin, { name: "requester", role: "PROMOTER" })).token);
  executedRequest = (await promotionRequest(1_000_000)).id;
  const executed = await admin.data(MUTATIONS.executePromotionRequest, { input: { requestId: executedRequest } });
  expect(executed.executePromotionRequest.__typename).toBe("ExecutePromotionRequestSuccess");
});
afterAll(() => server.stop());

/** Who may call each mutation, and a valid input for one call (prepared by an ADMIN, unique per call). */
const MATRIX: Record<MutationName, { allowed: Role[]; input: (n: number) => Promise<Record<string, unknown>> }> = {
  createEnvironment: { allowed: ["ADMIN"], input: async (n) => ({ key: `env-${n}`, name: `Environment ${n}`, rank: 1000 }) },
  createDatabase: {
    allowed: ["ADMIN"],
    input: async (n) => ({ environmentId: catalogue.environments.development, name: `users-${n}` }),
  },
  createApplication: { allowed: ["ADMIN"], input: async (n) => ({ name: `Application ${n}` }) },
  createClient: {
    allowed: ["ADMIN"],
    input: async (n) => ({
      applicationId: await createApplication(admin, `Client application ${n}`),
      environmentId: catalogue.environments.development,
      databaseId: catalogue.databases.development,
      redirectUris: ["https://portal.example.com/callback"],
      allowedOrigins: [],
    }),
  },
  createJourney: {
    allowed: ["EDITOR", "PROMOTER", "ADMIN"],
    input: async (n) => ({ applicationId: catalogue.applicationId, key: `journey-${n}`, name: `Journey ${n}`, type: "LOGIN" }),
  },
  createApiToken: { allowed: ["ADMIN"], input: async (n) => ({ name: `token-${n}`, role: "VIEWER" }) },
  revokeApiToken: {
    allowed: ["ADMIN"],
    input: async (n) => ({ apiTokenId: (await createApiToken(admin, { name: `to-revoke-${n}`, role: "VIEWER" })).id }),
  },
  updateClient: {
    allowed: ["EDITOR", "PROMOTER", "ADMIN"],
    input: async (n) => ({ clientId: catalogue.clientId, settings: { accessTokenTtlSeconds: 600 + n } }),
  },
  saveJourneyStep: {
    allowed: ["EDITOR", "PROMOTER", "ADMIN"],
    input: async (n) => ({
      ...editIds(),
      step: {
        key: `step-${n}`,
        type: "PASSWORD",
        name: `Step ${n}`,
        enabled: true,
        settings: {},
        transitions: [{ outcome: "success", to: "COMPLETE" }],
      },
    }),
  },
  removeJourneyStep: {
    allowed: ["EDITOR", "PROMOTER", "ADMIN"],
    input: async (n) => {
      await draftWithStep(n);
      return { ...editIds(), stepKey: `extra-${n}` };
    },
  },
  setJourneyStart: {
    allowed: ["EDITOR", "PROMOTER", "ADMIN"],
    input: async (n) => {
      await draftWithStep(n);
      return { ...editIds(), stepKey: "identify" };
    },
  },
  discardJourneyDraft: {
    allowed: ["EDITOR", "PROMOTER", "ADMIN"],
    input: async (n) => {
      await draftWithStep(n);
      return editIds();
    },
  },
  saveJourney: {
    allowed: ["EDITOR", "PROMOTER", "ADMIN"],
    input: async (n) => ({ ...editIds(), draftRevision: await draftWithStep(n) }),
  },
  promoteNow: {
    allowed: ["PROMOTER", "ADMIN"],
    input: async (n) => {
      await developmentChange(n);
      return {
        applicationId: catalogue.applicationId,
        fromEnvironmentId: catalogue.environments.development,
        toEnvironmentId: catalogue.environments.staging,
      };
    },
  },
  propagateChanges: {
    allowed: ["PROMOTER", "ADMIN"],
    input: async (n) => {
      await developmentChange(n);
      const ids = {
        applicationId: catalogue.applicationId,
        fromEnvironmentId: catalogue.environments.development,
        toEnvironmentId: catalogue.environments.staging,
      };
      const { diff } = await admin.data(PREPARE_DIFF, { a: ids.applicationId, from: ids.fromEnvironmentId, to: ids.toEnvironmentId });
      return { ...ids, changeIds: diff.changes.map((c: { id: string }) => c.id) };
    },
  },
  restoreJourneyVersion: {
    allowed: ["EDITOR", "PROMOTER", "ADMIN"],
    input: async (n) => {
      // Version 1 differs from the current one once development has a saved change.
      await developmentChange(n);
      return { ...editIds(), version: 1 };
    },
  },
  revertPropagation: {
    allowed: ["PROMOTER", "ADMIN"],
    input: async (n) => ({ propagationId: await stagingPropagation(n), selectAll: true }),
  },
  createVariable: { allowed: ["EDITOR", "PROMOTER", "ADMIN"], input: async (n) => ({ key: `variable-${n}`, kind: "NUMBER" }) },
  setVariableValue: {
    allowed: ["EDITOR", "PROMOTER", "ADMIN"],
    input: async (n) => ({ variableId: await variable(n), environmentId: catalogue.environments.development, value: `v${n}` }),
  },
  removeVariableValue: {
    allowed: ["EDITOR", "PROMOTER", "ADMIN"],
    input: async (n) => ({
      variableId: await variable(n, catalogue.environments.development),
      environmentId: catalogue.environments.development,
    }),
  },
  deleteVariable: { allowed: ["ADMIN"], input: async (n) => ({ variableId: await variable(n, catalogue.environments.development) }) },
  setApprovalPolicy: {
    allowed: ["ADMIN"],
    // Development receives no promotions: its policy stands in none of the other calls' way.
    input: async (n) => ({
      environmentId: catalogue.environments.development,
      requiredApprovals: n % 3,
      allowSelfApproval: n % 2 === 0,
      requireComment: n % 2 === 1,
      expiresAfterHours: 100 + n,
    }),
  },
  requestPromotion: {
    allowed: ["PROMOTER", "ADMIN"],
    input: async (n) => {
      await developmentChange(n);
      return {
        applicationId: catalogue.applicationId,
        fromEnvironmentId: catalogue.environments.development,
        toEnvironmentId: catalogue.environments.staging,
        selectAll: true,
        comment: `Request ${n}`,
      };
    },
  },
  approvePromotionRequest: {
    allowed: ["PROMOTER", "ADMIN"],
    input: async (n) => {
      const { id, planHash } = await promotionRequest(n, { as: requester, pending: true });
      return { requestId: id, planHash };
    },
  },
  rejectPromotionRequest: {
    allowed: ["PROMOTER", "ADMIN"],
    input: async (n) => ({ requestId: (await promotionRequest(n, { as: requester, pending: true })).id, comment: `Not now ${n}` }),
  },
  cancelPromotionRequest: {
    // The requester (the tenant's PROMOTER here) or an ADMIN; another PROMOTER: "promotion requests by role" below.
    allowed: ["PROMOTER", "ADMIN"],
    input: async (n) => ({ requestId: (await promotionRequest(n, { as: apiAs(server.endpoint, tenant, "PROMOTER"), pending: true })).id }),
  },
  executePromotionRequest: {
    allowed: ["PROMOTER", "ADMIN"],
    input: async (n) => ({ requestId: (await promotionRequest(n)).id }),
  },
  retireJourney: {
    allowed: ["EDITOR", "PROMOTER", "ADMIN"],
    // A journey of its own each time, in development only: its retirement stands in no other call's way.
    input: async (n) => ({
      journeyId: await createJourney(admin, { applicationId: catalogue.applicationId, key: `retired-${n}`, name: `Retired ${n}` }),
      environmentId: catalogue.environments.development,
    }),
  },
  updateJourney: {
    allowed: ["EDITOR", "PROMOTER", "ADMIN"],
    input: async (n) => ({ journeyId: catalogue.journeys.registration, name: `Registration ${n}` }),
  },
  archiveApplication: { allowed: ["ADMIN"], input: async (n) => ({ applicationId: await createApplication(admin, `To archive ${n}`) }) },
  unarchiveApplication: { allowed: ["ADMIN"], input: async (n) => ({ applicationId: await archivedApplication(n) }) },
  updateApplication: {
    allowed: ["ADMIN"],
    input: async (n) => ({ applicationId: await createApplication(admin, `To rename ${n}`), name: `Renamed ${n}` }),
  },
  deleteClient: {
    allowed: ["ADMIN"],
    // An application's only client, in development: nothing above depends on it.
    input: async (n) => ({
      clientId: await createClient(admin, {
        applicationId: await createApplication(admin, `Client to delete ${n}`),
        environmentId: catalogue.environments.development,
        databaseId: catalogue.databases.development,
      }),
    }),
  },
  deleteDatabase: {
    allowed: ["ADMIN"],
    input: async (n) => ({
      databaseId: await createDatabase(admin, { environmentId: catalogue.environments.production, name: `unused-${n}` }),
    }),
  },
  deleteEnvironment: { allowed: ["ADMIN"], input: async (n) => ({ environmentId: await spareEnvironment(n) }) },
  updateEnvironment: {
    allowed: ["ADMIN"],
    input: async (n) => ({ environmentId: await spareEnvironment(n), name: `Renamed tier ${n}` }),
  },
};

describe("variable values outside editable environments by role", () => {
  it("lets only an ADMIN set or remove a value in staging", async () => {
    const staging = catalogue.environments.staging;
    for (const role of ["VIEWER", "EDITOR", "PROMOTER"] as const) {
      const id = await variable(++calls, staging);
      const before = await organizationRows(tenant.organizationId);
      const set = await gql(server.endpoint, tenant.tokens[role], MUTATIONS.setVariableValue, {
        input: { variableId: id, environmentId: staging, value: "other" },
      });
      expect(set.data.setVariableValue).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
      const removed = await gql(server.endpoint, tenant.tokens[role], MUTATIONS.removeVariableValue, {
        input: { variableId: id, environmentId: staging },
      });
      expect(removed.data.removeVariableValue).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
      expect(await organizationRows(tenant.organizationId)).toEqual(before);
    }
    const id = await variable(++calls, staging);
    const allowed = await gql(server.endpoint, tenant.tokens.ADMIN, MUTATIONS.setVariableValue, {
      input: { variableId: id, environmentId: staging, value: "other" },
    });
    expect(allowed.data.setVariableValue).toEqual({ __typename: "SetVariableValueSuccess" });
  });
});

describe("promotion into production by role", () => {
  it("lets only an ADMIN promote into production", async () => {
    const ids = {
      applicationId: catalogue.applicationId,
      fromEnvironmentId: catalogue.environments.staging,
      toEnvironmentId: catalogue.environments.production,
    };
    await developmentChange(++calls);
    await admin.data(MUTATIONS.promoteNow, {
      input: {
        applicationId: catalogue.applicationId,
        fromEnvironmentId: catalogue.environments.development,
        toEnvironmentId: catalogue.environments.staging,
      },
    });
    for (const role of ["VIEWER", "EDITOR", "PROMOTER"] as const) {
      const before = await organizationRows(tenant.organizationId);
      const response = await gql(server.endpoint, tenant.tokens[role], MUTATIONS.promoteNow, { input: ids });
      expect(response.data.promoteNow).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
      expect(await organizationRows(tenant.organizationId)).toEqual(before);
    }
    const allowed = await gql(server.endpoint, tenant.tokens.ADMIN, MUTATIONS.promoteNow, { input: ids });
    expect(allowed.data.promoteNow).toEqual({ __typename: "PromoteNowSuccess" });
  });

  it("refuses a PROMOTER who replays an ADMIN's idempotency key: a key is no pass", async () => {
    const input = {
      applicationId: catalogue.applicationId,
      fromEnvironmentId: catalogue.environments.staging,
      toEnvironmentId: catalogue.environments.production,
      idempotencyKey: `admin-promotion-${++calls}`,
    };
    await developmentChange(calls);
    await admin.data(MUTATIONS.promoteNow, {
      input: {
        applicationId: catalogue.applicationId,
        fromEnvironmentId: catalogue.environments.development,
        toEnvironmentId: catalogue.environments.staging,
      },
    });
    const allowed = await gql(server.endpoint, tenant.tokens.ADMIN, MUTATIONS.promoteNow, { input });
    expect(allowed.data.promoteNow).toEqual({ __typename: "PromoteNowSuccess" });
    const before = await organizationRows(tenant.organizationId);
    const replayed = await gql(server.endpoint, tenant.tokens.PROMOTER, MUTATIONS.promoteNow, { input });
    expect(replayed.data.promoteNow).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
    const { idempotencyKey: _, ...ids } = input;
    const selected = await gql(server.endpoint, tenant.tokens.PROMOTER, MUTATIONS.propagateChanges, {
      input: { ...ids, selectAll: true, idempotencyKey: input.idempotencyKey },
    });
    expect(selected.data.propagateChanges).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
    expect(await organizationRows(tenant.organizationId)).toEqual(before);
  });
});

describe("restores outside editable environments by role", () => {
  it("refuses every role that may restore with ENVIRONMENT_LOCKED in staging, writing nothing", async () => {
    const input = { journeyId: catalogue.journeys.login, environmentId: catalogue.environments.staging, version: 1 };
    for (const role of ["EDITOR", "PROMOTER", "ADMIN"] as const) {
      const before = await organizationRows(tenant.organizationId);
      const response = await gql(server.endpoint, tenant.tokens[role], MUTATIONS.restoreJourneyVersion, { input });
      expect(response.data.restoreJourneyVersion).toMatchObject({ __typename: "EnvironmentLockedError", code: "ENVIRONMENT_LOCKED" });
      expect(await organizationRows(tenant.organizationId)).toEqual(before);
    }
  });
});

describe("retirements outside editable environments by role", () => {
  it("refuses every role that may retire with ENVIRONMENT_LOCKED in staging, writing nothing", async () => {
    const input = { journeyId: catalogue.journeys.login, environmentId: catalogue.environments.staging };
    for (const role of ["EDITOR", "PROMOTER", "ADMIN"] as const) {
      const before = await organizationRows(tenant.organizationId);
      const response = await gql(server.endpoint, tenant.tokens[role], MUTATIONS.retireJourney, { input });
      expect(response.data.retireJourney).toMatchObject({ __typename: "EnvironmentLockedError", code: "ENVIRONMENT_LOCKED" });
      expect(await organizationRows(tenant.organizationId)).toEqual(before);
    }
  });
});

describe("reverts into production by role", () => {
  it("lets only an ADMIN revert a propagation into production", async () => {
    const propagationId = await stagingPropagation(++calls, "production");
    for (const role of ["VIEWER", "EDITOR", "PROMOTER"] as const) {
      const before = await organizationRows(tenant.organizationId);
      const response = await gql(server.endpoint, tenant.tokens[role], MUTATIONS.revertPropagation, {
        input: { propagationId, selectAll: true },
      });
      expect(response.data.revertPropagation).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
      expect(await organizationRows(tenant.organizationId)).toEqual(before);
    }
    const allowed = await gql(server.endpoint, tenant.tokens.ADMIN, MUTATIONS.revertPropagation, {
      input: { propagationId, selectAll: true },
    });
    expect(allowed.data.revertPropagation).toEqual({ __typename: "RevertPropagationSuccess" });
  });

  it("refuses a PROMOTER who replays an ADMIN's idempotency key, and says revert", async () => {
    const propagationId = await stagingPropagation(++calls, "production");
    const input = { propagationId, selectAll: true, idempotencyKey: `admin-revert-${calls}` };
    const allowed = await gql(server.endpoint, tenant.tokens.ADMIN, MUTATIONS.revertPropagation, { input });
    expect(allowed.data.revertPropagation).toEqual({ __typename: "RevertPropagationSuccess" });
    const before = await organizationRows(tenant.organizationId);
    const replayed = await gql(server.endpoint, tenant.tokens.PROMOTER, MUTATIONS.revertPropagation, { input });
    expect(replayed.data.revertPropagation).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
    expect((replayed.data.revertPropagation as { message: string }).message).toMatch(/revert/);
    expect(await organizationRows(tenant.organizationId)).toEqual(before);
  });
});

describe("promotion requests by role", () => {
  /** Sends `mutation` as `api` and expects a FORBIDDEN that wrote nothing. */
  async function refused(api: Api, mutation: MutationName, input: Record<string, unknown>) {
    const before = await organizationRows(tenant.organizationId);
    const data = await api.data(MUTATIONS[mutation], { input });
    expect(data[mutation]).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
    expect(await organizationRows(tenant.organizationId)).toEqual(before);
  }

  it("lets only the requester or an ADMIN cancel a request, and not the requester approve it", async () => {
    const request = await promotionRequest(++calls, { as: requester, pending: true });
    await refused(apiAs(server.endpoint, tenant, "PROMOTER"), "cancelPromotionRequest", { requestId: request.id });
    const before = await organizationRows(tenant.organizationId);
    const own = await requester.data(MUTATIONS.approvePromotionRequest, { input: { requestId: request.id, planHash: request.planHash } });
    expect(own.approvePromotionRequest).toMatchObject({ __typename: "SelfApprovalError", code: "SELF_APPROVAL" });
    expect(await organizationRows(tenant.organizationId)).toEqual(before);
    const cancelled = await requester.data(MUTATIONS.cancelPromotionRequest, { input: { requestId: request.id } });
    expect(cancelled.cancelPromotionRequest).toEqual({ __typename: "CancelPromotionRequestSuccess" });
  });

  it("lets only an ADMIN approve, reject or execute a request into production; any PROMOTER may ask", async () => {
    const request = await promotionRequest(++calls, { as: requester, pending: true, to: "production" });
    for (const role of ["VIEWER", "EDITOR", "PROMOTER"] as const) {
      const api = apiAs(server.endpoint, tenant, role);
      await refused(api, "approvePromotionRequest", { requestId: request.id, planHash: request.planHash });
      await refused(api, "rejectPromotionRequest", { requestId: request.id, comment: "No" });
    }
    const approved = await admin.data(MUTATIONS.approvePromotionRequest, { input: { requestId: request.id, planHash: request.planHash } });
    expect(approved.approvePromotionRequest).toEqual({ __typename: "ApprovePromotionRequestSuccess" });
    for (const role of ["VIEWER", "EDITOR", "PROMOTER"] as const) {
      await refused(apiAs(server.endpoint, tenant, role), "executePromotionRequest", { requestId: request.id });
    }
    const input = { requestId: request.id, idempotencyKey: `admin-execution-${calls}` };
    const executed = await admin.data(MUTATIONS.executePromotionRequest, { input });
    expect(executed.executePromotionRequest).toEqual({ __typename: "ExecutePromotionRequestSuccess" });
    // A key is no pass: the PROMOTER replaying the ADMIN's is refused too.
    await refused(apiAs(server.endpoint, tenant, "PROMOTER"), "executePromotionRequest", input);
  });

  it("refuses direct promotion into an environment that requires approvals to every role, writing nothing", async () => {
    const propagationId = await stagingPropagation(++calls);
    await developmentChange(calls);
    const ids = {
      applicationId: catalogue.applicationId,
      fromEnvironmentId: catalogue.environments.development,
      toEnvironmentId: catalogue.environments.staging,
    };
    const direct: [MutationName, Record<string, unknown>][] = [
      ["promoteNow", ids],
      ["propagateChanges", { ...ids, selectAll: true }],
      ["revertPropagation", { propagationId, selectAll: true }],
    ];
    await approvals(catalogue.environments.staging, 1);
    try {
      for (const role of ROLES) {
        for (const [mutation, input] of direct) {
          const before = await organizationRows(tenant.organizationId);
          const data = await gql(server.endpoint, tenant.tokens[role], MUTATIONS[mutation], { input });
          const code = MATRIX[mutation].allowed.includes(role) ? "APPROVAL_REQUIRED" : "FORBIDDEN";
          expect(data.data[mutation], `${role} ${mutation}`).toMatchObject({ code });
          expect(await organizationRows(tenant.organizationId)).toEqual(before);
        }
      }
    } finally {
      await approvals(catalogue.environments.staging, 0);
    }
  });
});

const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

describe.each(Object.keys(MATRIX) as MutationName[])("%s by role", (mutation) => {
  for (const role of ROLES.filter((r) => MATRIX[mutation].allowed.includes(r))) {
    it(`lets a ${role} token ${mutation}`, async () => {
      const input = await MATRIX[mutation].input(++calls);
      const before = await organizationRows(tenant.organizationId);
      const response = await gql(server.endpoint, tenant.tokens[role], MUTATIONS[mutation], { input });
      expect(response.status).toBe(200);
      expect(response.errors).toBeUndefined();
      expect(response.data[mutation]).toEqual({ __typename: `${upperFirst(mutation)}Success` });
      expect(await organizationRows(tenant.organizationId)).not.toEqual(before);
    });
  }

  for (const role of ROLES.filter((r) => !MATRIX[mutation].allowed.includes(r))) {
    it(`refuses a ${role} token ${mutation} with FORBIDDEN and writes nothing`, async () => {
      const input = await MATRIX[mutation].input(++calls);
      const before = await organizationRows(tenant.organizationId);
      const response = await gql(server.endpoint, tenant.tokens[role], MUTATIONS[mutation], { input });
      expect(response.status).toBe(200);
      expect(response.errors).toBeUndefined();
      expect(response.data[mutation]).toEqual({ __typename: "ForbiddenError", code: "FORBIDDEN", message: expect.stringMatching(/\S/) });
      expect(await organizationRows(tenant.organizationId)).toEqual(before);
    });
  }

  it(`refuses a RUNTIME token ${mutation} with FORBIDDEN and writes nothing`, async () => {
    const input = await MATRIX[mutation].input(++calls);
    const before = await organizationRows(tenant.organizationId);
    const response = await gql(server.endpoint, runtimeToken, MUTATIONS[mutation], { input });
    expect(errorCodes(response)).toEqual(["FORBIDDEN"]);
    expect(response.data ?? null).toBeNull();
    expect(await organizationRows(tenant.organizationId)).toEqual(before);
  });
});

describe("role refusals", () => {
  it("refuses a role before looking at the input: a VIEWER learns nothing about IDs", async () => {
    const other = await createTenant("roles-other");
    const foreign = await createCatalogue(apiAs(server.endpoint, other));
    const response = await gql(server.endpoint, tenant.tokens.VIEWER, MUTATIONS.createDatabase, {
      input: { environmentId: foreign.environments.development, name: "probe" },
    });
    expect(response.data.createDatabase).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
  });

  it("refuses a VIEWER even an invalid input with FORBIDDEN, not VALIDATION_FAILED", async () => {
    const response = await gql(server.endpoint, tenant.tokens.VIEWER, MUTATIONS.createApplication, { input: { name: "" } });
    expect(response.data.createApplication).toMatchObject({ __typename: "ForbiddenError", code: "FORBIDDEN" });
  });
});

const READS: [string, string, () => Record<string, unknown>][] = [
  ["viewer", operation(`query { viewer { role organization { id name } } }`), () => ({})],
  [
    "variables",
    operation(
      `query { variables { id key kind description values { environment { id } value fingerprint version updatedAt updatedBy } history(first: 5) { edges { cursor node { id version value fingerprint removed actor occurredAt } } } } }`,
    ),
    () => ({}),
  ],
  [
    "environments",
    operation(
      `query { environments { id key name rank isProduction editable lower { id } upper { id } databases { id name environment { id } } } }`,
    ),
    () => ({}),
  ],
  [
    "applications",
    operation(
      `query { applications(first: 10) { edges { cursor node { id name } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`,
    ),
    () => ({}),
  ],
  [
    "Application fields",
    operation(`
      query ($id: ID!, $environmentId: ID!) {
        node(id: $id) { id ... on Application { name clients { id } client(environmentId: $environmentId) { id } journeys { id } journey(key: "login") { id } } }
      }
    `),
    () => ({ id: catalogue.applicationId, environmentId: catalogue.environments.development }),
  ],
  [
    "Client fields",
    operation(`
      query ($id: ID!) {
        node(id: $id) { id ... on Client { clientId name redirectUris allowedOrigins settings application { id } environment { id } database { id } } }
      }
    `),
    () => ({ id: catalogue.clientId }),
  ],
  [
    "Journey fields",
    operation(`
      query ($id: ID!, $environmentId: ID!) {
        node(id: $id) {
          id
          ... on Journey {
            key name type application { id }
            configuration(environmentId: $environmentId) {
              version hash start document origin savedAt savedBy savedByApiToken { id name role } comment steps { key type name enabled settings transitions { outcome to } }
            }
            versions(environmentId: $environmentId, first: 5) { edges { cursor node { version } } pageInfo { hasNextPage endCursor } }
          }
        }
      }
    `),
    () => ({ id: catalogue.journeys.login, environmentId: catalogue.environments.development }),
  ],
  [
    "diff",
    operation(`query ($a: ID!, $from: ID!, $to: ID!) { diff(applicationId: $a, fromEnvironmentId: $from, toEnvironmentId: $to) {
      status message from { key } to { key } changes { id path kind summary oldValue newValue requires bundleId journey { key } stepKey } bundles { id label changeIds } } }`),
    () => ({ a: catalogue.applicationId, from: catalogue.environments.development, to: catalogue.environments.staging }),
  ],
  [
    "sync states, drafts and client status",
    operation(`query ($j: ID!, $c: ID!, $env: ID!) {
      journey: node(id: $j) { ... on Journey { syncStates { environment { key } sourceEnvironment { key } status message changeCount } draft(environmentId: $env) { revision updatedBy updatedByApiToken { id name } } } }
      client: node(id: $c) { ... on Client { syncStatus } } }`),
    () => ({ j: catalogue.journeys.login, c: catalogue.clientId, env: catalogue.environments.development }),
  ],
  [
    "propagations",
    operation(
      `query { propagations(first: 5) { edges { node { id mode comment actor actorApiToken { id name } createdAt from { key } to { key } application { name } items { id path } revertOf { id } revertedBy { id } } } } }`,
    ),
    () => ({}),
  ],
  [
    "revertPreview",
    operation(`query ($p: ID!) { revertPreview(propagationId: $p) {
      propagation { id mode } changes { id path requires bundleId } bundles { id changeIds }
      conflicts { path propagatedValue currentValue message } missingVariables { key changeIds } } }`),
    () => ({ p: revertable }),
  ],
  [
    "syncNotifications",
    operation(
      `query { syncNotifications(first: 5) { edges { cursor node { id cursor status message changeCount occurredAt environment { key } sourceEnvironment { key } application { name } journey { key } } } } }`,
    ),
    () => ({}),
  ],
  [
    "promotionRequests",
    operation(`query { promotionRequests(first: 5) { edges { cursor node {
      id status planHash comment requestedBy createdAt expiresAt approvalsNeeded isStale application { id } from { key } to { key }
      changes { id path oldValue newValue } reviews { reviewer decision comment planHash createdAt } revertOf { id } propagation { id } } }
      pageInfo { hasNextPage endCursor } } }`),
    () => ({}),
  ],
  [
    "approval policies",
    operation(`query { environments { key approvalPolicy { requiredApprovals allowSelfApproval requireComment expiresAfterHours } } }`),
    () => ({}),
  ],
  [
    "PromotionRequest node and the propagation that executed it",
    operation(`query ($id: ID!) { node(id: $id) { id ... on PromotionRequest { status propagation { id mode request { id } } } } }`),
    () => ({ id: executedRequest }),
  ],
  [
    "Environment node",
    operation(`query ($id: ID!) { node(id: $id) { id ... on Environment { key } } }`),
    () => ({ id: catalogue.environments.production }),
  ],
  [
    "Database node",
    operation(`query ($id: ID!) { node(id: $id) { id ... on Database { name environment { id } } } }`),
    () => ({ id: catalogue.databases.staging }),
  ],
  [
    "Organization node",
    operation(`query ($id: ID!) { node(id: $id) { id ... on Organization { name } } }`),
    () => ({ id: globalId("Organization", tenant.organizationId) }),
  ],
];

const API_TOKEN_NODE = operation(`query ($id: ID!) { node(id: $id) { id ... on ApiToken { name role createdAt revokedAt } } }`);

describe.each(ROLES)("reads by a %s token", (role) => {
  it.each(READS)("reads %s", async (_label, query, variables) => {
    const response = await gql(server.endpoint, tenant.tokens[role], query, variables());
    expect(response.status).toBe(200);
    expect(response.errors).toBeUndefined();
    for (const value of Object.values(response.data)) expect(value).not.toBeNull();
  });

  it("reads an ApiToken node", async () => {
    const token = await createApiToken(admin, { name: `readable-by-${role.toLowerCase()}`, role: "VIEWER" });
    const response = await gql(server.endpoint, tenant.tokens[role], API_TOKEN_NODE, { id: token.id });
    expect(response.errors).toBeUndefined();
    expect(response.data.node).toMatchObject({ id: token.id, name: `readable-by-${role.toLowerCase()}`, role: "VIEWER", revokedAt: null });
  });
});

describe("reads by a RUNTIME token", () => {
  it.each(READS)("refuses %s with FORBIDDEN", async (_label, query, variables) => {
    const response = await gql(server.endpoint, runtimeToken, query, variables());
    expect(errorCodes(response)).toEqual(["FORBIDDEN"]);
    expect(response.data ?? null).toBeNull();
  });
});

import { isDeepStrictEqual } from "node:util";
import { eq } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, expect } from "vitest";
import { ROWS_INSERTED_OR_DELETED } from "../../src/db/read-tracking.js";
import {
  auditEvents,
  organizations,
  promotionRequestEvents,
  promotionRequests,
  promotionReviews,
  syncNotifications,
} from "../../src/db/schema.js";
import { STEP_TYPES, type StepType } from "../../src/domain/step-catalogue.js";
import { type NodeTypeName, parseGlobalId } from "../../src/graphql/ids.js";
import { MAX_BODY_BYTES } from "../../src/server/limits.js";
import {
  boundaryInt,
  deepJsonArb,
  displayName,
  type FieldSpec,
  hostileJson,
  hostileText,
  inputOf,
  listOf,
  malformedId,
  type Ref,
  type RefVariant,
  ref,
  resolveRefs,
  slug,
  spellId,
  wrongType,
} from "../support/arbitraries.js";
import { testDatabase } from "../support/database.js";
import {
  type Api,
  apiAs,
  createApiToken,
  createApplication,
  createCatalogue,
  createClient,
  createDatabase,
  createJourney,
  LOGIN_DOCUMENT,
  operation,
  tenantRows,
} from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";
import { SAVE, SAVE_STEP } from "./documents.js";

/**
 * The harness of the fuzzed-input tests in test/api/fuzz/, one file per area (issue 7, item 5). fast-check generates the `input` variable from
 * valid, boundary and hostile values: the tenant's real IDs, IDs of the wrong type, of another
 * organization and malformed ones, huge strings, deep JSON, unicode, numbers out of range, wrong
 * types, missing and extra fields. For every call:
 *
 * - the HTTP status is 200 (400 for variables GraphQL refuses), the body is JSON;
 * - nothing internal leaks (SQL, driver messages, stack traces, file paths) and nothing is masked:
 *   an INTERNAL_SERVER_ERROR means an expected failure was not typed;
 * - a mutation answers with its Success type or a typed error (never an execution error);
 * - a refused call leaves every row of the tenant as it was (but PLAN_STALE naming the changes that
 *   moved, which marks its promotion request STALE and nothing else); a call that succeeds may write,
 *   what it wrote keeps the stored journeys and the pipeline well-formed and raised the organization's revision, and a
 *   draft edit, a promotion request mutation or a lifecycle mutation wrote what it says and nothing more;
 * - one audit event per successful call, none per refused one.
 *
 * A test file calls `fuzzing()` once at its top, then fuzzes its area's mutations with
 * `fuzzEveryInput` or sends chosen inputs with `call`. Runs are seeded: FUZZ_SEED=<seed> replays a run (fast-check prints the seed and the
 * counterexample on failure), FUZZ_RUNS=<n> sets the runs per mutation, FUZZ_STATS=1 prints how
 * the calls were answered (success, which typed error, request error) per mutation.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 70505);
const RUNS = Number(process.env.FUZZ_RUNS ?? 40);

const ERROR_CODES: Record<string, string> = {
  NotFoundError: "NOT_FOUND",
  ForbiddenError: "FORBIDDEN",
  ValidationError: "VALIDATION_FAILED",
  EnvironmentLockedError: "ENVIRONMENT_LOCKED",
  InvalidDirectionError: "INVALID_DIRECTION",
  TargetMissingError: "TARGET_MISSING",
  AlreadyExistsError: "ALREADY_EXISTS",
  DraftConflictError: "DRAFT_CONFLICT",
  StaleSelectionError: "STALE_SELECTION",
  IncompleteSelectionError: "INCOMPLETE_SELECTION",
  InvalidConfigurationError: "INVALID_CONFIGURATION",
  NothingToPropagateError: "NOTHING_TO_PROPAGATE",
  MissingVariablesError: "MISSING_VARIABLES",
  InvalidRequestStateError: "INVALID_REQUEST_STATE",
  PlanStaleError: "PLAN_STALE",
  SelfApprovalError: "SELF_APPROVAL",
  ArchivedError: "ARCHIVED",
  InUseError: "IN_USE",
};

/** What a response must never show: the database, the driver, the code, or the masked message. */
const INTERNALS = [
  /postgres/i,
  /pglite/i,
  /\bSQL\b/,
  /SQLSTATE/i,
  /syntax error at/i,
  /relation/i,
  /violates/i,
  /duplicate key/i,
  /invalid input syntax/i,
  /invalid byte sequence/i,
  /unsupported Unicode escape/i,
  /Failed query/i,
  /drizzle/i,
  / {4}at /,
  /file:\/\//,
  /node_modules/,
  /\/(?:src|dist|test)\/[\w./-]+\.[cm]?[jt]s\b/,
  /\.[cm]?[jt]s:\d+:\d+/,
  /Unexpected error/i,
  /INTERNAL_SERVER_ERROR/,
];

/** The problems of the errors that list them: their paths and messages are checked for leaks too. */
const PROBLEMS = `... on ValidationError { problems { path message } }`;
const CONFIGURATION_PROBLEMS = `${PROBLEMS} ... on InvalidConfigurationError { problems { path message } }`;
/** A plan that moved names its changes: the request is then STALE (see expectMarkedStale). */
const PLAN_STALE = "... on PlanStaleError { changeIds }";
/** What still depends on an object a deletion refused: in words, checked for leaks like every message. */
const IN_USE = `${PROBLEMS} ... on InUseError { references }`;
const mutation = (name: string, inputType: string, problems = PROBLEMS) =>
  operation(`
    mutation Fuzz${inputType.replace(/Input$/, "")}($input: ${inputType}!) {
      ${name}(input: $input) { __typename ... on Error { code message } ${problems} }
    }
  `);

const MUTATIONS = {
  createEnvironment: mutation("createEnvironment", "CreateEnvironmentInput"),
  createDatabase: mutation("createDatabase", "CreateDatabaseInput"),
  createApplication: mutation("createApplication", "CreateApplicationInput"),
  createClient: mutation("createClient", "CreateClientInput"),
  updateClient: mutation("updateClient", "UpdateClientInput"),
  createJourney: mutation("createJourney", "CreateJourneyInput"),
  saveJourneyStep: mutation("saveJourneyStep", "SaveJourneyStepInput"),
  removeJourneyStep: mutation("removeJourneyStep", "RemoveJourneyStepInput"),
  setJourneyStart: mutation("setJourneyStart", "SetJourneyStartInput"),
  discardJourneyDraft: mutation("discardJourneyDraft", "DiscardJourneyDraftInput"),
  saveJourney: mutation("saveJourney", "SaveJourneyInput", CONFIGURATION_PROBLEMS),
  promoteNow: mutation("promoteNow", "PromoteNowInput", CONFIGURATION_PROBLEMS),
  propagateChanges: mutation("propagateChanges", "PropagateChangesInput", CONFIGURATION_PROBLEMS),
  revertPropagation: mutation("revertPropagation", "RevertPropagationInput", CONFIGURATION_PROBLEMS),
  restoreJourneyVersion: mutation("restoreJourneyVersion", "RestoreJourneyVersionInput"),
  createApiToken: mutation("createApiToken", "CreateApiTokenInput"),
  revokeApiToken: mutation("revokeApiToken", "RevokeApiTokenInput"),
  createVariable: mutation("createVariable", "CreateVariableInput"),
  setVariableValue: mutation("setVariableValue", "SetVariableValueInput"),
  removeVariableValue: mutation("removeVariableValue", "RemoveVariableValueInput"),
  deleteVariable: mutation("deleteVariable", "DeleteVariableInput"),
  setApprovalPolicy: mutation("setApprovalPolicy", "SetApprovalPolicyInput"),
  requestPromotion: mutation("requestPromotion", "RequestPromotionInput", CONFIGURATION_PROBLEMS),
  approvePromotionRequest: mutation("approvePromotionRequest", "ApprovePromotionRequestInput", `${PROBLEMS} ${PLAN_STALE}`),
  rejectPromotionRequest: mutation("rejectPromotionRequest", "RejectPromotionRequestInput"),
  cancelPromotionRequest: mutation("cancelPromotionRequest", "CancelPromotionRequestInput"),
  executePromotionRequest: mutation("executePromotionRequest", "ExecutePromotionRequestInput", `${CONFIGURATION_PROBLEMS} ${PLAN_STALE}`),
  retireJourney: mutation("retireJourney", "RetireJourneyInput"),
  updateJourney: mutation("updateJourney", "UpdateJourneyInput"),
  archiveApplication: mutation("archiveApplication", "ArchiveApplicationInput"),
  unarchiveApplication: mutation("unarchiveApplication", "UnarchiveApplicationInput"),
  updateApplication: mutation("updateApplication", "UpdateApplicationInput"),
  deleteClient: mutation("deleteClient", "DeleteClientInput", IN_USE),
  deleteDatabase: mutation("deleteDatabase", "DeleteDatabaseInput", IN_USE),
  deleteEnvironment: mutation("deleteEnvironment", "DeleteEnvironmentInput", IN_USE),
  updateEnvironment: mutation("updateEnvironment", "UpdateEnvironmentInput"),
};
export type MutationName = keyof typeof MUTATIONS;

/** The area of each mutation: test/api/fuzz/<area>.test.ts fuzzes its mutations. */
const AREAS = {
  createEnvironment: "environments",
  createDatabase: "environments",
  createApplication: "applications",
  createClient: "clients",
  updateClient: "clients",
  createJourney: "journeys",
  saveJourneyStep: "drafts",
  removeJourneyStep: "drafts",
  setJourneyStart: "drafts",
  discardJourneyDraft: "drafts",
  saveJourney: "drafts",
  promoteNow: "propagation",
  propagateChanges: "propagation",
  revertPropagation: "propagation",
  restoreJourneyVersion: "drafts",
  createApiToken: "tokens",
  revokeApiToken: "tokens",
  createVariable: "variables",
  setVariableValue: "variables",
  removeVariableValue: "variables",
  deleteVariable: "variables",
  setApprovalPolicy: "approvals",
  requestPromotion: "approvals",
  approvePromotionRequest: "approvals",
  rejectPromotionRequest: "approvals",
  cancelPromotionRequest: "approvals",
  executePromotionRequest: "approvals",
  retireJourney: "lifecycle",
  updateJourney: "lifecycle",
  archiveApplication: "lifecycle",
  unarchiveApplication: "lifecycle",
  updateApplication: "lifecycle",
  deleteClient: "lifecycle",
  deleteDatabase: "lifecycle",
  deleteEnvironment: "lifecycle",
  updateEnvironment: "lifecycle",
} as const satisfies Record<MutationName, string>;

/** The mutations of an area, in the order they are declared. */
export const mutationsOf = (area: (typeof AREAS)[MutationName]): MutationName[] =>
  (Object.keys(MUTATIONS) as MutationName[]).filter((name) => AREAS[name] === area);

const VARIABLE_VALUE = operation(`
  mutation FuzzVariableValue($input: SetVariableValueInput!) { setVariableValue(input: $input) { __typename ... on Error { message } } }
`);

const DIFF = operation(`
  query FuzzDiff($a: ID!, $from: ID!, $to: ID!) { diff(applicationId: $a, fromEnvironmentId: $from, toEnvironmentId: $to) { changes { id } } }
`);

const REVERT_PREVIEW = operation(`query FuzzRevertPreview($p: ID!) { revertPreview(propagationId: $p) { changes { id path } } }`);

const FIXTURE_PROPAGATION = operation(`
  mutation FuzzFixturePropagation($input: PromoteNowInput!) { promoteNow(input: $input) { ... on PromoteNowSuccess { propagation { id } } } }
`);

const FIXTURE_REVERT = operation(`
  mutation FuzzFixtureRevert($input: RevertPropagationInput!) {
    revertPropagation(input: $input) { ... on RevertPropagationSuccess { propagation { id } } }
  }
`);

const FIXTURE_POLICY = operation(`
  mutation FuzzFixturePolicy($input: SetApprovalPolicyInput!) { setApprovalPolicy(input: $input) { __typename ... on Error { message } } }
`);

const FIXTURE_REQUEST = operation(`
  mutation FuzzFixtureRequest($input: RequestPromotionInput!) {
    requestPromotion(input: $input) { __typename ... on RequestPromotionSuccess { request { id } } ... on Error { message } }
  }
`);

const FIXTURE_ENVIRONMENT = operation(`
  mutation FuzzFixtureEnvironment($input: CreateEnvironmentInput!) {
    createEnvironment(input: $input) { __typename ... on CreateEnvironmentSuccess { environment { id } } ... on Error { message } }
  }
`);

const FIXTURE_RETIRE = operation(`
  mutation FuzzFixtureRetire($input: RetireJourneyInput!) { retireJourney(input: $input) { __typename ... on Error { message } } }
`);

const FIXTURE_ARCHIVE = operation(`
  mutation FuzzFixtureArchive($input: ArchiveApplicationInput!) { archiveApplication(input: $input) { __typename ... on Error { message } } }
`);

// ---------------------------------------------------------------------------------------------
// The world a property runs in
// ---------------------------------------------------------------------------------------------

/** The IDs a generated input may name, by type: `ref(name)` resolves to the tenant's row. */
const REFS = {
  Environment: ["env:development", "env:staging", "env:spare", "env:production"],
  Database: ["db:development", "db:staging", "db:production", "db:spare"],
  Application: ["app:main", "app:bare", "app:spare", "app:archived"],
  Client: ["client:development", "client:staging", "client:spare", "client:archived"],
  Journey: ["journey:login", "journey:registration", "journey:legacy", "journey:archived"],
  ApiToken: ["token:spare-1", "token:spare-2"],
  Variable: ["var:host", "var:length", "var:secret", "var:json"],
  Propagation: ["prop:codes", "prop:undo"],
  PromotionRequest: ["req:pending", "req:approved", "req:revert"],
} satisfies Partial<Record<NodeTypeName, string[]>>;
type RefType = keyof typeof REFS;

/**
 * The objects the world holds for the lifecycle mutations. Valid inputs name them half as often as the others, which most mutations
 * need, and never first or last: fast-check favours the ends of a `constantFrom`, which stay the other objects.
 */
const LIFECYCLE_REFS = new Set([
  "env:spare",
  "db:spare",
  "app:spare",
  "app:archived",
  "client:spare",
  "client:archived",
  "journey:legacy",
  "journey:archived",
]);

type Snapshot = Awaited<ReturnType<typeof organizationRows>>;

export interface World {
  tenant: Tenant;
  admin: Api;
  /** Global IDs by ref name. */
  ids: Map<string, string>;
  /** The rows after the last call, when nothing can have changed them since. */
  last?: Snapshot;
  /** How the last call was answered: its result's type name, or "request error". */
  answered?: string;
}

let server: TestServer;
/** Another organization: its IDs must name nothing for the tenant under test, and it must never change. */
let foreign: World;
let foreignBaseline: Snapshot;

/** How the calls were answered, per mutation: printed with FUZZ_STATS=1, to see what the inputs reach. */
const answers = new Map<string, number>();
const tally = (mutationName: MutationName, answer: string) =>
  answers.set(`${mutationName}: ${answer}`, (answers.get(`${mutationName}: ${answer}`) ?? 0) + 1);

/**
 * Starts the server and the foreign organization for the calling test file, and prints its answers
 * with FUZZ_STATS=1 at the end. Call it at the top of the file: this module loads once per worker, so
 * hooks registered at its top level would run for the first file that imported it only.
 */
export function fuzzing(): void {
  beforeAll(async () => {
    server = await startTestServer();
    foreign = await createWorld("fuzz-foreign");
    foreignBaseline = await organizationRows(foreign.tenant.organizationId);
  });
  afterAll(async () => {
    await server.stop();
    if (process.env.FUZZ_STATS)
      console.log(
        [...answers]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([answer, n]) => `${String(n).padStart(4)}  ${answer}`)
          .join("\n"),
      );
    answers.clear();
  });
}

/** Sends a fixture mutation and fails loudly unless it succeeded. */
async function succeeded(api: Api, query: string, input: Record<string, unknown>) {
  const data = await api.data(query, { input });
  const result = Object.values(data)[0] as { __typename: string; message?: string };
  if (!result.__typename.endsWith("Success")) throw new Error(`fixture failed: ${result.__typename} ${result.message}`);
}

/**
 * the standard catalogue, a staging client, two spare tokens, a propagation to staging and the revert
 * of a part of it (so there is something to revert, twice over), three versions of `login` in
 * development (so there is one to restore; the last is a saved edit, something to promote), an
 * open draft of `registration` (so there is something to save) and three promotion requests into
 * staging (two PENDING, made by the PROMOTER: a promotion and a revert; one APPROVED, made by the ADMIN).
 *
 * And what the lifecycle mutations (DESIGN.md §10) act on, so each can succeed as well as be refused: a
 * tier between staging and production with nothing in it and a production database nothing uses (to
 * delete), an application whose only client is in development (to delete from the top), a journey
 * `legacy` promoted to staging and then retired in development (a tombstone there, a REMOVED change to
 * promote, a version to restore), and an archived application with a client and a journey (ARCHIVED).
 */
export async function createWorld(label: string): Promise<World> {
  const tenant = await createTenant(label);
  const admin = apiAs(server.endpoint, tenant);
  const catalogue = await createCatalogue(admin);
  const bare = await createApplication(admin, "Bare application");
  const stagingClient = await createClient(admin, {
    applicationId: catalogue.applicationId,
    environmentId: catalogue.environments.staging,
    databaseId: catalogue.databases.staging,
  });
  const spare = [
    await createApiToken(admin, { name: "spare-1", role: "VIEWER" }),
    await createApiToken(admin, { name: "spare-2", role: "EDITOR" }),
  ];
  const development = catalogue.environments.development;
  const login = { journeyId: catalogue.journeys.login, environmentId: development };
  const spareTier = await admin.data(FIXTURE_ENVIRONMENT, {
    input: { key: "spare", name: "Spare tier", rank: 2, isProduction: false, editable: false },
  });
  if (!spareTier.createEnvironment.environment) throw new Error(`fixture failed: ${spareTier.createEnvironment.message}`);
  const spareDatabase = await createDatabase(admin, { environmentId: catalogue.environments.production, name: "spare-users-production" });
  const spareApplication = await createApplication(admin, "Spare application");
  const spareClient = await createClient(admin, {
    applicationId: spareApplication,
    environmentId: development,
    databaseId: catalogue.databases.development,
  });
  // A propagation to revert, promoted to staging before the edits below: longer email codes and a
  // text-message fallback, so its revert has several changes, one requiring another (the fallback's
  // removal needs the transition to it reverted), and a part of it may be reverted at a time.
  const fallback = {
    key: "otp-2",
    type: "SMS_OTP",
    name: "Text message code",
    enabled: true,
    settings: {},
    transitions: [
      { outcome: "success", to: "COMPLETE" },
      { outcome: "failure", to: "DENY" },
    ],
  };
  const codes = {
    key: "email-otp",
    type: "EMAIL_OTP",
    name: "Email code",
    enabled: true,
    settings: { codeLength: 8, ttlSeconds: 300 },
    transitions: [
      { outcome: "success", to: "COMPLETE" },
      { outcome: "failure", to: "otp-2" },
    ],
  };
  for (const step of [fallback, codes]) await succeeded(admin, SAVE_STEP, { ...login, step });
  await succeeded(admin, SAVE, { ...login, draftRevision: 2, comment: "Longer codes, a text-message fallback" });
  const promoted = await admin.data(FIXTURE_PROPAGATION, {
    input: { applicationId: catalogue.applicationId, fromEnvironmentId: development, toEnvironmentId: catalogue.environments.staging },
  });
  const propagation = promoted.promoteNow.propagation.id as string;
  // …and a revert of a part of it (the code length), itself a propagation to revert.
  const preview = await admin.data(REVERT_PREVIEW, { p: propagation });
  const codeLength = preview.revertPreview.changes.find((c: { path: string }) => c.path.endsWith("/codeLength")).id as string;
  const undone = await admin.data(FIXTURE_REVERT, { input: { propagationId: propagation, changeIds: [codeLength] } });
  const undo = undone.revertPropagation.propagation.id as string;
  // A journey that came to staging and is then retired in development: a tombstone, and a REMOVED change to promote.
  const legacy = await createJourney(admin, {
    applicationId: catalogue.applicationId,
    key: "legacy",
    name: "Legacy login",
    type: "LOGIN",
    document: LOGIN_DOCUMENT,
  });
  const legacyPromoted = await admin.data(FIXTURE_PROPAGATION, {
    input: {
      applicationId: catalogue.applicationId,
      fromEnvironmentId: development,
      toEnvironmentId: catalogue.environments.staging,
      journeyId: legacy,
    },
  });
  if (!legacyPromoted.promoteNow.propagation) throw new Error("fixture failed: the legacy journey was not promoted");
  await succeeded(admin, FIXTURE_RETIRE, { journeyId: legacy, environmentId: development, comment: "Replaced by login" });
  // Three changes to promote, one requiring another: minLength 12 → 14, a new risk step, password → risk.
  const password = { key: "password", type: "PASSWORD", name: "Password", enabled: true, settings: { minLength: 14 } };
  const edits = [
    {
      ...password,
      transitions: [
        { outcome: "success", to: "email-otp" },
        { outcome: "failure", to: "DENY" },
      ],
    },
    {
      key: "risk",
      type: "RISK_CHECK",
      name: "Risk check",
      enabled: true,
      settings: {},
      transitions: [
        { outcome: "success", to: "email-otp" },
        { outcome: "high-risk", to: "DENY" },
      ],
    },
    {
      ...password,
      transitions: [
        { outcome: "success", to: "risk" },
        { outcome: "failure", to: "DENY" },
      ],
    },
  ];
  for (const step of edits) await succeeded(admin, SAVE_STEP, { ...login, step });
  await succeeded(admin, SAVE, { ...login, draftRevision: edits.length, comment: "Risk check" });
  const identify = {
    key: "identify",
    type: "IDENTIFIER",
    name: "Email or phone",
    enabled: true,
    settings: { identifiers: ["email", "phone"] },
  };
  await succeeded(admin, SAVE_STEP, {
    journeyId: catalogue.journeys.registration,
    environmentId: development,
    step: { ...identify, transitions: [{ outcome: "success", to: "COMPLETE" }] },
  });
  const variable = async (key: string, kind: string, value: unknown) => {
    const created = await admin.data(
      `mutation($input: CreateVariableInput!) { createVariable(input: $input) { ... on CreateVariableSuccess { variable { id } } } }`,
      { input: { key, kind } },
    );
    const id = created.createVariable.variable.id as string;
    await succeeded(admin, VARIABLE_VALUE, { variableId: id, environmentId: development, value });
    return id;
  };
  const variables = {
    host: await variable("webhook.host", "STRING", "hooks.dev.example.com"),
    length: await variable("otp.length", "NUMBER", 8),
    secret: await variable("webhook.secret", "SECRET", "fuzz-sentinel-secret"),
    json: await variable("regions", "JSON", { regions: ["eu", "us"] }),
  };
  // Promotion requests development → staging: two PENDING ones made by the PROMOTER under a policy of one
  // approval (a promotion and a revert of the first propagation), then the policy back to none, so
  // propagations into staging pass again and the ADMIN's request is APPROVED at once.
  const toStaging = {
    applicationId: catalogue.applicationId,
    fromEnvironmentId: development,
    toEnvironmentId: catalogue.environments.staging,
  };
  const policy = (requiredApprovals: number) =>
    succeeded(admin, FIXTURE_POLICY, {
      environmentId: catalogue.environments.staging,
      requiredApprovals,
      allowSelfApproval: false,
      requireComment: false,
      expiresAfterHours: 72,
    });
  const requested = async (api: Api, input: Record<string, unknown>) => {
    const result = (await api.data(FIXTURE_REQUEST, { input: { ...toStaging, ...input } })).requestPromotion;
    if (!result.request) throw new Error(`fixture failed: ${result.__typename} ${result.message}`);
    return result.request.id as string;
  };
  const promoter = apiAs(server.endpoint, tenant, "PROMOTER");
  await policy(1);
  const pending = await requested(promoter, { selectAll: true, comment: "Risk check" });
  const revertRequest = await requested(promoter, { revertPropagationId: propagation, selectAll: true });
  await policy(0);
  const approved = await requested(admin, { selectAll: true });
  // Last, so none of the above is refused: an archived application, with a client and a journey to be refused.
  const archived = await createApplication(admin, "Archived application");
  const archivedClient = await createClient(admin, {
    applicationId: archived,
    environmentId: development,
    databaseId: catalogue.databases.development,
  });
  const archivedJourney = await createJourney(admin, { applicationId: archived, key: "signup", name: "Sign-up", type: "REGISTRATION" });
  await succeeded(admin, FIXTURE_ARCHIVE, { applicationId: archived });
  const ids = new Map<string, string>([
    ...(["development", "staging", "production"] as const).flatMap((key) => [
      [`env:${key}`, catalogue.environments[key]] as const,
      [`db:${key}`, catalogue.databases[key]] as const,
    ]),
    ["env:spare", spareTier.createEnvironment.environment.id],
    ["db:spare", spareDatabase],
    ["app:main", catalogue.applicationId],
    ["app:bare", bare],
    ["app:spare", spareApplication],
    ["app:archived", archived],
    ["client:development", catalogue.clientId],
    ["client:staging", stagingClient],
    ["client:spare", spareClient],
    ["client:archived", archivedClient],
    ["journey:login", catalogue.journeys.login],
    ["journey:registration", catalogue.journeys.registration],
    ["journey:legacy", legacy],
    ["journey:archived", archivedJourney],
    ["token:spare-1", spare[0].id],
    ["token:spare-2", spare[1].id],
    ["var:host", variables.host],
    ["var:length", variables.length],
    ["var:secret", variables.secret],
    ["var:json", variables.json],
    ["prop:codes", propagation],
    ["prop:undo", undo],
    ["req:pending", pending],
    ["req:approved", approved],
    ["req:revert", revertRequest],
  ]);
  return { tenant, admin, ids };
}

/**
 * Every row of the organization: tenantRows (propagations among them), its notifications, its promotion requests with their
 * reviews and events, and its revision.
 */
export async function organizationRows(organizationId: string) {
  const { db } = await testDatabase();
  const [{ revision }] = await db
    .select({ revision: organizations.revision })
    .from(organizations)
    .where(eq(organizations.id, organizationId));
  return {
    revision,
    ...(await tenantRows(organizationId)),
    syncNotifications: await db
      .select()
      .from(syncNotifications)
      .where(eq(syncNotifications.organizationId, organizationId))
      .orderBy(syncNotifications.id),
    promotionRequests: await db
      .select()
      .from(promotionRequests)
      .where(eq(promotionRequests.organizationId, organizationId))
      .orderBy(promotionRequests.id),
    promotionReviews: await db
      .select()
      .from(promotionReviews)
      .where(eq(promotionReviews.organizationId, organizationId))
      .orderBy(promotionReviews.id),
    promotionRequestEvents: await db
      .select()
      .from(promotionRequestEvents)
      .where(eq(promotionRequestEvents.organizationId, organizationId))
      .orderBy(promotionRequestEvents.seq),
    auditEvents: await db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.organizationId, organizationId))
      .orderBy(auditEvents.occurredAt, auditEvents.id),
  };
}

/**
 * The partitions of a table revised by environment (migration 0017) that differ between two snapshots of its rows: each
 * environment with a row added, removed or changed, and `inserted-or-deleted` when a row came or went.
 */
function partitionsWritten<Row extends { environmentId: string }>(
  before: readonly Row[],
  after: readonly Row[],
  identity: (row: Row) => string,
): string[] {
  const byIdentity = (rows: readonly Row[]) => new Map(rows.map((row) => [identity(row), row]));
  const was = byIdentity(before);
  const is = byIdentity(after);
  const partitions = new Set<string>();
  for (const [id, row] of is) {
    const old = was.get(id);
    if (!old) partitions.add(ROWS_INSERTED_OR_DELETED);
    if (!old || !isDeepStrictEqual(old, row)) partitions.add(row.environmentId);
  }
  for (const [id, row] of was) {
    if (!is.has(id)) partitions.add(ROWS_INSERTED_OR_DELETED).add(row.environmentId);
  }
  return [...partitions];
}

/** Per table, the revision of the organization's last write to it (migration 0015). */
async function tableRevisionsOf(organizationId: string): Promise<Record<string, number>> {
  const { db } = await testDatabase();
  const [{ tables }] = await db
    .select({ tables: organizations.tableRevisions })
    .from(organizations)
    .where(eq(organizations.id, organizationId));
  return tables;
}

// ---------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------

const REF_VARIANTS: RefVariant[] = ["raw", "upper", "unpadded"];

/** The names a valid ID field picks from by default: the other objects twice each, the lifecycle's once, after the first. */
function defaultValid(own: string[]): string[] {
  const [first, ...others] = own.filter((name) => !LIFECYCLE_REFS.has(name));
  return [first, first, ...own.filter((name) => LIFECYCLE_REFS.has(name)), ...others.flatMap((name) => [name, name])];
}

/**
 * An ID field: the tenant's IDs of the type (or `valid`, where a name may repeat to weigh it; by default, the lifecycle's objects
 * weigh half);
 * hostile: IDs of other types, another organization's, spelled wrong, malformed.
 */
function idField(typename: RefType, options: { optional?: boolean; valid?: string[] } = {}): FieldSpec {
  const own = REFS[typename];
  const otherTypes = (Object.keys(REFS) as RefType[]).filter((t) => t !== typename);
  return {
    optional: options.optional,
    valid: fc.constantFrom(...(options.valid ?? defaultValid(own))).map((name) => ref(name)),
    hostile: fc.oneof(
      fc.constantFrom(...otherTypes.flatMap((t) => REFS[t])).map((name) => ref(name)),
      fc.constantFrom(...own).map((name) => ref(`foreign:${name}`)),
      fc
        .tuple(fc.constantFrom(...own), fc.constantFrom<RefVariant>(...REF_VARIANTS, ...otherTypes.map((t) => `as ${t}` as const)))
        .map(([name, variant]) => ref(name, variant)),
      malformedId(typename),
      // GraphQL's ID accepts integers.
      fc.integer(),
    ),
  };
}

const textField = (valid: fc.Arbitrary<string>, options: { optional?: boolean } = {}): FieldSpec => ({
  valid,
  hostile: hostileText,
  optional: options.optional,
});

const slugField = (max: number, taken: string[] = []): FieldSpec => ({
  valid: slug(Math.min(max, 24)),
  hostile: fc.oneof(
    hostileText,
    fc.constantFrom("a".repeat(max), "a".repeat(max + 1), "Upper", "two--dashes", "-lead", "trail-", "with space", "ünïcode", ...taken),
  ),
});

const intField = (valid: fc.Arbitrary<number | Ref>, options: { optional?: boolean } = {}): FieldSpec => ({
  valid,
  hostile: boundaryInt,
  optional: options.optional,
});

const boolField = (options: { optional?: boolean } = {}): FieldSpec => ({
  valid: fc.boolean(),
  hostile: fc.boolean(),
  optional: options.optional,
});

const enumField = (values: string[]): FieldSpec => ({
  valid: fc.constantFrom(...values),
  hostile: fc.constantFrom(...values.map((v) => v.toLowerCase()), "ROOT", "", `${values[0]} `, "__proto__", "null"),
});

const jsonField = (valid: fc.Arbitrary<unknown>, hostile: fc.Arbitrary<unknown>, options: { optional?: boolean } = {}): FieldSpec => ({
  valid,
  hostile,
  optional: options.optional,
});

const comment = textField(displayName, { optional: true });

const REDIRECT_URIS = [
  "https://portal.example.com/callback",
  "http://localhost:3000/callback",
  "https://例え.jp/パス?q=🙂",
  "http://127.0.0.1:8080/cb",
  "http://[::1]/cb",
  "https://portal.example.com/callback?state=a&x=%20",
];
const ORIGINS = ["https://portal.example.com", "http://localhost:3000", "https://例え.jp", "https://portal.example.com:8443"];
const BAD_URLS = [
  "javascript:alert(1)",
  "https://portal.example.com/cb#top",
  "http://evil.example.com/cb",
  "/callback",
  "",
  "ftp://files.example.com",
  "https://",
  `https://portal.example.com/${"a".repeat(2000)}`,
  "data:text/html,<script>alert(1)</script>",
  "https://user:pass@portal.example.com/cb",
  "HTTPS://PORTAL.EXAMPLE.COM/CB",
];
const badUrl = fc.oneof(
  fc.constantFrom(...BAD_URLS),
  hostileText,
  hostileText.map((text) => `https://portal.example.com/${text}`),
);
const urlList = (valid: string[], optional = false): FieldSpec => ({ ...listOf(fc.constantFrom(...valid), badUrl), optional });

const some = <T>(values: T[]) => fc.subarray(values, { minLength: 1 });
const optionalKeys = { requiredKeys: [] as never[] };

/** Settings each step type accepts (omitted ones take their defaults). */
const VALID_SETTINGS: Record<StepType, fc.Arbitrary<Record<string, unknown>>> = {
  IDENTIFIER: fc.record({ identifiers: some(["email", "phone", "username"]), rememberMe: fc.boolean() }, optionalKeys),
  PASSWORD: fc.record({ minLength: fc.integer({ min: 8, max: 128 }), allowReset: fc.boolean() }, optionalKeys),
  EMAIL_OTP: fc.record({ codeLength: fc.integer({ min: 4, max: 10 }), ttlSeconds: fc.integer({ min: 30, max: 3600 }) }, optionalKeys),
  SMS_OTP: fc.record(
    { codeLength: fc.integer({ min: 4, max: 10 }), senderId: fc.constantFrom("Acme", "ACME-ID", "Ünïcode 🙂") },
    optionalKeys,
  ),
  TOTP: fc.record({ digits: fc.constantFrom(6, 8), issuer: displayName }, optionalKeys),
  PASSKEY: fc.record({ userVerification: fc.constantFrom("required", "preferred", "discouraged") }, optionalKeys),
  SOCIAL_LOGIN: fc.record({ providers: some(["google", "apple", "microsoft", "facebook", "github"]) }),
  CONSENT: fc.record({
    documents: fc.uniqueArray(fc.record({ id: slug(), version: fc.constantFrom("1", "2024-01", "v2 🙂") }), {
      minLength: 1,
      maxLength: 3,
      selector: (d) => d.id,
    }),
    required: fc.boolean(),
  }),
  PROFILE_COMPLETION: fc.record({
    fields: fc.uniqueArray(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,10}$/), { minLength: 1, maxLength: 4 }),
  }),
  RISK_CHECK: fc.record({ threshold: fc.integer({ min: 0, max: 100 }), action: fc.constantFrom("challenge", "deny") }, optionalKeys),
  WEBHOOK: fc.record({
    url: fc.constantFrom("https://hooks.example.com/decide", "https://例え.jp/hook"),
    timeoutMs: fc.integer({ min: 100, max: 10_000 }),
  }),
};

const SETTING_KEYS = [
  "identifiers",
  "rememberMe",
  "minLength",
  "allowReset",
  "codeLength",
  "ttlSeconds",
  "senderId",
  "digits",
  "issuer",
  "userVerification",
  "providers",
  "documents",
  "required",
  "fields",
  "threshold",
  "action",
  "url",
  "timeoutMs",
];

/** Settings out of range, of the wrong type, unknown, or not an object at all. */
const hostileSettings = fc.oneof(
  fc.dictionary(
    fc.constantFrom(...SETTING_KEYS),
    fc.oneof(boundaryInt, wrongType, hostileText, fc.constantFrom([], [""], ["email", "email"])),
    {
      minKeys: 1,
      maxKeys: 3,
    },
  ),
  hostileJson,
);

const STEP_KEYS = ["identify", "password", "email-otp", "risk", "otp-2"];
const stepKey = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...STEP_KEYS) }, { weight: 1, arbitrary: slug() });
const target = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom("COMPLETE", "DENY") },
  { weight: 1, arbitrary: fc.constantFrom(...STEP_KEYS) },
);
const outcome = fc.constantFrom("success", "failure", "high-risk", "timeout");

const validTransitions = fc.uniqueArray(fc.record({ outcome, to: target }), { maxLength: 3, selector: (t) => t.outcome });
const hostileTransitions = fc.oneof(
  fc.array(fc.record({ outcome: fc.oneof(outcome, hostileText), to: fc.oneof(target, hostileText) }), { minLength: 1, maxLength: 4 }),
  fc.constant([
    { outcome: "success", to: "COMPLETE" },
    { outcome: "success", to: "DENY" },
  ]),
  fc.constantFrom(20, 21, 100).map((n) => Array.from({ length: n }, (_, i) => ({ outcome: `o${i}`, to: "COMPLETE" }))),
);

/** A whole step as "Save changes" sends it, valid for its type. */
const validStep = fc.constantFrom(...STEP_TYPES).chain((type) =>
  fc.record({
    key: stepKey,
    type: fc.constant(type),
    name: displayName,
    enabled: fc.boolean(),
    settings: VALID_SETTINGS[type],
    transitions: validTransitions,
  }),
);

const stepFields: Record<string, FieldSpec> = {
  key: { valid: stepKey, hostile: fc.oneof(hostileText, fc.constantFrom("a".repeat(64), "a".repeat(65), "Password", "COMPLETE", "DENY")) },
  type: {
    valid: fc.constantFrom(...STEP_TYPES),
    hostile: fc.oneof(hostileText, fc.constantFrom("FINGERPRINT", "identifier", "IDENTIFIER ", "")),
  },
  name: textField(displayName),
  enabled: boolField(),
  settings: jsonField(
    fc.constantFrom(...STEP_TYPES).chain((type) => VALID_SETTINGS[type]),
    hostileSettings,
  ),
  transitions: { valid: validTransitions, hostile: hostileTransitions },
};

/** A valid journey document of 1 to 4 steps, each leading to the next, the last to a terminal. */
const validDocument = fc.integer({ min: 1, max: 4 }).chain((n) => {
  const keys = Array.from({ length: n }, (_, i) => (i === 0 ? "start" : `step-${i}`));
  const step = (i: number) =>
    fc.constantFrom(...STEP_TYPES).chain((type) =>
      fc.record({
        type: fc.constant(type),
        name: displayName,
        enabled: fc.boolean(),
        settings: VALID_SETTINGS[type],
        transitions: fc.boolean().map((deny) => ({ success: keys[i + 1] ?? "COMPLETE", ...(deny ? { failure: "DENY" } : {}) })),
      }),
    );
  return fc.record({
    start: fc.constantFrom(...keys),
    order: fc.shuffledSubarray(keys, { minLength: n, maxLength: n }),
    steps: fc.tuple(...keys.map((_, i) => step(i))).map((steps) => Object.fromEntries(keys.map((key, i) => [key, steps[i]]))),
  });
});

/** A chain of `n` IDENTIFIER steps: 200 is the most a journey may have. */
function longDocument(n: number) {
  const keys = Array.from({ length: n }, (_, i) => `s${i}`);
  return {
    start: keys[0],
    order: keys,
    steps: Object.fromEntries(
      keys.map((key, i) => [
        key,
        { type: "IDENTIFIER", name: `Step ${i}`, enabled: true, settings: {}, transitions: { success: keys[i + 1] ?? "COMPLETE" } },
      ]),
    ),
  };
}

type Document = { start: unknown; order: unknown; steps: Record<string, unknown> };

/** A valid document with one thing wrong in it. */
const brokenDocument = fc.tuple(validDocument, fc.nat()).chain(([document, pick]: [Document, number]) => {
  const keys = Object.keys(document.steps);
  const key = keys[pick % keys.length];
  const step = document.steps[key] as Record<string, unknown>;
  const withStep = (change: Record<string, unknown>) => ({ ...document, steps: { ...document.steps, [key]: { ...step, ...change } } });
  return fc.oneof(
    hostileText.map((start) => ({ ...document, start })),
    fc.oneof(hostileJson, fc.constant([...keys, ...keys]), fc.constant(keys.slice(1))).map((order) => ({ ...document, order })),
    hostileJson.map((steps) => ({ ...document, steps })),
    fc.tuple(hostileText, hostileJson).map(([extra, value]) => ({ ...document, [extra]: value })),
    fc.oneof(hostileText, fc.constantFrom("FINGERPRINT", "identifier")).map((type) => withStep({ type })),
    hostileSettings.map((settings) => withStep({ settings })),
    fc
      .oneof(hostileJson, fc.dictionary(hostileText, fc.oneof(target, hostileText), { maxKeys: 3 }))
      .map((transitions) => withStep({ transitions })),
    fc.oneof(hostileText, wrongType).map((name) => withStep({ name })),
    wrongType.map((enabled) => withStep({ enabled })),
    hostileText.map((renamed) => ({
      ...document,
      steps: { ...Object.fromEntries(Object.entries(document.steps).filter(([k]) => k !== key)), [renamed]: step },
    })),
    fc
      .constantFrom("start", "order", "steps")
      .map((missing) => Object.fromEntries(Object.entries(document).filter(([k]) => k !== missing))),
  );
});

const documentField = jsonField(
  fc.oneof({ weight: 3, arbitrary: validDocument }, { weight: 1, arbitrary: fc.constant(LOGIN_DOCUMENT) }),
  fc.oneof(
    { weight: 4, arbitrary: brokenDocument },
    { weight: 2, arbitrary: hostileJson },
    { weight: 1, arbitrary: fc.constantFrom(longDocument(200), longDocument(201), [LOGIN_DOCUMENT], "login") },
    {
      weight: 1,
      arbitrary: deepJsonArb.map((deep) => ({
        ...LOGIN_DOCUMENT,
        steps: { ...LOGIN_DOCUMENT.steps, identify: { ...LOGIN_DOCUMENT.steps.identify, settings: deep } },
      })),
    },
  ),
  { optional: true },
);

const CLIENT_SETTING_KEYS = ["accessTokenTtlSeconds", "refreshTokenTtlSeconds", "grantTypes", "pkceRequired", "refreshTokenRotation"];
const orReset = <T>(value: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: value }, { weight: 1, arbitrary: fc.constant(null) });
const clientSettingsField = jsonField(
  fc.record(
    {
      accessTokenTtlSeconds: orReset(fc.integer({ min: 60, max: 86_400 })),
      refreshTokenTtlSeconds: orReset(fc.integer({ min: 0, max: 31_536_000 })),
      grantTypes: orReset(some(["authorization_code", "refresh_token", "client_credentials"])),
      pkceRequired: orReset(fc.boolean()),
      refreshTokenRotation: orReset(fc.boolean()),
    },
    optionalKeys,
  ),
  fc.oneof(
    fc.dictionary(
      fc.constantFrom(...CLIENT_SETTING_KEYS),
      fc.oneof(boundaryInt, wrongType, hostileText, fc.constantFrom(31_536_001, [], ["implicit"], ["refresh_token", "refresh_token"])),
      { minKeys: 1, maxKeys: 3 },
    ),
    hostileJson,
  ),
  { optional: true },
);

const idempotencyKey: FieldSpec = {
  valid: slug(),
  hostile: fc.oneof(hostileText, fc.constantFrom("", "a".repeat(200), "a".repeat(201))),
  optional: true,
};

const changeIds: FieldSpec = {
  valid: fc.subarray([0, 1, 2, 3], { minLength: 1 }).map((picks) => picks.map((i) => ref(`change:${i}`))),
  hostile: fc.oneof(
    fc.array(fc.oneof(hostileText, fc.constant(ref("change:0"))), { maxLength: 4 }),
    fc.constant([ref("change:0"), ref("change:0")]),
    fc.constantFrom(5_000, 5_001).map((n) => Array.from({ length: n }, (_, i) => `chg_${i}`)),
    fc.constantFrom(100, 101).map((n) => ["c".repeat(n)]),
  ),
  optional: true,
};

// Leaning towards the pair that has something to promote (development → staging of the main application).
const propagationFields = {
  applicationId: idField("Application", { valid: ["app:main", "app:main", "app:main", "app:bare"] }),
  fromEnvironmentId: idField("Environment", { valid: ["env:development", "env:development", "env:development", "env:staging"] }),
  toEnvironmentId: idField("Environment", { valid: ["env:staging", "env:staging", "env:staging", "env:production", "env:development"] }),
  journeyId: idField("Journey", { optional: true }),
  comment,
  idempotencyKey,
};

// A request: of the diff (leaning like a propagation), or of the revert of one of the tenant's propagations (both of
// development → staging of the main application, so most revert requests name their propagation's own pair).
const { idempotencyKey: _noKey, ...requestFields } = propagationFields;
const selectionFields = { changeIds, selectAll: boolField({ optional: true }), includeRequired: boolField({ optional: true }) };
const revertRequestFields = {
  applicationId: idField("Application", { valid: ["app:main"] }),
  fromEnvironmentId: idField("Environment", { valid: ["env:development"] }),
  toEnvironmentId: idField("Environment", { valid: ["env:staging"] }),
  revertPropagationId: idField("Propagation"),
  comment,
};

/** A request of the tenant: leaning towards `lean` (the one an action can succeed on), `req:<name>`. */
const requestIdField = (...lean: string[]) =>
  idField("PromotionRequest", { valid: [...lean, ...lean, "req:pending", "req:approved", "req:revert"] });

// Leaning towards development, the environment that accepts edits.
const editFields = {
  journeyId: idField("Journey"),
  environmentId: idField("Environment", {
    valid: ["env:development", "env:development", "env:development", "env:staging", "env:production"],
  }),
};

const stepKeyField: FieldSpec = {
  valid: fc.constantFrom(...STEP_KEYS),
  hostile: fc.oneof(hostileText, slug(), fc.constantFrom("a".repeat(200), "a".repeat(201), "COMPLETE", "Identify")),
};

/** A new name: valid, or taken, untrimmed, empty or too long (`max`). */
const renameField = (max: number, taken: string[]): FieldSpec => ({
  valid: displayName,
  hostile: fc.oneof(
    hostileText,
    fc.constantFrom(...taken, ...taken.map((name) => `  ${name} `), ...taken.map((name) => name.toLowerCase())),
    fc.constantFrom("a".repeat(max), "a".repeat(max + 1), " ".repeat(max + 1)),
  ),
});

// Leaning towards what can be removed: each deletion succeeds on the objects nothing uses (once), and is refused
// IN_USE on the others.
const lifecycleFields = {
  clientId: idField("Client", { valid: ["client:spare", "client:spare", "client:development", "client:staging", "client:archived"] }),
  databaseId: idField("Database", { valid: ["db:spare", "db:spare", "db:production", "db:development", "db:staging"] }),
  environmentId: idField("Environment", {
    valid: ["env:spare", "env:spare", "env:production", "env:production", "env:development", "env:staging"],
  }),
};

const INPUTS: Record<MutationName, fc.Arbitrary<unknown>> = {
  createEnvironment: inputOf({
    key: slugField(40, ["development", "staging", "production", "spare"]),
    name: textField(displayName),
    rank: intField(fc.integer({ min: 0, max: 5 })),
    isProduction: boolField({ optional: true }),
    editable: boolField({ optional: true }),
  }),
  createDatabase: inputOf({ environmentId: idField("Environment"), name: slugField(100, ["acme-users-development"]) }),
  createApplication: inputOf({
    name: {
      valid: displayName,
      hostile: fc.oneof(hostileText, fc.constantFrom("Customer Portal", "  Customer Portal ", "customer portal")),
    },
  }),
  createClient: inputOf({
    applicationId: idField("Application"),
    environmentId: idField("Environment"),
    databaseId: idField("Database"),
    redirectUris: urlList(REDIRECT_URIS),
    allowedOrigins: urlList(ORIGINS),
    name: textField(displayName, { optional: true }),
  }),
  updateClient: inputOf({
    clientId: idField("Client"),
    name: textField(displayName, { optional: true }),
    databaseId: idField("Database", { optional: true }),
    redirectUris: urlList(REDIRECT_URIS, true),
    allowedOrigins: urlList(ORIGINS, true),
    settings: clientSettingsField,
    comment,
  }),
  createJourney: inputOf({
    applicationId: idField("Application"),
    key: slugField(64, ["login", "registration"]),
    name: textField(displayName),
    type: enumField(["LOGIN", "REGISTRATION", "PROFILE_UPDATE", "PASSWORD_RECOVERY"]),
    document: documentField,
  }),
  saveJourneyStep: inputOf({
    ...editFields,
    step: { valid: validStep, hostile: inputOf(stepFields) },
    position: intField(fc.integer({ min: 0, max: 4 }), { optional: true }),
  }),
  removeJourneyStep: inputOf({ ...editFields, stepKey: stepKeyField }),
  setJourneyStart: inputOf({ ...editFields, stepKey: stepKeyField }),
  discardJourneyDraft: inputOf(editFields),
  saveJourney: inputOf({
    ...editFields,
    draftRevision: intField(
      fc.oneof({ weight: 3, arbitrary: fc.constant(ref("draftRevision")) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }) }),
    ),
    comment,
  }),
  promoteNow: inputOf(propagationFields),
  propagateChanges: inputOf({
    ...propagationFields,
    changeIds,
    selectAll: boolField({ optional: true }),
    includeRequired: boolField({ optional: true }),
  }),
  revertPropagation: inputOf({
    propagationId: idField("Propagation"),
    changeIds,
    selectAll: boolField({ optional: true }),
    includeRequired: boolField({ optional: true }),
    comment,
    idempotencyKey,
  }),
  restoreJourneyVersion: inputOf({
    ...editFields,
    version: intField(fc.integer({ min: 1, max: 3 })),
  }),
  createApiToken: inputOf({
    name: textField(displayName),
    role: enumField(["VIEWER", "EDITOR", "PROMOTER", "ADMIN", "RUNTIME"]),
    environmentId: idField("Environment", { optional: true }),
  }),
  revokeApiToken: inputOf({ apiTokenId: idField("ApiToken") }),
  createVariable: inputOf({
    key: {
      valid: fc.array(fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/), { minLength: 1, maxLength: 3 }).map((parts) => parts.join(".")),
      hostile: fc.oneof(
        hostileText,
        fc.constantFrom("webhook.host", "Webhook.Host", "a..b", "a.", "&{a}", "a b", "a_b", "x".repeat(101), "a\u0000b", "__proto__"),
      ),
    },
    kind: enumField(["STRING", "NUMBER", "BOOLEAN", "URL", "JSON", "SECRET"]),
    description: textField(displayName, { optional: true }),
  }),
  setVariableValue: inputOf({
    variableId: idField("Variable"),
    environmentId: idField("Environment"),
    value: jsonField(
      fc.oneof(
        fc.constantFrom("hooks.example.com", "https://hooks.example.com/risk", "s3cr3t", 4, 8, 10, true, false, { a: [1, 2] }),
        fc.string({ maxLength: 40 }),
        fc.integer(),
      ),
      fc.oneof(hostileJson, deepJsonArb, wrongType, fc.constantFrom("", "x".repeat(4_097), "javascript:alert(1)", Number.MAX_VALUE, null)),
    ),
  }),
  removeVariableValue: inputOf({ variableId: idField("Variable"), environmentId: idField("Environment") }),
  deleteVariable: inputOf({ variableId: idField("Variable") }),
  setApprovalPolicy: inputOf({
    environmentId: idField("Environment"),
    requiredApprovals: intField(fc.integer({ min: 0, max: 10 })),
    allowSelfApproval: boolField(),
    requireComment: boolField(),
    expiresAfterHours: intField(fc.integer({ min: 1, max: 8_760 })),
  }),
  requestPromotion: fc.oneof(
    { weight: 3, arbitrary: inputOf({ ...requestFields, ...selectionFields }) },
    { weight: 1, arbitrary: inputOf({ ...revertRequestFields, ...selectionFields }) },
  ),
  approvePromotionRequest: inputOf({
    requestId: requestIdField("req:pending", "req:revert"),
    planHash: {
      // The hash of the request named (as a reviewer sends it), or one that is not its.
      valid: fc.oneof({ weight: 4, arbitrary: fc.constant(ref("planHash")) }, { weight: 1, arbitrary: fc.constant("0".repeat(64)) }),
      hostile: fc.oneof(hostileText, fc.constantFrom("", "a".repeat(200), "a".repeat(201))),
    },
    comment,
  }),
  rejectPromotionRequest: inputOf({ requestId: requestIdField("req:pending", "req:approved"), comment: textField(displayName) }),
  cancelPromotionRequest: inputOf({ requestId: requestIdField("req:pending", "req:approved") }),
  executePromotionRequest: inputOf({ requestId: requestIdField("req:approved"), idempotencyKey }),
  retireJourney: inputOf({ ...editFields, comment }),
  updateJourney: inputOf({ journeyId: idField("Journey"), name: renameField(200, ["Login", "Registration"]) }),
  archiveApplication: inputOf({ applicationId: idField("Application") }),
  unarchiveApplication: inputOf({
    applicationId: idField("Application", { valid: ["app:archived", "app:archived", "app:archived", "app:main", "app:spare"] }),
  }),
  updateApplication: inputOf({
    applicationId: idField("Application"),
    name: renameField(100, ["Customer Portal", "Bare application", "Archived application"]),
  }),
  deleteClient: inputOf({ clientId: lifecycleFields.clientId }),
  deleteDatabase: inputOf({ databaseId: lifecycleFields.databaseId }),
  deleteEnvironment: inputOf({ environmentId: lifecycleFields.environmentId }),
  updateEnvironment: inputOf({ environmentId: idField("Environment"), name: renameField(100, ["Development", "Staging", "Production"]) }),
};

const ROLE = fc.oneof(
  { weight: 6, arbitrary: fc.constant("ADMIN" as const) },
  { weight: 1, arbitrary: fc.constantFrom("PROMOTER" as const, "EDITOR" as const, "VIEWER" as const) },
);
export type RoleName = keyof Tenant["tokens"];

// ---------------------------------------------------------------------------------------------
// One call and what must hold of it
// ---------------------------------------------------------------------------------------------

const field = (value: unknown, name: string): unknown =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>)[name] : undefined;

/** Generated text that happens to read like an internal detail would make the leak check meaningless. */
const looksInternal = (input: unknown) => {
  const json = JSON.stringify(input) ?? "";
  return INTERNALS.some((pattern) => pattern.test(json));
};
const unexpectedErrorsLogged = () => server.logs.filter((line) => line.msg === "unexpected error").length;

/** The change ids of the diff the input names (or development → staging), for `ref(change:<n>)`. */
async function changeIdsFor(world: World, input: unknown): Promise<string[]> {
  const propagationId = field(input, "propagationId") ?? field(input, "revertPropagationId");
  if (propagationId !== undefined) {
    // A revert's ids come from its preview (of the propagation named, or of the tenant's own).
    for (const p of [propagationId, world.ids.get("prop:codes")]) {
      if (typeof p !== "string") continue;
      const response = await world.admin.request(REVERT_PREVIEW, { p });
      if (response.data?.revertPreview) return response.data.revertPreview.changes.map((c: { id: string }) => c.id);
    }
    return [];
  }
  const names = [field(input, "applicationId"), field(input, "fromEnvironmentId"), field(input, "toEnvironmentId")];
  const fallback = [world.ids.get("app:main"), world.ids.get("env:development"), world.ids.get("env:staging")];
  for (const [a, from, to] of [names, fallback]) {
    if (![a, from, to].every((id) => typeof id === "string")) continue;
    const response = await world.admin.request(DIFF, { a, from, to });
    if (response.data?.diff) return response.data.diff.changes.map((c: { id: string }) => c.id);
  }
  return [];
}

const localIdOf = (id: unknown) => (typeof id === "string" ? parseGlobalId(id)?.id.toLowerCase() : undefined);

/** Resolves the input's refs: IDs first, then what depends on them (draft revision, change ids). */
async function resolveInput(world: World, raw: unknown, before: Snapshot): Promise<unknown> {
  const ids = resolveRefs(raw, (r) => {
    if (r.name === "draftRevision" || r.name === "planHash" || r.name.startsWith("change:")) return r;
    const [owner, name] = r.name.startsWith("foreign:") ? [foreign, r.name.slice("foreign:".length)] : [world, r.name];
    const id = owner.ids.get(name);
    if (!id) throw new Error(`unknown ref ${r.name}`);
    return spellId(id, r.variant);
  });
  const changes = JSON.stringify(raw)?.includes('"change:') ? await changeIdsFor(world, ids) : [];
  return resolveRefs(ids, (r) => {
    if (r.name === "draftRevision") {
      const [journeyId, environmentId] = [localIdOf(field(ids, "journeyId")), localIdOf(field(ids, "environmentId"))];
      return before.journeyDrafts.find((d) => d.journeyId === journeyId && d.environmentId === environmentId)?.revision ?? 0;
    }
    if (r.name === "planHash") {
      const requestId = localIdOf(field(ids, "requestId"));
      return before.promotionRequests.find((request) => request.id === requestId)?.planHash ?? "0".repeat(64);
    }
    return changes[Number(r.name.slice("change:".length))] ?? "chg_00000000000000000000000000";
  });
}

interface JourneyDocumentLike {
  start: string;
  order: string[];
  steps: Record<string, { transitions: Record<string, string> }>;
}

const TERMINALS = ["COMPLETE", "DENY"];
const isStep = (document: JourneyDocumentLike, key: unknown) => typeof key === "string" && Object.hasOwn(document.steps, key);

/** What makes a stored document well-formed, checked with own keys only (independently of src/domain). */
function documentProblems(document: JourneyDocumentLike, { draft }: { draft: boolean }): string[] {
  const problems: string[] = [];
  const keys = Object.keys(document.steps);
  if (!isStep(document, document.start)) problems.push(`start ${JSON.stringify(document.start)} is no step`);
  if (document.order.length !== keys.length || !keys.every((k) => document.order.includes(k)))
    problems.push("order does not list every step once");
  if (!draft) {
    for (const [key, step] of Object.entries(document.steps)) {
      for (const [outcomeName, to] of Object.entries(step.transitions)) {
        if (!TERMINALS.includes(to) && !isStep(document, to))
          problems.push(`steps.${key}.transitions.${outcomeName} → ${JSON.stringify(to)} is no step`);
      }
    }
  }
  return problems;
}

/**
 * Saved versions are valid configurations; drafts start at one of their steps and order all of them; heads match their version.
 * Tombstones (DESIGN.md §10): a retired version keeps the document it retired (that of the version before it, which is no
 * tombstone), and no head points at one — a head is the last version of its journey there. The pipeline: its environments'
 * ranks are 0, 1, 2… with a deleted environment's past them all; one of them is editable; a deleted one holds nothing.
 */
function expectWellFormed(rows: Snapshot) {
  for (const version of rows.journeyVersions) {
    expect(
      documentProblems(version.document as JourneyDocumentLike, { draft: false }),
      `version ${version.version} of ${version.journeyId}`,
    ).toEqual([]);
  }
  for (const draft of rows.journeyDrafts) {
    expect(documentProblems(draft.document as JourneyDocumentLike, { draft: true }), `draft of ${draft.journeyId}`).toEqual([]);
  }
  for (const head of rows.journeyHeads) {
    const version = rows.journeyVersions.find(
      (v) => v.journeyId === head.journeyId && v.environmentId === head.environmentId && v.version === head.version,
    );
    expect(version?.hash, `head of ${head.journeyId}`).toBe(head.hash);
    expect(version?.retired, `head of ${head.journeyId} in ${head.environmentId} is a tombstone`).toBe(false);
    const last = Math.max(...rows.journeyVersions.filter((v) => pairOf(v) === pairOf(head)).map((v) => v.version));
    expect(head.version, `head of ${head.journeyId} in ${head.environmentId} is its last version`).toBe(last);
  }
  for (const tombstone of rows.journeyVersions.filter((v) => v.retired)) {
    const retired = rows.journeyVersions.find((v) => pairOf(v) === pairOf(tombstone) && v.version === tombstone.version - 1);
    const shown = `tombstone ${tombstone.version} of ${tombstone.journeyId} in ${tombstone.environmentId}`;
    expect(retired?.retired, `${shown} follows a version that is no tombstone`).toBe(false);
    expect(tombstone.hash, `${shown} keeps the document it retired`).toBe(retired?.hash);
  }
  const pipeline = rows.environments.filter((e) => e.deletedAt === null).sort((a, b) => a.rank - b.rank);
  expect(
    pipeline.map((e) => e.rank),
    "the pipeline's ranks",
  ).toEqual(pipeline.map((_, i) => i));
  expect(
    pipeline.some((e) => e.editable),
    "an editable environment is left",
  ).toBe(true);
  for (const deleted of rows.environments.filter((e) => e.deletedAt !== null)) {
    const shown = `deleted environment ${deleted.key}`;
    expect(deleted.rank, `${shown} ranks past the pipeline`).toBeGreaterThanOrEqual(pipeline.length);
    const held = [
      ...rows.clients.filter((c) => c.environmentId === deleted.id).map((c) => `client ${c.name}`),
      ...rows.databases.filter((d) => d.environmentId === deleted.id).map((d) => `database ${d.name}`),
      ...rows.journeyHeads.filter((h) => h.environmentId === deleted.id).map((h) => `head of ${h.journeyId}`),
      ...rows.journeyDrafts.filter((d) => d.environmentId === deleted.id).map((d) => `draft of ${d.journeyId}`),
      ...rows.variableValues.filter((v) => v.environmentId === deleted.id).map((v) => `value of ${v.variableId}`),
    ];
    expect(held, `${shown} holds nothing`).toEqual([]);
  }
  for (const client of rows.clients) {
    const database = rows.databases.find((d) => d.id === client.databaseId);
    expect(database?.environmentId, `the database of client ${client.name} is of its environment`).toBe(client.environmentId);
  }
}

/** A (journey, environment) pair, as one string. */
const pairOf = (row: { journeyId: string; environmentId: string }) => `${row.journeyId}/${row.environmentId}`;

/** The document an edit of (journey, environment) works on: the draft, else the saved head. */
function workingDocument(rows: Snapshot, input: unknown): JourneyDocumentLike | undefined {
  const [journeyId, environmentId] = [localIdOf(field(input, "journeyId")), localIdOf(field(input, "environmentId"))];
  const draft = rows.journeyDrafts.find((d) => d.journeyId === journeyId && d.environmentId === environmentId);
  if (draft) return draft.document as JourneyDocumentLike;
  const head = rows.journeyHeads.find((h) => h.journeyId === journeyId && h.environmentId === environmentId);
  const version = rows.journeyVersions.find(
    (v) => v.journeyId === journeyId && v.environmentId === environmentId && v.version === head?.version,
  );
  return version?.document as JourneyDocumentLike | undefined;
}

/** What a draft edit that succeeded must have done. */
function expectEditApplied(mutation: MutationName, input: unknown, before: Snapshot, after: Snapshot) {
  const previous = workingDocument(before, input);
  const draft = workingDocument(after, input);
  if (!previous || !draft) throw new Error(`${mutation} succeeded without a journey to edit`);
  if (mutation === "saveJourneyStep") {
    const step = field(input, "step");
    const key = field(step, "key") as string;
    expect(isStep(draft, key), `step ${JSON.stringify(key)} is in the draft`).toBe(true);
    for (const transition of field(step, "transitions") as { to: string }[]) {
      const named = TERMINALS.includes(transition.to) || transition.to === key || isStep(previous, transition.to);
      expect(named, `transition to ${JSON.stringify(transition.to)} names a step`).toBe(true);
    }
  }
  if (mutation === "removeJourneyStep") {
    const key = field(input, "stepKey");
    expect(isStep(previous, key), `removed step ${JSON.stringify(key)} existed`).toBe(true);
    expect(isStep(draft, key), `removed step ${JSON.stringify(key)} is gone`).toBe(false);
  }
  if (mutation === "setJourneyStart") {
    const key = field(input, "stepKey");
    expect(isStep(previous, key), `start ${JSON.stringify(key)} is a step`).toBe(true);
    expect(draft.start).toBe(key);
  }
}

/**
 * The rows but those of promotion requests (and the revision and the audit log, which `call` checks): what a request's review,
 * cancellation or staling leaves as it was.
 */
const outsideRequests = (rows: Snapshot) => ({
  ...rows,
  revision: 0,
  auditEvents: [],
  promotionRequests: [],
  promotionReviews: [],
  promotionRequestEvents: [],
});

/** The events stored since `before`: the ones before are kept as they were. */
function newEvents(before: Snapshot, after: Snapshot) {
  expect(after.promotionRequestEvents.slice(0, before.promotionRequestEvents.length)).toEqual(before.promotionRequestEvents);
  return after.promotionRequestEvents.slice(before.promotionRequestEvents.length);
}

/**
 * PLAN_STALE naming changes (the plan moved): the request is STALE, committed with its event, and nothing else changed
 * (DESIGN.md §8). The one refusal that writes.
 */
function expectMarkedStale(input: unknown, before: Snapshot, after: Snapshot, shown: string) {
  const requestId = localIdOf(field(input, "requestId"));
  expect(
    before.promotionRequests.some((r) => r.id === requestId && ["PENDING", "APPROVED"].includes(r.status)),
    `PLAN_STALE naming changes of no open request: ${shown}`,
  ).toBe(true);
  expect(after.promotionRequests).toEqual(before.promotionRequests.map((r) => (r.id === requestId ? { ...r, status: "STALE" } : r)));
  expect(after.promotionReviews).toEqual(before.promotionReviews);
  expect(newEvents(before, after)).toMatchObject([{ requestId, status: "STALE" }]);
  expect(outsideRequests(after), `a stale plan changed more than its request: ${shown}`).toEqual(outsideRequests(before));
}

/** What a promotion request mutation (or setApprovalPolicy) that succeeded must have done, and only that. */
function expectApprovalsApplied(mutation: MutationName, input: unknown, before: Snapshot, after: Snapshot) {
  if (mutation === "setApprovalPolicy") {
    const environmentId = localIdOf(field(input, "environmentId"));
    const policy = ["requiredApprovals", "allowSelfApproval", "requireComment", "expiresAfterHours"] as const;
    const environment = after.environments.find((e) => e.id === environmentId);
    expect(environment && Object.fromEntries(policy.map((key) => [key, environment[key]]))).toEqual(
      Object.fromEntries(policy.map((key) => [key, field(input, key)])),
    );
    // Open requests into it keep the stricter of their policy and the new one; an approved one short
    // of the approvals now required is PENDING again, with its event. Nothing else changes.
    const strict = (r: Snapshot["promotionRequests"][number]) => ({
      ...r,
      ...(r.toEnvironmentId === environmentId && (r.status === "PENDING" || r.status === "APPROVED")
        ? {
            requiredApprovals: Math.max(r.requiredApprovals, field(input, "requiredApprovals") as number),
            allowSelfApproval: r.allowSelfApproval && (field(input, "allowSelfApproval") as boolean),
            requireComment: r.requireComment || (field(input, "requireComment") as boolean),
          }
        : {}),
    });
    const reopened = newEvents(before, after);
    expect(after.promotionRequests).toEqual(
      before.promotionRequests.map((r) => {
        const tightened = strict(r);
        return reopened.some((e) => e.requestId === r.id) ? { ...tightened, status: "PENDING" } : tightened;
      }),
    );
    for (const event of reopened) {
      const was = before.promotionRequests.find((r) => r.id === event.requestId);
      expect(was?.status, "only an approved request is reopened").toBe("APPROVED");
      expect(event).toMatchObject({ status: "PENDING", environmentId });
    }
    const others = (rows: Snapshot) => ({
      ...rows,
      revision: 0,
      auditEvents: [],
      environments: rows.environments.filter((e) => e.id !== environmentId),
      promotionRequests: [],
      promotionRequestEvents: [],
    });
    expect(others(after)).toEqual(others(before));
    return;
  }
  if (mutation === "requestPromotion") {
    // A plan is stored; nothing is applied.
    const created = after.promotionRequests.filter((r) => !before.promotionRequests.some((b) => b.id === r.id));
    expect(created).toHaveLength(1);
    expect(created[0].status).toBe(created[0].requiredApprovals > 0 ? "PENDING" : "APPROVED");
    expect(created[0].changes.length).toBeGreaterThan(0);
    expect(newEvents(before, after)).toMatchObject([{ requestId: created[0].id, status: created[0].status }]);
    expect(outsideRequests(after)).toEqual(outsideRequests(before));
    return;
  }
  const requestId = localIdOf(field(input, "requestId"));
  const was = before.promotionRequests.find((r) => r.id === requestId);
  const now = after.promotionRequests.find((r) => r.id === requestId);
  if (!was || !now) throw new Error(`${mutation} succeeded without a request of the tenant`);
  const reviews = after.promotionReviews.slice(before.promotionReviews.length);
  expect(after.promotionReviews.slice(0, before.promotionReviews.length)).toEqual(before.promotionReviews);
  expect(after.promotionRequests.filter((r) => r.id !== requestId)).toEqual(before.promotionRequests.filter((r) => r.id !== requestId));
  if (mutation === "executePromotionRequest" && was.status === "EXECUTED") {
    // A retry with the first execution's idempotency key: its answer again, nothing applied twice.
    expect({ ...after, revision: 0, auditEvents: [] }).toEqual({ ...before, revision: 0, auditEvents: [] });
    return;
  }
  const moved = newEvents(before, after);
  if (mutation === "approvePromotionRequest") {
    expect(was.status).toBe("PENDING");
    expect(reviews).toMatchObject([{ requestId, decision: "APPROVED", planHash: was.planHash }]);
    expect(moved).toEqual(now.status === was.status ? [] : [expect.objectContaining({ requestId, status: "APPROVED" })]);
  } else {
    const status = { rejectPromotionRequest: "REJECTED", cancelPromotionRequest: "CANCELLED", executePromotionRequest: "EXECUTED" }[
      mutation as string
    ];
    expect(now.status).toBe(status);
    expect(moved).toMatchObject([{ requestId, status }]);
    expect(reviews).toMatchObject(mutation === "rejectPromotionRequest" ? [{ requestId, decision: "REJECTED" }] : []);
  }
  if (mutation !== "executePromotionRequest") {
    expect(outsideRequests(after)).toEqual(outsideRequests(before));
    return;
  }
  // Exactly the plan, as one propagation linked to the request.
  const propagations = after.propagations.filter((p) => !before.propagations.some((b) => b.id === p.id));
  expect(propagations).toMatchObject([{ mode: "APPROVED_REQUEST", promotionRequestId: requestId, revertOfId: was.revertOfId }]);
  expect(propagations[0].items.map((item) => item.id).sort()).toEqual(was.changes.map((change) => change.id).sort());
}

/**
 * What a lifecycle mutation (DESIGN.md §10) that succeeded must have done, and only that: a rename changed the name (trimmed), an
 * archive or unarchive the application's `archivedAt`; a deletion removed what it names — a client with its settings versions and
 * its application's configurations and drafts there (only with no client of the application above it), a database (no client on
 * it), an environment (its row kept, marked deleted, the pipeline closed up around it, nothing left in it); a retirement appended
 * one tombstone after the head (which goes) in an editable environment. Sync notifications are only appended, and only by the
 * writes that change states (a retirement, a client's or an environment's deletion).
 */
function expectLifecycleApplied(mutation: MutationName, input: unknown, before: Snapshot, after: Snapshot, shown: string) {
  const idOf = (name: string) => localIdOf(field(input, name));
  const newName = () => (field(input, "name") as string).trim();
  const only = (changed: Partial<Snapshot>, notifies = false) => {
    if (notifies) {
      expect(after.syncNotifications.slice(0, before.syncNotifications.length), `notifications only appended: ${shown}`).toEqual(
        before.syncNotifications,
      );
    }
    const rest = (rows: Snapshot) => ({ ...rows, revision: 0, auditEvents: [], ...(notifies ? { syncNotifications: [] } : {}) });
    expect(rest(after), `${mutation} changed more than it says: ${shown}`).toEqual(rest({ ...before, ...changed }));
  };
  switch (mutation) {
    case "updateApplication":
    case "archiveApplication":
    case "unarchiveApplication": {
      const applicationId = idOf("applicationId");
      const was = before.applications.find((a) => a.id === applicationId);
      const now = after.applications.find((a) => a.id === applicationId);
      if (!was || !now) throw new Error(`${mutation} succeeded without an application of the tenant: ${shown}`);
      if (mutation === "updateApplication") {
        expect(was.archivedAt, "an archived application is not renamed").toBeNull();
        return only({ applications: before.applications.map((a) => (a.id === applicationId ? { ...a, name: newName() } : a)) });
      }
      expect(was.archivedAt === null, `${mutation} of an application that was ${was.archivedAt ? "archived" : "not archived"}`).toBe(
        mutation === "archiveApplication",
      );
      expect(now.archivedAt === null).toBe(mutation === "unarchiveApplication");
      return only({ applications: before.applications.map((a) => (a.id === applicationId ? { ...a, archivedAt: now.archivedAt } : a)) });
    }
    case "updateJourney": {
      const journeyId = idOf("journeyId");
      const journey = before.journeys.find((j) => j.id === journeyId);
      if (!journey) throw new Error(`updateJourney succeeded without a journey of the tenant: ${shown}`);
      expect(
        before.applications.find((a) => a.id === journey.applicationId)?.archivedAt,
        "a journey of an archived application",
      ).toBeNull();
      return only({ journeys: before.journeys.map((j) => (j.id === journeyId ? { ...j, name: newName() } : j)) });
    }
    case "updateEnvironment": {
      const environmentId = idOf("environmentId");
      const was = before.environments.find((e) => e.id === environmentId);
      expect(was?.deletedAt, `updateEnvironment of an environment of the pipeline: ${shown}`).toBeNull();
      return only({ environments: before.environments.map((e) => (e.id === environmentId ? { ...e, name: newName() } : e)) });
    }
    case "deleteDatabase": {
      const databaseId = idOf("databaseId");
      expect(
        before.databases.some((d) => d.id === databaseId),
        `deleteDatabase of a database of the tenant: ${shown}`,
      ).toBe(true);
      expect(
        before.clients.filter((c) => c.databaseId === databaseId).map((c) => c.name),
        "clients on the deleted database",
      ).toEqual([]);
      return only({ databases: before.databases.filter((d) => d.id !== databaseId) });
    }
    case "deleteClient": {
      const clientId = idOf("clientId");
      const client = before.clients.find((c) => c.id === clientId);
      if (!client) throw new Error(`deleteClient succeeded without a client of the tenant: ${shown}`);
      const rank = (environmentId: string) => before.environments.find((e) => e.id === environmentId)!.rank;
      const above = before.clients.filter(
        (c) => c.applicationId === client.applicationId && rank(c.environmentId) > rank(client.environmentId),
      );
      expect(
        above.map((c) => c.name),
        "clients of the application above the deleted one",
      ).toEqual([]);
      expect(before.applications.find((a) => a.id === client.applicationId)?.archivedAt, "a client of an archived application").toBeNull();
      const journeysOf = new Set(before.journeys.filter((j) => j.applicationId === client.applicationId).map((j) => j.id));
      const there = (row: { journeyId: string; environmentId: string }) =>
        journeysOf.has(row.journeyId) && row.environmentId === client.environmentId;
      return only(
        {
          clients: before.clients.filter((c) => c.id !== clientId),
          clientSettingsVersions: before.clientSettingsVersions.filter((v) => v.clientId !== clientId),
          journeyHeads: before.journeyHeads.filter((h) => !there(h)),
          journeyDrafts: before.journeyDrafts.filter((d) => !there(d)),
        },
        true,
      );
    }
    case "deleteEnvironment": {
      const environmentId = idOf("environmentId");
      const was = before.environments.find((e) => e.id === environmentId);
      const now = after.environments.find((e) => e.id === environmentId);
      if (!was || !now) throw new Error(`deleteEnvironment succeeded without an environment of the tenant: ${shown}`);
      expect(was.deletedAt, "deleteEnvironment of a deleted environment").toBeNull();
      expect(now.deletedAt, "the deleted environment is marked").toBeInstanceOf(Date);
      return only(
        {
          environments: before.environments.map((e) => {
            if (e.id === environmentId) return { ...e, deletedAt: now.deletedAt, rank: now.rank };
            return e.deletedAt === null && e.rank > was.rank ? { ...e, rank: e.rank - 1 } : e;
          }),
        },
        true,
      );
    }
    case "retireJourney": {
      const [journeyId, environmentId] = [idOf("journeyId"), idOf("environmentId")];
      const head = before.journeyHeads.find((h) => h.journeyId === journeyId && h.environmentId === environmentId);
      if (!head) throw new Error(`retireJourney succeeded where the journey has no configuration: ${shown}`);
      expect(before.environments.find((e) => e.id === environmentId)?.editable, "retired in an editable environment").toBe(true);
      expect(
        before.journeyDrafts.some((d) => pairOf(d) === pairOf(head)),
        "retired with a draft open",
      ).toBe(false);
      const isNew = (v: Snapshot["journeyVersions"][number]) =>
        !before.journeyVersions.some((b) => pairOf(b) === pairOf(v) && b.version === v.version);
      expect(after.journeyVersions.filter((v) => !isNew(v))).toEqual(before.journeyVersions);
      expect(after.journeyVersions.filter(isNew)).toMatchObject([
        {
          journeyId,
          environmentId,
          version: head.version + 1,
          previousVersion: head.version,
          hash: head.hash,
          retired: true,
          origin: "SAVE",
        },
      ]);
      return only(
        { journeyVersions: after.journeyVersions, journeyHeads: before.journeyHeads.filter((h) => pairOf(h) !== pairOf(head)) },
        true,
      );
    }
    default:
      throw new Error(`${mutation} is no lifecycle mutation`);
  }
}

const upperFirst = (s: string) => s[0].toUpperCase() + s.slice(1);

/**
 * Sends one generated input and checks everything the file promises of it. The rows after a call
 * are kept as the next call's "before": nothing else writes to the world's organization.
 */
export async function call(world: World, mutationName: MutationName, role: RoleName, raw: unknown): Promise<void> {
  const before = world.last ?? (await organizationRows(world.tenant.organizationId));
  world.last = undefined;
  const input = await resolveInput(world, raw, before);
  const unexpectedBefore = unexpectedErrorsLogged();
  const body = JSON.stringify({ query: MUTATIONS[mutationName], variables: { input } });
  const response = await fetch(server.endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json",
      authorization: `Bearer ${world.tenant.tokens[role]}`,
    },
    body,
  });
  const text = await response.text();
  const shown = text.length > 2_000 ? `${text.slice(0, 2_000)}…` : text;

  const allowed = Buffer.byteLength(body) > MAX_BODY_BYTES ? [413] : [200, 400];
  expect(allowed, `HTTP ${response.status}: ${shown}`).toContain(response.status);
  let result: {
    data?: Record<string, { __typename: string; code?: string; message?: string }> | null;
    errors?: { message: string; path?: unknown; extensions?: Record<string, unknown> }[];
  };
  try {
    result = JSON.parse(text);
  } catch {
    throw new Error(`The body is not JSON: ${shown}`);
  }
  for (const pattern of INTERNALS) expect(text, `${pattern} in ${shown}`).not.toMatch(pattern);
  expect(unexpectedErrorsLogged(), `an unexpected error was logged for ${shown}`).toBe(unexpectedBefore);

  let rejected = true;
  if (result.errors?.length) {
    // Only a request error (GraphQL refused the variables): a mutation answers everything else with a type.
    for (const error of result.errors) {
      expect(error.path, `an execution error instead of a typed result: ${shown}`).toBeUndefined();
      expect(error.extensions?.code).not.toBe("INTERNAL_SERVER_ERROR");
      expect(error.message).toMatch(/\S/);
    }
    expect(result.data ?? null).toBeNull();
  } else {
    const outcome = result.data?.[mutationName];
    expect(outcome, shown).toBeTruthy();
    if (outcome!.__typename === `${upperFirst(mutationName)}Success`) {
      rejected = false;
    } else {
      expect(Object.keys(ERROR_CODES), `an unknown result type: ${shown}`).toContain(outcome!.__typename);
      expect(outcome!.code).toBe(ERROR_CODES[outcome!.__typename]);
      expect(outcome!.message).toMatch(/\S/);
      if (outcome!.__typename === "InUseError") {
        // What still depends on it, in words: at least one thing, each said.
        const { references } = outcome as unknown as { references: string[] };
        expect(references.length, `an IN_USE naming nothing: ${shown}`).toBeGreaterThan(0);
        for (const reference of references) expect(reference).toMatch(/\S/);
      }
    }
  }

  tally(mutationName, result.errors?.length ? `request error (HTTP ${response.status})` : result.data![mutationName].__typename);
  world.answered = result.errors?.length ? "request error" : result.data![mutationName].__typename;
  const after = await organizationRows(world.tenant.organizationId);
  const outcome = result.data?.[mutationName] as { __typename: string; changeIds?: string[] } | undefined;
  // The audit log (DESIGN.md §10): one event per successful call, by the caller, named after the mutation; none per refusal.
  const known = new Set(before.auditEvents.map((e) => e.id));
  const audited = after.auditEvents.filter((e) => !known.has(e.id));
  expect(
    audited.map((e) => ({ action: e.action, actor: e.actor })),
    `audit events of ${rejected ? "a refused" : "a successful"} call: ${shown}`,
  ).toEqual(rejected ? [] : [{ action: mutationName, actor: `${role.toLowerCase()}-token` }]);
  if (outcome?.__typename === "PlanStaleError" && outcome.changeIds?.length) expectMarkedStale(input, before, after, shown);
  else if (rejected) expect(after, `a refused call changed rows: ${shown}`).toEqual(before);
  else if (["saveJourneyStep", "removeJourneyStep", "setJourneyStart"].includes(mutationName))
    expectEditApplied(mutationName, input, before, after);
  else if (AREAS[mutationName] === "approvals") expectApprovalsApplied(mutationName, input, before, after);
  else if (AREAS[mutationName] === "lifecycle") expectLifecycleApplied(mutationName, input, before, after, shown);
  if (!isDeepStrictEqual({ ...after, revision: 0 }, { ...before, revision: 0 })) {
    // Cached responses are exact only while the revisions stand for the rows (src/server/response-cache.ts):
    // the organization's, and each table's that the call wrote to.
    expect(after.revision, `a call wrote without raising the organization's revision: ${shown}`).toBeGreaterThan(before.revision);
    const tables = await tableRevisionsOf(world.tenant.organizationId);
    for (const key of Object.keys(after) as (keyof Snapshot)[]) {
      if (key === "revision" || isDeepStrictEqual(after[key], before[key])) continue;
      const table = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      expect(tables[table] ?? 0, `a call wrote to ${table} without raising its revision: ${shown}`).toBeGreaterThan(before.revision);
    }
    // The tables revised by environment as well (migration 0017): each environment whose rows changed, and which rows exist.
    const written = {
      journey_heads: partitionsWritten(before.journeyHeads, after.journeyHeads, (h) => `${h.journeyId}:${h.environmentId}`),
      journey_versions: partitionsWritten(
        before.journeyVersions,
        after.journeyVersions,
        (v) => `${v.journeyId}:${v.environmentId}:${v.version}`,
      ),
    };
    for (const [table, partitions] of Object.entries(written)) {
      for (const partition of partitions) {
        expect(
          tables[`${table}@${partition}`] ?? 0,
          `a call wrote to ${table}@${partition} without raising its revision: ${shown}`,
        ).toBeGreaterThan(before.revision);
      }
    }
  }
  expectWellFormed(after);
  world.last = after;
}

/**
 * The property every mutation owes: each generated input is answered with the mutation's result type or
 * a request error, leaks nothing, and writes nothing when refused; another organization never changes.
 */
export async function fuzzEveryInput(mutationName: MutationName): Promise<void> {
  const world = await createWorld(`fuzz-${mutationName}`);
  const inputs = INPUTS[mutationName].filter((input) => !looksInternal(input));
  await fc.assert(
    fc.asyncProperty(ROLE, inputs, (role, input) => call(world, mutationName, role, input)),
    { numRuns: RUNS, seed: SEED },
  );
  expect(await organizationRows(foreign.tenant.organizationId), "another organization's rows").toEqual(foreignBaseline);
}

/** fast-check settings of the tests aimed at the bugs this fuzzing found. */
export const FOUND_BUG_RUNS = { numRuns: 5, seed: SEED, endOnFailure: true };

/** The mutations the fuzzed-input tests call: every mutation of the schema (test/api/audit-log.test.ts checks it). */
export const mutationNames = (): string[] => Object.keys(MUTATIONS);

import { beforeAll, describe, expect, it } from "vitest";
import { ref } from "../../support/arbitraries.js";
import {
  call,
  createWorld,
  fuzzEveryInput,
  fuzzing,
  type MutationName,
  mutationsOf,
  type RoleName,
  type World,
} from "../../support/fuzzing.js";

/**
 * Fuzzed input of the lifecycle mutations (DESIGN.md §10: retireJourney, updateJourney, archiveApplication, unarchiveApplication,
 * updateApplication, deleteClient, deleteDatabase, deleteEnvironment, updateEnvironment): see test/support/fuzzing.ts. The world
 * has something each can act on — a tier and a database nothing uses, an application with a client in development only, a
 * journey retired in development, an archived application — so a call may succeed (once: the world then changes for the
 * calls after it) as well as be refused.
 */

fuzzing();

describe("fuzzed mutation input", () => {
  it.each(mutationsOf("lifecycle"))(
    "%s answers every input with its result type or a request error, leaks nothing, and writes nothing when it refuses",
    fuzzEveryInput,
    120_000,
  );
});

/** Sends a chosen input (through `call`, with all its checks) and expects the answer's type. */
async function answers(world: World, mutation: MutationName, role: RoleName, input: unknown, typename: string) {
  await call(world, mutation, role, input);
  expect(world.answered, `${mutation} as ${role}: ${JSON.stringify(input)}`).toBe(typename);
}

/** A whole step, as "Save changes" sends it. */
const PASSWORD = {
  key: "password",
  type: "PASSWORD",
  name: "Password",
  enabled: true,
  settings: {},
  transitions: [{ outcome: "success", to: "COMPLETE" }],
};

const success = (mutation: MutationName) => `${mutation[0].toUpperCase()}${mutation.slice(1)}Success`;

describe("chosen inputs: deletions", () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld("fuzz-lifecycle-deletions");
  });

  it("deletes a database nothing uses, and refuses IN_USE one a client uses", async () => {
    await answers(world, "deleteDatabase", "ADMIN", { databaseId: ref("db:development") }, "InUseError");
    await answers(world, "deleteDatabase", "ADMIN", { databaseId: ref("db:spare") }, success("deleteDatabase"));
    await answers(world, "deleteDatabase", "ADMIN", { databaseId: ref("db:spare") }, "NotFoundError");
  });

  it("deletes an environment with nothing in it, closing the pipeline up; one that holds something is IN_USE", async () => {
    await answers(world, "deleteEnvironment", "ADMIN", { environmentId: ref("env:production") }, "InUseError");
    await answers(world, "deleteEnvironment", "ADMIN", { environmentId: ref("env:development") }, "InUseError");
    await answers(world, "deleteEnvironment", "ADMIN", { environmentId: ref("env:spare") }, success("deleteEnvironment"));
    const { environments } = await world.admin.data(`{ environments { key rank lower { key } upper { key } } }`);
    expect(environments).toEqual([
      { key: "development", rank: 0, lower: null, upper: { key: "staging" } },
      { key: "staging", rank: 1, lower: { key: "development" }, upper: { key: "production" } },
      { key: "production", rank: 2, lower: { key: "staging" }, upper: null },
    ]);
    // Once its last database is gone, production holds nothing either.
    await answers(world, "deleteDatabase", "ADMIN", { databaseId: ref("db:production") }, success("deleteDatabase"));
    await answers(world, "deleteEnvironment", "ADMIN", { environmentId: ref("env:production") }, success("deleteEnvironment"));
  });

  it("a deleted environment is found by no mutation", async () => {
    await answers(world, "deleteEnvironment", "ADMIN", { environmentId: ref("env:spare") }, "NotFoundError");
    await answers(world, "updateEnvironment", "ADMIN", { environmentId: ref("env:spare"), name: "Back" }, "NotFoundError");
    await answers(world, "createDatabase", "ADMIN", { environmentId: ref("env:spare"), name: "late-users" }, "NotFoundError");
    await answers(
      world,
      "createApiToken",
      "ADMIN",
      { name: "late-runtime", role: "RUNTIME", environmentId: ref("env:production") },
      "NotFoundError",
    );
    await answers(
      world,
      "setApprovalPolicy",
      "ADMIN",
      {
        environmentId: ref("env:production"),
        requiredApprovals: 1,
        allowSelfApproval: false,
        requireComment: false,
        expiresAfterHours: 24,
      },
      "NotFoundError",
    );
  });

  it("deletes clients from the top down: refused IN_USE below a client of the application or under an open request", async () => {
    // Development is below staging's client; staging has open requests into it.
    await answers(world, "deleteClient", "ADMIN", { clientId: ref("client:development") }, "InUseError");
    await answers(world, "deleteClient", "ADMIN", { clientId: ref("client:staging") }, "InUseError");
    await answers(world, "deleteClient", "ADMIN", { clientId: ref("client:spare") }, success("deleteClient"));
    await answers(world, "deleteClient", "ADMIN", { clientId: ref("client:spare") }, "NotFoundError");
  });

  it("a client deleted once its requests are closed can be created again, copying from below", async () => {
    for (const request of ["req:pending", "req:revert", "req:approved"]) {
      await answers(world, "cancelPromotionRequest", "ADMIN", { requestId: ref(request) }, success("cancelPromotionRequest"));
    }
    await answers(world, "deleteClient", "ADMIN", { clientId: ref("client:staging") }, success("deleteClient"));
    // Staging keeps its journeys' versions as history: the new client's copies continue them.
    await answers(
      world,
      "createClient",
      "ADMIN",
      {
        applicationId: ref("app:main"),
        environmentId: ref("env:staging"),
        databaseId: ref("db:staging"),
        redirectUris: [],
        allowedOrigins: [],
      },
      success("createClient"),
    );
  });
});

describe("chosen inputs: retiring a journey", () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld("fuzz-lifecycle-retire");
  });

  it("retires in an editable environment only, never with a draft open, and once", async () => {
    const login = { journeyId: ref("journey:login"), environmentId: ref("env:development") };
    await answers(world, "retireJourney", "VIEWER", login, "ForbiddenError");
    await answers(world, "retireJourney", "EDITOR", { ...login, environmentId: ref("env:staging") }, "EnvironmentLockedError");
    await answers(
      world,
      "retireJourney",
      "EDITOR",
      { journeyId: ref("journey:registration"), environmentId: ref("env:development") },
      "DraftConflictError",
    );
    await answers(world, "retireJourney", "EDITOR", { ...login, comment: "Replaced" }, success("retireJourney"));
    await answers(world, "retireJourney", "EDITOR", login, "ValidationError");
    await answers(world, "saveJourneyStep", "EDITOR", { ...login, step: { ...PASSWORD } }, "ValidationError");
  });

  it("promotes a retirement as a REMOVED change: the journey retired upstream with a tombstone", async () => {
    const legacy = {
      applicationId: ref("app:main"),
      fromEnvironmentId: ref("env:development"),
      toEnvironmentId: ref("env:staging"),
      journeyId: ref("journey:legacy"),
    };
    const before = world.last!;
    await answers(world, "promoteNow", "PROMOTER", legacy, success("promoteNow"));
    const tombstones = world.last!.journeyVersions.filter(
      (v) =>
        v.retired &&
        !before.journeyVersions.some((b) => b.journeyId === v.journeyId && b.environmentId === v.environmentId && b.version === v.version),
    );
    expect(tombstones).toMatchObject([{ origin: "PROPAGATION" }]);
    await answers(world, "promoteNow", "PROMOTER", legacy, "NothingToPropagateError");
  });

  it("keeps a retired key: a new journey may not take it, a restore brings the journey back", async () => {
    await answers(
      world,
      "createJourney",
      "EDITOR",
      { applicationId: ref("app:main"), key: "legacy", name: "Legacy again", type: "LOGIN" },
      "AlreadyExistsError",
    );
    const legacy = { journeyId: ref("journey:legacy"), environmentId: ref("env:development") };
    await answers(world, "restoreJourneyVersion", "EDITOR", { ...legacy, version: 1 }, success("restoreJourneyVersion"));
    await answers(world, "saveJourney", "EDITOR", { ...legacy, draftRevision: ref("draftRevision") }, success("saveJourney"));
    await answers(world, "retireJourney", "EDITOR", legacy, success("retireJourney"));
  });
});

describe("chosen inputs: an archived application", () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld("fuzz-lifecycle-archived");
  });

  const development = ref("env:development");
  const journey = { journeyId: ref("journey:archived"), environmentId: development };
  /** A write of each kind to the archived application, its client or its journey. */
  const WRITES: [MutationName, RoleName, unknown][] = [
    ["archiveApplication", "ADMIN", { applicationId: ref("app:archived") }],
    ["updateApplication", "ADMIN", { applicationId: ref("app:archived"), name: "Renamed archive" }],
    [
      "createClient",
      "ADMIN",
      {
        applicationId: ref("app:archived"),
        environmentId: ref("env:staging"),
        databaseId: ref("db:staging"),
        redirectUris: [],
        allowedOrigins: [],
      },
    ],
    ["updateClient", "ADMIN", { clientId: ref("client:archived"), name: "Renamed client" }],
    ["updateClient", "EDITOR", { clientId: ref("client:archived"), settings: { pkceRequired: false } }],
    ["deleteClient", "ADMIN", { clientId: ref("client:archived") }],
    ["createJourney", "EDITOR", { applicationId: ref("app:archived"), key: "late", name: "Late", type: "LOGIN" }],
    ["updateJourney", "EDITOR", { journeyId: ref("journey:archived"), name: "Renamed journey" }],
    ["saveJourneyStep", "EDITOR", { ...journey, step: PASSWORD }],
    ["retireJourney", "EDITOR", journey],
    ["restoreJourneyVersion", "EDITOR", { ...journey, version: 1 }],
    ["promoteNow", "ADMIN", { applicationId: ref("app:archived"), fromEnvironmentId: development, toEnvironmentId: ref("env:staging") }],
    [
      "requestPromotion",
      "ADMIN",
      { applicationId: ref("app:archived"), fromEnvironmentId: development, toEnvironmentId: ref("env:staging"), selectAll: true },
    ],
  ];

  it.each(WRITES)("%s as %s is refused ARCHIVED, writing nothing", async (mutation, role, input) => {
    await answers(world, mutation, role, input, "ArchivedError");
  });

  it("unarchived, it is writable again; archived again, refused again", async () => {
    await answers(world, "unarchiveApplication", "EDITOR", { applicationId: ref("app:archived") }, "ForbiddenError");
    await answers(world, "unarchiveApplication", "ADMIN", { applicationId: ref("app:main") }, "ValidationError");
    await answers(world, "unarchiveApplication", "ADMIN", { applicationId: ref("app:archived") }, success("unarchiveApplication"));
    await answers(
      world,
      "updateJourney",
      "EDITOR",
      { journeyId: ref("journey:archived"), name: "Sign-up again" },
      success("updateJourney"),
    );
    await answers(
      world,
      "updateApplication",
      "ADMIN",
      { applicationId: ref("app:archived"), name: "Customer Portal" },
      "AlreadyExistsError",
    );
    await answers(
      world,
      "updateApplication",
      "ADMIN",
      { applicationId: ref("app:archived"), name: " Revived " },
      success("updateApplication"),
    );
    await answers(world, "archiveApplication", "ADMIN", { applicationId: ref("app:archived") }, success("archiveApplication"));
    await answers(world, "updateJourney", "EDITOR", { journeyId: ref("journey:archived"), name: "Too late" }, "ArchivedError");
  });
});

describe("chosen inputs: an application archived with drafts, requests and propagations open", () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld("fuzz-lifecycle-archived-main");
    await answers(world, "archiveApplication", "ADMIN", { applicationId: ref("app:main") }, success("archiveApplication"));
  });

  const login = { journeyId: ref("journey:login"), environmentId: ref("env:development") };
  const registration = { journeyId: ref("journey:registration"), environmentId: ref("env:development") };
  const promotion = { applicationId: ref("app:main"), fromEnvironmentId: ref("env:development"), toEnvironmentId: ref("env:staging") };
  const WRITES: [MutationName, RoleName, unknown][] = [
    ["saveJourneyStep", "EDITOR", { ...registration, step: PASSWORD }],
    ["removeJourneyStep", "EDITOR", { ...registration, stepKey: "identify" }],
    ["setJourneyStart", "EDITOR", { ...login, stepKey: "password" }],
    ["discardJourneyDraft", "EDITOR", registration],
    ["saveJourney", "EDITOR", { ...registration, draftRevision: ref("draftRevision") }],
    ["restoreJourneyVersion", "EDITOR", { ...login, version: 1 }],
    ["retireJourney", "EDITOR", login],
    ["updateJourney", "EDITOR", { journeyId: ref("journey:login"), name: "Sign-in" }],
    ["updateClient", "ADMIN", { clientId: ref("client:staging"), redirectUris: [] }],
    ["deleteClient", "ADMIN", { clientId: ref("client:staging") }],
    ["promoteNow", "PROMOTER", promotion],
    ["propagateChanges", "PROMOTER", { ...promotion, selectAll: true }],
    ["revertPropagation", "PROMOTER", { propagationId: ref("prop:codes"), selectAll: true }],
    ["requestPromotion", "PROMOTER", { ...promotion, selectAll: true }],
    ["approvePromotionRequest", "ADMIN", { requestId: ref("req:pending"), planHash: ref("planHash") }],
    ["rejectPromotionRequest", "ADMIN", { requestId: ref("req:pending"), comment: "No" }],
    ["cancelPromotionRequest", "PROMOTER", { requestId: ref("req:pending") }],
    ["executePromotionRequest", "ADMIN", { requestId: ref("req:approved") }],
  ];

  it.each(WRITES)("%s as %s is refused ARCHIVED, writing nothing", async (mutation, role, input) => {
    await answers(world, mutation, role, input, "ArchivedError");
  });
});

import fc from "fast-check";
import { beforeAll, describe, it } from "vitest";
import { ref } from "../../support/arbitraries.js";
import { LOGIN_DOCUMENT } from "../../support/fixtures.js";
import { call, createWorld, FOUND_BUG_RUNS, fuzzing, type MutationName, type World } from "../../support/fuzzing.js";

/**
 * Text PostgreSQL cannot store, in every free-text field of every mutation: bugs the fuzzed input found
 * (fixed since). Each test states the behaviour the API owes.
 */

fuzzing();

/** Text with the given characters somewhere inside. */
const textWith = (chars: string[]) =>
  fc.tuple(fc.string({ maxLength: 6 }), fc.constantFrom(...chars), fc.string({ maxLength: 6 })).map(([a, c, b]) => `${a}${c}${b}`);

/** Development → staging of the main application: there is something to promote. */
const PROMOTION = { applicationId: ref("app:main"), fromEnvironmentId: ref("env:development"), toEnvironmentId: ref("env:staging") };

/** Valid inputs of a mutation with `text` placed in one free-text field. */
const TEXT_FIELDS: [MutationName, string, (text: string) => unknown][] = [
  ["createEnvironment", "name", (text) => ({ key: "qa", name: `QA ${text}`, rank: 9 })],
  ["createApplication", "name", (text) => ({ name: `Portal ${text}` })],
  ["createApiToken", "name", (text) => ({ name: `bot ${text}`, role: "VIEWER" })],
  [
    "createClient",
    "name",
    (text) => ({
      applicationId: ref("app:bare"),
      environmentId: ref("env:development"),
      databaseId: ref("db:development"),
      redirectUris: [],
      allowedOrigins: [],
      name: `Portal ${text}`,
    }),
  ],
  [
    "createClient",
    "redirectUris",
    (text) => ({
      applicationId: ref("app:bare"),
      environmentId: ref("env:development"),
      databaseId: ref("db:development"),
      redirectUris: [`https://portal.example.com/cb${text}`],
      allowedOrigins: [],
    }),
  ],
  ["updateClient", "name", (text) => ({ clientId: ref("client:development"), name: `Portal ${text}` })],
  [
    "updateClient",
    "redirectUris",
    (text) => ({ clientId: ref("client:development"), redirectUris: [`https://portal.example.com/cb${text}`] }),
  ],
  [
    "updateClient",
    "comment",
    (text) => ({ clientId: ref("client:development"), settings: { accessTokenTtlSeconds: 7_200 }, comment: text }),
  ],
  ["createJourney", "name", (text) => ({ applicationId: ref("app:main"), key: "checkout", name: `Checkout ${text}`, type: "LOGIN" })],
  [
    "createJourney",
    "document",
    (text) => ({
      applicationId: ref("app:main"),
      key: "checkout",
      name: "Checkout",
      type: "LOGIN",
      document: {
        ...LOGIN_DOCUMENT,
        steps: { ...LOGIN_DOCUMENT.steps, identify: { ...LOGIN_DOCUMENT.steps.identify, name: `Enter email ${text}` } },
      },
    }),
  ],
  [
    "saveJourneyStep",
    "step.name",
    (text) => ({
      journeyId: ref("journey:login"),
      environmentId: ref("env:development"),
      step: {
        key: "password",
        type: "PASSWORD",
        name: `Password ${text}`,
        enabled: true,
        settings: {},
        transitions: [{ outcome: "success", to: "email-otp" }],
      },
    }),
  ],
  [
    "saveJourney",
    "comment",
    (text) => ({
      journeyId: ref("journey:registration"),
      environmentId: ref("env:development"),
      draftRevision: ref("draftRevision"),
      comment: text,
    }),
  ],
  ["promoteNow", "comment", (text) => ({ ...PROMOTION, comment: text })],
  ["promoteNow", "idempotencyKey", (text) => ({ ...PROMOTION, idempotencyKey: `deploy-${text}` })],
  ["propagateChanges", "comment", (text) => ({ ...PROMOTION, selectAll: true, comment: text })],
  ["revertPropagation", "comment", (text) => ({ propagationId: ref("prop:codes"), selectAll: true, comment: text })],
  [
    "revertPropagation",
    "idempotencyKey",
    (text) => ({ propagationId: ref("prop:codes"), selectAll: true, idempotencyKey: `undo-${text}` }),
  ],
  ["requestPromotion", "comment", (text) => ({ ...PROMOTION, selectAll: true, comment: text })],
  [
    "approvePromotionRequest",
    "comment",
    (text) => ({ requestId: ref("req:pending"), planHash: ref("planHash"), comment: `Reviewed ${text}` }),
  ],
  ["rejectPromotionRequest", "comment", (text) => ({ requestId: ref("req:pending"), comment: `Not now ${text}` })],
  ["executePromotionRequest", "idempotencyKey", (text) => ({ requestId: ref("req:approved"), idempotencyKey: `deploy-${text}` })],
];

/** Fields stored as jsonb, where PostgreSQL refuses an escaped lone surrogate. */
const JSONB_FIELDS: Partial<Record<MutationName, string[]>> = {
  createJourney: ["document"],
  saveJourneyStep: ["step"],
  createClient: ["redirectUris"],
  updateClient: ["redirectUris"],
};

describe("a NUL character in any text is refused as VALIDATION_FAILED, not a database error", () => {
  // PostgreSQL text and jsonb cannot hold U+0000; before inputs were checked for it, the insert failed
  // and the caller got a masked INTERNAL_SERVER_ERROR (e.g. createApplication(input: { name: "a\u0000b" })).
  let world: World;
  beforeAll(async () => {
    world = await createWorld("fuzz-nul");
  });

  it.each(TEXT_FIELDS)("%s refuses a NUL character in %s with a typed error", async (mutationName, _field, build) => {
    await fc.assert(
      fc.asyncProperty(textWith(["\u0000"]), (text) => call(world, mutationName, "ADMIN", build(text))),
      FOUND_BUG_RUNS,
    );
  });
});

describe("an unpaired surrogate in text stored as JSON is refused as VALIDATION_FAILED, not a database error", () => {
  // JSON.stringify escapes an unpaired surrogate ("\ud800"), which PostgreSQL's jsonb refuses; before
  // inputs were checked for it, the caller got a masked INTERNAL_SERVER_ERROR.
  let world: World;
  beforeAll(async () => {
    world = await createWorld("fuzz-surrogate");
  });

  const JSONB_TEXT_FIELDS = TEXT_FIELDS.filter(([mutationName, name]) =>
    (JSONB_FIELDS[mutationName] ?? []).some((f) => name.startsWith(f)),
  );

  it.each(JSONB_TEXT_FIELDS)("%s refuses a lone surrogate in %s with a typed error", async (mutationName, _field, build) => {
    await fc.assert(
      fc.asyncProperty(textWith(["\uD800", "\uDBFF", "\uDC00", "\uDFFF"]), (text) => call(world, mutationName, "ADMIN", build(text))),
      FOUND_BUG_RUNS,
    );
  });
});

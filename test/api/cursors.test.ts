import fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PROMOTE_NOW, SAVE, SAVE_STEP } from "../support/documents.js";
import {
  type Api,
  apiAs,
  type Catalogue,
  createApplication,
  createCatalogue,
  createClient,
  errorCodes,
  operation,
} from "../support/fixtures.js";
import type { GraphQLResponse } from "../support/graphql.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant } from "../support/tenant.js";

/**
 * Crafted cursors (issue 11, item 5). A cursor is the client's to hold and to send back, so any
 * string may arrive as `after` or `before`: every connection answers it with a page or with
 * VALIDATION_FAILED, never with an error the server did not expect (a 500, INTERNAL_SERVER_ERROR,
 * an "unexpected error" log line holding the SQL). The reported attacks come first, then a property
 * over arbitrary strings, JSON arrays dressed as cursors, out-of-range dates and numbers.
 *
 * Runs are seeded: CURSOR_SEED=<seed> replays a run, CURSOR_RUNS=<n> sets the runs per connection.
 */

const SEED = Number(process.env.CURSOR_SEED ?? 110_005);
const RUNS = Number(process.env.CURSOR_RUNS ?? 120);

const PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }";

const APPLICATIONS = operation(`
  query CursorApplications($first: Int, $last: Int, $after: String, $before: String) {
    applications(first: $first, last: $last, after: $after, before: $before) { edges { cursor node { id name } } ${PAGE_INFO} }
  }
`);

const PROPAGATIONS = operation(`
  query CursorPropagations($first: Int, $last: Int, $after: String, $before: String) {
    propagations(first: $first, last: $last, after: $after, before: $before) { edges { cursor node { id createdAt } } ${PAGE_INFO} }
  }
`);

const VERSIONS = operation(`
  query CursorVersions($journey: ID!, $environment: ID!, $first: Int, $last: Int, $after: String, $before: String) {
    node(id: $journey) {
      ... on Journey {
        versions(environmentId: $environment, first: $first, last: $last, after: $after, before: $before) {
          edges { cursor node { version } } ${PAGE_INFO}
        }
      }
    }
  }
`);

const NOTIFICATIONS = operation(`
  query CursorNotifications($first: Int, $last: Int, $after: String, $before: String) {
    syncNotifications(first: $first, last: $last, after: $after, before: $before) { edges { cursor node { id status } } ${PAGE_INFO} }
  }
`);

interface PageArgs {
  first?: number;
  last?: number;
  after?: string;
  before?: string;
}

interface Connection {
  name: string;
  /** One page of it over HTTP, as the tenant's ADMIN. */
  request(args: PageArgs): Promise<GraphQLResponse>;
  /** The connection in a response: its edges and page info. */
  connectionOf(response: GraphQLResponse): { edges: { cursor: string }[] } | undefined;
}

let server: TestServer;
let api: Api;
let catalogue: Catalogue;
let connections: Record<"applications" | "propagations" | "versions" | "syncNotifications", Connection>;
/** Cursors the server issued, of every connection: the starting points a client really holds. */
const issued: string[] = [];

/**
 * A tenant with something on every page: applications with names a person types (unicode
 * included), a staging client, an edit of `login` saved in development and promoted to staging
 * (a propagation, versions 1 and 2 in staging, sync notifications).
 */
beforeAll(async () => {
  server = await startTestServer();
  const tenant = await createTenant("cursors");
  api = apiAs(server.endpoint, tenant, "ADMIN");
  catalogue = await createCatalogue(api);
  for (const name of ["Alpha", "beta – 日本", "Zeta 🙂", "مرحبا"]) await createApplication(api, name);
  await createClient(api, {
    applicationId: catalogue.applicationId,
    environmentId: catalogue.environments.staging,
    databaseId: catalogue.databases.staging,
  });
  const login = { journeyId: catalogue.journeys.login, environmentId: catalogue.environments.development };
  const step = {
    key: "password",
    type: "PASSWORD",
    name: "Password",
    enabled: true,
    settings: { minLength: 14 },
    transitions: [
      { outcome: "success", to: "email-otp" },
      { outcome: "failure", to: "DENY" },
    ],
  };
  const saved = await api.data(SAVE_STEP, { input: { ...login, step } });
  expect(saved.saveJourneyStep.__typename).toBe("SaveJourneyStepSuccess");
  expect((await api.data(SAVE, { input: { ...login, draftRevision: saved.saveJourneyStep.draft.revision } })).saveJourney.__typename).toBe(
    "SaveJourneySuccess",
  );
  const promoted = await api.data(PROMOTE_NOW, {
    input: {
      applicationId: catalogue.applicationId,
      fromEnvironmentId: catalogue.environments.development,
      toEnvironmentId: catalogue.environments.staging,
    },
  });
  expect(promoted.promoteNow.__typename).toBe("PromoteNowSuccess");

  connections = {
    applications: {
      name: "applications",
      request: (args) => api.request(APPLICATIONS, { ...args }),
      connectionOf: (r) => r.data?.applications,
    },
    propagations: {
      name: "propagations",
      request: (args) => api.request(PROPAGATIONS, { ...args }),
      connectionOf: (r) => r.data?.propagations,
    },
    versions: {
      name: "Journey.versions",
      request: (args) => api.request(VERSIONS, { journey: catalogue.journeys.login, environment: catalogue.environments.staging, ...args }),
      connectionOf: (r) => r.data?.node?.versions,
    },
    syncNotifications: {
      name: "syncNotifications",
      request: (args) => api.request(NOTIFICATIONS, { ...args }),
      connectionOf: (r) => r.data?.syncNotifications,
    },
  };
  for (const connection of Object.values(connections)) {
    const page = connection.connectionOf(await connection.request({ first: 10 }));
    expect(page?.edges.length).toBeGreaterThan(0);
    issued.push(...page!.edges.map((e) => e.cursor));
  }
});
afterAll(() => server.stop());

/** Where the server's log stood when the running test began. */
let logMark = 0;
beforeEach(() => {
  logMark = server.logs.length;
});
/** The "unexpected error" lines the running test caused: each would hold an error's details, SQL included. */
const unexpectedErrorsLogged = () => server.logs.slice(logMark).filter((line) => line.msg === "unexpected error");

/** A page, or a refusal whose every error is VALIDATION_FAILED: what any cursor must get. */
function expectPageOrRefusal(connection: Connection, response: GraphQLResponse) {
  expect(response.status).toBe(200);
  if (response.errors === undefined) {
    expect(connection.connectionOf(response)?.edges).toBeInstanceOf(Array);
  } else {
    expect(response.errors.length).toBeGreaterThan(0);
    expect(errorCodes(response).filter((code) => code !== "VALIDATION_FAILED")).toEqual([]);
  }
}

/** A refusal of `arg`: VALIDATION_FAILED, saying which argument is not a cursor. */
function expectRefusalOf(arg: "after" | "before", response: GraphQLResponse) {
  expect(response.status).toBe(200);
  expect(errorCodes(response)).toEqual(["VALIDATION_FAILED"]);
  expect(response.errors![0].message).toMatch(new RegExp(`^${arg} `));
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const UUID = "0b5d7c1e-8f3a-4c2d-9e6f-1a2b3c4d5e6f";

describe("the reported cursors", () => {
  const applicationAttacks: [string, string][] = [
    ["36 dashes as the id", base64url(["Alpha", "-".repeat(36)])],
    ["a NUL in the name", base64url(["Al\u0000pha", UUID])],
    ["NUL characters as the id", base64url(["Alpha", "\u0000".repeat(36)])],
    ["an unpaired surrogate in the name", base64url(["Al\uD800pha", UUID])],
    ["a name longer than any name", base64url(["a".repeat(100_000), UUID])],
    ["an upper-case id", base64url(["Alpha", UUID.toUpperCase()])],
    ["a third element", base64url(["Alpha", UUID, 1])],
  ];
  it.each(applicationAttacks)("applications refuses %s with VALIDATION_FAILED, as after and as before", async (_label, cursor) => {
    expectRefusalOf("after", await connections.applications.request({ first: 2, after: cursor }));
    expectRefusalOf("before", await connections.applications.request({ last: 2, before: cursor }));
    expect(unexpectedErrorsLogged()).toEqual([]);
  });

  const propagationAttacks: [string, string][] = [
    ["the latest date JavaScript has", base64url(["+275760-09-13T00:00:00.000Z", UUID])],
    ["the earliest date JavaScript has", base64url(["-271821-04-20T00:00:00.000Z", UUID])],
    ["year 0", base64url(["0000-01-01T00:00:00.000Z", UUID])],
    ["year 10000", base64url(["+010000-01-01T00:00:00.000Z", UUID])],
    ["a date without a time", base64url(["2024-01-01", UUID])],
    ["a number as the date", base64url([1e308, UUID])],
    ["36 dashes as the id", base64url(["2024-01-01T00:00:00.000Z", "-".repeat(36)])],
  ];
  it.each(propagationAttacks)("propagations refuses %s with VALIDATION_FAILED, as after and as before", async (_label, cursor) => {
    expectRefusalOf("after", await connections.propagations.request({ first: 2, after: cursor }));
    expectRefusalOf("before", await connections.propagations.request({ last: 2, before: cursor }));
    expect(unexpectedErrorsLogged()).toEqual([]);
  });

  it.each(["1e308", "2147483648", "9007199254740993", "-1", "1.5", "01", "0x10", " 1", ""])(
    "Journey.versions refuses the version cursor %j with VALIDATION_FAILED, as after and as before",
    async (cursor) => {
      expectRefusalOf("after", await connections.versions.request({ first: 2, after: cursor }));
      expectRefusalOf("before", await connections.versions.request({ last: 2, before: cursor }));
      expect(unexpectedErrorsLogged()).toEqual([]);
    },
  );

  it.each(["1e308", "9007199254740993", "-1", "\u0000"])(
    "syncNotifications refuses the cursor %j with VALIDATION_FAILED, as after and as before",
    async (cursor) => {
      expectRefusalOf("after", await connections.syncNotifications.request({ first: 2, after: cursor }));
      expectRefusalOf("before", await connections.syncNotifications.request({ last: 2, before: cursor }));
      expect(unexpectedErrorsLogged()).toEqual([]);
    },
  );

  it("keeps the cursors it issues: after one, the page goes on from there; before one, the page is accepted", async () => {
    for (const connection of Object.values(connections)) {
      const first = connection.connectionOf(await connection.request({ first: 1 }))!;
      const rest = connection.connectionOf(await connection.request({ first: 10, after: first.edges[0].cursor }))!;
      const whole = connection.connectionOf(await connection.request({ first: 11 }))!;
      expect(
        [...first.edges, ...rest.edges].map((e) => e.cursor),
        connection.name,
      ).toEqual(whole.edges.map((e) => e.cursor));
      const back = await connection.request({ last: 10, before: whole.edges.at(-1)!.cursor });
      expect(back.errors, connection.name).toBeUndefined();
      expect(connection.connectionOf(back)?.edges.length, connection.name).toBeLessThanOrEqual(whole.edges.length);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Arbitrary cursors
// ---------------------------------------------------------------------------------------------

const SPECIAL = ["\u0000", "\uD800", "\uDFFF", "\uD83D", "\u2028", "\uFEFF", "🙂", "'", '"', "\\", ");--", "%00", "="];

/** Text as an attacker writes it: arbitrary code units (NUL and lone surrogates included), and pieces that break parsers. */
const text: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
  fc.array(fc.oneof(fc.constantFrom(...SPECIAL), fc.string({ maxLength: 6 })), { maxLength: 6 }).map((parts) => parts.join("")),
);

const DATES = [
  "+275760-09-13T00:00:00.000Z",
  "-271821-04-20T00:00:00.000Z",
  "+275760-09-13",
  "-271821-04-20",
  "0000-01-01T00:00:00.000Z",
  "0001-01-01T00:00:00.000Z",
  "9999-12-31T23:59:59.999Z",
  "+010000-01-01T00:00:00.000Z",
  "2024-02-30T00:00:00.000Z",
  "2024-01-01T00:00:00Z",
  "2024-01-01T00:00:00.000+01:00",
  "Invalid Date",
  "Infinity",
  "-infinity",
  "epoch",
];

/** Dates as text: the edges of JavaScript's and PostgreSQL's ranges, and any instant JavaScript can hold. */
const dateText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...DATES),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);

const NUMBERS = [
  "1e308",
  "-1",
  "-0",
  "0",
  "1",
  "01",
  "1.5",
  "0x10",
  " 1",
  "1 ",
  "9007199254740993",
  "9007199254740991",
  "2147483647",
  "2147483648",
  "NaN",
  "Infinity",
];

/** Numbers as text: out of range, negative, fractional, other spellings. */
const numberText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...NUMBERS),
  fc.integer().map(String),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
  fc.double().map(String),
);

/** Ids: real UUIDs, and what looks enough like one to pass a careless check. */
const idText: fc.Arbitrary<string> = fc.oneof(
  fc.uuid(),
  fc.uuid().map((u) => u.toUpperCase()),
  fc.constantFrom("-".repeat(36), "\u0000".repeat(36), "0".repeat(36), `{${UUID}}`, UUID.replaceAll("-", ""), `${UUID}\u0000`),
  text,
);

/** Values an element of a cursor's JSON array may take. */
const element: fc.Arbitrary<unknown> = fc.oneof(
  text,
  dateText,
  idText,
  fc.constantFrom(1e308, -1, 2 ** 53 + 1, 0, null, true, [], {}),
  fc.jsonValue({ maxDepth: 2 }),
);

/** JSON arrays dressed as cursors: the shape of ours (a name or date, then an id), and any other. */
const jsonCursor: fc.Arbitrary<string> = fc
  .oneof(fc.tuple(fc.oneof(text, dateText), idText), fc.array(element, { maxLength: 4 }), fc.jsonValue({ maxDepth: 2 }))
  .map((value) => Buffer.from(JSON.stringify(value) ?? "null").toString("base64url"));

/** What the server issued, a character more or less (built once `beforeAll` has collected them). */
const tamperedCursor = (): fc.Arbitrary<string> =>
  fc
    .tuple(fc.constantFrom(...issued), fc.constantFrom("keep", "append", "drop", "pad"))
    .map(([cursor, how]) =>
      how === "append" ? `${cursor}A` : how === "drop" ? cursor.slice(0, -1) : how === "pad" ? `${cursor}=` : cursor,
    );

const cursor = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: text },
    { weight: 3, arbitrary: jsonCursor },
    { weight: 1, arbitrary: dateText },
    { weight: 2, arbitrary: numberText },
    { weight: 1, arbitrary: fc.constantFrom("a".repeat(200_000), base64url(["n".repeat(50_000), UUID]), "1".repeat(10_000)) },
    { weight: 2, arbitrary: tamperedCursor() },
  );

const pageArgs = (): fc.Arbitrary<PageArgs> =>
  fc.record(
    {
      after: cursor(),
      before: cursor(),
      first: fc.integer({ min: -2, max: 25 }),
      last: fc.integer({ min: -2, max: 25 }),
    },
    { requiredKeys: [] },
  );

describe("arbitrary cursors", () => {
  it.each(["applications", "propagations", "versions", "syncNotifications"] as const)(
    "%s answers any after and before with a page or VALIDATION_FAILED",
    async (name) => {
      const connection = connections[name];
      let pages = 0;
      await fc.assert(
        fc.asyncProperty(pageArgs(), async (args) => {
          logMark = server.logs.length;
          const response = await connection.request(args);
          expectPageOrRefusal(connection, response);
          if (response.errors === undefined) pages++;
          expect(unexpectedErrorsLogged()).toEqual([]);
        }),
        { seed: SEED, numRuns: RUNS },
      );
      // The arbitraries reach both outcomes: issued cursors (and no cursor) page.
      expect(pages).toBeGreaterThan(0);
    },
  );
});

describe("page sizes (DESIGN.md §9: refused, never clamped)", () => {
  const names = ["applications", "propagations", "versions", "syncNotifications"] as const;
  it.each(names)("%s serves first and last from 0 to 100", async (name) => {
    for (const args of [{ first: 0 }, { first: 100 }, { last: 100 }, { last: 0 }]) {
      const response = await connections[name].request(args);
      expect(response.errors).toBeUndefined();
      expect(connections[name].connectionOf(response)?.edges).toBeInstanceOf(Array);
    }
  });

  it.each(names)("%s refuses first or last over 100 or below 0, and both together, with VALIDATION_FAILED", async (name) => {
    const refusals: [PageArgs, RegExp][] = [
      [{ first: 101 }, /^first must be between 0 and 100/],
      [{ last: 101 }, /^last must be between 0 and 100/],
      [{ first: -1 }, /^first must be between 0 and 100/],
      [{ first: 2_000_000_000 }, /^first must be between 0 and 100/],
      [{ first: 1, last: 1 }, /^pass first or last, not both/],
    ];
    for (const [args, message] of refusals) {
      const response = await connections[name].request(args);
      expect(response.status).toBe(200);
      expect(errorCodes(response)).toEqual(["VALIDATION_FAILED"]);
      expect(response.errors![0].message).toMatch(message);
    }
    expect(unexpectedErrorsLogged()).toEqual([]);
  });
});

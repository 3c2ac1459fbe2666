import { Writable } from "node:stream";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openDatabase } from "../../src/db/client.js";
import { createApp } from "../../src/server/app.js";
import { createLogger } from "../../src/server/logger.js";
import { databaseUrl, testDatabase, testSessionUrl } from "../support/database.js";
import {
  type Api,
  apiAs,
  type Catalogue,
  createCatalogueWithStaging,
  createDatabase,
  createJourney,
  localIdOf,
  operation,
  tenantRows,
} from "../support/fixtures.js";
import { heldWhile } from "../support/locks.js";
import { createTenant, type Tenant } from "../support/tenant.js";

/*
 * The lifecycle mutations of DESIGN.md §10 under competing writers, through the real HTTP API on a
 * PostgreSQL server (DATABASE_URL; skipped on the embedded database, whose one connection serializes
 * every transaction in arrival order). Each race ends in a consistent state, the loser answered
 * with a typed error — never an unexpected error (a deadlock, a failed constraint), never a
 * half-applied change — and the audit log holds exactly one event per successful call.
 *
 * The locks under test: every write to an application holds its row FOR SHARE
 * (`writableApplication`), archiving takes it FOR NO KEY UPDATE; a client created on a database holds the
 * database's row FOR SHARE, deleteDatabase takes it FOR UPDATE; writes into an environment hold its
 * row FOR SHARE (`environmentForWrite`, and a propagation's approval policy read), deleteEnvironment
 * takes the pipeline lock, then every environment's row FOR NO KEY UPDATE, then every application's
 * sync states (`lockSyncStates`);
 * retireJourney takes the configuration lock of (application, environment) exclusively, a
 * propagation its source's shared and its target's exclusive.
 *
 * Each race runs in rounds: free rounds send the competitors at once (who is sent first, and how
 * much later the other, varies), forced rounds make them overlap for certain — the test holds a lock
 * one of them needs after its own locks (the organization's row, which only a transaction's last
 * statement takes; a configuration lock; the notifications' table), starts the competitors one
 * after another, each once the ones before are blocked, and lets go once all are inside their
 * transactions. An unexpected error's report carries the SQLSTATE the server logged (40P01: a deadlock).
 */

/** The server, on a pool of its own large enough for every competitor at once (the test's pool holds the locks and reads). */
let endpoint: string;
let stop: () => Promise<void>;
/** Every log line of the server: an unexpected error's line names its SQLSTATE. */
const logs: { level: number; msg: string; err?: { name: string; message: string; code?: string } }[] = [];

const FREE_ROUNDS = 6;

const RESULT = `__typename ... on Error { code message }`;
/** What still depends on what a deletion was refused for. */
const IN_USE = `... on InUseError { references }`;

const MUTATIONS = {
  createClient: operation(`mutation LcCreateClient($input: CreateClientInput!) {
    createClient(input: $input) { ${RESULT} ... on CreateClientSuccess { client { id name } } } }`),
  createDatabase: operation(`mutation LcCreateDatabase($input: CreateDatabaseInput!) {
    createDatabase(input: $input) { ${RESULT} ... on CreateDatabaseSuccess { database { id name } } } }`),
  createEnvironment: operation(`mutation LcCreateEnvironment($input: CreateEnvironmentInput!) {
    createEnvironment(input: $input) { ${RESULT} ... on CreateEnvironmentSuccess { environment { id key rank } } } }`),
  deleteClient: operation(`mutation LcDeleteClient($input: DeleteClientInput!) {
    deleteClient(input: $input) { ${RESULT} ${IN_USE} } }`),
  deleteDatabase: operation(`mutation LcDeleteDatabase($input: DeleteDatabaseInput!) {
    deleteDatabase(input: $input) { ${RESULT} ${IN_USE} } }`),
  deleteEnvironment: operation(`mutation LcDeleteEnvironment($input: DeleteEnvironmentInput!) {
    deleteEnvironment(input: $input) { ${RESULT} ${IN_USE} ... on DeleteEnvironmentSuccess { environments { key rank } } } }`),
  retireJourney: operation(`mutation LcRetire($input: RetireJourneyInput!) {
    retireJourney(input: $input) { ${RESULT} } }`),
  archiveApplication: operation(`mutation LcArchive($input: ArchiveApplicationInput!) {
    archiveApplication(input: $input) { ${RESULT} } }`),
  unarchiveApplication: operation(`mutation LcUnarchive($input: UnarchiveApplicationInput!) {
    unarchiveApplication(input: $input) { ${RESULT} } }`),
  updateJourney: operation(`mutation LcUpdateJourney($input: UpdateJourneyInput!) {
    updateJourney(input: $input) { ${RESULT} } }`),
  updateClient: operation(`mutation LcUpdateClient($input: UpdateClientInput!) {
    updateClient(input: $input) { ${RESULT} } }`),
  saveJourneyStep: operation(`mutation LcSaveStep($input: SaveJourneyStepInput!) {
    saveJourneyStep(input: $input) { ${RESULT} ... on SaveJourneyStepSuccess { draft { revision } } } }`),
  saveJourney: operation(`mutation LcSave($input: SaveJourneyInput!) {
    saveJourney(input: $input) { ${RESULT} ... on SaveJourneySuccess { version { version } } } }`),
  promoteNow: operation(`mutation LcPromote($input: PromoteNowInput!) {
    promoteNow(input: $input) { ${RESULT} ... on PromoteNowSuccess { propagation { id items { path kind } } } } }`),
  propagateChanges: operation(`mutation LcPropagate($input: PropagateChangesInput!) {
    propagateChanges(input: $input) { ${RESULT} ... on PropagateChangesSuccess { propagation { id items { path kind } } } } }`),
} as const;

type Action = keyof typeof MUTATIONS;

const DIFF = operation(`query LcDiff($a: ID!, $from: ID!, $to: ID!, $journeyId: ID) {
  diff(applicationId: $a, fromEnvironmentId: $from, toEnvironmentId: $to, journeyId: $journeyId) { status changes { path kind } } }`);

const AUDIT_LOG = operation(`query LcAuditLog { auditLog(first: 100) { edges { node { id action subjectId } } } }`);

const SYNC_STATES = operation(`query LcSyncStates($a: ID!) {
  node(id: $a) { ... on Application {
    journeys { key syncStates { environment { key } status changeCount } }
    clients { environment { key } syncStatus }
  } } }`);

const NOTIFICATIONS = operation(`query LcNotifications($a: ID!, $after: String) {
  syncNotifications(applicationId: $a, first: 100, after: $after) {
    edges { node { status changeCount journey { key } environment { key } } }
    pageInfo { hasNextPage endCursor } } }`);

type Result = {
  __typename: string;
  code?: string;
  message?: string;
  references?: string[];
} & Record<string, any>;

/** One call and what it got back, kept whole so a failure shows everything. */
interface Outcome {
  action: Action;
  /** The audit event's subject, where the caller knows it before the answer. */
  subject?: string;
  status: number;
  errors?: unknown;
  result: Result | undefined;
}

const ok = (o: Outcome) => o.result?.__typename.endsWith("Success") === true;
const code = (o: Outcome) => o.result?.code;

interface World {
  tenant: Tenant;
  api: Api;
  catalogue: Catalogue;
  env: Catalogue["environments"];
  applicationId: string;
}

async function world(label: string): Promise<World> {
  const tenant = await createTenant(label);
  const api = apiAs(endpoint, tenant, "ADMIN");
  const catalogue = await createCatalogueWithStaging(api);
  return { tenant, api, catalogue, env: catalogue.environments, applicationId: catalogue.applicationId };
}

/** Sends a mutation (as ADMIN); a GraphQL error is not thrown here but kept in the outcome, for the race's report. */
async function run(w: World, action: Action, input: object, subject?: string): Promise<Outcome> {
  const response = await w.api.request(MUTATIONS[action], { input });
  return { action, subject, status: response.status, errors: response.errors, result: response.data?.[action] ?? undefined };
}

/** A setup or clean-up call, which must succeed. */
async function must(w: World, action: Action, input: object): Promise<Result> {
  const outcome = await run(w, action, input);
  expect(ok(outcome), JSON.stringify(outcome)).toBe(true);
  return outcome.result!;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The unexpected errors the server logged since `since` (index into the log): a deadlock shows its SQLSTATE 40P01 here. */
const serverErrors = (since: number) =>
  logs
    .slice(since)
    .filter((l) => l.level >= 50)
    .map((l) => ({ msg: l.msg, name: l.err?.name, code: l.err?.code, message: l.err?.message }));

/** Every outcome is a success or a typed refusal with one of `codes`: never a GraphQL error, never a 500. */
function expectTyped(outcomes: Outcome[], codes: string[], since: number, context: object = {}): string {
  const report = JSON.stringify({ ...context, outcomes, serverErrors: serverErrors(since) }, null, 1);
  for (const o of outcomes) {
    expect(o.status, report).toBe(200);
    expect(o.errors, report).toBeUndefined();
    expect(o.result?.__typename, report).toMatch(/(Success|Error)$/);
    if (!ok(o)) expect(codes, `${o.action}: ${report}`).toContain(code(o));
  }
  expect(serverErrors(since), report).toEqual([]);
  return report;
}

// --- Locks held from outside, and waiting for the competitors to queue behind them -----------------

/** Free: all at once, the `first` one sent first and each other one `delay` ms after the one before it. */
async function free(competitors: (() => Promise<Outcome>)[], first: number, delay: number): Promise<Outcome[]> {
  const order = competitors.map((_, i) => (first + i) % competitors.length);
  const results: Promise<Outcome>[] = new Array(competitors.length);
  order.forEach((index, position) => {
    results[index] = pause(position * delay).then(competitors[index]);
  });
  return Promise.all(results);
}

/** Only a transaction's last statement (raising the organization's revision) waits for this. */
const organizationRow = (w: World) => sql`select 1 from organizations where id = ${w.tenant.organizationId} for no key update`;

/** The configuration lock of the application in an environment, as saves, client creations and propagation targets take it. */
const configurationLock = (w: World, environmentId: string) =>
  sql`select pg_advisory_xact_lock(hashtextextended(${`configuration:${localIdOf(w.applicationId)}:${localIdOf(environmentId)}`}, 0))`;

// --- Audit log ------------------------------------------------------------------------------------

type AuditEvent = { id: string; action: string; subjectId: string | null };

async function latestEvents(w: World): Promise<AuditEvent[]> {
  return (await w.api.data(AUDIT_LOG)).auditLog.edges.map((e: { node: AuditEvent }) => e.node);
}

/** The ids of the newest events: what a race's check leaves out. */
async function auditMark(w: World): Promise<Set<string>> {
  return new Set((await latestEvents(w)).map((e) => e.id));
}

/** Exactly one event per successful call since the mark (and none per refusal), each naming its subject where known. */
async function expectAudited(w: World, mark: Set<string>, outcomes: Outcome[], report: string): Promise<void> {
  const fresh = (await latestEvents(w)).filter((e) => !mark.has(e.id));
  const succeeded = outcomes.filter(ok);
  expect(fresh.map((e) => e.action).sort(), `audit events: ${JSON.stringify(fresh)} ${report}`).toEqual(
    succeeded.map((o) => o.action).sort(),
  );
  for (const o of succeeded) {
    const subject =
      o.subject ?? o.result?.client?.id ?? o.result?.database?.id ?? o.result?.propagation?.id ?? o.result?.environment?.id ?? undefined;
    if (subject === undefined) continue;
    expect(
      fresh.some((e) => e.action === o.action && e.subjectId === subject),
      `${o.action} on ${subject}: ${JSON.stringify(fresh)}`,
    ).toBe(true);
  }
}

// --- The database's own view ----------------------------------------------------------------------

type Rows = Awaited<ReturnType<typeof tenantRows>>;

/**
 * Invariants every race must leave: no client or database in a deleted environment, no client on a
 * missing database, the live pipeline ranked 0…n-1, every journey's versions in every environment
 * gapless, and every head at the last version there, never at a tombstone.
 */
function expectConsistent(rows: Rows, report: string): void {
  const deleted = new Set(rows.environments.filter((e) => e.deletedAt !== null).map((e) => e.id));
  expect(
    rows.clients.filter((c) => deleted.has(c.environmentId)),
    `clients in a deleted environment: ${report}`,
  ).toEqual([]);
  expect(
    rows.databases.filter((d) => deleted.has(d.environmentId)),
    `databases in a deleted environment: ${report}`,
  ).toEqual([]);
  const databases = new Set(rows.databases.map((d) => d.id));
  expect(
    rows.clients.filter((c) => !databases.has(c.databaseId)),
    `clients on a missing database: ${report}`,
  ).toEqual([]);
  const ranks = rows.environments
    .filter((e) => e.deletedAt === null)
    .map((e) => e.rank)
    .sort((a, b) => a - b);
  expect(ranks, report).toEqual(ranks.map((_, i) => i));

  const groups = new Map<string, Rows["journeyVersions"]>();
  for (const v of rows.journeyVersions) {
    const key = `${v.journeyId}:${v.environmentId}`;
    groups.set(key, [...(groups.get(key) ?? []), v]);
  }
  for (const [key, versions] of groups) {
    expect(
      versions.map((v) => v.version),
      `versions of ${key}: ${report}`,
    ).toEqual(versions.map((_, i) => i + 1));
  }
  for (const head of rows.journeyHeads) {
    const versions = groups.get(`${head.journeyId}:${head.environmentId}`) ?? [];
    const last = versions.at(-1);
    expect({ version: last?.version, retired: last?.retired }, `head of ${head.journeyId} in ${head.environmentId}: ${report}`).toEqual({
      version: head.version,
      retired: false,
    });
  }
  for (const client of rows.clients) {
    const versions = rows.clientSettingsVersions.filter((v) => v.clientId === client.id);
    expect(
      versions.map((v) => v.version),
      report,
    ).toEqual(versions.map((_, i) => i + 1));
  }
}

const environmentRow = (rows: Rows, id: string) => rows.environments.find((e) => e.id === localIdOf(id))!;

async function createEnvironment(w: World, key: string, rank: number): Promise<string> {
  return (await must(w, "createEnvironment", { key, name: key.toUpperCase(), rank })).environment.id;
}

/** The free rounds' variety: even rounds send the first competitor first, odd rounds the second; the gap varies. */
const freeOrder = (round: number) => ({ first: round % 2, delay: (round * 3) % 11 });

describe.runIf(databaseUrl)("lifecycle mutations under competing writers (PostgreSQL)", () => {
  beforeAll(async () => {
    await testDatabase(); // migrated
    const database: Database = await openDatabase({ url: testSessionUrl!, poolSize: 24 });
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split("\n")) if (line) logs.push(JSON.parse(line));
        done();
      },
    });
    const app = createApp({ database, logger: createLogger("info", sink) });
    endpoint = `${await app.start(0, "127.0.0.1")}/graphql`;
    stop = async () => {
      await app.stop();
      await database.close();
    };
  });
  afterAll(() => stop?.());

  /*
   * 1. A client created on a database while the database is deleted: either the client exists and
   * the deletion answered IN_USE naming it, or the database is gone and the creation answered
   * NOT_FOUND — never a client on a missing database.
   */
  describe("deleteDatabase while a client is created on it", () => {
    type Mode = "free" | "client first" | "deletion first";

    async function round(w: World, r: number, mode: Mode): Promise<"client" | "deletion"> {
      // A new environment on top each round (the application has never had a client there), with a new database.
      const environmentId = await createEnvironment(w, `spare-${r}`, 100);
      const databaseId = await createDatabase(w.api, { environmentId, name: `spare-users-${r}` });
      const create = () =>
        run(w, "createClient", { applicationId: w.applicationId, environmentId, databaseId, redirectUris: [], allowedOrigins: [] });
      const remove = () => run(w, "deleteDatabase", { databaseId }, databaseId);
      const mark = await auditMark(w);
      const since = logs.length;
      const [client, deletion] =
        mode === "free"
          ? await free([create, remove], freeOrder(r).first, freeOrder(r).delay)
          : mode === "client first"
            ? await heldWhile(organizationRow(w), [create, remove])
            : (await heldWhile(organizationRow(w), [remove, create])).reverse();
      const report = expectTyped([client, deletion], ["IN_USE", "NOT_FOUND"], since, { round: r, mode });
      expect(ok(client) !== ok(deletion), report).toBe(true);
      if (ok(client)) {
        expect(deletion.result, report).toMatchObject({
          __typename: "InUseError",
          code: "IN_USE",
          references: [`client "${client.result!.client.name}" uses it`],
        });
      } else {
        expect(client.result, report).toMatchObject({ __typename: "NotFoundError", code: "NOT_FOUND" });
      }
      if (mode !== "free") expect(ok(client) ? "client first" : "deletion first", report).toBe(mode);

      const rows = await tenantRows(w.tenant.organizationId);
      expectConsistent(rows, report);
      expect(
        rows.databases.some((d) => d.id === localIdOf(databaseId)),
        report,
      ).toBe(ok(client));
      const there = rows.clients.filter((c) => c.environmentId === localIdOf(environmentId));
      expect(
        there.map((c) => c.databaseId),
        report,
      ).toEqual(ok(client) ? [localIdOf(databaseId)] : []);
      await expectAudited(w, mark, [client, deletion], report);

      // The pipeline as before for the next round: what is left is taken down, top-down.
      if (ok(client)) {
        await must(w, "deleteClient", { clientId: client.result!.client.id });
        await must(w, "deleteDatabase", { databaseId });
      }
      await must(w, "deleteEnvironment", { environmentId });
      return ok(client) ? "client" : "deletion";
    }

    it(`${FREE_ROUNDS} free rounds`, async () => {
      const w = await world("lc-database-free");
      for (let r = 0; r < FREE_ROUNDS; r++) await round(w, r, "free");
    });

    it("forced: the creation holds the database shared and waits to commit, the deletion waits for it: IN_USE", async () => {
      const w = await world("lc-database-client-first");
      for (let r = 0; r < 2; r++) expect(await round(w, r, "client first")).toBe("client");
    });

    it("forced: the deletion holds the database and waits to commit, the creation waits for it: NOT_FOUND", async () => {
      const w = await world("lc-database-deletion-first");
      for (let r = 0; r < 2; r++) expect(await round(w, r, "deletion first")).toBe("deletion");
    });
  });

  /*
   * 2. An environment deleted while something is created in it: either what was created exists and
   * the deletion answered IN_USE naming it, or the environment is deleted and the creation answered
   * NOT_FOUND — never a database or a client in a deleted environment. A client needs a database of
   * its environment, so its race has three competitors: the creation, and an ADMIN deleting the
   * database and the environment at once.
   */
  describe("deleteEnvironment while a database is created there", () => {
    type Mode = "free" | "creation first" | "deletion first";

    async function round(w: World, r: number, mode: Mode): Promise<"database" | "deletion"> {
      const environmentId = await createEnvironment(w, `qa-${r}`, 100);
      const name = `late-${r}`;
      const create = () => run(w, "createDatabase", { environmentId, name });
      const remove = () => run(w, "deleteEnvironment", { environmentId }, environmentId);
      const mark = await auditMark(w);
      const since = logs.length;
      const [database, deletion] =
        mode === "free"
          ? await free([create, remove], freeOrder(r).first, freeOrder(r).delay)
          : mode === "creation first"
            ? await heldWhile(organizationRow(w), [create, remove])
            : (await heldWhile(organizationRow(w), [remove, create])).reverse();
      const report = expectTyped([database, deletion], ["IN_USE", "NOT_FOUND"], since, { round: r, mode });
      expect(ok(database) !== ok(deletion), report).toBe(true);
      if (ok(database)) {
        expect(deletion.result, report).toMatchObject({ code: "IN_USE", references: [`database "${name}"`] });
      } else {
        expect(database.result, report).toMatchObject({ __typename: "NotFoundError", code: "NOT_FOUND" });
      }
      if (mode !== "free") expect(ok(database) ? "creation first" : "deletion first", report).toBe(mode);

      const rows = await tenantRows(w.tenant.organizationId);
      expectConsistent(rows, report);
      expect(environmentRow(rows, environmentId).deletedAt !== null, report).toBe(ok(deletion));
      expect(
        rows.databases.some((d) => d.name === name),
        report,
      ).toBe(ok(database));
      await expectAudited(w, mark, [database, deletion], report);

      if (ok(database)) {
        await must(w, "deleteDatabase", { databaseId: database.result!.database.id });
        await must(w, "deleteEnvironment", { environmentId });
      }
      return ok(database) ? "database" : "deletion";
    }

    it(`${FREE_ROUNDS} free rounds`, async () => {
      const w = await world("lc-environment-database-free");
      for (let r = 0; r < FREE_ROUNDS; r++) await round(w, r, "free");
    });

    it("forced: the creation holds the environment shared and waits to commit, the deletion waits for it: IN_USE", async () => {
      const w = await world("lc-environment-database-creation-first");
      for (let r = 0; r < 2; r++) expect(await round(w, r, "creation first")).toBe("database");
    });

    it("forced: the deletion holds the environments and waits to commit, the creation waits for it: NOT_FOUND", async () => {
      const w = await world("lc-environment-database-deletion-first");
      for (let r = 0; r < 2; r++) expect(await round(w, r, "deletion first")).toBe("deletion");
    });
  });

  describe("deleteEnvironment (and its database) while a client is created there", () => {
    /**
     * free: the three at once. creation first (committing): the creation has written everything and
     * waits to commit. creation first (writing): the creation holds the environment's and the
     * database's rows shared and waits for its configuration lock, before it writes anything.
     * deletion first: the database is already deleted; the environment's deletion waits to commit.
     */
    type Mode = "free" | "creation first (committing)" | "creation first (writing)" | "deletion first";

    async function round(w: World, r: number, mode: Mode): Promise<"client" | "deletion" | "neither"> {
      // On top of the pipeline: the new client copies staging's configuration (the nearest client below).
      const environmentId = await createEnvironment(w, `edge-${r}`, 100);
      const databaseId = await createDatabase(w.api, { environmentId, name: `edge-users-${r}` });
      const create = () =>
        run(w, "createClient", { applicationId: w.applicationId, environmentId, databaseId, redirectUris: [], allowedOrigins: [] });
      const removeDatabase = () => run(w, "deleteDatabase", { databaseId }, databaseId);
      const removeEnvironment = () => run(w, "deleteEnvironment", { environmentId }, environmentId);
      let outcomes: Outcome[];
      const mark = await auditMark(w);
      const since = logs.length;
      if (mode === "free") {
        outcomes = await free([create, removeDatabase, removeEnvironment], r % 3, (r * 3) % 7);
      } else if (mode === "creation first (committing)") {
        outcomes = await heldWhile(organizationRow(w), [create, removeDatabase, removeEnvironment]);
      } else if (mode === "creation first (writing)") {
        outcomes = await heldWhile(configurationLock(w, environmentId), [create, removeDatabase, removeEnvironment]);
      } else {
        const databaseGone = await removeDatabase();
        const [environmentGone, client] = await heldWhile(organizationRow(w), [removeEnvironment, create]);
        outcomes = [client, databaseGone, environmentGone];
      }
      const [client, databaseDeletion, environmentDeletion] = outcomes;
      const report = expectTyped(outcomes, ["IN_USE", "NOT_FOUND"], since, { round: r, mode });
      if (ok(client)) {
        expect(databaseDeletion.result, report).toMatchObject({ code: "IN_USE" });
        expect(environmentDeletion.result, report).toMatchObject({ code: "IN_USE" });
        // The database stays (its deletion was refused): the environment's refusal names it; it names the
        // client too when the client committed first (in a free round the environment's deletion may
        // have looked, and been refused for the database, before the creation committed).
        expect(environmentDeletion.result!.references, report).toContain(`database "edge-users-${r}"`);
        if (mode.startsWith("creation first")) {
          expect(environmentDeletion.result!.references, report).toContain(`client "${client.result!.client.name}" of Customer Portal`);
        }
      } else {
        expect(client.result, report).toMatchObject({ __typename: "NotFoundError", code: "NOT_FOUND" });
        // The client could only lose to the database's deletion (or to the environment's, which needs that one).
        expect(ok(databaseDeletion), report).toBe(true);
      }
      if (ok(environmentDeletion)) expect(ok(client), report).toBe(false);
      if (mode.startsWith("creation first")) expect(ok(client), report).toBe(true);
      if (mode === "deletion first") {
        expect(ok(environmentDeletion), report).toBe(true);
        expect(client.result!.message, report).toMatch(/environment/i);
      }

      const rows = await tenantRows(w.tenant.organizationId);
      expectConsistent(rows, report);
      expect(environmentRow(rows, environmentId).deletedAt !== null, report).toBe(ok(environmentDeletion));
      expect(rows.clients.filter((c) => c.environmentId === localIdOf(environmentId)).length, report).toBe(ok(client) ? 1 : 0);
      await expectAudited(w, mark, outcomes, report);

      // The next round starts with the pipeline as before: what is left is taken down, top-down.
      if (ok(client)) await must(w, "deleteClient", { clientId: client.result!.client.id });
      if (!ok(databaseDeletion)) await must(w, "deleteDatabase", { databaseId });
      if (!ok(environmentDeletion)) await must(w, "deleteEnvironment", { environmentId });
      return ok(client) ? "client" : ok(environmentDeletion) ? "deletion" : "neither";
    }

    it(`${FREE_ROUNDS} free rounds`, async () => {
      const w = await world("lc-environment-client-free");
      for (let r = 0; r < FREE_ROUNDS; r++) await round(w, r, "free");
    });

    it("forced: the creation waits to commit while both deletions wait for it: IN_USE twice", async () => {
      const w = await world("lc-environment-client-committing");
      for (let r = 0; r < 2; r++) expect(await round(w, r, "creation first (committing)")).toBe("client");
    });

    it("forced: the creation holds the environment and waits before writing while the deletions queue: no deadlock, IN_USE twice", {
      timeout: 30_000,
    }, async () => {
      const w = await world("lc-environment-client-writing");
      for (let r = 0; r < 2; r++) expect(await round(w, r, "creation first (writing)")).toBe("client");
    });

    it("forced: the environment's deletion waits to commit, the creation waits for it: NOT_FOUND", async () => {
      const w = await world("lc-environment-client-deletion-first");
      for (let r = 0; r < 2; r++) expect(await round(w, r, "deletion first")).toBe("deletion");
    });
  });

  /*
   * 3. A journey retired in development while a propagation development → staging runs (all of it,
   * or that journey's changes): whichever commits first, development ends retired, and staging
   * either has the journey with one REMOVED change left to promote, or has it retired by the
   * propagation; versions gapless, no head at a tombstone.
   */
  describe("retireJourney while a propagation of the journey runs", () => {
    type Mode = "free" | "retirement first" | "propagation first";

    const consent = (key: string) => ({
      key,
      type: "CONSENT",
      name: `Consent ${key}`,
      enabled: true,
      settings: { documents: [{ id: "terms", version: "1" }] },
      transitions: [
        { outcome: "success", to: "COMPLETE" },
        { outcome: "failure", to: "DENY" },
      ],
    });

    async function round(w: World, r: number, mode: Mode, kind: "promoteNow" | "propagateChanges"): Promise<"retirement" | "propagation"> {
      const key = `journey-${r}`;
      const journeyId = await createJourney(w.api, { applicationId: w.applicationId, key, name: `Journey ${r}`, type: "LOGIN" });
      const toStaging = { applicationId: w.applicationId, fromEnvironmentId: w.env.development, toEnvironmentId: w.env.staging };
      await must(w, "promoteNow", toStaging);
      // Development one edit ahead of staging.
      const ids = { journeyId, environmentId: w.env.development };
      const { draft } = await must(w, "saveJourneyStep", { ...ids, step: consent(`consent-${r}`) });
      await must(w, "saveJourney", { ...ids, draftRevision: draft.revision, comment: `edit ${r}` });

      const retire = () => run(w, "retireJourney", { ...ids, comment: `retired ${r}` }, journeyId);
      const propagate = () =>
        kind === "promoteNow"
          ? run(w, "promoteNow", { ...toStaging, comment: `promote ${r}` })
          : run(w, "propagateChanges", { ...toStaging, journeyId, selectAll: true, comment: `promote ${r}` });
      const mark = await auditMark(w);
      const since = logs.length;
      const [retirement, propagation] =
        mode === "free"
          ? await free([retire, propagate], freeOrder(r).first, freeOrder(r).delay)
          : mode === "retirement first"
            ? await heldWhile(organizationRow(w), [retire, propagate])
            : (await heldWhile(organizationRow(w), [propagate, retire])).reverse();
      const report = expectTyped([retirement, propagation], [], since, { round: r, mode, kind });
      const items: { path: string; kind: string }[] = propagation.result!.propagation.items;
      const removal = { path: `/journeys/${key}`, kind: "REMOVED" };
      const retiredFirst = items.some((i) => i.path === removal.path);
      if (retiredFirst) expect(items, report).toEqual([removal]);
      else {
        // The edit, and only the edit: the journey's other changes, none of another journey's.
        expect(items, report).toContainEqual({ path: `/journeys/${key}/steps/consent-${r}`, kind: "ADDED" });
        expect(
          items.filter((i) => !i.path.startsWith(`/journeys/${key}/`) || i.kind === "REMOVED"),
          report,
        ).toEqual([]);
      }
      if (mode !== "free") expect(retiredFirst ? "retirement first" : "propagation first", report).toBe(mode);

      const rows = await tenantRows(w.tenant.organizationId);
      expectConsistent(rows, report);
      const local = localIdOf(journeyId);
      const versionsIn = (environmentId: string) =>
        rows.journeyVersions.filter((v) => v.journeyId === local && v.environmentId === localIdOf(environmentId));
      const headIn = (environmentId: string) =>
        rows.journeyHeads.find((h) => h.journeyId === local && h.environmentId === localIdOf(environmentId));
      // Development: created, edited, retired.
      expect(
        versionsIn(w.env.development).map((v) => ({ version: v.version, retired: v.retired, origin: v.origin })),
        report,
      ).toEqual([
        { version: 1, retired: false, origin: "SAVE" },
        { version: 2, retired: false, origin: "SAVE" },
        { version: 3, retired: true, origin: "SAVE" },
      ]);
      expect(headIn(w.env.development), report).toBeUndefined();
      const edited = versionsIn(w.env.development)[1];
      const staging = versionsIn(w.env.staging);
      const diff = async () => (await w.api.data(DIFF, { a: w.applicationId, from: w.env.development, to: w.env.staging, journeyId })).diff;
      if (retiredFirst) {
        // Staging: promoted, then retired by the propagation (the edit never reached it).
        expect(
          staging.map((v) => ({ version: v.version, retired: v.retired, origin: v.origin })),
          report,
        ).toEqual([
          { version: 1, retired: false, origin: "PROPAGATION" },
          { version: 2, retired: true, origin: "PROPAGATION" },
        ]);
        expect(headIn(w.env.staging), report).toBeUndefined();
        expect(await diff(), report).toEqual({ status: "IN_SYNC", changes: [] });
      } else {
        // Staging: has the edit; the retirement is one REMOVED change away.
        expect(
          staging.map((v) => ({ version: v.version, retired: v.retired })),
          report,
        ).toEqual([
          { version: 1, retired: false },
          { version: 2, retired: false },
        ]);
        expect(headIn(w.env.staging)?.hash, report).toBe(edited.hash);
        expect(await diff(), report).toEqual({ status: "OUT_OF_SYNC", changes: [removal] });
      }
      await expectAudited(w, mark, [retirement, propagation], report);

      // Staging in sync for the next round: a promoted removal retires the journey there.
      if (!retiredFirst) {
        const promoted = await must(w, "promoteNow", toStaging);
        expect(promoted.propagation.items, report).toEqual([removal]);
        const after = await tenantRows(w.tenant.organizationId);
        expectConsistent(after, report);
        expect(after.journeyHeads.filter((h) => h.journeyId === local && h.environmentId === localIdOf(w.env.staging))).toEqual([]);
        const last = after.journeyVersions.filter((v) => v.journeyId === local && v.environmentId === localIdOf(w.env.staging)).at(-1);
        expect({ version: last?.version, retired: last?.retired, origin: last?.origin }).toEqual({
          version: 3,
          retired: true,
          origin: "PROPAGATION",
        });
      }
      return retiredFirst ? "retirement" : "propagation";
    }

    it(`${FREE_ROUNDS} free rounds, with promoteNow and with propagateChanges of the journey`, async () => {
      const w = await world("lc-retire-free");
      for (let r = 0; r < FREE_ROUNDS; r++) await round(w, r, "free", r % 4 < 2 ? "promoteNow" : "propagateChanges");
    });

    it("forced: the retirement waits to commit, the propagation waits for development: it promotes the removal", async () => {
      const w = await world("lc-retire-first");
      expect(await round(w, 0, "retirement first", "promoteNow")).toBe("retirement");
      expect(await round(w, 1, "retirement first", "propagateChanges")).toBe("retirement");
    });

    it("forced: the propagation waits to commit, the retirement waits for development: one REMOVED change left", async () => {
      const w = await world("lc-retire-propagation-first");
      expect(await round(w, 0, "propagation first", "promoteNow")).toBe("propagation");
      expect(await round(w, 1, "propagation first", "propagateChanges")).toBe("propagation");
    });
  });

  /*
   * 4. An application archived while writes to it run (saves, a client settings edit, a rename, a
   * promotion): each write committed before the archive, or answered ARCHIVED; nothing written to
   * the application is later than its archiving.
   */
  describe("archiveApplication while writes to the application run", () => {
    type Mode = "free" | "writes first" | "archive first";

    const extraStep = (key: string) => ({
      key,
      type: "CONSENT",
      name: `Consent ${key}`,
      enabled: true,
      settings: { documents: [{ id: "terms", version: "1" }] },
      transitions: [
        { outcome: "success", to: "COMPLETE" },
        { outcome: "failure", to: "DENY" },
      ],
    });

    async function round(w: World, r: number, mode: Mode): Promise<string[]> {
      const journeys = [w.catalogue.journeys.login, w.catalogue.journeys.registration];
      const revisions: number[] = [];
      for (const journeyId of journeys) {
        const { draft } = await must(w, "saveJourneyStep", {
          journeyId,
          environmentId: w.env.development,
          step: extraStep(`archive-${r}`),
        });
        revisions.push(draft.revision);
      }
      const writes = [
        ...journeys.map(
          (journeyId, i) => () =>
            run(w, "saveJourney", { journeyId, environmentId: w.env.development, draftRevision: revisions[i], comment: `round ${r}` }),
        ),
        () =>
          run(w, "updateClient", {
            clientId: w.catalogue.clientId,
            settings: { accessTokenTtlSeconds: 1800 + 60 * r },
            comment: `round ${r}`,
          }),
        () => run(w, "updateJourney", { journeyId: w.catalogue.journeys.login, name: `Login ${r}` }, w.catalogue.journeys.login),
        () =>
          run(w, "promoteNow", {
            applicationId: w.applicationId,
            fromEnvironmentId: w.env.development,
            toEnvironmentId: w.env.staging,
            comment: `round ${r}`,
          }),
      ];
      const archive = () => run(w, "archiveApplication", { applicationId: w.applicationId }, w.applicationId);
      const mark = await auditMark(w);
      const since = logs.length;
      let outcomes: Outcome[];
      if (mode === "free") {
        // The archive among the writes, at a different place each round.
        const all = [...writes];
        all.splice(r % (writes.length + 1), 0, archive);
        outcomes = await free(all, 0, r % 3);
      } else if (mode === "writes first") {
        outcomes = await heldWhile(organizationRow(w), [...writes, archive]);
      } else {
        outcomes = await heldWhile(organizationRow(w), [archive, ...writes]);
      }
      const archived = outcomes.find((o) => o.action === "archiveApplication")!;
      const written = outcomes.filter((o) => o !== archived);
      // A promotion that ran before any save found nothing to promote.
      const report = expectTyped(outcomes, ["ARCHIVED", "NOTHING_TO_PROPAGATE"], since, { round: r, mode });
      expect(ok(archived), report).toBe(true);
      for (const o of written) {
        if (o.action !== "promoteNow") expect(ok(o) || code(o) === "ARCHIVED", report).toBe(true);
      }
      if (mode === "writes first") expect(written.every(ok), report).toBe(true);
      if (mode === "archive first") expect(written.map(code), report).toEqual(written.map(() => "ARCHIVED"));

      const rows = await tenantRows(w.tenant.organizationId);
      expectConsistent(rows, report);
      const archivedAt = rows.applications.find((a) => a.id === localIdOf(w.applicationId))!.archivedAt;
      expect(archivedAt, report).not.toBeNull();
      // Nothing written after the archive: every version and propagation is older.
      const later = [
        ...rows.journeyVersions.filter((v) => v.savedAt > archivedAt!).map((v) => `journey version ${v.version}: ${v.comment}`),
        ...rows.clientSettingsVersions.filter((v) => v.savedAt > archivedAt!).map((v) => `settings version ${v.version}: ${v.comment}`),
        ...rows.propagations.filter((p) => p.createdAt > archivedAt!).map((p) => `propagation ${p.comment}`),
      ];
      expect(later, report).toEqual([]);
      // Each successful write is there, and nothing of a refused one.
      const development = localIdOf(w.env.development);
      const saved = rows.journeyVersions.filter((v) => v.environmentId === development && v.comment === `round ${r}`);
      expect(saved.length, report).toBe(written.filter((o) => o.action === "saveJourney" && ok(o)).length);
      const settings = rows.clientSettingsVersions.filter(
        (v) => v.clientId === localIdOf(w.catalogue.clientId) && v.comment === `round ${r}`,
      );
      expect(settings.length, report).toBe(written.filter((o) => o.action === "updateClient" && ok(o)).length);
      const promoted = rows.propagations.filter((p) => p.comment === `round ${r}`);
      expect(promoted.length, report).toBe(written.filter((o) => o.action === "promoteNow" && ok(o)).length);
      const renamed = rows.journeys.find((j) => j.id === localIdOf(w.catalogue.journeys.login))!.name === `Login ${r}`;
      expect(renamed, report).toBe(ok(written.find((o) => o.action === "updateJourney")!));
      await expectAudited(w, mark, outcomes, report);

      // Still archived: a write now is refused.
      const late = await run(w, "updateJourney", { journeyId: w.catalogue.journeys.login, name: "Too late" });
      expect(code(late), JSON.stringify(late)).toBe("ARCHIVED");
      await must(w, "unarchiveApplication", { applicationId: w.applicationId });
      return written.filter(ok).map((o) => o.action);
    }

    it("4 free rounds", async () => {
      const w = await world("lc-archive-free");
      for (let r = 0; r < 4; r++) await round(w, r, "free");
    });

    it("forced: every write waits to commit, the archive waits for them: all committed", async () => {
      const w = await world("lc-archive-writes-first");
      for (let r = 0; r < 2; r++) expect(await round(w, r, "writes first")).toHaveLength(5);
    });

    it("forced: the archive waits to commit, every write waits for it: all ARCHIVED", async () => {
      const w = await world("lc-archive-first");
      for (let r = 0; r < 2; r++) expect(await round(w, r, "archive first")).toEqual([]);
    });
  });

  /*
   * 5. A middle environment deleted while a propagation into the environment above it runs (and a
   * save in development): the deletion locks every environment's row, then every application's sync states;
   * the propagation locks its target's row shared, then records its versions, its propagation and
   * its notifications (rows referencing the environments). No deadlock: both succeed, the pipeline
   * closes up, staging has the change, and the last notification of every state is the state now.
   */
  describe("deleteEnvironment of a middle environment while a propagation into the one above it runs", () => {
    type Mode = "free" | "propagation first (committing)" | "propagation first (writing)" | "deletion first";

    const password = (minLength: number) => ({
      key: "password",
      type: "PASSWORD",
      name: "Password",
      enabled: true,
      settings: { minLength },
      transitions: [
        { outcome: "success", to: "email-otp" },
        { outcome: "failure", to: "DENY" },
      ],
    });

    type StateView = { status: string; changeCount?: number };

    async function currentStates(w: World): Promise<Record<string, StateView>> {
      const application = (await w.api.data(SYNC_STATES, { a: w.applicationId })).node;
      const current: Record<string, StateView> = {};
      for (const journey of application.journeys) {
        for (const state of journey.syncStates)
          current[`${journey.key} in ${state.environment.key}`] = { status: state.status, changeCount: state.changeCount };
      }
      for (const client of application.clients) {
        if (client.environment.key !== "development")
          current[`client settings in ${client.environment.key}`] = { status: client.syncStatus };
      }
      return current;
    }

    /** The last notification of every state, for the environments of `keys` (a deleted environment's are history). */
    async function lastNotified(w: World, keys: string[]): Promise<Record<string, StateView>> {
      const last: Record<string, StateView> = {};
      for (let after: string | null = null; ; ) {
        const page: {
          edges: { node: { status: string; changeCount: number; journey: { key: string } | null; environment: { key: string } } }[];
          pageInfo: { hasNextPage: boolean; endCursor: string };
        } = (await w.api.data(NOTIFICATIONS, { a: w.applicationId, after })).syncNotifications;
        for (const { node } of page.edges) {
          if (!keys.includes(node.environment.key)) continue;
          last[`${node.journey?.key ?? "client settings"} in ${node.environment.key}`] = node.journey
            ? { status: node.status, changeCount: node.changeCount }
            : { status: node.status };
        }
        if (!page.pageInfo.hasNextPage) return last;
        after = page.pageInfo.endCursor;
      }
    }

    async function round(w: World, r: number, mode: Mode): Promise<void> {
      const middle = await createEnvironment(w, `qa-${r}`, 1);
      const login = { journeyId: w.catalogue.journeys.login, environmentId: w.env.development };
      const registration = { journeyId: w.catalogue.journeys.registration, environmentId: w.env.development };
      // Development one save ahead of staging; registration's next save drafted.
      const { draft } = await must(w, "saveJourneyStep", { ...login, step: password(14 + r) });
      await must(w, "saveJourney", { ...login, draftRevision: draft.revision, comment: `login ${r}` });
      const next = (
        await must(w, "saveJourneyStep", {
          ...registration,
          step: {
            key: `consent-${r}`,
            type: "CONSENT",
            name: `Consent ${r}`,
            enabled: true,
            settings: { documents: [{ id: "terms", version: "1" }] },
            transitions: [
              { outcome: "success", to: "COMPLETE" },
              { outcome: "failure", to: "DENY" },
            ],
          },
        })
      ).draft.revision;

      const remove = () => run(w, "deleteEnvironment", { environmentId: middle }, middle);
      const promote = () =>
        run(w, "promoteNow", {
          applicationId: w.applicationId,
          fromEnvironmentId: w.env.development,
          toEnvironmentId: w.env.staging,
          comment: `promote ${r}`,
        });
      const save = () => run(w, "saveJourney", { ...registration, draftRevision: next, comment: `registration ${r}` });
      const mark = await auditMark(w);
      const since = logs.length;
      let deletion: Outcome;
      let propagation: Outcome;
      let saved: Outcome | undefined;
      if (mode === "free") {
        [deletion, propagation, saved] = await free([remove, promote, save], r % 3, (r * 3) % 7);
      } else if (mode === "propagation first (committing)") {
        [propagation, deletion] = await heldWhile(organizationRow(w), [promote, remove]);
      } else if (mode === "propagation first (writing)") {
        // The propagation holds staging's row shared (its approval policy) and waits for staging's configuration lock.
        [propagation, deletion] = await heldWhile(configurationLock(w, w.env.staging), [promote, remove]);
      } else {
        [deletion, propagation] = await heldWhile(organizationRow(w), [remove, promote]);
      }
      const outcomes = [deletion, propagation, ...(saved ? [saved] : [])];
      const report = expectTyped(outcomes, [], since, { round: r, mode });
      expect(outcomes.every(ok), report).toBe(true);
      expect(
        (propagation.result!.propagation.items as { path: string }[]).map((i) => i.path),
        report,
      ).toContain("/journeys/login/steps/password/settings/minLength");

      const rows = await tenantRows(w.tenant.organizationId);
      expectConsistent(rows, report);
      expect(environmentRow(rows, middle).deletedAt, report).not.toBeNull();
      expect(
        rows.environments
          .filter((e) => e.deletedAt === null)
          .sort((a, b) => a.rank - b.rank)
          .map((e) => e.key),
        report,
      ).toEqual(["development", "staging", "production"]);
      // Staging has login as development saved it.
      const loginId = localIdOf(w.catalogue.journeys.login);
      const headOf = (environmentId: string) =>
        rows.journeyHeads.find((h) => h.journeyId === loginId && h.environmentId === localIdOf(environmentId))!;
      expect(headOf(w.env.staging).hash, report).toBe(headOf(w.env.development).hash);
      // Staging's states (production has no client: NOT_CREATED, never notified).
      const current = Object.fromEntries(Object.entries(await currentStates(w)).filter(([k]) => k.endsWith(" in staging")));
      expect(Object.keys(current), report).toHaveLength(3);
      expect(await lastNotified(w, ["staging"]), report).toEqual(current);
      await expectAudited(w, mark, outcomes, report);
      if (!saved) await must(w, "saveJourney", { ...registration, draftRevision: next, comment: `registration ${r}` });
    }

    it(`${FREE_ROUNDS} free rounds, with a save in development among them`, { timeout: 30_000 }, async () => {
      const w = await world("lc-middle-free");
      for (let r = 0; r < FREE_ROUNDS; r++) await round(w, r, "free");
    });

    it("forced: the propagation waits to commit, the deletion waits for it: both succeed", async () => {
      const w = await world("lc-middle-propagation-committing");
      for (let r = 0; r < 2; r++) await round(w, r, "propagation first (committing)");
    });

    it("forced: the propagation holds staging's row and waits before writing, the deletion queues: no deadlock, both succeed", {
      timeout: 30_000,
    }, async () => {
      const w = await world("lc-middle-propagation-writing");
      for (let r = 0; r < 2; r++) await round(w, r, "propagation first (writing)");
    });

    it("forced: the deletion waits to commit, the propagation waits for it: both succeed", async () => {
      const w = await world("lc-middle-deletion-first");
      for (let r = 0; r < 2; r++) await round(w, r, "deletion first");
    });

    /*
     * The sync states and the organization's row against the environments' rows: a client settings
     * edit in development locks no environment's row before it records its notifications (staging's
     * client state, which compares with development). Forced: the edit holds its sync states and the
     * organization's row and is about to insert its notifications (the test holds the table in SHARE
     * mode) when the deletion of an empty environment locks every environment's row and waits for
     * the sync states; then the edit's insert needs the rows its notifications reference.
     */
    it("forced: a settings edit holds its sync states and the organization's row while the deletion of another environment locks every row: no deadlock", {
      timeout: 30_000,
    }, async () => {
      const w = await world("lc-notification-lock");
      for (let r = 0; r < 2; r++) {
        const top = await createEnvironment(w, `top-${r}`, 100);
        const edit = () =>
          run(w, "updateClient", {
            clientId: w.catalogue.clientId,
            settings: { accessTokenTtlSeconds: 1800 + 60 * (r + 1) },
            comment: `settings ${r}`,
          });
        const remove = () => run(w, "deleteEnvironment", { environmentId: top }, top);
        const mark = await auditMark(w);
        const since = logs.length;
        const outcomes = await heldWhile(sql`lock table sync_notifications in share mode`, [edit, remove]);
        const report = expectTyped(outcomes, [], since, { round: r });
        expect(outcomes.every(ok), report).toBe(true);

        const rows = await tenantRows(w.tenant.organizationId);
        expectConsistent(rows, report);
        expect(environmentRow(rows, top).deletedAt, report).not.toBeNull();
        expect(
          rows.clientSettingsVersions.filter((v) => v.comment === `settings ${r}`),
          report,
        ).toHaveLength(1);
        const current = Object.fromEntries(Object.entries(await currentStates(w)).filter(([k]) => k.endsWith(" in staging")));
        expect(current["client settings in staging"], report).toEqual({ status: "OUT_OF_SYNC" });
        expect(await lastNotified(w, ["staging"]), report).toEqual(current);
        await expectAudited(w, mark, outcomes, report);
      }
    });
  });

  /*
   * 6. A draft edit racing a retirement (or a client's deletion) in the same environment: the edit
   * takes the configuration lock shared, the retirement exclusively and then looks for drafts — so
   * either the edit commits first and the retirement answers DRAFT_CONFLICT, or the retirement
   * commits first and the edit is refused; never a draft left behind a retired journey.
   */
  describe("a draft edit while the journey is retired", () => {
    it("free rounds: one of the two wins, typed, and no draft outlives a retirement", { timeout: 60_000 }, async () => {
      const w = await world("lc-draft-retire");
      for (let r = 0; r < FREE_ROUNDS; r++) {
        const key = `draft-race-${r}`;
        const journeyId = await createJourney(w.api, { applicationId: w.applicationId, key, name: `Draft race ${r}`, type: "LOGIN" });
        const ids = { journeyId, environmentId: w.env.development };
        const step = {
          key: "extra",
          type: "IDENTIFIER",
          name: "Extra",
          enabled: true,
          settings: {},
          transitions: [{ outcome: "success", to: "COMPLETE" }],
        };
        const edit = () => run(w, "saveJourneyStep", { ...ids, step });
        const retire = () => run(w, "retireJourney", { ...ids, comment: `retired ${r}` }, journeyId);
        const mark = await auditMark(w);
        const since = logs.length;
        const [edited, retired] = await free([edit, retire], freeOrder(r).first, freeOrder(r).delay);
        const report = expectTyped([edited, retired], ["DRAFT_CONFLICT", "VALIDATION_FAILED"], since, { round: r });
        expect([ok(edited), ok(retired)], report).not.toEqual([true, true]);
        expect(ok(edited) || ok(retired), report).toBe(true);
        if (ok(retired)) expect(code(edited), report).toBe("VALIDATION_FAILED");
        else expect(code(retired), report).toBe("DRAFT_CONFLICT");

        const rows = await tenantRows(w.tenant.organizationId);
        expectConsistent(rows, report);
        const drafts = rows.journeyDrafts.filter((d) => d.journeyId === localIdOf(journeyId));
        expect(drafts.length, report).toBe(ok(retired) ? 0 : 1);
        await expectAudited(w, mark, [edited, retired], report);
      }
    });
  });
});

/**
 * Our server for the subscribers benchmark, in a process of its own: an embedded PGlite database in
 * a temporary folder, migrated and seeded through the services (an organization with the default
 * pipeline, a database per environment, "Customer Portal" with its `login` journey and clients in
 * development and staging, so staging starts in sync), then `createApp` on a free port. Prints one
 * JSON line — URLs, tokens and global IDs — and serves a probe (`process-probe.ts`) on another port.
 * Stops on SIGTERM.
 *
 * Run with `--expose-gc` (the probe's memory figures are taken after full collections).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Database, migrateDatabase, openDatabase } from "../../src/db/client.js";
import { listEnvironments } from "../../src/db/repositories/environments.js";
import { globalId } from "../../src/graphql/ids.js";
import { type App, createApp } from "../../src/server/app.js";
import { createLogger } from "../../src/server/logger.js";
import type { Actor } from "../../src/services/actor.js";
import { createApplication } from "../../src/services/applications.js";
import { createClient } from "../../src/services/clients.js";
import { createDatabase } from "../../src/services/environments.js";
import { createJourney } from "../../src/services/journeys.js";
import { DEMO_LOGIN } from "../../src/services/seed.js";
import { ensureOrganization, issueToken } from "../../src/services/tokens.js";
import { announce, countLiveSubscriptions, exitWithParent, startProbe } from "./process-probe.js";

const liveSubscriptions = countLiveSubscriptions();

const dataDir = await mkdtemp(join(tmpdir(), "subscribers-bench-"));
let sqlStatements = 0;
let database: Database | undefined;
let app: App | undefined;

/** Stops the server and removes the database folder, however the process is asked to end. */
let stopped: Promise<void> | undefined;
async function shutdown(code: number): Promise<never> {
  stopped ??= (async () => {
    try {
      await app?.stop();
      await database?.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  })();
  await stopped.catch((error: unknown) => console.error(error));
  process.exit(code);
}
process.once("SIGTERM", () => void shutdown(0));
// The bench stopped reading (it is gone): nobody is left to stop this server.
process.stdout.on("error", () => void shutdown(1));
exitWithParent();

/** Seeds through the services, as users would; returns what the bench needs to know. */
async function seed(db: Database["db"]) {
  const { organization } = await ensureOrganization(db, "Subscribers bench");
  const admin = await issueToken(db, { organizationId: organization.id, name: "bench-admin", role: "ADMIN" });
  // A token holds at most 1,000 subscriptions at once: one dashboard token per thousand subscribers.
  const viewers = [];
  for (let i = 0; i < 10; i++)
    viewers.push(await issueToken(db, { organizationId: organization.id, name: `bench-dashboard-${i}`, role: "VIEWER" }));
  const actor: Actor = { organizationId: organization.id, tokenId: admin.apiToken.id, role: "ADMIN", name: "bench-admin" };
  const [development, staging] = await listEnvironments(db, organization.id);
  if (development?.key !== "development" || staging?.key !== "staging") throw new Error("unexpected default pipeline");
  const databaseIn = async (environment: typeof development) =>
    createDatabase(db, actor, { environmentId: environment.id, name: `acme-users-${environment.key}` });
  const developmentDatabase = await databaseIn(development);
  const stagingDatabase = await databaseIn(staging);
  const application = await createApplication(db, actor, { name: "Customer Portal" });
  await createClient(db, actor, {
    applicationId: application.id,
    environmentId: development.id,
    databaseId: developmentDatabase.id,
    redirectUris: ["https://development.portal.example.com/callback"],
    allowedOrigins: ["https://development.portal.example.com"],
  });
  const login = await createJourney(db, actor, {
    applicationId: application.id,
    key: "login",
    name: "Login",
    type: "LOGIN",
    document: DEMO_LOGIN,
  });
  // Creating the staging client copies the journey up: staging starts in sync.
  await createClient(db, actor, {
    applicationId: application.id,
    environmentId: staging.id,
    databaseId: stagingDatabase.id,
    redirectUris: ["https://staging.portal.example.com/callback"],
    allowedOrigins: ["https://staging.portal.example.com"],
  });
  return {
    adminToken: admin.token,
    viewerTokens: viewers.map((v) => v.token),
    applicationId: globalId("Application", application.id),
    journeyId: globalId("Journey", login.id),
    developmentId: globalId("Environment", development.id),
    stagingId: globalId("Environment", staging.id),
  };
}

try {
  database = await openDatabase({ dataDir, onQuery: () => sqlStatements++ });
  await migrateDatabase({ database });
  const seeded = await seed(database.db);
  await database.analyze();
  app = createApp({ database, logger: createLogger("silent") });
  const url = await app.start(0, "127.0.0.1");
  const probeUrl = await startProbe(() => ({ subscribers: liveSubscriptions(), sqlStatements }));
  announce({ url: `${url}/graphql`, wsUrl: `${url.replace(/^http/, "ws")}/graphql`, probeUrl, ...seeded });
} catch (error) {
  console.error(error);
  await shutdown(1);
}

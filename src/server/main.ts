import { migrateDatabase, openDatabase } from "../db/client.js";
import { isEmpty, seedDemo } from "../services/seed.js";
import { createApp } from "./app.js";
import { createLogger } from "./logger.js";
import { loadKeyring } from "./secret-keys.js";
import { loadSettings } from "./settings.js";

const settings = loadSettings(process.env);
const logger = createLogger(settings.logLevel);
const where = settings.databaseUrl ? { url: settings.databaseUrl } : { dataDir: settings.dataDir };

/**
 * SIGTERM and SIGINT stop the server: it stops listening, closes its connections and the database (PGlite's data
 * folder is left ready for the next start) and exits 0. `npm start` and `npm run start:prod` `exec` this process
 * from npm's shell, so npm's signal forwarding reaches it (see ARCHITECTURE.md). A signal that arrives while
 * the server is starting is kept and acted on once it has started, so a migration or the seed is never cut short.
 * A shutdown that outlasts SHUTDOWN_LIMIT_MS (app.stop() gives open connections 5 s, postgres.js 5 s) exits 1.
 */
const SHUTDOWN_LIMIT_MS = 15_000;
let started = false;
let signalled: NodeJS.Signals | undefined;
function onSignal(signal: NodeJS.Signals) {
  // Ctrl+C in a terminal signals npm and the server alike, and npm forwards its copy: act on the first one only.
  if (signalled) return;
  signalled = signal;
  if (started) void shutdown(signal);
  else logger.info({ signal }, "stopping once started");
}
process.on("SIGTERM", () => onSignal("SIGTERM"));
process.on("SIGINT", () => onSignal("SIGINT"));

// Before the database: a server that could not read its secrets does not start at all.
const keyring = loadKeyring(settings);
await migrateDatabase(where);
const database = await openDatabase({ ...where, poolSize: settings.databasePoolSize });
const app = createApp({
  database,
  logger,
  introspection: settings.introspection,
  responseCache: settings.responseCache,
  corsOrigins: settings.corsOrigins,
  persistedDocuments: settings.persistedDocuments,
  keyring,
});

let seeded: string | null = null;
if (settings.seedDemo && (await isEmpty(database.db))) {
  seeded = (await seedDemo(database.db, keyring)).token;
  logger.info("seeded the demo organization");
}

await database.analyze();
const url = await app.start(settings.port, settings.host);
logger.info({ url: `${url}/graphql`, database: database.kind }, "listening");
// The dashboard is bundled (or the built pages read) while the API already answers; a failure leaves the API up.
app.preparePages().then(
  () => logger.debug("pages ready"),
  (error) => logger.error({ err: error }, "the pages (GraphiQL, the dashboard) could not be prepared"),
);
console.log(`\nDashboard: ${url}/dashboard\nGraphiQL: ${url}/graphql`);
if (seeded) {
  console.log(`Admin token of the demo organization (shown once; send it as "Authorization: Bearer <token>"):\n${seeded}\n`);
} else {
  console.log(`New token: stop the server, then npm run token -- --org <name> --role ADMIN (or use createApiToken)\n`);
}

async function shutdown(signal: NodeJS.Signals) {
  logger.info({ signal }, "shutting down");
  setTimeout(() => {
    logger.error({ limitMs: SHUTDOWN_LIMIT_MS }, "not stopped in time; exiting");
    process.exit(1);
  }, SHUTDOWN_LIMIT_MS).unref();
  let code = 0;
  try {
    await app.stop();
  } catch (error) {
    code = 1;
    logger.error({ err: error }, "stopping the server failed");
  }
  try {
    await database.close();
  } catch (error) {
    code = 1;
    logger.error({ err: error }, "closing the database failed");
  }
  logger.info("stopped");
  process.exit(code);
}

started = true;
if (signalled) void shutdown(signalled);

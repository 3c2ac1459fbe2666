import { migrateDatabase, openDatabase } from "../db/client.js";
import { isEmpty, seedDemo } from "../services/seed.js";
import { createApp } from "./app.js";
import { createLogger } from "./logger.js";
import { loadSettings } from "./settings.js";

const settings = loadSettings(process.env);
const logger = createLogger(settings.logLevel);
const where = settings.databaseUrl ? { url: settings.databaseUrl } : { dataDir: settings.dataDir };

await migrateDatabase(where);
const database = await openDatabase({ ...where, poolSize: settings.databasePoolSize });
const app = createApp({ database, logger, introspection: settings.introspection, responseCache: settings.responseCache });

let seeded: string | null = null;
if (settings.seedDemo && (await isEmpty(database.db))) {
  seeded = (await seedDemo(database.db)).token;
  logger.info("seeded the demo organization");
}

await database.analyze();
const url = await app.start(settings.port, settings.host);
logger.info({ url: `${url}/graphql`, database: database.kind }, "listening");
console.log(`\nGraphiQL: ${url}/graphql`);
if (seeded) {
  console.log(`Admin token of the demo organization (shown once; send it as "Authorization: Bearer <token>"):\n${seeded}\n`);
} else {
  console.log(`New token: stop the server, then npm run token -- --org <name> --role ADMIN (or use createApiToken)\n`);
}

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "shutting down");
  await app.stop();
  await database.close();
  logger.info("stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));

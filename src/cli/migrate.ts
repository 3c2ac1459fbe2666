import { migrateDatabase } from "../db/client.js";
import { loadSettings } from "../server/settings.js";

const settings = loadSettings(process.env);
await migrateDatabase({ url: settings.databaseUrl, dataDir: settings.dataDir });
console.log(`migrations applied to ${settings.databaseUrl ? "the PostgreSQL server" : settings.dataDir}`);

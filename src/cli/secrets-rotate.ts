import { migrateDatabase, openDatabase } from "../db/client.js";
import { loadKeyring } from "../server/secret-keys.js";
import { loadSettings } from "../server/settings.js";
import { rotateSecrets } from "../services/variables.js";

/*
 * npm run secrets:rotate — re-seals every secret under SECRETS_KEY, opening what an earlier key sealed
 * with SECRETS_KEY_PREVIOUS. Safe to run while servers run (they need both variables set until it has
 * finished) and to run again: it continues where it stopped. On the embedded database, stop the
 * server first (one process at a time owns the data folder).
 */
const settings = loadSettings(process.env);
if (!settings.secretsKey) {
  console.error("SECRETS_KEY must name the new key (and SECRETS_KEY_PREVIOUS the one secrets are sealed with now)");
  process.exit(2);
}
const where = settings.databaseUrl ? { url: settings.databaseUrl } : { dataDir: settings.dataDir };
await migrateDatabase(where);
const database = await openDatabase(where);
try {
  const count = await rotateSecrets(database.db, loadKeyring(settings));
  console.log(`re-sealed ${count} secret value${count === 1 ? "" : "s"} under the current key`);
} catch (error) {
  console.error(`rotation stopped: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await database.close();
}

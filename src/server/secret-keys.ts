import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateSecretKey, Keyring, type SecretKey, secretKeyFromBase64 } from "../domain/secret-box.js";

/** The key file of the embedded database, in its data folder. */
export const KEY_FILE = "secrets.key";

export interface SecretKeySettings {
  /** The key that seals (SECRETS_KEY); absent: the embedded database's key file. */
  secretsKey?: SecretKey;
  /** A key that only opens (SECRETS_KEY_PREVIOUS), while `npm run secrets:rotate` re-seals. */
  secretsKeyPrevious?: SecretKey;
  databaseUrl?: string;
  dataDir: string;
}

/**
 * The keyring secrets are sealed and opened with (DESIGN.md §6): SECRETS_KEY when set. Without it,
 * a PostgreSQL server is refused — every instance must seal with the same key, so it cannot be made
 * up here — while the embedded database keeps a key file in its data folder, generated on first use
 * (mode 0600; the folder is created if needed, PGlite initializes in it all the same).
 */
export function loadKeyring(settings: SecretKeySettings): Keyring {
  if (settings.secretsKey) return new Keyring(settings.secretsKey, settings.secretsKeyPrevious);
  if (settings.databaseUrl) {
    throw new Error(
      "Invalid configuration:\n  SECRETS_KEY: required with DATABASE_URL: 32 random bytes in base64 (`openssl rand -base64 32`), the same on every instance; secret values cannot be read without it",
    );
  }
  const file = join(settings.dataDir, KEY_FILE);
  return new Keyring(readOrCreateKey(file), settings.secretsKeyPrevious);
}

function readOrCreateKey(file: string): SecretKey {
  try {
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) throw new Error(`${file} may be read by others (mode ${mode.toString(8)}): chmod 600 ${file}`);
    return secretKeyFromBase64(readFileSync(file, "utf8"), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  mkdirSync(join(file, ".."), { recursive: true });
  const key = generateSecretKey();
  try {
    writeFileSync(file, `${key.material.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
    return key;
  } catch (error) {
    // Another process wrote it first: use that one.
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return secretKeyFromBase64(readFileSync(file, "utf8"), file);
    throw error;
  }
}

import { randomBytes } from "node:crypto";
import { migrateDatabase } from "../../src/db/client.js";

/**
 * On a PostgreSQL server, migrate once before the workers start (PGlite workers migrate their own).
 * Server processes the tests start need SECRETS_KEY with DATABASE_URL, as in production: one key
 * for the whole run, unless the environment gives one.
 */
export default async function setup() {
  process.env.SECRETS_KEY ??= randomBytes(32).toString("base64");
  if (process.env.DATABASE_URL) await migrateDatabase({ url: process.env.DATABASE_URL });
}

import { migrateDatabase } from "../../src/db/client.js";

/** On a PostgreSQL server, migrate once before the workers start (PGlite workers migrate their own). */
export default async function setup() {
  if (process.env.DATABASE_URL) await migrateDatabase({ url: process.env.DATABASE_URL });
}

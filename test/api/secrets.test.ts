import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq, sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { type Database, migrateDatabase, openDatabase } from "../../src/db/client.js";
import { organizations, variableValues } from "../../src/db/schema.js";
import { generateSecretKey, Keyring } from "../../src/domain/secret-box.js";
import { EventHub } from "../../src/events/hub.js";
import { KEY_FILE, loadKeyring } from "../../src/server/secret-keys.js";
import { loadSettings } from "../../src/server/settings.js";
import { createServices } from "../../src/services/index.js";
import { ensureOrganization, issueTokenWithFreeName } from "../../src/services/tokens.js";
import { rotateSecrets, sealedAt } from "../../src/services/variables.js";
import { databaseUrl, testDatabase } from "../support/database.js";

/**
 * The server's key (DESIGN.md §6): SECRETS_KEY, or on the embedded database a key file made once in
 * the data folder; without a key a PostgreSQL server is refused at start with a message saying what
 * to set; `npm run secrets:rotate` re-seals every secret under a new key, losing none.
 */

const root = new URL("../..", import.meta.url).pathname;
const folders: string[] = [];
const folder = () => {
  const made = mkdtempSync(join(tmpdir(), "jp-secrets-"));
  folders.push(made);
  return made;
};
afterAll(() => {
  for (const made of folders) rmSync(made, { recursive: true, force: true });
});

describe("the server's key", () => {
  it("is refused when it is not 32 bytes of base64, without repeating it", () => {
    for (const bad of ["short", Buffer.alloc(31, 1).toString("base64"), `${Buffer.alloc(32, 1).toString("base64")}!!`]) {
      expect(() => loadSettings({ SECRETS_KEY: bad })).toThrow(/SECRETS_KEY must be 32 random bytes in base64/);
      try {
        loadSettings({ SECRETS_KEY: bad });
      } catch (error) {
        expect((error as Error).message).not.toContain(bad);
      }
    }
    expect(loadSettings({ SECRETS_KEY: Buffer.alloc(32, 1).toString("base64") }).secretsKey?.id).toMatch(/^[0-9a-f]{16}$/);
  });

  it("must be given with a PostgreSQL server: start-up refuses and says what to set", () => {
    expect(() => loadKeyring({ databaseUrl: "postgres://db.example/x", dataDir: "./unused" })).toThrow(
      /SECRETS_KEY: required with DATABASE_URL/,
    );
    const started = spawnSync(process.execPath, ["--import", "tsx", `${root}src/server/main.ts`], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: "postgres://postgres@127.0.0.1:1/none", SECRETS_KEY: "", PORT: "0" },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(started.status).not.toBe(0);
    expect(started.stderr).toMatch(/SECRETS_KEY: required with DATABASE_URL/);
  });

  it("is made once in the embedded database's data folder, readable by its owner only, and read back after", () => {
    const dataDir = join(folder(), "data");
    const first = loadKeyring({ dataDir });
    const file = join(dataDir, KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const sealed = first.seal("kept", "here");
    const second = loadKeyring({ dataDir });
    expect(second.currentKeyId).toBe(first.currentKeyId);
    expect(second.open(sealed, "here")).toBe("kept");
    expect(readFileSync(file, "utf8").trim()).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });

  it("refuses a key file others may read", () => {
    const dataDir = folder();
    writeFileSync(join(dataDir, KEY_FILE), `${generateSecretKey().material.toString("base64")}\n`, { mode: 0o644 });
    expect(() => loadKeyring({ dataDir })).toThrow(/may be read by others/);
  });
});

/**
 * A database of its own: rotation re-seals every secret of the database, and the suite's shared one
 * holds other tests' secrets, sealed with keys this test does not have. A scratch database of the
 * PostgreSQL server with DATABASE_URL, else a fresh embedded one.
 */
async function scratchDatabase(): Promise<{ database: Database; drop(): Promise<void> }> {
  if (!databaseUrl) {
    const database = await openDatabase();
    await migrateDatabase({ database });
    return { database, drop: () => database.close() };
  }
  const name = `jp_rotation_${randomBytes(4).toString("hex")}`;
  const { db } = await testDatabase();
  await db.execute(sql.raw(`create database ${name}`));
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  await migrateDatabase({ url: url.toString() });
  const database = await openDatabase({ url: url.toString(), poolSize: 2 });
  return {
    database,
    drop: async () => {
      await database.close();
      await db.execute(sql.raw(`drop database ${name} with (force)`));
    },
  };
}

describe("rotation", () => {
  it("re-seals every secret under the new key, each readable with it alone, and raises the revisions", async () => {
    const { database, drop } = await scratchDatabase();
    try {
      await rotation(database);
    } finally {
      await drop();
    }
  });
});

async function rotation(database: Database) {
  const old = generateSecretKey();
  const services = createServices(database.db, new EventHub(), new Keyring(old));
  const { organization } = await ensureOrganization(database.db, "rotation");
  const issued = await issueTokenWithFreeName(database.db, { organizationId: organization.id, name: "rotation-admin", role: "ADMIN" });
  const actor = (await services.authenticate(issued.token))!.actor;
  const tenant = { organizationId: actor.organizationId };
  const [development] = await services.loaders(actor).environments();
  const plaintexts = new Map<string, string>();
  for (let i = 0; i < 7; i++) {
    const variable = await services.createVariable(actor, { key: `rotation.secret-${i}`, kind: "SECRET" });
    await services.setVariableValue(actor, { variableId: variable.id, environmentId: development.id, value: `secret-${i}` });
    plaintexts.set(variable.id, `secret-${i}`);
  }
  const plain = await services.createVariable(actor, { key: "rotation.plain", kind: "STRING" });
  await services.setVariableValue(actor, { variableId: plain.id, environmentId: development.id, value: "not a secret" });

  const rows = async () =>
    (await database.db.select().from(variableValues).where(eq(variableValues.organizationId, tenant.organizationId))).filter(
      (r) => r.ciphertext !== null,
    );
  const revision = async () =>
    (
      await database.db.select({ revision: organizations.revision }).from(organizations).where(eq(organizations.id, tenant.organizationId))
    )[0].revision;
  const before = await rows();
  const revisionBefore = await revision();
  const next = generateSecretKey();
  const rotated = await rotateSecrets(database.db, new Keyring(next, old), 3);
  expect(rotated).toBeGreaterThanOrEqual(7);
  const after = await rows();
  expect(after).toHaveLength(7);
  const alone = new Keyring(next);
  for (const row of after) {
    expect(row.keyId).toBe(next.id);
    expect(row.ciphertext).not.toBe(before.find((b) => b.variableId === row.variableId)!.ciphertext);
    expect(alone.open({ keyId: row.keyId!, ciphertext: row.ciphertext! }, sealedAt(row.variableId, row.environmentId))).toBe(
      plaintexts.get(row.variableId),
    );
    expect(row.fingerprint).toBe(alone.fingerprint(plaintexts.get(row.variableId)!, row.variableId));
  }
  expect(await revision()).toBeGreaterThan(revisionBefore);
  // Run again: nothing left to do.
  expect(await rotateSecrets(database.db, new Keyring(next, old))).toBe(0);
  // Without the key they were sealed with, it stops and says which key is missing.
  const third = generateSecretKey();
  await expect(rotateSecrets(database.db, new Keyring(third))).rejects.toThrow(/SECRETS_KEY_PREVIOUS/);
  expect((await rows()).every((r) => r.keyId === next.id)).toBe(true);
}

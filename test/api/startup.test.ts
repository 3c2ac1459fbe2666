import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseUrl } from "../support/database.js";
import { gql } from "../support/graphql.js";
import { runScript, waitFor } from "../support/processes.js";

/** A fresh, empty database for the processes of this file: a temp folder, or a new database on the server. */
let env: Record<string, string>;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  if (databaseUrl) {
    const name = `jp_startup_${randomUUID().replace(/-/g, "")}`;
    const admin = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    const url = new URL(databaseUrl);
    url.pathname = `/${name}`;
    env = { DATABASE_URL: url.toString() };
    cleanup = async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    };
  } else {
    const dir = mkdtempSync(join(tmpdir(), "jp-startup-"));
    env = { DATA_DIR: dir };
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
});
afterAll(() => cleanup());

const run = (script: string, args: string[], extra: Record<string, string> = {}) =>
  runScript(script, args, { ...process.env, DATABASE_URL: "", ...env, LOG_LEVEL: "warn", PORT: "0", ...extra });

describe("npm start on an empty database", { timeout: 60_000 }, () => {
  it("migrates, seeds the demo organization, prints the GraphiQL URL and an admin token, and stops cleanly on SIGTERM", async () => {
    const server = run("src/server/main.ts", []);
    const [, url] = await waitFor(server.output, /GraphiQL: (http:\/\/\S+)/, server.child);
    const [token] = await waitFor(server.output, /jpt_[\w-]+/, server.child);

    const result = await gql(
      url,
      token,
      `{ viewer { role organization { name } }
         environments { key editable isProduction databases { name } }
         applications(first: 10) { edges { node { name clients { environment { key } } journeys { key } } } } }`,
    );
    expect(result.data.viewer).toEqual({ role: "ADMIN", organization: { name: "Demo" } });
    expect(result.data.environments.map((e: { key: string }) => e.key)).toEqual(["development", "staging", "production"]);
    expect(result.data.environments.every((e: { databases: unknown[] }) => e.databases.length === 1)).toBe(true);
    const [portal] = result.data.applications.edges.map((e: { node: unknown }) => e.node);
    expect(portal).toEqual({
      name: "Customer Portal",
      clients: [{ environment: { key: "development" } }, { environment: { key: "staging" } }],
      journeys: [{ key: "login" }, { key: "registration" }],
    });

    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  });
});

// Each test starts `tsx` in a child process: slow on a loaded machine.
describe("npm run token", { timeout: 60_000 }, () => {
  it("creates the organization with the default pipeline and prints a working token on its last line", async () => {
    const cli = run("src/cli/token.ts", ["--org", "Acme", "--role", "PROMOTER"]);
    expect(await cli.exited).toBe(0);
    const token = cli.output().trim().split("\n").at(-1)!;
    expect(token).toMatch(/^jpt_[\w-]{40,}$/);

    const server = run("src/server/main.ts", [], { SEED_DEMO: "false" });
    const [, url] = await waitFor(server.output, /GraphiQL: (http:\/\/\S+)/, server.child);
    const result = await gql(url, token, `{ viewer { role organization { name } } environments { key rank } }`);
    expect(result.data.viewer).toEqual({ role: "PROMOTER", organization: { name: "Acme" } });
    expect(result.data.environments).toEqual([
      { key: "development", rank: 0 },
      { key: "staging", rank: 1 },
      { key: "production", rank: 2 },
    ]);
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);

    const revoke = run("src/cli/token.ts", ["--revoke", token]);
    expect(await revoke.exited).toBe(0);
    expect(revoke.output()).toMatch(/Revoked/);
  });

  it("gives the token of a repeated call a name of its own, so every call prints a working token", async () => {
    const names: string[] = [];
    for (const _call of [1, 2]) {
      const cli = run("src/cli/token.ts", ["--org", "Repeat", "--role", "VIEWER"]);
      expect(await cli.exited).toBe(0);
      names.push(cli.output().match(/VIEWER token "([^"]+)"/)![1]);
    }
    expect(names).toEqual(["viewer-cli", "viewer-cli (2)"]);
  });

  it("refuses an unknown role with a usage message", async () => {
    const cli = run("src/cli/token.ts", ["--org", "Acme", "--role", "OWNER"]);
    expect(await cli.exited).toBe(2);
    expect(cli.output()).toMatch(/--role must be one of/);
  });
});

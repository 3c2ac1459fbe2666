import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Keyring, secretKeyFromBase64 } from "../../src/domain/secret-box.js";
import { sealedAt } from "../../src/services/variables.js";
import { databaseUrl } from "../support/database.js";
import { gql } from "../support/graphql.js";
import { runScript, waitFor } from "../support/processes.js";

/**
 * The demo seed shows variables and secrets (DESIGN.md §6): `npm start` on an empty database gives
 * the demo organization `webhook.host` and the secret `webhook.signing-secret` with a value in every
 * environment, and a risk webhook on `login` that references both, saved in development and copied
 * to staging so the demo starts in sync. The real server process, on a fresh database of its own.
 */

const SECRETS_KEY = randomBytes(32).toString("base64");

let env: Record<string, string>;
/** The sealed values of `webhook.signing-secret`, read straight from the database once the server has stopped. */
let sealedSecrets: () => Promise<{ variableId: string; environmentId: string; ciphertext: string; keyId: string; fingerprint: string }[]>;
let cleanup: () => Promise<void>;

const SEALED = `select vv.variable_id as "variableId", vv.environment_id as "environmentId", vv.ciphertext, vv.key_id as "keyId", vv.fingerprint
  from variable_values vv join variables v on v.id = vv.variable_id where v.key = 'webhook.signing-secret'`;

beforeAll(async () => {
  if (databaseUrl) {
    const name = `jp_seed_${randomUUID().replace(/-/g, "")}`;
    const admin = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    const url = new URL(databaseUrl);
    url.pathname = `/${name}`;
    env = { DATABASE_URL: url.toString() };
    sealedSecrets = async () => {
      const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
      try {
        return (await sql.unsafe(SEALED)) as never;
      } finally {
        await sql.end();
      }
    };
    cleanup = async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    };
  } else {
    const dir = mkdtempSync(join(tmpdir(), "jp-seed-"));
    env = { DATA_DIR: dir };
    sealedSecrets = async () => {
      const client = new PGlite(dir);
      try {
        return (await client.query(SEALED)).rows as never;
      } finally {
        await client.close();
      }
    };
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
});
afterAll(() => cleanup());

// The most talkative log level: the secret must not be in it either.
const start = () =>
  runScript("src/server/main.ts", [], {
    ...process.env,
    DATABASE_URL: "",
    ...env,
    SECRETS_KEY,
    SECRETS_KEY_PREVIOUS: "",
    LOG_LEVEL: "debug",
    PORT: "0",
  });

const DEMO = `{
  environments { id key databases { id } }
  applications(first: 10) { edges { node { id name journeys { id key } } } }
}`;

const VARIABLES = `{ variables { key } }`;

const VARIABLE = `query($key: String!) { variable(key: $key) {
  key kind
  values { environment { key } value fingerprint version }
  references { path draft environment { key } journey { key } }
} }`;

const CONFIGURATION = `query($j: ID!, $e: ID!) { node(id: $j) { ... on Journey {
  configuration(environmentId: $e) { version origin document resolvedDocument }
  syncStates { environment { key } status } } } }`;

const CREATE_CLIENT = `mutation($input: CreateClientInput!) { createClient(input: $input) { __typename ... on Error { code message } } }`;

type Key = "development" | "staging" | "production";

describe("the demo seed", () => {
  it("gives the demo a webhook step using a host variable and a signing secret with a value in each environment, the secret shown nowhere", {
    timeout: 120_000,
  }, async () => {
    const server = start();
    const [, base] = await waitFor(server.output, /GraphiQL: (http:\/\/\S+)/, server.child);
    const [token] = await waitFor(server.output, /jpt_[\w-]+/, server.child);
    const responses: string[] = [];
    const ask = async (query: string, variables?: Record<string, unknown>) => {
      const result = await gql(base, token, query, variables);
      responses.push(JSON.stringify(result));
      expect(result.errors, JSON.stringify(result)).toBeUndefined();
      return result.data;
    };

    const demo = await ask(DEMO);
    const environment = Object.fromEntries(demo.environments.map((e: { key: Key; id: string }) => [e.key, e.id])) as Record<Key, string>;
    const [portal] = demo.applications.edges.map((e: { node: { id: string; journeys: { id: string; key: string }[] } }) => e.node);
    const login = portal.journeys.find((j: { key: string }) => j.key === "login").id;

    // The variables, a value in each environment: the host as it is, the secret as a fingerprint only.
    expect((await ask(VARIABLES)).variables).toEqual([{ key: "webhook.host" }, { key: "webhook.signing-secret" }]);
    const byKey: Record<string, Record<string, any>> = {};
    for (const key of ["webhook.host", "webhook.signing-secret"]) byKey[key] = (await ask(VARIABLE, { key })).variable;
    expect(byKey["webhook.host"]).toMatchObject({
      kind: "STRING",
      values: [
        { environment: { key: "development" }, value: "hooks.dev.example.com", fingerprint: null, version: 1 },
        { environment: { key: "staging" }, value: "hooks.staging.example.com", fingerprint: null, version: 1 },
        { environment: { key: "production" }, value: "hooks.example.com", fingerprint: null, version: 1 },
      ],
    });
    const secret = byKey["webhook.signing-secret"];
    expect(secret.kind).toBe("SECRET");
    expect(secret.values.map((v: { environment: { key: string } }) => v.environment.key)).toEqual(["development", "staging", "production"]);
    for (const value of secret.values) expect(value).toMatchObject({ value: null, fingerprint: expect.stringMatching(/^[0-9a-f]{12}$/) });
    // Where the demo has clients, the saved login uses both.
    for (const key of ["webhook.host", "webhook.signing-secret"]) {
      expect(byKey[key].references).toEqual([
        {
          path: `steps.risk-hook.settings.${key === "webhook.host" ? "url" : "signingSecret"}`,
          draft: false,
          environment: { key: "development" },
          journey: { key: "login" },
        },
        {
          path: `steps.risk-hook.settings.${key === "webhook.host" ? "url" : "signingSecret"}`,
          draft: false,
          environment: { key: "staging" },
          journey: { key: "login" },
        },
      ]);
    }

    // The step, saved in development after the password and copied to staging: the demo starts in sync.
    const development = (await ask(CONFIGURATION, { j: login, e: environment.development })).node;
    expect(development.configuration).toMatchObject({ version: 2, origin: "SAVE" });
    expect(development.configuration.document.order).toEqual(["identify", "password", "risk-hook", "email-otp"]);
    expect(development.configuration.document.steps.password.transitions).toEqual({ success: "risk-hook", failure: "DENY" });
    expect(development.configuration.document.steps["risk-hook"]).toEqual({
      type: "WEBHOOK",
      name: "Risk webhook",
      enabled: true,
      settings: { url: "https://&{webhook.host}/risk", signingSecret: "&{webhook.signing-secret}", timeoutMs: 3000 },
      transitions: { success: "email-otp", failure: "DENY" },
    });
    expect(development.configuration.resolvedDocument.steps["risk-hook"].settings.url).toBe("https://hooks.dev.example.com/risk");
    expect(development.syncStates).toEqual([
      { environment: { key: "staging" }, status: "IN_SYNC" },
      { environment: { key: "production" }, status: "NOT_CREATED" },
    ]);
    const staging = (await ask(CONFIGURATION, { j: login, e: environment.staging })).node.configuration;
    expect(staging.document).toEqual(development.configuration.document);
    expect(staging.resolvedDocument.steps["risk-hook"].settings.url).toBe("https://hooks.staging.example.com/risk");

    // "Create Client in production" needs nothing more: production has its values, and resolves its own host.
    const created = await ask(CREATE_CLIENT, {
      input: {
        applicationId: portal.id,
        environmentId: environment.production,
        databaseId: demo.environments.find((e: { key: string }) => e.key === "production").databases[0].id,
        redirectUris: ["https://portal.example.com/callback"],
        allowedOrigins: [],
      },
    });
    expect(created.createClient.__typename, JSON.stringify(created)).toBe("CreateClientSuccess");
    const production = (await ask(CONFIGURATION, { j: login, e: environment.production })).node.configuration;
    expect(production.document).toEqual(development.configuration.document);
    expect(production.resolvedDocument.steps["risk-hook"].settings).toEqual({
      url: "https://hooks.example.com/risk",
      signingSecret: "&{webhook.signing-secret}",
      timeoutMs: 3000,
    });

    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);

    // The secrets, opened with the server's key: one of their own per environment, fingerprinted as shown,
    // and in none of the server's output nor any answer it gave.
    const keyring = new Keyring(secretKeyFromBase64(SECRETS_KEY, "SECRETS_KEY"));
    const sealed = await sealedSecrets();
    expect(sealed).toHaveLength(3);
    const plaintexts = sealed.map((row) =>
      keyring.open({ keyId: row.keyId, ciphertext: row.ciphertext }, sealedAt(row.variableId, row.environmentId)),
    );
    expect(new Set(plaintexts).size).toBe(3);
    expect(sealed.map((row, i) => row.fingerprint === keyring.fingerprint(plaintexts[i], row.variableId))).toEqual([true, true, true]);
    expect(secret.values.map((v: { fingerprint: string }) => v.fingerprint).sort()).toEqual(sealed.map((row) => row.fingerprint).sort());
    for (const plaintext of plaintexts) {
      expect(plaintext.length).toBeGreaterThanOrEqual(32);
      expect(server.output().includes(plaintext)).toBe(false);
      expect(responses.some((r) => r.includes(plaintext))).toBe(false);
    }
    expect(server.output()).toMatch(/seeded the demo organization/);
  });
});

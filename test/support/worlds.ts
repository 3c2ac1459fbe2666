import { Writable } from "node:stream";
import { expect } from "vitest";
import { openDatabase } from "../../src/db/client.js";
import { createApp } from "../../src/server/app.js";
import { createLogger } from "../../src/server/logger.js";
import { testDatabase, testSessionUrl } from "./database.js";
import { type Api, apiAs, type Catalogue, createCatalogueWithStaging, operation } from "./fixtures.js";
import { createTenant, type Tenant } from "./tenant.js";

/**
 * A tenant with the catalogue and a client in staging, for tests of concurrent writers and readers
 * of one application (test/api/torn-reads.test.ts, test/api/attack-locks.test.ts).
 */
export interface World {
  tenant: Tenant;
  api: Api;
  catalogue: Catalogue;
  env: Catalogue["environments"];
}

export async function world(endpoint: string, label: string): Promise<World> {
  const tenant = await createTenant(label);
  const api = apiAs(endpoint, tenant);
  const catalogue = await createCatalogueWithStaging(api);
  return { tenant, api, catalogue, env: catalogue.environments };
}

/**
 * A server of a test file's own on the PostgreSQL test database, with a pool of `poolSize` (its
 * sessions carry the worker's name); every log line is handed to `onLog`, parsed.
 */
export async function serverWithPool(
  poolSize: number,
  onLog: (line: Record<string, any>) => void = () => {},
): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  await testDatabase(); // migrated
  const database = await openDatabase({ url: testSessionUrl!, poolSize });
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line) onLog(JSON.parse(line));
      done();
    },
  });
  const app = createApp({ database, logger: createLogger("info", sink) });
  const endpoint = `${await app.start(0, "127.0.0.1")}/graphql`;
  return {
    endpoint,
    stop: async () => {
      await app.stop();
      await database.close();
    },
  };
}

const RESULT = "__typename ... on Error { code message }";
const SAVE_STEP = operation(`mutation WorldSaveStep($input: SaveJourneyStepInput!) {
  saveJourneyStep(input: $input) { ${RESULT} ... on SaveJourneyStepSuccess { draft { revision } } } }`);
const SAVE = operation(`mutation WorldSave($input: SaveJourneyInput!) {
  saveJourney(input: $input) { ${RESULT} ... on SaveJourneySuccess { version { version hash } } } }`);

/** createClient's input for the world's application in production (copied from the nearest environment below with a client). */
export const productionClient = (w: World) => ({
  applicationId: w.catalogue.applicationId,
  environmentId: w.env.production,
  databaseId: w.catalogue.databases.production,
  redirectUris: [],
  allowedOrigins: [],
});

/** A mutation that must succeed; its payload. */
export async function must(api: Api, query: string, input: object): Promise<any> {
  const data = await api.data(query, { input });
  const payload = Object.values(data)[0] as { __typename: string };
  expect(payload.__typename, JSON.stringify(payload)).toMatch(/Success$/);
  return payload;
}

/** The login journey's first step, named `name`. */
export const identify = (name: string) => ({
  key: "identify",
  type: "IDENTIFIER",
  name,
  enabled: true,
  settings: { identifiers: ["email"], rememberMe: true },
  transitions: [{ outcome: "success", to: "password" }],
});

/** Development's login with its first step renamed, saved as the next version (through `api`). */
export async function saveIdentifyName(api: Api, w: World, name: string): Promise<{ version: number; hash: string }> {
  const ids = { journeyId: w.catalogue.journeys.login, environmentId: w.env.development };
  const { draft } = await must(api, SAVE_STEP, { ...ids, step: identify(name) });
  return (await must(api, SAVE, { ...ids, draftRevision: draft.revision })).version;
}

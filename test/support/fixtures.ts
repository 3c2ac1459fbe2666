import { createHash } from "node:crypto";
import { eq, inArray } from "drizzle-orm";
import { parse, validate } from "graphql";
import type { NewSyncNotification } from "../../src/db/repositories/sync-notifications.js";
import {
  apiTokens,
  applications,
  clientSettingsVersions,
  clients,
  databases,
  environments,
  journeyDrafts,
  journeyHeads,
  journeys,
  journeyVersions,
  propagations,
  variables,
  variableValueChanges,
  variableValues,
} from "../../src/db/schema.js";
import { canonicalJson } from "../../src/domain/canonical-json.js";
import { parseGlobalId } from "../../src/graphql/ids.js";
import { schema } from "../../src/graphql/schema/index.js";
import { DEMO_LOGIN } from "../../src/services/seed.js";
import { testDatabase } from "./database.js";
import { client, type GraphQLResponse } from "./graphql.js";
import type { Tenant } from "./tenant.js";

/**
 * Catalogue fixtures built through the GraphQL API over real HTTP, as a client would: every helper
 * sends a mutation with a real token and returns global IDs.
 */

/**
 * A GraphQL operation, parsed and validated against the schema once, when the test file loads:
 * a typo in a test's query fails the file at import instead of surfacing as a confusing assertion.
 */
export function operation(source: string): string {
  const errors = validate(schema, parse(source));
  if (errors.length > 0) throw new Error(`Invalid test operation:\n${errors.map((e) => e.message).join("\n")}\n${source}`);
  return source;
}

export type Api = ReturnType<typeof client>;

/** An API client of the tenant with the given role's token. */
export function apiAs(endpoint: string, tenant: Tenant, role: keyof Tenant["tokens"] = "ADMIN"): Api {
  return client(endpoint, tenant.tokens[role]);
}

/** The journey document of ARCHITECTURE.md, "The domain" (the demo's login): identify → password → email code. */
export const LOGIN_DOCUMENT = DEMO_LOGIN;

/** LOGIN_DOCUMENT as stored: every setting the example leaves out takes its default. */
export const LOGIN_DOCUMENT_STORED = {
  ...LOGIN_DOCUMENT,
  steps: {
    ...LOGIN_DOCUMENT.steps,
    password: { ...LOGIN_DOCUMENT.steps.password, settings: { minLength: 12, allowReset: true } },
  },
};

const ENVIRONMENTS = operation(`
  query FixtureEnvironments { environments { id key } }
`);

const CREATE_DATABASE = operation(`
  mutation FixtureCreateDatabase($input: CreateDatabaseInput!) {
    createDatabase(input: $input) { __typename ... on CreateDatabaseSuccess { database { id } } ... on Error { code message } }
  }
`);

const CREATE_APPLICATION = operation(`
  mutation FixtureCreateApplication($input: CreateApplicationInput!) {
    createApplication(input: $input) { __typename ... on CreateApplicationSuccess { application { id } } ... on Error { code message } }
  }
`);

const CREATE_CLIENT = operation(`
  mutation FixtureCreateClient($input: CreateClientInput!) {
    createClient(input: $input) { __typename ... on CreateClientSuccess { client { id } } ... on Error { code message } }
  }
`);

const CREATE_JOURNEY = operation(`
  mutation FixtureCreateJourney($input: CreateJourneyInput!) {
    createJourney(input: $input) { __typename ... on CreateJourneySuccess { journey { id } } ... on Error { code message } }
  }
`);

const CREATE_API_TOKEN = operation(`
  mutation FixtureCreateApiToken($input: CreateApiTokenInput!) {
    createApiToken(input: $input) { __typename ... on CreateApiTokenSuccess { token apiToken { id } } ... on Error { code message } }
  }
`);

/** The payload of a mutation that must have succeeded; anything else fails the fixture loudly. */
async function succeeded<T>(api: Api, query: string, input: Record<string, unknown>, field: string): Promise<T> {
  const data = await api.data<Record<string, { __typename: string; code?: string; message?: string } & T>>(query, { input });
  const result = data[field];
  if (!result.__typename.endsWith("Success")) {
    throw new Error(`${field} failed in a fixture: ${result.__typename} ${result.code}: ${result.message}`);
  }
  return result;
}

export type EnvironmentKey = "development" | "staging" | "production";

/** Global IDs of the tenant's environments by key. */
export async function environmentIds(api: Api): Promise<Record<string, string>> {
  const { environments } = await api.data<{ environments: { id: string; key: string }[] }>(ENVIRONMENTS);
  return Object.fromEntries(environments.map((e) => [e.key, e.id]));
}

export async function createDatabase(api: Api, input: { environmentId: string; name: string }): Promise<string> {
  return (await succeeded<{ database: { id: string } }>(api, CREATE_DATABASE, input, "createDatabase")).database.id;
}

export async function createApplication(api: Api, name: string): Promise<string> {
  return (await succeeded<{ application: { id: string } }>(api, CREATE_APPLICATION, { name }, "createApplication")).application.id;
}

export async function createClient(
  api: Api,
  input: {
    applicationId: string;
    environmentId: string;
    databaseId: string;
    redirectUris?: string[];
    allowedOrigins?: string[];
    name?: string;
  },
): Promise<string> {
  const full = { redirectUris: [], allowedOrigins: [], ...input };
  return (await succeeded<{ client: { id: string } }>(api, CREATE_CLIENT, full, "createClient")).client.id;
}

export async function createJourney(
  api: Api,
  input: { applicationId: string; key: string; name?: string; type?: string; document?: unknown },
): Promise<string> {
  const full = { name: input.key, type: "LOGIN", ...input };
  return (await succeeded<{ journey: { id: string } }>(api, CREATE_JOURNEY, full, "createJourney")).journey.id;
}

export async function createApiToken(api: Api, input: { name: string; role: string }): Promise<{ id: string; token: string }> {
  const result = await succeeded<{ token: string; apiToken: { id: string } }>(api, CREATE_API_TOKEN, input, "createApiToken");
  return { id: result.apiToken.id, token: result.token };
}

export interface Catalogue {
  /** Environment global IDs by key. */
  environments: Record<EnvironmentKey, string>;
  /** One database per environment (`<prefix>-users-<key>`), global IDs by environment key. */
  databases: Record<EnvironmentKey, string>;
  applicationId: string;
  /** The application's client in development. */
  clientId: string;
  /** Journey global IDs by key: `login` (the document of ARCHITECTURE.md, "The domain") and `registration` (the default document). */
  journeys: { login: string; registration: string };
}

/**
 * A tenant's catalogue as a user sets it up: a database per environment, "Customer Portal" with
 * its client in development, and the `login` (the journey document of ARCHITECTURE.md, "The domain") and `registration` journeys.
 */
export async function createCatalogue(api: Api, options: { application?: string; databasePrefix?: string } = {}): Promise<Catalogue> {
  const environments = (await environmentIds(api)) as Record<EnvironmentKey, string>;
  const prefix = options.databasePrefix ?? "acme";
  const databases = {} as Record<EnvironmentKey, string>;
  for (const key of ["development", "staging", "production"] as const) {
    databases[key] = await createDatabase(api, { environmentId: environments[key], name: `${prefix}-users-${key}` });
  }
  const applicationId = await createApplication(api, options.application ?? "Customer Portal");
  const clientId = await createClient(api, {
    applicationId,
    environmentId: environments.development,
    databaseId: databases.development,
    redirectUris: ["http://localhost:3000/callback"],
    allowedOrigins: ["http://localhost:3000"],
  });
  const login = await createJourney(api, { applicationId, key: "login", name: "Login", type: "LOGIN", document: LOGIN_DOCUMENT });
  const registration = await createJourney(api, { applicationId, key: "registration", name: "Registration", type: "REGISTRATION" });
  return { environments, databases, applicationId, clientId, journeys: { login, registration } };
}

/**
 * Every row the tenant owns, read straight from the tables: equal snapshots before and after a
 * refused mutation prove that it wrote nothing (not even a row a rollback should have undone).
 */
export async function tenantRows(organizationId: string) {
  const { db } = await testDatabase();
  const clientRows = await db.select().from(clients).where(eq(clients.organizationId, organizationId)).orderBy(clients.id);
  const journeyRows = await db.select().from(journeys).where(eq(journeys.organizationId, organizationId)).orderBy(journeys.id);
  const clientIds = clientRows.map((c) => c.id);
  const journeyIds = journeyRows.map((j) => j.id);
  return {
    environments: await db.select().from(environments).where(eq(environments.organizationId, organizationId)).orderBy(environments.id),
    databases: await db.select().from(databases).where(eq(databases.organizationId, organizationId)).orderBy(databases.id),
    applications: await db.select().from(applications).where(eq(applications.organizationId, organizationId)).orderBy(applications.id),
    apiTokens: await db.select().from(apiTokens).where(eq(apiTokens.organizationId, organizationId)).orderBy(apiTokens.id),
    clients: clientRows,
    clientSettingsVersions:
      clientIds.length === 0
        ? []
        : await db
            .select()
            .from(clientSettingsVersions)
            .where(inArray(clientSettingsVersions.clientId, clientIds))
            .orderBy(clientSettingsVersions.clientId, clientSettingsVersions.version),
    journeys: journeyRows,
    journeyVersions:
      journeyIds.length === 0
        ? []
        : await db
            .select()
            .from(journeyVersions)
            .where(inArray(journeyVersions.journeyId, journeyIds))
            .orderBy(journeyVersions.journeyId, journeyVersions.environmentId, journeyVersions.version),
    journeyDrafts: await db
      .select()
      .from(journeyDrafts)
      .where(eq(journeyDrafts.organizationId, organizationId))
      .orderBy(journeyDrafts.journeyId, journeyDrafts.environmentId),
    journeyHeads:
      journeyIds.length === 0
        ? []
        : await db
            .select()
            .from(journeyHeads)
            .where(inArray(journeyHeads.journeyId, journeyIds))
            .orderBy(journeyHeads.journeyId, journeyHeads.environmentId),
    propagations: await db.select().from(propagations).where(eq(propagations.organizationId, organizationId)).orderBy(propagations.id),
    variables: await db.select().from(variables).where(eq(variables.organizationId, organizationId)).orderBy(variables.id),
    variableValues: await db
      .select()
      .from(variableValues)
      .where(eq(variableValues.organizationId, organizationId))
      .orderBy(variableValues.variableId, variableValues.environmentId),
    variableValueChanges: await db
      .select()
      .from(variableValueChanges)
      .where(eq(variableValueChanges.organizationId, organizationId))
      .orderBy(variableValueChanges.id),
  };
}

/** {@link createCatalogue} with the application's client in staging too, so a promotion from development has a target. */
export async function createCatalogueWithStaging(api: Api): Promise<Catalogue> {
  const catalogue = await createCatalogue(api);
  await createClient(api, {
    applicationId: catalogue.applicationId,
    environmentId: catalogue.environments.staging,
    databaseId: catalogue.databases.staging,
  });
  return catalogue;
}

/** What the contract promises a version's hash is: SHA-256 of the canonical JSON, computed here with node:crypto. */
export const sha256OfCanonical = (document: unknown) => createHash("sha256").update(canonicalJson(document)).digest("hex");

/** The row ID inside a global ID; fails the test on anything else. */
export function localIdOf(id: string): string {
  const parsed = parseGlobalId(id);
  if (!parsed) throw new Error(`not a global ID: ${id}`);
  return parsed.id;
}

/** The `extensions.code` of every GraphQL error of a response. */
export function errorCodes(response: GraphQLResponse): unknown[] {
  return (response.errors ?? []).map((e) => e.extensions?.code);
}

/** A sync notification row of the catalogue's login journey, out of sync in staging, for writing straight to the database. */
export function outOfSyncNotification(organizationId: string, catalogue: Catalogue, message: string): NewSyncNotification {
  return {
    organizationId,
    applicationId: localIdOf(catalogue.applicationId),
    journeyId: localIdOf(catalogue.journeys.login),
    environmentId: localIdOf(catalogue.environments.staging),
    sourceEnvironmentId: localIdOf(catalogue.environments.development),
    status: "OUT_OF_SYNC",
    message,
    changeCount: 1,
  };
}

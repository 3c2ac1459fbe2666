import { describe, expect, it } from "vitest";
import { apiContext } from "../support/api-context.js";
import { createDatabase, environmentIds, operation } from "../support/fixtures.js";

/** The pipeline of environments and the databases in each. */

const ENVIRONMENTS = operation(`
  query Environments {
    environments { id key name rank isProduction editable lower { key } upper { key } databases { id name environment { key } } }
  }
`);

const CREATE_ENVIRONMENT = operation(`
  mutation CreateEnvironment($input: CreateEnvironmentInput!) {
    createEnvironment(input: $input) {
      __typename
      ... on CreateEnvironmentSuccess { environment { id key name rank isProduction editable lower { key } upper { key } databases { id } } }
      ... on Error { code message }
    }
  }
`);

const CREATE_DATABASE = operation(`
  mutation CreateDatabase($input: CreateDatabaseInput!) {
    createDatabase(input: $input) {
      __typename
      ... on CreateDatabaseSuccess { database { id name environment { id key } } }
      ... on Error { code message }
    }
  }
`);

const { tenantWithApi } = apiContext();

describe("environments", () => {
  it("lists a new organization's pipeline lowest first: development (editable) → staging → production", async () => {
    const { api } = await tenantWithApi("environments");
    const { environments } = await api.data(ENVIRONMENTS);
    expect(environments.map((e: any) => [e.key, e.name, e.rank, e.editable, e.isProduction])).toEqual([
      ["development", "Development", 0, true, false],
      ["staging", "Staging", 1, false, false],
      ["production", "Production", 2, false, true],
    ]);
  });

  it("links every environment to its lower and upper neighbour", async () => {
    const { api } = await tenantWithApi("environments");
    const { environments } = await api.data(ENVIRONMENTS);
    expect(environments.map((e: any) => [e.lower?.key ?? null, e.key, e.upper?.key ?? null])).toEqual([
      [null, "development", "staging"],
      ["development", "staging", "production"],
      ["staging", "production", null],
    ]);
  });

  it("lists each environment's databases by name, and none at the start", async () => {
    const { api } = await tenantWithApi("environments");
    expect((await api.data(ENVIRONMENTS)).environments.every((e: any) => e.databases.length === 0)).toBe(true);
    const ids = await environmentIds(api);
    await createDatabase(api, { environmentId: ids.development, name: "zeta-users" });
    await createDatabase(api, { environmentId: ids.development, name: "alpha-users" });
    await createDatabase(api, { environmentId: ids.production, name: "prod-users" });
    const { environments } = await api.data(ENVIRONMENTS);
    expect(environments.map((e: any) => [e.key, e.databases.map((d: any) => `${d.name}@${d.environment.key}`)])).toEqual([
      ["development", ["alpha-users@development", "zeta-users@development"]],
      ["staging", []],
      ["production", ["prod-users@production"]],
    ]);
  });

  it("shows only the caller's organization's environments", async () => {
    const { api } = await tenantWithApi("environments");
    const other = await tenantWithApi("environments-other");
    await other.api.data(CREATE_ENVIRONMENT, { input: { key: "qa", name: "QA", rank: 1 } });
    const { environments } = await api.data(ENVIRONMENTS);
    expect(environments.map((e: any) => e.key)).toEqual(["development", "staging", "production"]);
  });
});

describe("createEnvironment", () => {
  it("inserts an environment at a rank and moves the environments at and above it up one", async () => {
    const { api } = await tenantWithApi("create-environment");
    const before = await environmentIds(api);
    const { createEnvironment } = await api.data(CREATE_ENVIRONMENT, { input: { key: "qa", name: "QA", rank: 1 } });
    expect(createEnvironment).toEqual({
      __typename: "CreateEnvironmentSuccess",
      environment: {
        id: expect.any(String),
        key: "qa",
        name: "QA",
        rank: 1,
        isProduction: false,
        editable: false,
        lower: { key: "development" },
        upper: { key: "staging" },
        databases: [],
      },
    });
    const { environments } = await api.data(ENVIRONMENTS);
    expect(environments.map((e: any) => [e.rank, e.key, e.lower?.key ?? null, e.upper?.key ?? null])).toEqual([
      [0, "development", null, "qa"],
      [1, "qa", "development", "staging"],
      [2, "staging", "qa", "production"],
      [3, "production", "staging", null],
    ]);
    // Moving up keeps identities: the same environments, at new ranks.
    expect(await environmentIds(api)).toEqual({ ...before, qa: createEnvironment.environment.id });
  });

  it("inserts at rank 0 a new lowest environment", async () => {
    const { api } = await tenantWithApi("create-environment");
    const { createEnvironment } = await api.data(CREATE_ENVIRONMENT, {
      input: { key: "sandbox", name: "Sandbox", rank: 0, editable: true },
    });
    expect(createEnvironment.environment).toMatchObject({ rank: 0, editable: true, lower: null, upper: { key: "development" } });
    const { environments } = await api.data(ENVIRONMENTS);
    expect(environments.map((e: any) => `${e.rank}:${e.key}`)).toEqual(["0:sandbox", "1:development", "2:staging", "3:production"]);
  });

  it("appends an environment whose rank is past the top", async () => {
    const { api } = await tenantWithApi("create-environment");
    const { createEnvironment } = await api.data(CREATE_ENVIRONMENT, {
      input: { key: "dr", name: "Disaster recovery", rank: 50, isProduction: true },
    });
    expect(createEnvironment.environment).toMatchObject({
      key: "dr",
      rank: 3,
      isProduction: true,
      editable: false,
      lower: { key: "production" },
      upper: null,
    });
    const { environments } = await api.data(ENVIRONMENTS);
    expect(environments.map((e: any) => `${e.rank}:${e.key}`)).toEqual(["0:development", "1:staging", "2:production", "3:dr"]);
  });

  it("allows a key another organization already uses", async () => {
    const { api } = await tenantWithApi("create-environment");
    const other = await tenantWithApi("create-environment-other");
    await other.api.data(CREATE_ENVIRONMENT, { input: { key: "qa", name: "QA", rank: 1 } });
    const { createEnvironment } = await api.data(CREATE_ENVIRONMENT, { input: { key: "qa", name: "QA", rank: 1 } });
    expect(createEnvironment.__typename).toBe("CreateEnvironmentSuccess");
  });
});

describe("createDatabase", () => {
  it("creates a database in an environment, which then lists it", async () => {
    const { api } = await tenantWithApi("create-database");
    const ids = await environmentIds(api);
    const { createDatabase } = await api.data(CREATE_DATABASE, { input: { environmentId: ids.staging, name: "acme-users-staging" } });
    expect(createDatabase).toEqual({
      __typename: "CreateDatabaseSuccess",
      database: { id: expect.any(String), name: "acme-users-staging", environment: { id: ids.staging, key: "staging" } },
    });
    const { environments } = await api.data(ENVIRONMENTS);
    const staging = environments.find((e: any) => e.key === "staging");
    expect(staging.databases).toEqual([{ id: createDatabase.database.id, name: "acme-users-staging", environment: { key: "staging" } }]);
  });

  it("allows a name another organization already uses", async () => {
    const { api } = await tenantWithApi("create-database");
    const other = await tenantWithApi("create-database-other");
    await createDatabase(other.api, { environmentId: (await environmentIds(other.api)).development, name: "shared-name" });
    const { createDatabase: result } = await api.data(CREATE_DATABASE, {
      input: { environmentId: (await environmentIds(api)).development, name: "shared-name" },
    });
    expect(result.__typename).toBe("CreateDatabaseSuccess");
  });
});

import { describe, expect, it } from "vitest";
import { apiContext } from "../support/api-context.js";
import { APPLICATION } from "../support/documents.js";
import { type Api, createApplication, createCatalogue, createClient, createJourney, errorCodes, operation } from "../support/fixtures.js";

/** Applications: creating them, paging through them, their clients and journeys. */

const CREATE_APPLICATION = operation(`
  mutation CreateApplication($input: CreateApplicationInput!) {
    createApplication(input: $input) {
      __typename
      ... on CreateApplicationSuccess { application { id name clients { id } journeys { id } } }
      ... on Error { code message }
    }
  }
`);

const APPLICATIONS = operation(`
  query Applications($first: Int, $after: String) {
    applications(first: $first, after: $after) {
      edges { cursor node { id name } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
`);

const { tenantWithApi } = apiContext();

describe("createApplication", () => {
  it("creates an application with no clients and no journeys, its name trimmed", async () => {
    const { api } = await tenantWithApi("create-application");
    const { createApplication } = await api.data(CREATE_APPLICATION, { input: { name: "  Customer Portal  " } });
    expect(createApplication).toEqual({
      __typename: "CreateApplicationSuccess",
      application: { id: expect.any(String), name: "Customer Portal", clients: [], journeys: [] },
    });
  });
});

describe("applications", () => {
  const NAMES = ["app-05", "app-02", "app-07", "app-01", "app-06", "app-03", "app-04"];

  async function tenantWithApplications() {
    const context = await tenantWithApi("applications");
    for (const name of NAMES) await createApplication(context.api, name);
    return context;
  }

  async function page(api: Api, variables: { first?: number; after?: string }) {
    return (await api.data(APPLICATIONS, variables)).applications;
  }

  it("pages through the applications by name with first and after", async () => {
    const { api } = await tenantWithApplications();
    const first = await page(api, { first: 3 });
    expect(first.edges.map((e: any) => e.node.name)).toEqual(["app-01", "app-02", "app-03"]);
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false, endCursor: first.edges[2].cursor });
    const second = await page(api, { first: 3, after: first.pageInfo.endCursor });
    expect(second.edges.map((e: any) => e.node.name)).toEqual(["app-04", "app-05", "app-06"]);
    expect(second.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    const third = await page(api, { first: 3, after: second.pageInfo.endCursor });
    expect(third.edges.map((e: any) => e.node.name)).toEqual(["app-07"]);
    expect(third.pageInfo.hasNextPage).toBe(false);
  });

  it("ends without a next page when a page ends exactly at the last application", async () => {
    const { api } = await tenantWithApplications();
    const all = await page(api, { first: 7 });
    expect(all.edges).toHaveLength(7);
    expect(all.pageInfo.hasNextPage).toBe(false);
    const after = await page(api, { first: 3, after: all.pageInfo.endCursor });
    expect(after.edges).toEqual([]);
    expect(after.pageInfo.hasNextPage).toBe(false);
  });

  it("returns the same order on every read, and the pages add up to the whole list", async () => {
    const { api } = await tenantWithApplications();
    const whole = (await page(api, {})).edges.map((e: any) => e.node.id);
    expect(whole).toHaveLength(7);
    expect((await page(api, {})).edges.map((e: any) => e.node.id)).toEqual(whole);
    const paged: string[] = [];
    let after: string | undefined;
    for (;;) {
      const next = await page(api, { first: 2, after });
      paged.push(...next.edges.map((e: any) => e.node.id));
      if (!next.pageInfo.hasNextPage) break;
      after = next.pageInfo.endCursor;
    }
    expect(paged).toEqual(whole);
  });

  it("keeps a cursor valid when the application before it is followed by a new one", async () => {
    const { api } = await tenantWithApplications();
    const first = await page(api, { first: 2 });
    await createApplication(api, "app-02a");
    const second = await page(api, { first: 2, after: first.pageInfo.endCursor });
    expect(second.edges.map((e: any) => e.node.name)).toEqual(["app-02a", "app-03"]);
  });

  it("is an empty page without a next page for an organization with no applications", async () => {
    const { api } = await tenantWithApi("applications-empty");
    const empty = await page(api, { first: 5 });
    expect(empty.edges).toEqual([]);
    expect(empty.pageInfo.hasNextPage).toBe(false);
  });

  it("lists only the caller's organization's applications", async () => {
    const { api } = await tenantWithApplications();
    const other = await tenantWithApi("applications-other");
    await createApplication(other.api, "app-00");
    expect((await page(api, {})).edges.map((e: any) => e.node.name)).toEqual([...NAMES].sort());
  });

  it.each([
    ["garbage", "not-a-cursor"],
    ["a version cursor", "1"],
    ["a cursor of the wrong shape", Buffer.from(JSON.stringify(["app-01", "not-a-uuid"])).toString("base64url")],
  ])("refuses %s as after with VALIDATION_FAILED", async (_label, after) => {
    const { api } = await tenantWithApplications();
    const response = await api.request(APPLICATIONS, { first: 2, after });
    expect(response.status).toBe(200);
    expect(errorCodes(response)).toEqual(["VALIDATION_FAILED"]);
    expect(response.errors?.[0].path).toEqual(["applications"]);
  });

  it("refuses a negative first with VALIDATION_FAILED", async () => {
    const { api } = await tenantWithApi("applications-negative");
    const response = await api.request(APPLICATIONS, { first: -1 });
    expect(response.status).toBe(200);
    expect(errorCodes(response)).toEqual(["VALIDATION_FAILED"]);
  });
});

describe("Application clients and journeys", () => {
  it("lists clients lowest environment first and finds the one of an environment", async () => {
    const { api } = await tenantWithApi("application-fields");
    const catalogue = await createCatalogue(api);
    // Created in production first, then staging: the list still follows the pipeline.
    const production = await createClient(api, {
      applicationId: catalogue.applicationId,
      environmentId: catalogue.environments.production,
      databaseId: catalogue.databases.production,
    });
    const staging = await createClient(api, {
      applicationId: catalogue.applicationId,
      environmentId: catalogue.environments.staging,
      databaseId: catalogue.databases.staging,
    });
    const { node } = await api.data(APPLICATION, {
      id: catalogue.applicationId,
      environmentId: catalogue.environments.staging,
      key: "login",
    });
    expect(node.clients).toEqual([
      { id: catalogue.clientId, environment: { key: "development" } },
      { id: staging, environment: { key: "staging" } },
      { id: production, environment: { key: "production" } },
    ]);
    expect(node.client).toEqual({ id: staging, environment: { key: "staging" } });
  });

  it("has no client in an environment where none was created", async () => {
    const { api } = await tenantWithApi("application-fields");
    const catalogue = await createCatalogue(api);
    const { node } = await api.data(APPLICATION, {
      id: catalogue.applicationId,
      environmentId: catalogue.environments.production,
      key: "login",
    });
    expect(node.clients.map((c: any) => c.environment.key)).toEqual(["development"]);
    expect(node.client).toBeNull();
  });

  it("lists journeys by key and finds one by its key", async () => {
    const { api } = await tenantWithApi("application-fields");
    const catalogue = await createCatalogue(api);
    const recovery = await createJourney(api, { applicationId: catalogue.applicationId, key: "a-recovery", type: "PASSWORD_RECOVERY" });
    const { node } = await api.data(APPLICATION, {
      id: catalogue.applicationId,
      environmentId: catalogue.environments.development,
      key: "login",
    });
    expect(node.journeys).toEqual([
      { id: recovery, key: "a-recovery" },
      { id: catalogue.journeys.login, key: "login" },
      { id: catalogue.journeys.registration, key: "registration" },
    ]);
    expect(node.journey).toEqual({
      id: catalogue.journeys.login,
      key: "login",
      name: "Login",
      type: "LOGIN",
      application: { id: catalogue.applicationId },
    });
  });

  it("has no journey under an unknown key", async () => {
    const { api } = await tenantWithApi("application-fields");
    const catalogue = await createCatalogue(api);
    const { node } = await api.data(APPLICATION, {
      id: catalogue.applicationId,
      environmentId: catalogue.environments.development,
      key: "checkout",
    });
    expect(node.journey).toBeNull();
  });
});

import { ClientError, GraphQLClient, gql } from "graphql-request";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATION_LIMITS } from "../../src/server/limits.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { clientWorld } from "./world.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const CREATE_APPLICATION = gql`
  mutation CreateApplication($name: String!) {
    createApplication(input: { name: $name }) { __typename ... on CreateApplicationSuccess { application { id name } } ... on Error { code } }
  }
`;
const APPLICATION_NAMES = gql`
  query ApplicationNames { applications(first: 100) { edges { node { name } } } }
`;

describe("graphql-request's batchRequests", () => {
  it(`runs ${OPERATION_LIMITS.batchOperations} operations in one request, and refuses 11 with TOO_MANY_OPERATIONS, running none`, async () => {
    const w = await clientWorld(server, "graphql-request");
    let requests = 0;
    const client = new GraphQLClient(server.endpoint, {
      headers: { authorization: `Bearer ${w.tenant.tokens.ADMIN}` },
      fetch: (input, init) => {
        requests += 1;
        return fetch(input, init);
      },
    });
    expect(OPERATION_LIMITS.batchOperations).toBe(10);

    const queries = [
      { document: gql`query Viewer { viewer { role organization { name } } }` },
      { document: gql`query Environments { environments { key } }` },
      { document: gql`query StepTypes { stepTypes { type } }` },
      {
        document: gql`query Plan($app: ID!, $env: ID!) { clientCreationPlan(applicationId: $app, environmentId: $env) { requiredFields } }`,
        variables: { app: w.catalogue.applicationId, env: w.catalogue.environments.production },
      },
      { document: APPLICATION_NAMES },
    ];
    const names = ["Billing", "Payroll", "Support", "Shop", "Wiki"];
    const batch = await client.batchRequests<any>([
      ...queries,
      ...names.map((name) => ({ document: CREATE_APPLICATION, variables: { name } })),
    ]);
    expect(requests).toBe(1);
    expect(batch).toHaveLength(10);
    expect(batch[0].data.viewer).toEqual({ role: "ADMIN", organization: { name: w.tenant.name } });
    expect(batch[1].data.environments.map((e: any) => e.key)).toEqual(["development", "staging", "production"]);
    expect(batch[2].data.stepTypes.map((t: any) => t.type)).toContain("EMAIL_OTP");
    expect(batch[3].data.clientCreationPlan.requiredFields.length).toBeGreaterThan(0);
    // The operations of a batch run side by side (yoga): this read may or may not see the batch's own creations.
    expect(batch[4].data.applications.edges.map((e: any) => e.node.name)).toContain("Customer Portal");
    expect(batch.slice(5).map((r: any) => [r.data.createApplication.__typename, r.data.createApplication.application.name])).toEqual(
      names.map((name) => ["CreateApplicationSuccess", name]),
    );

    const eleven = Array.from({ length: 11 }, (_, i) => ({ document: CREATE_APPLICATION, variables: { name: `Refused ${i}` } }));
    const refused = await client.batchRequests(eleven).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ClientError);
    expect((refused as ClientError).response.status).toBe(413);
    expect((refused as ClientError).response.errors?.map((e) => e.extensions?.code)).toEqual(["TOO_MANY_OPERATIONS"]);
    const listed = await client.request<any>(APPLICATION_NAMES);
    expect(listed.applications.edges.map((e: any) => e.node.name).sort()).toEqual(["Customer Portal", ...names].sort());
  });
});

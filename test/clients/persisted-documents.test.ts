import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ApolloClient, gql, HttpLink, InMemoryCache } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import type { DocumentNode } from "graphql";
import { ClientError, GraphQLClient } from "graphql-request";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSettings } from "../../src/server/settings.js";
import { readmeOperations } from "../support/readme.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { runCodegen } from "./codegen.js";
import { type ClientWorld, clientWorld, recordingFetch } from "./world.js";

/**
 * The persisted documents of a client team: graphql-codegen's client preset with `persistedDocuments:
 * true` over the README's operations (written out as the .graphql files a frontend has), its
 * persisted-documents.json given to the server as PERSISTED_DOCUMENTS.
 */

const OPERATIONS = readmeOperations();
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

const dir = mkdtempSync(join(tmpdir(), "jp-client-preset-"));
const output = join(dir, "gql");
let manifestFile: string;
let manifest: Record<string, string>;
/** The documents codegen generated (`<Name>Document`), each carrying its manifest id in `__meta__.hash`. */
let generated: Record<string, DocumentNode & { __meta__?: { hash?: string } }>;
let open: TestServer;
let only: TestServer;
let w: ClientWorld;

beforeAll(async () => {
  mkdirSync(join(dir, "operations"));
  for (const operation of OPERATIONS) writeFileSync(join(dir, "operations", `${operation.name}.graphql`), operation.source);
  await runCodegen({
    schema: "schema.graphql",
    documents: [join(dir, "operations", "*.graphql")],
    generates: { [`${output}/`]: { preset: "client", presetConfig: { persistedDocuments: true } } },
  });
  manifestFile = join(output, "persisted-documents.json");
  manifest = JSON.parse(readFileSync(manifestFile, "utf8"));
  generated = await import(pathToFileURL(join(output, "graphql.ts")).href);
  // As main.ts configures the server: from the environment.
  const openSettings = loadSettings({ PERSISTED_DOCUMENTS: manifestFile });
  const onlySettings = loadSettings({ PERSISTED_DOCUMENTS: manifestFile, PERSISTED_DOCUMENTS_ONLY: "true" });
  [open, only] = await Promise.all([
    startTestServer({ persistedDocuments: openSettings.persistedDocuments }),
    startTestServer({ persistedDocuments: onlySettings.persistedDocuments }),
  ]);
  w = await clientWorld(open, "persisted");
});
afterAll(async () => {
  await Promise.all([open?.stop(), only?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

const documentOf = (name: string) => {
  const document = generated[`${name}Document`];
  if (!document?.__meta__?.hash) throw new Error(`codegen generated no ${name}Document with a hash`);
  return document;
};

/** graphql-request sending a document's persisted id (GraphQL over HTTP's `documentId`) instead of its text. */
function byIdClient(server: TestServer, token: string) {
  const sent: any[] = [];
  const client = new GraphQLClient(server.endpoint, {
    headers: { authorization: `Bearer ${token}` },
    requestMiddleware: (request) => {
      const { operationName, variables } = request;
      const body = { documentId: documentOf(operationName!).__meta__!.hash, operationName, variables };
      sent.push(body);
      return { ...request, body: JSON.stringify(body) };
    },
  });
  return { client, sent };
}

const codesOf = (error: unknown) =>
  error instanceof ClientError ? error.response.errors?.map((e) => e.extensions?.code) : [String(error)];

describe("graphql-codegen's client preset with persistedDocuments: true", () => {
  it("types every README operation and writes a manifest { id: document } of them, ids being sha256 of the text", () => {
    const source = readFileSync(join(output, "graphql.ts"), "utf8");
    for (const { name, kind } of OPERATIONS) {
      const suffix = kind[0].toUpperCase() + kind.slice(1);
      expect(source).toContain(`export type ${name}${suffix} = `);
      expect(source).toContain(`export type ${name}${suffix}Variables = `);
    }
    expect(/export type DashboardQueryVariables = Exact<\{\s*production: ([^;]+);\s*\}>/.exec(source)?.[1]).toBe("string | number");
    expect(Object.keys(manifest)).toHaveLength(OPERATIONS.length);
    for (const [id, document] of Object.entries(manifest)) expect(id).toBe(`sha256:${sha256(document)}`);
    expect(OPERATIONS.map((o) => documentOf(o.name).__meta__!.hash).sort()).toEqual(Object.keys(manifest).sort());
  });
});

describe("PERSISTED_DOCUMENTS_ONLY=true", () => {
  it("refuses a free-form document with PERSISTED_DOCUMENTS_ONLY", async () => {
    const client = new GraphQLClient(only.endpoint, { headers: { authorization: `Bearer ${w.tenant.tokens.ADMIN}` } });
    const refused = await client.request(`query { viewer { role } }`).then(
      () => null,
      (error: unknown) => error,
    );
    expect(codesOf(refused)).toEqual(["PERSISTED_DOCUMENTS_ONLY"]);
  });

  it("runs the manifest's README operations by id, in the README's order", async () => {
    const { client, sent } = byIdClient(only, w.tenant.tokens.ADMIN);
    // The README's approval is another token's (its policy allows no self-approval).
    const reviewer = byIdClient(only, w.tenant.tokens.PROMOTER);
    const { environments, journeys, applicationId } = w.catalogue;
    const known: Record<string, unknown> = { ...environments, app: applicationId, login: journeys.login };
    const ran: string[] = [];
    for (const operation of OPERATIONS.filter((o) => o.kind !== "subscription")) {
      const variables = Object.fromEntries(operation.variables.map((v) => [v, known[v]]));
      const data = await (operation.name === "Approve" ? reviewer.client : client).request<Record<string, any>>(
        documentOf(operation.name),
        variables,
      );
      // As written, the README's mutations select no __typename: a success has its fields, an error its code.
      for (const value of Object.values(data)) expect(value, operation.name).not.toHaveProperty("code");
      expect(
        Object.values(data).every((value) => value !== null && Object.keys(value).length > 0),
        operation.name,
      ).toBe(true);
      if (data.saveJourneyStep) known.revision = data.saveJourneyStep.draft.revision;
      if (data.diff) known.changeIds = data.diff.changes.slice(0, 1).map((c: { id: string }) => c.id);
      if (data.createVariable) known.variable = data.createVariable.variable.id;
      if (data.createJourney) known.legacy = data.createJourney.journey.id;
      if (data.propagateChanges) known.propagation = data.propagateChanges.propagation.id;
      if (data.requestPromotion) {
        known.request = data.requestPromotion.request.id;
        known.planHash = data.requestPromotion.request.planHash;
      }
      ran.push(operation.name);
    }
    expect(ran).toEqual(expect.arrayContaining(["Dashboard", "AddStep", "Save", "Review", "Promote"]));
    expect(sent.every((body) => typeof body.documentId === "string" && !("query" in body))).toBe(true);
  });
});

describe("with a manifest, free-form documents allowed", () => {
  it("runs a document named by extensions.persistedQuery.sha256Hash, sent by graphql-request", async () => {
    const { StepCatalogue } = Object.fromEntries(OPERATIONS.map((o) => [o.name, o]));
    const hash = documentOf(StepCatalogue.name).__meta__!.hash!.replace(/^sha256:/, "");
    const client = new GraphQLClient(open.endpoint, {
      headers: { authorization: `Bearer ${w.tenant.tokens.VIEWER}` },
      requestMiddleware: (request) => ({
        ...request,
        body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }),
      }),
    });
    const data = await client.request<any>(StepCatalogue.source);
    expect(data.stepTypes.map((t: any) => t.type)).toContain("EMAIL_OTP");
  });

  it("serves Apollo's persisted-query link: an unknown hash, then the link's retry with the text", async () => {
    const { fetch, sent } = recordingFetch();
    const client = new ApolloClient({
      link: new PersistedQueryLink({ sha256 }).concat(
        new HttpLink({ uri: open.endpoint, fetch, headers: { authorization: `Bearer ${w.tenant.tokens.VIEWER}` } }),
      ),
      cache: new InMemoryCache(),
    });
    const VIEWER = gql`
      query ViewerRole { viewer { role } }
    `;
    const { data, error } = await client.query({ query: VIEWER, fetchPolicy: "network-only" });
    expect(error).toBeUndefined();
    expect(data).toEqual({ viewer: { __typename: "Viewer", role: "VIEWER" } });
    expect(sent).toHaveLength(2);
    const hash = sent[0].body.extensions.persistedQuery.sha256Hash;
    expect(hash).toBe(sha256(sent[1].body.query));
    expect(sent[0].body.query).toBeUndefined();
    expect(sent[1].body.extensions.persistedQuery.sha256Hash).toBe(hash);
  });
});

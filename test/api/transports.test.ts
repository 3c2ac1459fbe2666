import { createClient as createSseClient, type Client as SseClient } from "graphql-sse";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATION_LIMITS } from "../../src/server/limits.js";
import { MAX_STREAMS } from "../../src/server/sse.js";
import { SAVE, SAVE_STEP } from "../support/documents.js";
import { type Api, apiAs, type Catalogue, createApiToken, createCatalogue, createClient, operation } from "../support/fixtures.js";
import { gql } from "../support/graphql.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";

/** Low caps, so that they are met over SSE with a handful of subscriptions. */
const CAPS = { perConnection: 2, perToken: 3, perOrganization: 4 };

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ subscriptionLimits: CAPS });
});
afterAll(() => server.stop());

const SUBSCRIPTION = operation(`subscription Sync($after: String) {
  syncStatusChanged(after: $after) { cursor status changeCount journey { key } environment { key } } }`);
const NOTIFICATIONS = operation(`query Latest($after: String) {
  syncNotifications(after: $after, first: 100) { edges { cursor } pageInfo { hasNextPage endCursor } } }`);
const CREATE_APPLICATION = operation(`mutation Create($name: String!) {
  createApplication(input: { name: $name }) { __typename } }`);
const APPLICATION_NAMES = operation(`query Names { applications(first: 100) { edges { node { name } } } }`);
const REVOKE = operation(`mutation Revoke($id: ID!) { revokeApiToken(input: { apiTokenId: $id }) { __typename } }`);

interface World {
  tenant: Tenant;
  admin: Api;
  catalogue: Catalogue;
}

async function world(label: string): Promise<World> {
  const tenant = await createTenant(label);
  const admin = apiAs(server.endpoint, tenant);
  const catalogue = await createCatalogue(admin);
  await createClient(admin, {
    applicationId: catalogue.applicationId,
    environmentId: catalogue.environments.staging,
    databaseId: catalogue.databases.staging,
  });
  return { tenant, admin, catalogue };
}

/** Saves the login journey's password step in development: staging goes out of sync. */
async function saveLogin(w: World, minLength: number) {
  const ids = { journeyId: w.catalogue.journeys.login, environmentId: w.catalogue.environments.development };
  const step = {
    key: "password",
    type: "PASSWORD",
    name: "Password",
    enabled: true,
    settings: { minLength },
    transitions: [
      { outcome: "success", to: "email-otp" },
      { outcome: "failure", to: "DENY" },
    ],
  };
  const revision = (await w.admin.data(SAVE_STEP, { input: { ...ids, step } })).saveJourneyStep.draft.revision;
  expect((await w.admin.data(SAVE, { input: { ...ids, draftRevision: revision } })).saveJourney.__typename).toBe("SaveJourneySuccess");
}

/** The cursor of the organization's latest notification: a subscription from it misses nothing written later. */
async function latestCursor(w: World): Promise<string> {
  let after: string | undefined;
  for (;;) {
    const page = (await w.admin.data(NOTIFICATIONS, { after })).syncNotifications;
    if (page.edges.length === 0) return after ?? "0";
    after = page.pageInfo.endCursor;
    if (!page.pageInfo.hasNextPage) return after!;
  }
}

function sseClient(token: string | null, singleConnection: boolean): SseClient {
  return createSseClient({
    url: server.endpoint,
    singleConnection,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
  });
}

/** One subscription through the graphql-sse client: what it received, and how it ended. */
function subscribe(client: SseClient, variables: Record<string, unknown> = {}) {
  const results: any[] = [];
  let stop = () => {};
  const ended = new Promise<{ error?: unknown }>((resolve) => {
    stop = client.subscribe(
      { query: SUBSCRIPTION, variables },
      { next: (value) => results.push(value), error: (error) => resolve({ error }), complete: () => resolve({}) },
    );
  });
  return { results, ended, stop: () => stop() };
}

const codeOf = (result: any): string | undefined => result?.errors?.[0]?.extensions?.code;

/** POSTs a JSON body to the endpoint as a client does, with the tenant's token. */
async function post(token: string, body: unknown) {
  const response = await fetch(server.endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

describe("batching", () => {
  it(`runs up to ${OPERATION_LIMITS.batchOperations} operations of one request, each answered in order`, async () => {
    const { tenant } = await world("batch-ok");
    const names = Array.from({ length: 10 }, (_, i) => `Batched ${i}`);
    const { status, body } = await post(
      tenant.tokens.ADMIN,
      names.map((name) => ({ query: CREATE_APPLICATION, variables: { name } })),
    );
    expect(status).toBe(200);
    expect(body).toEqual(names.map(() => ({ data: { createApplication: { __typename: "CreateApplicationSuccess" } } })));
    const listed = await apiAs(server.endpoint, tenant).data(APPLICATION_NAMES);
    expect(listed.applications.edges.map((e: any) => e.node.name)).toEqual(expect.arrayContaining(names));
  });

  it("refuses 11 operations whole with TOO_MANY_OPERATIONS, and runs none of them", async () => {
    const { tenant } = await world("batch-over");
    const names = Array.from({ length: 11 }, (_, i) => `Refused ${i}`);
    const { status, body } = await post(
      tenant.tokens.ADMIN,
      names.map((name) => ({ query: CREATE_APPLICATION, variables: { name } })),
    );
    expect(status).toBe(413);
    expect(body.errors).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: "TOO_MANY_OPERATIONS", limit: 10 }) }),
    ]);
    const listed = await apiAs(server.endpoint, tenant).data(APPLICATION_NAMES);
    expect(listed.applications.edges.map((e: any) => e.node.name).filter((n: string) => n.startsWith("Refused"))).toEqual([]);
  });

  it.each([[[null]], [[1]], [["query"]], [[[]]], [[{ query: "{ __typename }" }, null]]])(
    "refuses a batch %j with an entry that is not an operation: 400 BAD_REQUEST, nothing run, nothing logged as unexpected",
    async (batch) => {
      const { tenant } = await world("batch-entries");
      const logged = server.logs.length;
      const { status, body } = await post(tenant.tokens.ADMIN, batch);
      expect(status).toBe(400);
      expect(JSON.stringify(body)).toContain("BAD_REQUEST");
      expect(server.logs.slice(logged).filter((line) => (line.level as number) >= 50)).toEqual([]);
    },
  );

  it("limits each operation of a batch as if it came alone, and needs a token like any request", async () => {
    const { tenant } = await world("batch-limits");
    // Under the alias and depth limits, over the cost (as in limits.test.ts).
    const tooCostly = `query { ${Array.from({ length: 19 }, (_, i) => `a${i}: environments { lower { upper { lower { upper { databases { environment { databases { environment { key name rank isProduction editable } } } } } } } } }`).join(" ")} }`;
    const { status, body } = await post(tenant.tokens.VIEWER, [{ query: "{ viewer { role } }" }, { query: tooCostly }]);
    expect(status).toBe(200);
    expect(body[0]).toEqual({ data: { viewer: { role: "VIEWER" } } });
    expect(codeOf(body[1])).toBe("QUERY_TOO_COMPLEX");
    const anonymous = await fetch(server.endpoint, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ query: "{ viewer { role } }" }]),
    });
    expect(anonymous.status).toBe(401);
  });
});

describe("GET", () => {
  it("runs a query sent as URL parameters, and refuses a mutation", async () => {
    const { tenant } = await world("get");
    const url = (query: string) => `${server.endpoint}?${new URLSearchParams({ query })}`;
    const headers = { authorization: `Bearer ${tenant.tokens.ADMIN}`, accept: "application/json" };
    const query = await fetch(url("{ viewer { role } }"), { headers });
    expect(query.status).toBe(200);
    expect(await query.json()).toEqual({ data: { viewer: { role: "ADMIN" } } });
    const mutation = await fetch(url('mutation { createApplication(input: { name: "Over GET" }) { __typename } }'), { headers });
    expect(mutation.status).toBe(405);
    const listed = await apiAs(server.endpoint, tenant).data(APPLICATION_NAMES);
    expect(listed.applications.edges.map((e: any) => e.node.name)).not.toContain("Over GET");
  });
});

describe.each([
  ["distinct connections", false],
  ["single connection", true],
])("GraphQL over SSE, graphql-sse's %s mode on /graphql", (_mode, singleConnection) => {
  it("delivers syncStatusChanged after a write", async () => {
    const w = await world("sse-events");
    const client = sseClient(w.tenant.tokens.VIEWER, singleConnection);
    const sub = subscribe(client, { after: await latestCursor(w) });
    try {
      await saveLogin(w, 16);
      await expect.poll(() => sub.results.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
      expect(sub.results[0]).toEqual({
        data: {
          syncStatusChanged: {
            cursor: expect.any(String),
            status: "OUT_OF_SYNC",
            changeCount: 1,
            journey: { key: "login" },
            environment: { key: "staging" },
          },
        },
      });
    } finally {
      sub.stop();
      client.dispose();
    }
  });

  it("runs queries too", async () => {
    const { tenant } = await world("sse-query");
    const client = sseClient(tenant.tokens.EDITOR, singleConnection);
    try {
      const results: unknown[] = [];
      await new Promise<void>((resolve, reject) =>
        client.subscribe({ query: "{ viewer { role } }" }, { next: (v) => results.push(v), error: reject, complete: resolve }),
      );
      expect(results).toEqual([{ data: { viewer: { role: "EDITOR" } } }]);
    } finally {
      client.dispose();
    }
  });

  it("refuses a request without a token with 401 and WWW-Authenticate: Bearer", async () => {
    const client = sseClient(null, singleConnection);
    const sub = subscribe(client);
    const { error } = await sub.ended;
    expect(sub.results).toEqual([]);
    // graphql-sse's client reports the refused response.
    expect((error as { response?: Response }).response?.status).toBe(401);
    expect((error as { response?: Response }).response?.headers.get("www-authenticate")).toMatch(/^Bearer/);
    client.dispose();
  });

  it("caps subscriptions per connection, per token and per organization with TOO_MANY_SUBSCRIPTIONS", async () => {
    const { tenant } = await world("sse-caps");
    const clients: SseClient[] = [];
    const open = (token: string) => {
      const client = sseClient(token, singleConnection);
      clients.push(client);
      return client;
    };
    const started = async (sub: ReturnType<typeof subscribe>) => {
      // A refused one ends at once; an accepted one stays open. (2 s: under the whole suite on two
      // cores, a refusal once took longer than 500 ms to arrive.)
      const outcome = await Promise.race([sub.ended.then(() => "ended"), new Promise((r) => setTimeout(() => r("open"), 2_000))]);
      return outcome === "open" ? "open" : (codeOf(sub.results[0]) ?? "ended");
    };
    try {
      const first = open(tenant.tokens.VIEWER);
      const subs = [subscribe(first), subscribe(first)];
      expect(await Promise.all(subs.map(started))).toEqual(["open", "open"]);
      // A third on the same connection: in single connection mode the stream is the connection;
      // in distinct connections mode every subscription is its own, so the token's cap is next.
      const third = subscribe(first);
      expect(await started(third)).toBe(singleConnection ? "TOO_MANY_SUBSCRIPTIONS" : "open");
      const second = open(tenant.tokens.VIEWER);
      if (singleConnection) expect(await started(subscribe(second))).toBe("open");
      // The token has 3 open: the next is over the token's cap, on any connection.
      expect(await started(subscribe(open(tenant.tokens.VIEWER)))).toBe("TOO_MANY_SUBSCRIPTIONS");
      // Another token of the organization: one more (4), then the organization's cap.
      expect(await started(subscribe(open(tenant.tokens.EDITOR)))).toBe("open");
      expect(await started(subscribe(open(tenant.tokens.PROMOTER)))).toBe("TOO_MANY_SUBSCRIPTIONS");
      // Closing subscriptions gives the room back.
      for (const sub of subs) sub.stop();
      await new Promise((r) => setTimeout(r, 300));
      expect(await started(subscribe(open(tenant.tokens.PROMOTER)))).toBe("open");
    } finally {
      for (const client of clients) client.dispose();
    }
  });

  it("ends the streams of a token when it is revoked", async () => {
    const w = await world("sse-revoke");
    const minted = await createApiToken(w.admin, { name: "sse-dashboard", role: "VIEWER" });
    const client = sseClient(minted.token, singleConnection);
    const sub = subscribe(client, { after: await latestCursor(w) });
    await saveLogin(w, 16);
    await expect.poll(() => sub.results.length, { timeout: 10_000 }).toBe(1);
    expect((await w.admin.data(REVOKE, { id: minted.id })).revokeApiToken.__typename).toBe("RevokeApiTokenSuccess");
    const ended = await Promise.race([sub.ended.then(() => "ended"), new Promise((r) => setTimeout(() => r("still open"), 3_000))]);
    expect(ended).toBe("ended");
    client.dispose();
  });
});

describe("single connection mode, request by request", () => {
  const TOKEN_HEADER = "x-graphql-event-stream-token";

  /** Reserves a stream with PUT and opens it, reading its events. */
  async function openStream(token: string) {
    const reserved = await fetch(server.endpoint, { method: "PUT", headers: { authorization: `Bearer ${token}` } });
    expect(reserved.status).toBe(201);
    const streamToken = await reserved.text();
    const abort = new AbortController();
    const response = await fetch(server.endpoint, {
      headers: { authorization: `Bearer ${token}`, accept: "text/event-stream", [TOKEN_HEADER]: streamToken },
      signal: abort.signal,
    });
    expect(response.status).toBe(200);
    let text = "";
    const ended = (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) text += decoder.decode(chunk, { stream: true });
      } catch {
        // aborted by the test
      }
    })();
    return { streamToken, ended, text: () => text, close: () => abort.abort() };
  }

  const operate = (token: string, streamToken: string, body: unknown) =>
    fetch(server.endpoint, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", [TOKEN_HEADER]: streamToken },
      body: JSON.stringify(body),
    });

  it("accepts operations from the token that reserved the stream only; others find no stream", async () => {
    const { tenant } = await world("sse-owner");
    const stream = await openStream(tenant.tokens.VIEWER);
    try {
      const own = await operate(tenant.tokens.VIEWER, stream.streamToken, {
        query: "{ viewer { role } }",
        extensions: { operationId: "a" },
      });
      expect(own.status).toBe(202);
      await expect.poll(stream.text).toContain('"role":"VIEWER"');
      const stranger = await world("sse-stranger");
      const other = await operate(stranger.tenant.tokens.ADMIN, stream.streamToken, {
        query: "{ viewer { role } }",
        extensions: { operationId: "b" },
      });
      expect(other.status).toBe(404);
      expect(((await other.json()) as any).errors[0].extensions.code).toBe("NOT_FOUND");
      const sameOrganization = await operate(tenant.tokens.ADMIN, stream.streamToken, {
        query: "{ viewer { role } }",
        extensions: { operationId: "c" },
      });
      expect(sameOrganization.status).toBe(404);
      const anonymous = await fetch(server.endpoint, { method: "PUT" });
      expect(anonymous.status).toBe(401);
    } finally {
      stream.close();
    }
  });

  it(`lets a token hold at most ${MAX_STREAMS.perToken} streams, reserved or open: the next is 429 TOO_MANY_SUBSCRIPTIONS until one ends`, async () => {
    const { tenant } = await world("sse-reservations");
    const reserve = (token: string) => fetch(server.endpoint, { method: "PUT", headers: { authorization: `Bearer ${token}` } });
    // One opened, the rest only reserved: both count.
    const opened = await openStream(tenant.tokens.VIEWER);
    for (let i = 1; i < MAX_STREAMS.perToken; i++) {
      const reserved = await reserve(tenant.tokens.VIEWER);
      expect(reserved.status).toBe(201);
      await reserved.text();
    }
    const over = await reserve(tenant.tokens.VIEWER);
    expect(over.status).toBe(429);
    expect(((await over.json()) as any).errors[0].extensions.code).toBe("TOO_MANY_SUBSCRIPTIONS");
    // Another token of the organization has streams of its own.
    const other = await reserve(tenant.tokens.EDITOR);
    expect(other.status).toBe(201);
    await other.text();
    // Closing the open one makes room again.
    opened.close();
    await expect
      .poll(async () => {
        const retry = await reserve(tenant.tokens.VIEWER);
        await retry.arrayBuffer();
        return retry.status;
      })
      .toBe(201);
  });

  it("refuses an invalid operation with 400 and a code before the stream sees it, and nests JSON no deeper than elsewhere", async () => {
    const { tenant } = await world("sse-invalid");
    const stream = await openStream(tenant.tokens.VIEWER);
    try {
      const invalid = await operate(tenant.tokens.VIEWER, stream.streamToken, { query: "{ nope }", extensions: { operationId: "a" } });
      expect(invalid.status).toBe(400);
      expect(((await invalid.json()) as any).errors[0].extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
      const syntax = await operate(tenant.tokens.VIEWER, stream.streamToken, { query: "{ viewer {", extensions: { operationId: "b" } });
      expect(syntax.status).toBe(400);
      expect(((await syntax.json()) as any).errors[0].extensions.code).toBe("GRAPHQL_PARSE_FAILED");
      let deep: unknown = 1;
      for (let i = 0; i < 100; i++) deep = { a: deep };
      const nested = await operate(tenant.tokens.VIEWER, stream.streamToken, {
        query: "{ viewer { role } }",
        variables: { deep },
        extensions: { operationId: "c" },
      });
      expect(nested.status).toBe(400);
      expect(((await nested.json()) as any).errors[0].extensions.code).toBe("JSON_TOO_DEEP");
      const mutation = await fetch(
        `${server.endpoint}?${new URLSearchParams({ query: 'mutation { createApplication(input: { name: "x" }) { __typename } }' })}`,
        { headers: { authorization: `Bearer ${tenant.tokens.VIEWER}`, [TOKEN_HEADER]: stream.streamToken } },
      );
      expect(mutation.status).toBe(405);
      expect(stream.text()).not.toContain("errors");
    } finally {
      stream.close();
    }
  });

  it("streams a refusal at execution as the operation's event, with its code and without an HTTP status", async () => {
    const { tenant } = await world("sse-refusal");
    const stream = await openStream(tenant.tokens.VIEWER);
    try {
      const costly = `query { ${Array.from({ length: 19 }, (_, i) => `a${i}: environments { lower { upper { lower { upper { databases { environment { databases { environment { key name rank isProduction editable } } } } } } } } }`).join(" ")} }`;
      expect((await operate(tenant.tokens.VIEWER, stream.streamToken, { query: costly, extensions: { operationId: "cost" } })).status).toBe(
        202,
      );
      const wrongVariable = { query: "query($n: Int) { applications(first: $n) { edges { cursor } } }", variables: { n: "abc" } };
      expect(
        (await operate(tenant.tokens.VIEWER, stream.streamToken, { ...wrongVariable, extensions: { operationId: "var" } })).status,
      ).toBe(202);
      await expect.poll(() => stream.text().match(/event: complete/g)?.length ?? 0).toBe(2);
      const events = stream
        .text()
        .split("\n\n")
        .filter((block) => block.startsWith("event: next"))
        .map((block) => JSON.parse(block.slice(block.indexOf("data: ") + 6)));
      const payloadOf = (id: string) => events.find((e) => e.id === id)?.payload;
      expect(payloadOf("cost").errors[0].extensions).toMatchObject({ code: "QUERY_TOO_COMPLEX" });
      expect(payloadOf("var").errors[0].extensions).toEqual({ code: "BAD_USER_INPUT" });
      for (const id of ["cost", "var"]) expect(payloadOf(id).errors[0].extensions.http).toBeUndefined();
    } finally {
      stream.close();
    }
  });

  it("revoking the token ends the open stream", async () => {
    const w = await world("sse-revoke-raw");
    const minted = await createApiToken(w.admin, { name: "sse-raw", role: "VIEWER" });
    const stream = await openStream(minted.token);
    expect((await operate(minted.token, stream.streamToken, { query: SUBSCRIPTION, extensions: { operationId: "live" } })).status).toBe(
      202,
    );
    await w.admin.data(REVOKE, { id: minted.id });
    const ended = await Promise.race([stream.ended.then(() => "ended"), new Promise((r) => setTimeout(() => r("still open"), 3_000))]);
    expect(ended).toBe("ended");
    expect((await gql(server.endpoint, minted.token, "{ viewer { role } }")).status).toBe(401);
  });
});

import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { type App, createApp } from "../../src/server/app.js";
import { MAX_JSON_DEPTH } from "../../src/server/json-depth.js";
import { createLogger } from "../../src/server/logger.js";
import { testDatabase } from "../support/database.js";
import { gql } from "../support/graphql.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";

let server: TestServer;
let tenant: Tenant;
beforeAll(async () => {
  server = await startTestServer();
  tenant = await createTenant("hostile");
});
afterAll(() => server.stop());

/** JSON arrays nested `depth` levels: `[[[…]]]`. */
const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

function post(body: string, token: string | null = tenant.tokens.VIEWER, endpoint = server.endpoint) {
  return fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
}

/** A body whose deepest nesting is exactly `depth` (the body object itself is level 1). */
const bodyOfDepth = (depth: number) => `{"query":"{ viewer { role } }","variables":{"padding":${nested(depth - 2)}}}`;

describe("deeply nested JSON", () => {
  it(`accepts a body nested ${MAX_JSON_DEPTH} levels and refuses ${MAX_JSON_DEPTH + 1} with 400 JSON_TOO_DEEP`, async () => {
    const accepted = await post(bodyOfDepth(MAX_JSON_DEPTH));
    expect(accepted.status).toBe(200);
    expect((await accepted.json()).data.viewer.role).toBe("VIEWER");
    const refused = await post(bodyOfDepth(MAX_JSON_DEPTH + 1));
    expect(refused.status).toBe(400);
    expect((await refused.json()).errors[0].extensions.code).toBe("JSON_TOO_DEEP");
  });

  it("refuses the reported 1.8 MB body of nested arrays: 400 with a token, the plain 401 without, never reading it", async () => {
    const huge = `{"query":"{ viewer { role } }","variables":{"x":${nested(900_000)}}}`;
    const withToken = await post(huge);
    expect(withToken.status).toBe(400);
    expect((await withToken.json()).errors[0].extensions.code).toBe("JSON_TOO_DEEP");
    const anonymous = await post(huge, null);
    expect(anonymous.status).toBe(401);
    expect(server.logs.filter((l) => Number(l.level) >= 50)).toEqual([]);
  });

  it("refuses nested variables in a GET query string", async () => {
    const url = `${server.endpoint}?query=${encodeURIComponent("{ viewer { role } }")}&variables=${encodeURIComponent(`{"x":${nested(MAX_JSON_DEPTH)}}`)}`;
    const response = await fetch(url, { headers: { authorization: `Bearer ${tenant.tokens.VIEWER}`, accept: "application/json" } });
    expect(response.status).toBe(400);
    expect((await response.json()).errors[0].extensions.code).toBe("JSON_TOO_DEEP");
  });

  it("keeps undeclared variables out of the response cache: no failure however they nest within the bound", async () => {
    const body = (extra: unknown) => JSON.stringify({ query: "{ viewer { role } }", variables: { extra } });
    for (const extra of [1, "two", JSON.parse(nested(MAX_JSON_DEPTH - 3))]) {
      const response = await post(body(extra));
      expect(response.status).toBe(200);
      expect((await response.json()).data.viewer.role).toBe("VIEWER");
    }
  });

  it("closes a WebSocket whose connection_init nests too deep with 4400, before parsing it", async () => {
    const socket = new WebSocket(server.wsEndpoint, "graphql-transport-ws");
    await new Promise((resolve) => socket.on("open", resolve));
    const closed = new Promise<number>((resolve) => socket.on("close", resolve));
    socket.send(`{"type":"connection_init","payload":{"x":${nested(200_000)}}}`);
    expect(await closed).toBe(4400);
  });
});

/** A graphql-transport-ws connection, acknowledged, with the messages it received. */
async function acknowledgedSocket(token: string) {
  const socket = new WebSocket(server.wsEndpoint, "graphql-transport-ws");
  const messages: Record<string, any>[] = [];
  socket.on("message", (data) => messages.push(JSON.parse(String(data))));
  await new Promise((resolve) => socket.on("open", resolve));
  socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } }));
  await expect.poll(() => messages.some((m) => m.type === "connection_ack")).toBe(true);
  return { socket, messages };
}

describe("errors over WebSocket", () => {
  it("answers a syntax error and a validation error with an error message each, keeps the socket open, and logs no stack", async () => {
    const printed = vi.spyOn(console, "error");
    const { socket, messages } = await acknowledgedSocket(tenant.tokens.VIEWER);
    socket.send(JSON.stringify({ id: "syntax", type: "subscribe", payload: { query: "{ viewer { " } }));
    socket.send(JSON.stringify({ id: "invalid", type: "subscribe", payload: { query: "{ viewer { rol } }" } }));
    socket.send(JSON.stringify({ id: "enum", type: "subscribe", payload: { query: "{ node(id: ADMN) { id } }" } }));
    await expect.poll(() => messages.filter((m) => m.type === "error").length).toBe(3);
    const byId = Object.fromEntries(messages.filter((m) => m.type === "error").map((m) => [m.id, m.payload[0].message as string]));
    expect(byId.syntax).toMatch(/Syntax Error/);
    expect(byId.invalid).toMatch(/Cannot query field "rol"/);
    const codes = Object.fromEntries(messages.filter((m) => m.type === "error").map((m) => [m.id, m.payload[0].extensions?.code]));
    expect(codes).toEqual({ syntax: "GRAPHQL_PARSE_FAILED", invalid: "GRAPHQL_VALIDATION_FAILED", enum: "GRAPHQL_VALIDATION_FAILED" });
    for (const message of Object.values(byId)) expect(message).not.toMatch(/did you mean/i);
    socket.send(JSON.stringify({ id: "ok", type: "subscribe", payload: { query: "{ viewer { role } }" } }));
    await expect
      .poll(() => messages.find((m) => m.id === "ok" && m.type === "next")?.payload)
      .toEqual({ data: { viewer: { role: "VIEWER" } } });
    expect(socket.readyState).toBe(WebSocket.OPEN);
    expect(printed).not.toHaveBeenCalled();
    printed.mockRestore();
    socket.close();
  });
});

describe("requests that never run", () => {
  it.each([
    ["a variable of the wrong type", "query($n: Int) { applications(first: $n) { edges { cursor } } }", { n: "abc" }, "BAD_USER_INPUT"],
    ["a missing required variable", "query($n: Int!) { applications(first: $n) { edges { cursor } } }", {}, "BAD_USER_INPUT"],
    ["an object for an ID", "query($n: ID!) { node(id: $n) { id } }", { n: { a: 1 } }, "BAD_USER_INPUT"],
  ])("answer %s with a code and 400", async (_label, query, variables, code) => {
    for (const accept of ["application/graphql-response+json", "application/json"]) {
      const response = await fetch(server.endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", accept, authorization: `Bearer ${tenant.tokens.VIEWER}` },
        body: JSON.stringify({ query, variables }),
      });
      expect(response.status).toBe(400);
      const body = await response.json();
      expect(body.data).toBeUndefined();
      expect(body.errors.map((e: { extensions?: { code?: string } }) => e.extensions?.code)).toEqual([code]);
    }
  });
});

describe("errors over WebSocket carry no HTTP status", () => {
  it("refusals of every kind arrive without extensions.http (a socket has no HTTP response)", async () => {
    const { socket, messages } = await acknowledgedSocket(tenant.tokens.VIEWER);
    const refusals: Record<string, { query: string; variables?: Record<string, unknown> }> = {
      syntax: { query: "{ viewer { " },
      invalid: { query: "{ viewer { rol } }" },
      deep: { query: `{ ${'node(id: "x") { ... on Application { journeys { application { '.repeat(4)} id ${"} } } }".repeat(4)} }` },
      aliases: { query: `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: viewer { role }`).join(" ")} }` },
      costly: {
        query:
          "{ a: environments { databases { environment { databases { environment { databases { environment { databases { environment { key } } } } } } } } } }",
      },
      variables: { query: "query($n: Int) { applications(first: $n) { edges { cursor } } }", variables: { n: "abc" } },
      page: { query: "{ applications(first: 101) { edges { cursor } } }" },
    };
    for (const [id, payload] of Object.entries(refusals)) socket.send(JSON.stringify({ id, type: "subscribe", payload }));
    const answered = () =>
      Object.keys(refusals).filter((id) => messages.some((m) => m.id === id && (m.type === "error" || m.type === "next")));
    await expect.poll(() => answered().length).toBe(Object.keys(refusals).length);
    for (const id of Object.keys(refusals)) {
      const message = messages.find((m) => m.id === id && (m.type === "error" || m.type === "next"))!;
      const errors = message.type === "error" ? message.payload : message.payload.errors;
      expect(errors.length, id).toBeGreaterThan(0);
      for (const error of errors) {
        expect(error.extensions?.code, `${id}: ${error.message}`).toEqual(expect.any(String));
        expect(error.extensions, id).not.toHaveProperty("http");
      }
    }
    expect(socket.readyState).toBe(WebSocket.OPEN);
    socket.close();
  });
});

describe("message floods over WebSocket", () => {
  it("closes a socket that sends pings faster than any client, before connection_init too, and keeps others open", async () => {
    const flooder = new WebSocket(server.wsEndpoint, "graphql-transport-ws");
    await new Promise((resolve) => flooder.on("open", resolve));
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      flooder.on("close", (code, reason) => resolve({ code, reason: String(reason) })),
    );
    const { socket: other, messages } = await acknowledgedSocket(tenant.tokens.VIEWER);
    for (let i = 0; i < 5_000; i++) flooder.send('{"type":"ping"}');
    expect(await closed).toEqual({ code: 4400, reason: "Too many messages" });
    other.send(JSON.stringify({ id: "after-flood", type: "subscribe", payload: { query: "{ viewer { role } }" } }));
    await expect
      .poll(() => messages.find((m) => m.id === "after-flood" && m.type === "next")?.payload)
      .toEqual({ data: { viewer: { role: "VIEWER" } } });
    other.close();
  });
});

describe("logs of refused requests", () => {
  it("writes no error line for a client's mistake (a crafted cursor, a negative first, a foreign id)", async () => {
    const before = server.logs.length;
    for (const query of [
      '{ applications(after: "bad") { edges { cursor } } }',
      "{ applications(first: -1) { edges { cursor } } }",
      '{ node(id: "QXBwbGljYXRpb246eA") { id } }',
    ]) {
      await gql(server.endpoint, tenant.tokens.VIEWER, query);
    }
    expect(server.logs.slice(before).filter((line) => Number(line.level) >= 50)).toEqual([]);
  });
});

describe("suggestions", () => {
  it("never suggests an enum value, a field, an argument or a type, over HTTP", async () => {
    const cases = [
      ['mutation { createApiToken(input: { name: "x", role: ADMN }) { __typename } }', undefined],
      ['mutation($role: Role!) { createApiToken(input: { name: "x", role: $role }) { __typename } }', { role: "ADMN" }],
      ["{ viewer { rol } }", undefined],
      ["{ applications(frist: 1) { edges { cursor } } }", undefined],
      ["query($x: Strin) { viewer { role } }", undefined],
    ] as const;
    for (const [query, variables] of cases) {
      const result = await gql(server.endpoint, tenant.tokens.ADMIN, query, variables);
      expect(result.errors?.length).toBeGreaterThan(0);
      for (const error of result.errors ?? []) expect(error.message).not.toMatch(/did you mean/i);
    }
  });
});

describe("with INTROSPECTION=false", () => {
  let app: App;
  let endpoint: string;
  beforeAll(async () => {
    app = createApp({ database: await testDatabase(), logger: createLogger("silent"), introspection: false });
    endpoint = `${await app.start(0, "127.0.0.1")}/graphql`;
  });
  afterAll(() => app.stop());

  it("answers every document the same 401 without a token, whatever fields it names", async () => {
    const documents = [
      "{ secretAdminField }",
      "{ viewer { role } }",
      "{ __schema { types { name } } }",
      "{ viewer { ",
      "mutation { createApiToken }",
    ];
    const answers = await Promise.all(
      documents.map(async (query) => {
        const response = await post(JSON.stringify({ query }), null, endpoint);
        return { status: response.status, body: await response.text(), challenge: response.headers.get("www-authenticate") };
      }),
    );
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(answers[0].status).toBe(401);
    expect(answers[0].challenge).toMatch(/^Bearer/);
  });

  it("does not serve GraphiQL", async () => {
    const page = await fetch(endpoint, { headers: { accept: "text/html" } });
    expect(page.status).not.toBe(200);
    expect(await page.text()).not.toMatch(/graphiql/i);
  });

  it("refuses introspection with a token and suggests nothing", async () => {
    const result = await gql(endpoint, tenant.tokens.VIEWER, '{ __type(name: "Role") { enumValues { name } } }');
    expect(result.errors?.[0].message).toMatch(/introspection/i);
    const guess = await gql(endpoint, tenant.tokens.VIEWER, "{ viewer { rol } }");
    expect(guess.errors?.[0].message).not.toMatch(/did you mean/i);
  });
});

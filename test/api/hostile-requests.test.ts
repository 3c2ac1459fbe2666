import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { type App, createApp } from "../../src/server/app.js";
import { MAX_JSON_DEPTH } from "../../src/server/json-depth.js";
import { MAX_WS_BYTES_BEFORE_ACK } from "../../src/server/limits.js";
import { createLogger } from "../../src/server/logger.js";
import { REFUSAL_ALLOWANCE } from "../../src/server/refusal-throttle.js";
import { testDatabase } from "../support/database.js";
import { gql } from "../support/graphql.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";

let server: TestServer;
let tenant: Tenant;
beforeAll(async () => {
  server = await startTestServer();
  tenant = await createTenant("hostile");
  server.app.server.on("connection", (socket: Socket) => serverSockets.push(socket));
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

describe("a WebSocket's connection_init", () => {
  /** Opens a socket and sends `init`; resolves with the first message's type or the close code. */
  async function initAnswer(init: string): Promise<{ socket: WebSocket; answer: string | number }> {
    const socket = new WebSocket(server.wsEndpoint, "graphql-transport-ws");
    socket.on("error", () => {});
    await new Promise((resolve) => socket.on("open", resolve));
    const answer = new Promise<string | number>((resolve) => {
      socket.once("message", (data) => resolve(JSON.parse(String(data)).type));
      socket.once("close", (code) => resolve(code));
    });
    socket.send(init);
    return { socket, answer: await answer };
  }
  const init = (padding: number) =>
    JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${tenant.tokens.VIEWER}`, padding: "x".repeat(padding) } });

  it(`is acknowledged up to ${MAX_WS_BYTES_BEFORE_ACK} bytes; after that, messages up to the message limit are read`, async () => {
    const { socket, answer } = await initAnswer(init(MAX_WS_BYTES_BEFORE_ACK - 1_000));
    expect(answer).toBe("connection_ack");
    const result = new Promise<{ type: string; payload: { data: { viewer: { role: string } } } }>((resolve) =>
      socket.once("message", (data) => resolve(JSON.parse(String(data)))),
    );
    // 300 KB, over the bound before the acknowledgement: an acknowledged socket may send it.
    socket.send(
      JSON.stringify({
        id: "1",
        type: "subscribe",
        payload: { query: "{ viewer { role } }", variables: { padding: "x".repeat(300_000) } },
      }),
    );
    expect(await result).toMatchObject({ type: "next", payload: { data: { viewer: { role: "VIEWER" } } } });
    socket.close();
  });

  it.each([
    ["a message nested too deep", "before", () => [`{"type":"ping","payload":${nested(MAX_JSON_DEPTH + 1)}}`]],
    ["a message nested too deep", "after", () => [`{"type":"ping","payload":${nested(MAX_JSON_DEPTH + 1)}}`]],
    ["1,300 messages at once", "after", () => Array.from({ length: 1_300 }, () => `{"type":"ping"}`)],
  ])("refused for %s %s its init, a socket is read no further: megabytes sent after it are not read", async (_what, when, refusedBy) => {
    const socket = new WebSocket(server.wsEndpoint, "graphql-transport-ws");
    socket.on("error", () => {});
    await new Promise((resolve) => socket.on("open", resolve));
    if (when === "after") {
      const acknowledged = new Promise((resolve) => socket.once("message", resolve));
      socket.send(init(0));
      await acknowledged;
    }
    const closed = new Promise<number>((resolve) => socket.on("close", resolve));
    const { result: code, bytesRead } = await bytesReadDuring(async () => {
      for (const message of refusedBy()) socket.send(message);
      // What a client that ignores the refusal sends next: five messages just under the 1 MiB limit.
      for (let i = 0; i < 5; i++) socket.send(JSON.stringify({ type: "ping", payload: { x: "x".repeat(900_000) } }));
      return closed;
    });
    expect(code).toBe(4400);
    expect(bytesRead).toBeLessThan(400_000);
  });

  it("larger is refused with 4400 without reading the rest: the reported megabyte init costs no more than a small one", async () => {
    const { result, bytesRead } = await bytesReadDuring(() => initAnswer(init(900_000)));
    expect(result.answer).toBe(4400);
    expect(bytesRead).toBeLessThan(400_000);
    expect(server.logs.filter((l) => Number(l.level) >= 50)).toEqual([]);
  });
});

/** Every connection the server accepted since this file's tests began. */
const serverSockets: Socket[] = [];
const serverBytesRead = () => serverSockets.reduce((sum, socket) => sum + socket.bytesRead, 0);

/** Runs `work`, then counts the bytes the server read meanwhile, once it has stopped reading (200 ms without a byte). */
async function bytesReadDuring<T>(work: () => Promise<T>): Promise<{ result: T; bytesRead: number }> {
  const before = serverBytesRead();
  const result = await work();
  let last = -1;
  for (let read = serverBytesRead(); read !== last; read = serverBytesRead()) {
    last = read;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { result, bytesRead: last - before };
}

/**
 * A request written by hand: its headers and the first `sent` bytes of a body of `declared` bytes;
 * once the answer has come, the rest of the body (as a client that sends the whole body regardless
 * would). Resolves with the raw answer once the server has closed the connection.
 */
function partialRequest(headers: Record<string, string>, body: string, sent: number): Promise<{ answer: string; closed: boolean }> {
  const { hostname, port } = new URL(server.endpoint);
  const socket = connect(Number(port), hostname);
  const head = Object.entries({
    host: `${hostname}:${port}`,
    "content-type": "application/json",
    "content-length": String(body.length),
    ...headers,
  })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  socket.write(`POST /graphql HTTP/1.1\r\n${head}\r\n${body.slice(0, sent)}`);
  let answer = "";
  let restSent = false;
  return new Promise((resolve) => {
    socket.on("data", (chunk) => {
      answer += chunk.toString("latin1");
      if (!restSent && answer.includes("\r\n\r\n") && answer.trimEnd().endsWith("}")) {
        restSent = true;
        socket.write(body.slice(sent), () => {});
      }
    });
    socket.on("error", () => {}); // the server may reset a connection it closed while the rest arrives
    socket.on("close", () => resolve({ answer, closed: true }));
  });
}

describe("bodies answered before they are read", () => {
  const huge = `{"query":"{ viewer { role } }","variables":{"x":${nested(900_000)}}}`;

  it("answers 401 to a client still sending a 1.8 MB body, closes the connection and reads no more of it", async () => {
    const { result, bytesRead } = await bytesReadDuring(() => partialRequest({}, huge, 64 * 1024));
    expect(result.answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(result.answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(result.answer).toContain('"code":"UNAUTHENTICATED"');
    // What arrived before the answer, and little more: not the 1.8 MB.
    expect(bytesRead).toBeLessThan(512 * 1024);
  });

  it("gets a fetch client its 401 for the whole body, reading a fraction of it", async () => {
    const { result, bytesRead } = await bytesReadDuring(async () => {
      const response = await post(huge, null);
      return { status: response.status, connection: response.headers.get("connection"), body: await response.json() };
    });
    expect(result.status).toBe(401);
    expect(result.connection).toBe("close");
    expect(result.body.errors[0].extensions.code).toBe("UNAUTHENTICATED");
    expect(bytesRead).toBeLessThan(huge.length / 2);
  });

  it("answers 429 to a throttled token's 1.8 MB body with the connection closed, not drained", async () => {
    const throttled = await createTenant("hostile-throttled");
    const refuse = async () => {
      const refused = await post(bodyOfDepth(MAX_JSON_DEPTH + 1), throttled.tokens.VIEWER);
      await refused.arrayBuffer();
      return refused.status;
    };
    // Spend the token's allowance of refusals with small bodies too deep to read.
    let status = 0;
    for (let i = 0; i < REFUSAL_ALLOWANCE.burst + 20 && status !== 429; i++) status = await refuse();
    // The allowance refills 10 a second, and a 429 is held until there is one again: the huge
    // body follows a refusal that was charged (400), at once, and finds the allowance spent.
    const attempt = () =>
      bytesReadDuring(async () => {
        const response = await post(huge, throttled.tokens.VIEWER);
        return { status: response.status, connection: response.headers.get("connection"), body: await response.json() };
      });
    let measured: Awaited<ReturnType<typeof attempt>> | undefined;
    for (let i = 0; i < 10 && measured?.result.status !== 429; i++) {
      if ((await refuse()) === 400) measured = await attempt();
    }
    if (!measured) throw new Error("no refusal was charged");
    const { result, bytesRead } = measured;
    expect(result.status).toBe(429);
    expect(result.body.errors[0].extensions.code).toBe("TOO_MANY_REQUESTS");
    expect(result.connection).toBe("close");
    expect(bytesRead).toBeLessThan(huge.length / 2);
  });

  it("keeps the connection alive when the body arrived whole, read or not", async () => {
    const answered = await post(JSON.stringify({ query: "{ viewer { role } }" }));
    expect(answered.status).toBe(200);
    expect(answered.headers.get("connection")).toBe("keep-alive");
    await answered.arrayBuffer();
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

describe("variable errors repeat no value", () => {
  it.each([
    ["a missing field beside the value", { variableId: "x", value: "LEAK-sentinel-1" }],
    ["an unknown field beside the value", { variableId: "x", environmentId: "y", value: "LEAK-sentinel-1", extra: "LEAK-sentinel-2" }],
    ["a wrong type", { variableId: ["LEAK-sentinel-1"], environmentId: "y", value: 1 }],
  ])("answers %s with BAD_USER_INPUT, the path and the reason, without the values", async (_label, input) => {
    const response = await fetch(server.endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${tenant.tokens.ADMIN}` },
      body: JSON.stringify({
        query: "mutation($input: SetVariableValueInput!) { setVariableValue(input: $input) { __typename } }",
        variables: { input },
      }),
    });
    const body = await response.json();
    expect(body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
    // graphql-jit names the field's own variable (`$variableId`), graphql-js the operation's (`$input`).
    expect(body.errors[0].message).toMatch(/^Variable "\$\w+" got an invalid value; \S/);
    expect(JSON.stringify(body)).not.toContain("LEAK-sentinel");
  });
});

describe("variable errors on graphql-js's executor", () => {
  it("answer a value refused by a scalar with BAD_USER_INPUT and 400, without repeating it", async () => {
    // A variable inside a list literal keeps the document off graphql-jit: graphql-js coerces the variables.
    const query = `mutation($c: ID!) { propagateChanges(input: { applicationId: "a", fromEnvironmentId: "f", toEnvironmentId: "t",
      changeIds: [$c] }) { __typename } }`;
    for (const value of [{ secret: "LEAK-sentinel-3" }, ["LEAK-sentinel-4"], true]) {
      const response = await fetch(server.endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${tenant.tokens.ADMIN}` },
        body: JSON.stringify({ query, variables: { c: value } }),
      });
      const body = await response.json();
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(body.errors.map((e: { extensions?: { code?: string } }) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
      expect(body.errors[0].message).toMatch(/^Variable "\$c" got an invalid value; \S/);
      expect(JSON.stringify(body)).not.toContain("LEAK-sentinel");
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

import { Lexer, Source, TokenKind } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/server/app.js";
import { MAX_BODY_BYTES, OPERATION_LIMITS } from "../../src/server/limits.js";
import { createLogger } from "../../src/server/logger.js";
import { parseJsonBody } from "../../src/server/request-body.js";
import { testDatabase } from "../support/database.js";
import { gql } from "../support/graphql.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";

let server: TestServer;
let tenant: Tenant;
beforeAll(async () => {
  server = await startTestServer();
  tenant = await createTenant("limits");
});
afterAll(() => server.stop());

const run = (query: string, variables?: Record<string, unknown>) => gql(server.endpoint, tenant.tokens.VIEWER, query, variables);
const accepted = (r: Awaited<ReturnType<typeof run>>) => r.errors === undefined && r.data !== undefined;
/** Refused as a whole, with the limit's code and a message that says which limit (never "Syntax Error"). */
const refusedWith = (r: Awaited<ReturnType<typeof run>>, pattern: RegExp, code: string) =>
  r.data === undefined &&
  (r.errors ?? []).some((e) => pattern.test(e.message) && e.extensions?.code === code && !/syntax error/i.test(e.message));

/** `environments { lower { lower { … { key } } } }`: `depth` nested fields below the root field, as graphql-armor counts. */
function nested(depth: number): string {
  let selection = "key";
  for (let i = 1; i < depth - 1; i++) selection = `lower { ${selection} }`;
  return `{ environments { ${selection} } }`;
}

/** The number of lexical tokens of a document, as the parser's token limit counts them. */
function tokenCount(document: string): number {
  const lexer = new Lexer(new Source(document));
  let count = 0;
  while (lexer.advance().kind !== TokenKind.EOF) count++;
  return count;
}

/**
 * A document of exactly `n` tokens: a step save whose JSON settings hold a long list literal.
 * (A VIEWER's call is refused as FORBIDDEN, as data: the document itself passed parsing.)
 */
function withTokens(n: number): string {
  const make = (items: number) =>
    `mutation { saveJourneyStep(input: { journeyId: "x", environmentId: "y", step: { key: "k", type: "PASSWORD", name: "n", enabled: true, settings: { l: [${"1 ".repeat(items)}] }, transitions: [] } }) { __typename } }`;
  return make(n - tokenCount(make(0)));
}

describe("operation limits", () => {
  it(`accepts depth ${OPERATION_LIMITS.depth} and refuses depth ${OPERATION_LIMITS.depth + 1}`, async () => {
    expect(accepted(await run(nested(OPERATION_LIMITS.depth)))).toBe(true);
    expect(refusedWith(await run(nested(OPERATION_LIMITS.depth + 1)), /depth/i, "QUERY_TOO_DEEP")).toBe(true);
  });

  it(`accepts ${OPERATION_LIMITS.aliases} aliases and refuses ${OPERATION_LIMITS.aliases + 1}`, async () => {
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: viewer { role }`).join(" ")} }`;
    expect(accepted(await run(aliases(OPERATION_LIMITS.aliases)))).toBe(true);
    expect(refusedWith(await run(aliases(OPERATION_LIMITS.aliases + 1)), /aliases/i, "TOO_MANY_ALIASES")).toBe(true);
  });

  it(`accepts ${OPERATION_LIMITS.directives} directives and refuses ${OPERATION_LIMITS.directives + 1}`, async () => {
    const directives = (n: number) => `{ viewer { ${Array.from({ length: n }, () => "role @include(if: true)").join(" ")} } }`;
    expect(accepted(await run(directives(OPERATION_LIMITS.directives)))).toBe(true);
    expect(refusedWith(await run(directives(OPERATION_LIMITS.directives + 1)), /directives/i, "TOO_MANY_DIRECTIVES")).toBe(true);
  });

  it(`accepts ${OPERATION_LIMITS.tokens} tokens and refuses more`, async () => {
    expect(tokenCount(withTokens(OPERATION_LIMITS.tokens))).toBe(OPERATION_LIMITS.tokens);
    expect(accepted(await run(withTokens(OPERATION_LIMITS.tokens)))).toBe(true);
    expect(refusedWith(await run(withTokens(OPERATION_LIMITS.tokens + 1)), /token/i, "TOO_MANY_TOKENS")).toBe(true);
  });

  it(`refuses an operation whose cost is over ${OPERATION_LIMITS.cost}`, async () => {
    // Many cheap aliased fragments spread over a wide selection: under the alias and depth limits, over the cost.
    const wide = (n: number) =>
      `query { environments { ...E } } fragment E on Environment { ${Array.from({ length: n }, (_, i) => `f${i}: databases { name environment { key name rank } }`).join(" ")} }`;
    expect(accepted(await run(wide(1)))).toBe(true);
    const costly = await run(
      `query { ${Array.from({ length: 19 }, (_, i) => `a${i}: environments { lower { upper { lower { upper { databases { environment { databases { environment { key name rank isProduction editable } } } } } } } } }`).join(" ")} }`,
    );
    expect(refusedWith(costly, /cost/i, "QUERY_TOO_COMPLEX")).toBe(true);
  });

  it("does not suggest field names to a caller who guesses", async () => {
    const result = await run("{ viewr { role } }");
    expect(result.errors?.[0].message).not.toMatch(/did you mean/i);
  });
});

describe("request size", () => {
  it(`refuses a body over ${MAX_BODY_BYTES} bytes with 413 before reading it`, async () => {
    const response = await fetch(server.endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${tenant.tokens.VIEWER}` },
      body: JSON.stringify({ query: "{ viewer { role } }", variables: { padding: "x".repeat(MAX_BODY_BYTES) } }),
    });
    expect(response.status).toBe(413);
    expect((await response.json()).errors[0].extensions.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("stops reading a body whose length was not declared at the limit, wherever the handler runs", async () => {
    // Yoga's own bound is off (its stream pipeline cost every request): the reader counts instead.
    const chunk = new TextEncoder().encode(" ".repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > MAX_BODY_BYTES * 2) controller.close();
        else {
          controller.enqueue(chunk);
          sent += chunk.length;
        }
      },
    });
    const request = new Request("http://localhost/graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      duplex: "half",
    } as RequestInit);
    await expect(parseJsonBody(request)).rejects.toMatchObject({ extensions: { code: "PAYLOAD_TOO_LARGE", http: { status: 413 } } });
    expect(sent).toBeLessThan(MAX_BODY_BYTES + 4 * chunk.length);
  });

  it("accepts a body just under the limit", async () => {
    const response = await fetch(server.endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${tenant.tokens.VIEWER}` },
      body: JSON.stringify({ query: "{ viewer { role } }", variables: { padding: "x".repeat(MAX_BODY_BYTES - 200) } }),
    });
    expect(response.status).toBe(200);
  });
});

describe("introspection", () => {
  it("answers introspection by default", async () => {
    expect(accepted(await run("{ __schema { queryType { name } } }"))).toBe(true);
  });

  it("refuses introspection when configured off (INTROSPECTION=false)", async () => {
    const database = await testDatabase();
    const app: App = createApp({ database, logger: createLogger("silent"), introspection: false });
    const url = await app.start(0, "127.0.0.1");
    try {
      const result = await gql(`${url}/graphql`, tenant.tokens.VIEWER, "{ __schema { queryType { name } } }");
      expect(result.data).toBeUndefined();
      expect(result.errors?.[0].message).toMatch(/introspection/i);
      const normal = await gql(`${url}/graphql`, tenant.tokens.VIEWER, "{ viewer { role } }");
      expect(normal.data.viewer.role).toBe("VIEWER");
    } finally {
      await app.stop();
    }
  });
});

describe("CSRF prevention for browsers", () => {
  const get = (headers: Record<string, string>) =>
    fetch(`${server.endpoint}?query=${encodeURIComponent("{ viewer { role } }")}`, { headers: { accept: "application/json", ...headers } });

  it("refuses a simple cross-site request (GET or a text/plain POST without a custom header) with 403", async () => {
    expect((await get({})).status).toBe(403);
    const form = await fetch(server.endpoint, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({ query: "{ viewer { role } }" }),
    });
    expect(form.status).toBe(403);
  });

  it("serves a GET that carries the bearer token, which no simple request can", async () => {
    const response = await get({ authorization: `Bearer ${tenant.tokens.VIEWER}` });
    expect(response.status).toBe(200);
    expect((await response.json()).data.viewer.role).toBe("VIEWER");
  });
});

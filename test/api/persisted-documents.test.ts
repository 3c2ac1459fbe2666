import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient as createSseClient } from "graphql-sse";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPersistedDocuments } from "../../src/server/persisted-documents.js";
import { loadSettings } from "../../src/server/settings.js";
import { apiAs, operation } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { wsClient } from "../support/subscriptions.js";
import { createTenant, type Tenant } from "../support/tenant.js";

const VIEWER = operation(`query Viewer { viewer { role } }`);
const CREATE = operation(`mutation Create($name: String!) { createApplication(input: { name: $name }) { __typename } }`);
const SYNC = operation(`subscription Sync { syncStatusChanged { cursor } }`);
const NAMES = operation(`query Names { applications(first: 100) { edges { node { name } } } }`);

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** As graphql-codegen's client preset writes persisted-documents.json: `sha256:<hex>` keys. */
const MANIFEST = Object.fromEntries([VIEWER, CREATE, SYNC].map((document) => [`sha256:${sha256(document)}`, document]));

const dir = mkdtempSync(join(tmpdir(), "jp-persisted-"));
const manifestFile = join(dir, "persisted-documents.json");
writeFileSync(manifestFile, JSON.stringify(MANIFEST));
const byId = loadPersistedDocuments(manifestFile);

let open: TestServer;
let only: TestServer;
let tenant: Tenant;
beforeAll(async () => {
  [open, only] = await Promise.all([
    startTestServer({ persistedDocuments: { byId, only: false } }),
    startTestServer({ persistedDocuments: { byId, only: true } }),
  ]);
  tenant = await createTenant("persisted");
});
afterAll(async () => {
  await Promise.all([open.stop(), only.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

async function post(server: TestServer, body: unknown, token = tenant.tokens.ADMIN) {
  const response = await fetch(server.endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

const codeOf = (body: any) => body?.errors?.[0]?.extensions?.code;
const names = async () => (await apiAs(open.endpoint, tenant).data(NAMES)).applications.edges.map((e: any) => e.node.name) as string[];

describe("with a manifest (PERSISTED_DOCUMENTS)", () => {
  it("runs the document a documentId names, as codegen writes it (sha256:<hex>) or bare", async () => {
    for (const documentId of [`sha256:${sha256(VIEWER)}`, sha256(VIEWER), `SHA256:${sha256(VIEWER).toUpperCase()}`]) {
      expect(await post(open, { documentId })).toEqual({ status: 200, body: { data: { viewer: { role: "ADMIN" } } } });
    }
  });

  it("runs it over GET with the documentId in the URL", async () => {
    const response = await fetch(`${open.endpoint}?${new URLSearchParams({ documentId: `sha256:${sha256(VIEWER)}` })}`, {
      headers: { authorization: `Bearer ${tenant.tokens.VIEWER}`, accept: "application/json" },
    });
    expect(await response.json()).toEqual({ data: { viewer: { role: "VIEWER" } } });
  });

  it("runs the document an Apollo persisted query names by its sha256Hash", async () => {
    const { body } = await post(open, { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(VIEWER) } } });
    expect(body).toEqual({ data: { viewer: { role: "ADMIN" } } });
  });

  it("answers an unknown id PersistedQueryNotFound (PERSISTED_DOCUMENT_NOT_FOUND), and runs the text Apollo's link sends next", async () => {
    const unknown = sha256("query Unknown { viewer { role } }");
    for (const body of [{ documentId: `sha256:${unknown}` }, { extensions: { persistedQuery: { version: 1, sha256Hash: unknown } } }]) {
      const { body: answer } = await post(open, body);
      expect(answer.data).toBeUndefined();
      expect(answer.errors).toEqual([{ message: "PersistedQueryNotFound", extensions: { code: "PERSISTED_DOCUMENT_NOT_FOUND" } }]);
    }
    const retried = await post(open, {
      query: "query Unknown { viewer { role } }",
      extensions: { persistedQuery: { version: 1, sha256Hash: unknown } },
    });
    expect(retried.body).toEqual({ data: { viewer: { role: "ADMIN" } } });
  });

  it("still runs documents sent as text, and refuses a request with neither text nor id", async () => {
    expect((await post(open, { query: "{ viewer { role } }" })).body).toEqual({ data: { viewer: { role: "ADMIN" } } });
    const neither = await post(open, { variables: {} });
    expect(codeOf(neither.body)).toBe("BAD_REQUEST");
  });

  it("resolves ids over graphql-ws", async () => {
    const ws = wsClient(open.wsEndpoint, tenant.tokens.VIEWER);
    try {
      const result = await new Promise((resolve, reject) => {
        let value: unknown;
        ws.subscribe({ query: "", documentId: sha256(VIEWER) } as never, {
          next: (v) => (value = v),
          error: reject,
          complete: () => resolve(value),
        });
      });
      expect(result).toEqual({ data: { viewer: { role: "VIEWER" } } });
    } finally {
      await ws.dispose();
    }
  });
});

describe("with PERSISTED_DOCUMENTS_ONLY", () => {
  it("refuses a document sent as text with PERSISTED_DOCUMENTS_ONLY, and runs nothing", async () => {
    const refused = await post(only, { query: CREATE, variables: { name: "Free-form" } });
    expect(codeOf(refused.body)).toBe("PERSISTED_DOCUMENTS_ONLY");
    expect(refused.body.data).toBeUndefined();
    // The text is refused even beside a known id: only the manifest's own text runs.
    const beside = await post(only, { query: CREATE, variables: { name: "Beside" }, documentId: sha256(CREATE) });
    expect(codeOf(beside.body)).toBe("PERSISTED_DOCUMENTS_ONLY");
    expect(await names()).not.toEqual(expect.arrayContaining(["Free-form"]));
    expect(await names()).not.toEqual(expect.arrayContaining(["Beside"]));
  });

  it("runs the manifest's documents by id, also within a batch whose free-form operation is refused", async () => {
    const { body } = await post(only, [
      { documentId: `sha256:${sha256(CREATE)}`, variables: { name: "Persisted" } },
      { query: CREATE, variables: { name: "Batched free-form" } },
    ]);
    expect(body[0]).toEqual({ data: { createApplication: { __typename: "CreateApplicationSuccess" } } });
    expect(codeOf(body[1])).toBe("PERSISTED_DOCUMENTS_ONLY");
    const listed = await names();
    expect(listed).toContain("Persisted");
    expect(listed).not.toContain("Batched free-form");
  });

  it("refuses free-form documents over graphql-ws, and runs persisted ones", async () => {
    const ws = wsClient(only.wsEndpoint, tenant.tokens.ADMIN);
    const run = (payload: Record<string, unknown>) =>
      new Promise<unknown>((resolve) => {
        let value: unknown;
        ws.subscribe(payload as never, { next: (v) => (value = v), error: (e) => resolve({ error: e }), complete: () => resolve(value) });
      });
    try {
      const refused = (await run({ query: CREATE, variables: { name: "Over a socket" } })) as { error: any };
      expect(refused.error[0].extensions.code).toBe("PERSISTED_DOCUMENTS_ONLY");
      expect(await run({ query: "", documentId: `sha256:${sha256(VIEWER)}` })).toEqual({ data: { viewer: { role: "ADMIN" } } });
      expect(await run({ query: "", extensions: { persistedQuery: { version: 1, sha256Hash: sha256(VIEWER) } } })).toEqual({
        data: { viewer: { role: "ADMIN" } },
      });
      const unknown = (await run({ query: "", documentId: sha256("nothing") })) as { error: any };
      expect(unknown.error[0]).toMatchObject({ message: "PersistedQueryNotFound", extensions: { code: "PERSISTED_DOCUMENT_NOT_FOUND" } });
      expect(await names()).not.toContain("Over a socket");
    } finally {
      await ws.dispose();
    }
  });

  it("refuses free-form documents over SSE in both graphql-sse modes", async () => {
    for (const singleConnection of [false, true]) {
      const client = createSseClient({
        url: only.endpoint,
        singleConnection,
        headers: { authorization: `Bearer ${tenant.tokens.ADMIN}` },
        retryAttempts: 0,
      });
      try {
        const outcome = await new Promise<{ values: any[]; error?: any }>((resolve) => {
          const values: any[] = [];
          client.subscribe(
            { query: SYNC },
            { next: (v) => values.push(v), error: (error) => resolve({ values, error }), complete: () => resolve({ values }) },
          );
        });
        expect(outcome.values.filter((v) => v.data)).toEqual([]);
        if (singleConnection) {
          // The operation's POST is refused before the stream sees it (graphql-sse's client reports the
          // response; its code is read below, request by request).
          expect((outcome.error.response as Response).status).toBe(400);
        } else {
          expect(codeOf(outcome.values[0])).toBe("PERSISTED_DOCUMENTS_ONLY");
        }
      } finally {
        client.dispose();
      }
    }
  });

  it("runs persisted documents over SSE in single connection mode, and refuses the others", async () => {
    const headers = { authorization: `Bearer ${tenant.tokens.VIEWER}` };
    const streamToken = await (await fetch(only.endpoint, { method: "PUT", headers })).text();
    const abort = new AbortController();
    const stream = await fetch(only.endpoint, {
      headers: { ...headers, accept: "text/event-stream", "x-graphql-event-stream-token": streamToken },
      signal: abort.signal,
    });
    let text = "";
    void (async () => {
      try {
        for await (const chunk of stream.body as unknown as AsyncIterable<Uint8Array>) text += Buffer.from(chunk).toString();
      } catch {
        // aborted below
      }
    })();
    try {
      const accepted = await fetch(only.endpoint, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json", "x-graphql-event-stream-token": streamToken },
        body: JSON.stringify({ documentId: `sha256:${sha256(VIEWER)}`, extensions: { operationId: "1" } }),
      });
      expect(accepted.status).toBe(202);
      await expect.poll(() => text).toContain('{"id":"1","payload":{"data":{"viewer":{"role":"VIEWER"}}}}');
      const refused = await fetch(only.endpoint, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json", "x-graphql-event-stream-token": streamToken },
        body: JSON.stringify({ query: VIEWER, extensions: { operationId: "2" } }),
      });
      expect(refused.status).toBe(400);
      expect(codeOf(await refused.json())).toBe("PERSISTED_DOCUMENTS_ONLY");
      await new Promise((r) => setTimeout(r, 100));
      expect(text).not.toContain('"id":"2"');
    } finally {
      abort.abort();
    }
  });
});

describe("the manifest file", () => {
  const write = (name: string, content: string) => {
    const file = join(dir, name);
    writeFileSync(file, content);
    return file;
  };

  it("is loaded by the settings, ids as clients send them", () => {
    const settings = loadSettings({ PERSISTED_DOCUMENTS: manifestFile, PERSISTED_DOCUMENTS_ONLY: "true" });
    expect(settings.persistedDocuments?.only).toBe(true);
    expect(settings.persistedDocuments?.byId.get(sha256(VIEWER))).toBe(VIEWER);
    expect(loadSettings({}).persistedDocuments).toBeUndefined();
  });

  it.each([
    ["a file that does not exist", () => join(dir, "missing.json"), /PERSISTED_DOCUMENTS: cannot read/],
    ["a file that is not JSON", () => write("broken.json", "{ not json"), /PERSISTED_DOCUMENTS: .* is not JSON/],
    ["a list instead of an object", () => write("list.json", JSON.stringify([VIEWER])), /must be a JSON object/],
    ["an entry that is not text", () => write("number.json", JSON.stringify({ abc: 42 })), /every entry must be/],
    ["a document that does not parse", () => write("syntax.json", JSON.stringify({ abc: "query {" })), /"abc" does not parse/],
  ])("refuses %s with a clear message", (_what, file, message) => {
    expect(() => loadSettings({ PERSISTED_DOCUMENTS: file() })).toThrow(message);
  });

  it("is required by PERSISTED_DOCUMENTS_ONLY", () => {
    expect(() => loadSettings({ PERSISTED_DOCUMENTS_ONLY: "true" })).toThrow(/PERSISTED_DOCUMENTS_ONLY: needs PERSISTED_DOCUMENTS/);
  });

  it("stops the server at start when it is invalid, saying why", async () => {
    const root = new URL("../..", import.meta.url).pathname;
    const child = spawn(join(root, "node_modules/.bin/tsx"), [join(root, "src/server/main.ts")], {
      cwd: root,
      env: { ...process.env, PERSISTED_DOCUMENTS: write("start.json", "[]"), PORT: "0", DATA_DIR: join(dir, "data") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).not.toBe(0);
    expect(output).toMatch(/Invalid configuration:\s+PERSISTED_DOCUMENTS: .*must be a JSON object/);
    expect(output).not.toMatch(/listening/);
  });
});

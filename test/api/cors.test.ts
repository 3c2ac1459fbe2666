import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSettings } from "../../src/server/settings.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";

const APP = "https://app.example.com";
const LOCAL = "http://localhost:3000";

let closed: TestServer;
let listed: TestServer;
let tenant: Tenant;
beforeAll(async () => {
  [closed, listed] = await Promise.all([startTestServer(), startTestServer({ corsOrigins: [APP, LOCAL] })]);
  tenant = await createTenant("cors");
});
afterAll(() => Promise.all([closed.stop(), listed.stop()]));

/** A page's fetch from `origin`, with the bearer token (or without one). */
const fromPage = (server: TestServer, origin: string, token: string | null = tenant.tokens.VIEWER) =>
  fetch(server.endpoint, {
    method: "POST",
    headers: { origin, "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: "{ viewer { role } }" }),
  });

/** The browser's preflight for such a fetch. */
const preflight = (server: TestServer, origin: string) =>
  fetch(server.endpoint, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
  });

const corsHeaders = (response: Response) =>
  Object.fromEntries([...response.headers].filter(([name]) => name.startsWith("access-control-")));

describe("without CORS_ORIGINS", () => {
  it("gives no origin cross-origin access: no CORS header on a response or a preflight", async () => {
    const response = await fromPage(closed, APP);
    expect(response.status).toBe(200);
    expect(corsHeaders(response)).toEqual({});
    const answered = await preflight(closed, APP);
    expect(corsHeaders(answered)).toEqual({});
  });
});

describe("with CORS_ORIGINS", () => {
  it.each([APP, LOCAL])("lets %s read responses with its bearer token, without credentials mode", async (origin) => {
    const response = await fromPage(listed, origin);
    expect(await response.json()).toEqual({ data: { viewer: { role: "VIEWER" } } });
    expect(response.headers.get("access-control-allow-origin")).toBe(origin);
    expect(response.headers.get("access-control-allow-credentials")).toBeNull();
    expect(response.headers.get("access-control-expose-headers")?.split(/\s*,\s*/)).toEqual(
      expect.arrayContaining(["x-request-id", "www-authenticate"]),
    );
    expect(response.headers.get("x-request-id")).toBeTruthy();
    expect(response.headers.get("vary")).toMatch(/\bOrigin\b/);
  });

  it("answers a listed origin's preflight with the methods and headers it may send", async () => {
    const response = await preflight(listed, APP);
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(APP);
    expect(response.headers.get("access-control-allow-credentials")).toBeNull();
    const headers = response.headers.get("access-control-allow-headers")?.split(/\s*,\s*/);
    expect(headers).toEqual(expect.arrayContaining(["authorization", "content-type"]));
    expect(response.headers.get("access-control-allow-methods")?.split(/\s*,\s*/)).toEqual(expect.arrayContaining(["GET", "POST"]));
  });

  it.each(["https://evil.example.com", "https://app.example.com.evil.example", "http://app.example.com", "null"])(
    "gives %s nothing, on a preflight or a response",
    async (origin) => {
      expect(corsHeaders(await preflight(listed, origin))).toEqual({});
      const response = await fromPage(listed, origin);
      expect(corsHeaders(response)).toEqual({});
    },
  );

  it("lets a listed page read a 401, which carries WWW-Authenticate: Bearer", async () => {
    const response = await fromPage(listed, APP, null);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
    expect(response.headers.get("access-control-allow-origin")).toBe(APP);
    expect(((await response.json()) as any).errors[0].extensions.code).toBe("UNAUTHENTICATED");
  });
});

describe("WWW-Authenticate", () => {
  it("comes with every 401: no token, a wrong one, over GET and POST", async () => {
    const responses = [
      await fromPage(closed, APP, null),
      await fromPage(closed, APP, "jpt_not-a-token"),
      await fetch(`${closed.endpoint}?query=${encodeURIComponent("{ viewer { role } }")}`, { headers: { authorization: "Bearer nope" } }),
    ];
    for (const response of responses) {
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
    }
  });
});

describe("CORS_ORIGINS", () => {
  it("is a comma-separated list of origins, none by default", () => {
    expect(loadSettings({}).corsOrigins).toEqual([]);
    expect(loadSettings({ CORS_ORIGINS: ` ${APP}, ${LOCAL} ,` }).corsOrigins).toEqual([APP, LOCAL]);
  });

  it.each(["*", "https://app.example.com/", "app.example.com", "https://app.example.com/path", "ftp://files.example.com"])(
    "refuses %s, which is not an origin",
    (value) => {
      expect(() => loadSettings({ CORS_ORIGINS: value })).toThrow(/CORS_ORIGINS: .* is not an origin/);
    },
  );
});

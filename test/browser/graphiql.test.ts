import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant } from "../support/tenant.js";
import { launchChromium, openPage } from "./browser.js";
import { eventually } from "./eventually.js";

/**
 * GraphiQL and the dashboard as the server serves them (DESIGN §11): from its own files, under a
 * Content-Security-Policy that names no other origin, cached by hash or revalidated by ETag. GraphiQL runs in
 * headless Chromium with every request to another origin refused, as on a machine without internet.
 */

let browser: Browser;
let server: TestServer;

beforeAll(async () => {
  [browser, server] = await Promise.all([launchChromium(), startTestServer()]);
  await server.app.preparePages();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** Every source a CSP allows: keywords (`'self'`, `'none'`…) and schemes with no host (`data:`), nothing else. */
function sourcesOf(csp: string): string[] {
  return csp.split(";").flatMap((directive) => directive.trim().split(/\s+/).slice(1));
}

/** An element's text as read: Monaco shows spaces as no-break spaces. */
const textOf = async (locator: Locator) => ((await locator.textContent()) ?? "").replaceAll("\u00a0", " ");

/** Types a Monaco editor's new text as a person would (its auto-closed brackets and quotes are typed over). */
async function replaceText(page: Page, editor: Locator, text: string) {
  await editor.click();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.press("Delete");
  await page.keyboard.type(text);
}

describe("GraphiQL", () => {
  it("runs from the server's own assets with every other origin unreachable, the Authorization header ready to fill in", async () => {
    const tenant = await createTenant("graphiql");
    const { context, page, errors, foreignRequests } = await openPage(browser, server.url);
    try {
      const loaded: string[] = [];
      page.on("requestfinished", (request) => loaded.push(new URL(request.url()).pathname));
      const response = await page.goto(`${server.url}/graphql`);
      expect(response?.status()).toBe(200);
      const csp = response!.headers()["content-security-policy"];
      expect(csp).toMatch(/default-src 'none'/);
      expect(sourcesOf(csp).filter((source) => !/^'[\w-]+'$|^(data|blob):$/.test(source))).toEqual([]);

      const headers = page.locator("section.graphiql-editor-tool[aria-label=Headers]");
      await eventually(() => textOf(headers), 20_000).toMatch(/"Authorization"\s*:\s*"Bearer <token>"/);
      // Until the token is filled in, nothing is sent: GraphiQL says where it goes.
      const result = page.locator(".graphiql-response");
      await eventually(() => textOf(result)).toMatch(/Put your API token in the Headers tab/);

      await replaceText(
        page,
        headers.locator('.monaco-editor[data-uri$="request-headers.json"]'),
        JSON.stringify({ Authorization: `Bearer ${tenant.tokens.VIEWER}` }),
      );
      await replaceText(page, page.locator("section.graphiql-query-editor .monaco-editor"), "{ viewer { role organization { name } } }");
      await page.getByRole("button", { name: /Execute query/ }).click();
      await eventually(() => textOf(result)).toMatch(/"role":\s*"VIEWER"/);
      expect(await textOf(result)).toContain(tenant.name);
      // The token typed into the headers stays in the page: not in storage, not in the address.
      const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
      expect(stored).not.toContain(tenant.tokens.VIEWER);
      expect(page.url()).not.toContain(tenant.tokens.VIEWER);

      // React, GraphiQL, Monaco's three workers and the styles all came from this server.
      expect(loaded).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^\/assets\/graphiql-[0-9a-f]{12}\.js$/),
          expect.stringMatching(/^\/assets\/graphiql-[0-9a-f]{12}\.css$/),
          expect.stringMatching(/^\/assets\/graphiql-graphql-worker-[0-9a-f]{12}\.js$/),
          expect.stringMatching(/^\/assets\/graphiql-json-worker-[0-9a-f]{12}\.js$/),
          expect.stringMatching(/^\/assets\/graphiql-editor-worker-[0-9a-f]{12}\.js$/),
        ]),
      );
      expect(foreignRequests).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("is not served when introspection is off, while the dashboard still is", async () => {
    const closed = await startTestServer({ introspection: false });
    try {
      const graphiql = await fetch(closed.endpoint, { headers: { accept: "text/html" } });
      expect(graphiql.status).not.toBe(200);
      expect(await graphiql.text()).not.toMatch(/graphiql/i);
      expect((await fetch(`${closed.url}/dashboard`)).status).toBe(200);
    } finally {
      await closed.stop();
    }
  });
});

describe("the pages' files", () => {
  it("serve the dashboard under a CSP of this origin only, revalidated by ETag, its assets cached for good under hashed names", async () => {
    const page = await fetch(`${server.url}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    const csp = page.headers.get("content-security-policy")!;
    expect(csp).toMatch(/default-src 'none'/);
    expect(sourcesOf(csp).filter((source) => !/^'[\w-]+'$/.test(source))).toEqual([]);
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script>|<style>|\son\w+=/);

    const etag = page.headers.get("etag")!;
    expect(etag).toMatch(/^W\/".+"$/);
    const again = await fetch(`${server.url}/dashboard`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);

    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets).toEqual([
      expect.stringMatching(/^\/assets\/favicon-[0-9a-f]{12}\.svg$/),
      expect.stringMatching(/^\/assets\/dashboard-\w{8}\.css$/),
      expect.stringMatching(/^\/assets\/dashboard-\w{8}\.js$/),
    ]);
    for (const asset of assets) {
      const response = await fetch(`${server.url}${asset}`, { headers: { "accept-encoding": "gzip" } });
      expect(response.status).toBe(200);
      expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(response.headers.get("etag")).toMatch(/^W\/".+"$/);
      await response.arrayBuffer();
    }
    const head = await fetch(`${server.url}${assets[2]}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const script = await fetch(`${server.url}${assets[2]}`, { headers: { "accept-encoding": "gzip" } });
    expect(script.headers.get("content-encoding")).toBe("gzip");
    expect(await script.text()).toMatch(/syncStatusChanged/);

    expect((await fetch(`${server.url}/assets/dashboard-00000000.js`)).status).toBe(404);
    expect((await fetch(`${server.url}/assets/../src/server/main.ts`)).status).toBe(404);
  });
});

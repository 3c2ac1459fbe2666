import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import type { GraphiQLOptions, Plugin } from "graphql-yoga";
import type { Logger } from "./logger.js";
import { ASSETS_PREFIX, loadPages, type PageBundle, type PagePart } from "./page-assets.js";

const gzipped = promisify(gzip);

/**
 * What the pages may load: this origin only (`'self'` covers its ws:// too). Nothing inline but GraphiQL's styles
 * (React and Monaco set style attributes and elements at run time: without 'unsafe-inline' the browser reports each
 * one, which test/browser would fail on) and the fonts and images its stylesheet holds as data: URLs. No CSP here
 * names another origin, so the pages need no internet and nothing can be injected from one.
 */
const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const GRAPHIQL_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "worker-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers of every HTML page: its CSP, no framing, no referrer, no MIME sniffing, revalidated on every load. */
const pageHeaders = (csp: string) => ({
  "content-security-policy": csp,
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
  "cache-control": "no-cache",
});

interface Served {
  body: Buffer;
  contentType: string;
  /** Weak: the same for the gzip encoding of the body (If-None-Match compares weakly). */
  etag: string;
  immutable: boolean;
  gzip?: Promise<Buffer>;
}

const COMPRESSIBLE = /^(text\/|application\/json|image\/svg)/;

/** `"<tag>"`, `W/"<tag>"`, lists, `*`: whether the client's copy is this one. */
function matches(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const tag = etag.replace(/^W\//, "");
  return ifNoneMatch.split(",").some((candidate) => {
    const trimmed = candidate.trim();
    return trimmed === "*" || trimmed.replace(/^W\//, "") === tag;
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON inside a `<script type="application/json">`: no `</script>` or comment opener can end it early. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, "\\u003c");

export interface Pages {
  /** Serves `/dashboard` and `/assets/*`, and gives GraphiQL's HTML its headers. */
  plugin: Plugin;
  /** yoga's `renderGraphiQL`: GraphiQL's page, loading only this server's assets. */
  renderGraphiQL(options: GraphiQLOptions): Promise<string>;
  /** Bundles the dashboard now rather than on its first request (GraphiQL's files load on GraphiQL's first request). */
  prepare(): Promise<void>;
}

/**
 * The pages for people (DESIGN §11): GraphiQL and the live sync dashboard, served from this server's own files —
 * hashed asset names cached for a year, pages revalidated by ETag — under a strict Content-Security-Policy.
 * The dashboard is a client of the public API like any other; nothing here gives it more.
 */
export function createPages({ graphqlPath, logger }: { graphqlPath: string; logger: Logger }): Pages {
  const served = new WeakMap<PageBundle, { urls: Record<string, string>; byPath: Map<string, Served> }>();
  /** A part's files by path, with their ETags (computed once per bundle) and, once asked for, their gzip encoding. */
  const assets = async (part: PagePart) => {
    const bundle = await loadPages(part);
    let files = served.get(bundle);
    if (!files) {
      const byPath = new Map<string, Served>();
      for (const file of bundle.files) {
        const etag = `W/"${createHash("sha256").update(file.body).digest("base64url").slice(0, 22)}"`;
        byPath.set(file.path, { body: file.body, contentType: file.contentType, etag, immutable: file.path.startsWith(ASSETS_PREFIX) });
      }
      files = { urls: bundle.urls, byPath };
      served.set(bundle, files);
    }
    return files;
  };
  /** The file at `path`: the dashboard's part first; GraphiQL's files are loaded only when one of them is asked for. */
  const fileAt = async (path: string) =>
    (await assets("dashboard")).byPath.get(path) ??
    (path.startsWith(`${ASSETS_PREFIX}graphiql-`) ? (await assets("graphiql")).byPath.get(path) : undefined);

  async function respond(request: Request, path: string): Promise<Response> {
    const file = await fileAt(path);
    if (!file) return new Response("Not found\n", { status: 404, headers: { "content-type": "text/plain; charset=utf-8" } });
    const headers: Record<string, string> = {
      "content-type": file.contentType,
      etag: file.etag,
      vary: "accept-encoding",
      "x-content-type-options": "nosniff",
      ...(file.immutable ? { "cache-control": "public, max-age=31536000, immutable" } : pageHeaders(DASHBOARD_CSP)),
    };
    if (matches(request.headers.get("if-none-match"), file.etag)) return new Response(null, { status: 304, headers });
    let body = file.body;
    if (COMPRESSIBLE.test(file.contentType) && body.length > 1024 && /\bgzip\b/.test(request.headers.get("accept-encoding") ?? "")) {
      file.gzip ??= gzipped(file.body);
      body = await file.gzip;
      headers["content-encoding"] = "gzip";
    }
    headers["content-length"] = String(body.length);
    return new Response(request.method === "HEAD" ? null : new Uint8Array(body), { status: 200, headers });
  }

  const plugin: Plugin = {
    onRequest({ request, url, endResponse }) {
      if (request.method !== "GET" && request.method !== "HEAD") return;
      const path = url.pathname === "/dashboard/" ? "/dashboard" : url.pathname;
      if (path !== "/dashboard" && !path.startsWith(ASSETS_PREFIX)) return;
      return respond(request, path).then(endResponse, (error) => {
        logger.error({ err: error }, "the pages (GraphiQL, the dashboard) could not be prepared");
        endResponse(new Response("The pages are unavailable\n", { status: 503, headers: { "content-type": "text/plain; charset=utf-8" } }));
      });
    },
    onResponse({ request, response }) {
      // yoga renders GraphiQL (only when introspection is on); its page gets the pages' headers here.
      if (new URL(request.url).pathname !== graphqlPath || !response.headers.get("content-type")?.startsWith("text/html")) return;
      for (const [name, value] of Object.entries(pageHeaders(GRAPHIQL_CSP))) response.headers.set(name, value);
    },
  };

  return {
    plugin,
    async renderGraphiQL(options) {
      const [dashboard, graphiql] = await Promise.all([assets("dashboard"), assets("graphiql")]);
      const urls = { ...dashboard.urls, ...graphiql.urls };
      const config = {
        options,
        endpoint: graphqlPath,
        workers: {
          editorWorkerService: urls["graphiql-editor-worker.js"],
          json: urls["graphiql-json-worker.js"],
          graphql: urls["graphiql-graphql-worker.js"],
        },
      };
      return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>${escapeHtml(options.title ?? "GraphiQL")}</title>
    <link rel="icon" href="${urls["graphiql-favicon.ico"]}">
    <link rel="stylesheet" href="${urls["graphiql.css"]}">
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>GraphiQL needs JavaScript.</noscript>
    <div id="root"></div>
    <script type="application/json" id="graphiql-config">${scriptJson(config)}</script>
    <script src="${urls["graphiql.js"]}"></script>
    <script type="module" src="${urls["graphiql-start.js"]}"></script>
  </body>
</html>
`;
    },
    prepare: async () => {
      await assets("dashboard");
    },
  };
}

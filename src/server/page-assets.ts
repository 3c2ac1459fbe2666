import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** A file of the pages, served at `path` (`/dashboard`, `/assets/dashboard-4RT2QX7M.js`). */
export interface PageFile {
  path: string;
  contentType: string;
  body: Buffer;
}

export interface PageBundle {
  files: PageFile[];
  /** URL paths by name: `graphiql.js` → `/assets/graphiql-0f3a…js`. */
  urls: Record<string, string>;
}

/** Under this prefix every name holds its content's hash: such a file never changes (cached for a year). */
export const ASSETS_PREFIX = "/assets/";
/** Where `npm run build` writes the pages (src/cli/build-pages.ts), from the folder of package.json. */
export const BUILT_PAGES = "dist/pages";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
};

const contentTypeOf = (name: string) => CONTENT_TYPES[extname(name)] ?? "application/octet-stream";

/** The folder of package.json: the checkout, or a deployment's folder (the one that holds dist/). */
export function projectRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

/** `name-<hash>.ext`: the name changes whenever the content does. */
function hashedPath(name: string, body: Buffer): string {
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 12);
  const extension = extname(name);
  return `${ASSETS_PREFIX}${basename(name, extension)}-${hash}${extension}`;
}

function hashed(name: string, body: Buffer | string): PageFile & { name: string } {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return { name, path: hashedPath(name, bytes), contentType: contentTypeOf(name), body: bytes };
}

/** Our own TypeScript pages (src/pages), bundled by esbuild: the dashboard, its stylesheet, GraphiQL's start script. */
async function bundleSources(root: string): Promise<(PageFile & { name?: string })[]> {
  const { build } = await import("esbuild");
  const entries: Record<string, string> = {
    "src/pages/dashboard/main.ts": "dashboard.js",
    "src/pages/dashboard/dashboard.css": "dashboard.css",
    "src/pages/graphiql/start.ts": "graphiql-start.js",
  };
  const result = await build({
    absWorkingDir: root,
    entryPoints: [
      { in: "src/pages/dashboard/main.ts", out: "dashboard" },
      { in: "src/pages/dashboard/dashboard.css", out: "dashboard" },
      { in: "src/pages/graphiql/start.ts", out: "graphiql-start" },
    ],
    tsconfig: "src/pages/tsconfig.json",
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    minify: true,
    sourcemap: "linked",
    // Only where the output would go, for the names and source map links: nothing is written here.
    outdir: `${BUILT_PAGES}${ASSETS_PREFIX}`,
    entryNames: "[name]-[hash]",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const outputs = result.metafile.outputs;
  return result.outputFiles.map((file) => {
    const output = outputs[relative(root, file.path)];
    const name = output?.entryPoint ? entries[output.entryPoint] : undefined;
    const fileName = basename(file.path);
    return { name, path: `${ASSETS_PREFIX}${fileName}`, contentType: contentTypeOf(fileName), body: Buffer.from(file.contents) };
  });
}

/**
 * yoga's GraphiQL as @graphql-yoga/render-graphiql ships it (React, GraphiQL, Monaco and its workers, the styles
 * with their fonts inlined), as files of our own instead of one page with everything inline.
 */
async function graphiqlFiles(): Promise<(PageFile & { name: string })[]> {
  const graphiql = await import("@graphql-yoga/render-graphiql/graphiql");
  const favicon = /^data:[^;,]+;base64,(.*)$/.exec(graphiql.favicon);
  if (!favicon) throw new Error("@graphql-yoga/render-graphiql's favicon is not a base64 data URL");
  return [
    hashed("graphiql.js", graphiql.js),
    hashed("graphiql.css", graphiql.css),
    hashed("graphiql-editor-worker.js", graphiql.editorWorkerService),
    hashed("graphiql-json-worker.js", graphiql.jsonWorker),
    hashed("graphiql-graphql-worker.js", graphiql.graphqlWorker),
    hashed("graphiql-favicon.ico", Buffer.from(favicon[1], "base64")),
  ];
}

/**
 * The pages come in two parts: the dashboard (our own sources, bundled in a fraction of a second; GraphiQL's start
 * script with them) and GraphiQL's own files (a 9 MB module to load, so only when GraphiQL is first asked for).
 */
export type PagePart = "dashboard" | "graphiql";

/** Builds a part's files from the sources, in memory. */
async function buildPart(part: PagePart, root: string): Promise<PageBundle> {
  const files: PageFile[] = [];
  const urls: Record<string, string> = {};
  const add = (file: PageFile & { name?: string }) => {
    if (file.name) urls[file.name] = file.path;
    files.push({ path: file.path, contentType: file.contentType, body: file.body });
  };
  if (part === "graphiql") {
    for (const file of await graphiqlFiles()) add(file);
    return { files, urls };
  }
  const [sources, favicon, template] = await Promise.all([
    bundleSources(root),
    readFile(join(root, "src/pages/favicon.svg")),
    readFile(join(root, "src/pages/dashboard/index.html"), "utf8"),
  ]);
  for (const file of [...sources, hashed("favicon.svg", favicon)]) add(file);
  const dashboard = template.replace(/\{\{([\w.-]+)\}\}/g, (_, name: string) => {
    if (!urls[name]) throw new Error(`src/pages/dashboard/index.html names an unknown asset: ${name}`);
    return urls[name];
  });
  files.push({ path: "/dashboard", contentType: contentTypeOf("dashboard.html"), body: Buffer.from(dashboard) });
  return { files, urls };
}

/** Builds every page file from the sources, in memory: what `npm run build` writes. */
export async function buildPages(root = projectRoot()): Promise<PageBundle> {
  const parts = await Promise.all([buildPart("dashboard", root), buildPart("graphiql", root)]);
  return { files: parts.flatMap((p) => p.files), urls: Object.assign({}, ...parts.map((p) => p.urls)) };
}

interface Manifest {
  urls: Record<string, string>;
  files: { path: string; file: string; contentType: string }[];
}

/** Writes the pages into `dir` (emptied first), with a manifest of what is served where. */
export async function writePages(bundle: PageBundle, dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  const manifest: Manifest = { urls: bundle.urls, files: [] };
  for (const file of bundle.files) {
    const name = file.path.startsWith(ASSETS_PREFIX) ? file.path.slice(1) : `${file.path.slice(1)}.html`;
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), file.body);
    manifest.files.push({ path: file.path, file: name, contentType: file.contentType });
  }
  await writeFile(join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The pages `writePages` wrote. */
export async function readPages(dir: string): Promise<PageBundle> {
  const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as Manifest;
  const files = await Promise.all(
    manifest.files.map(async (f) => ({ path: f.path, contentType: f.contentType, body: await readFile(join(dir, f.file)) })),
  );
  return { files, urls: manifest.urls };
}

/** Memoized loads by key; a failed one is forgotten, so that the next request tries again. */
const loaded = new Map<string, Promise<PageBundle>>();
function once(key: string, load: () => Promise<PageBundle>): Promise<PageBundle> {
  let pages = loaded.get(key);
  if (!pages) {
    pages = load();
    loaded.set(key, pages);
    pages.catch(() => loaded.delete(key));
  }
  return pages;
}

/**
 * A part of the pages, once per process. Run from the TypeScript sources (`npm start`, tests), it is bundled from
 * src/pages in memory, so it is never older than the sources. Run from the build (`npm run start:prod`), every page
 * file is what `npm run build` wrote to dist/pages, read at once (reading is cheap; only bundling is not).
 */
export function loadPages(part: PagePart): Promise<PageBundle> {
  const root = projectRoot();
  if (!import.meta.url.endsWith(".ts")) return once("built", () => readPages(join(root, BUILT_PAGES)));
  return once(part, () => buildPart(part, root));
}

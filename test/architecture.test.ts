import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = new URL("..", import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

/** Every module specifier a file imports or re-exports, type-only ones included. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), "utf8");
  return [
    ...text.matchAll(/(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|^import\s+["']([^"']+)["']/gm),
  ].map((m) => m[1] ?? m[2] ?? m[3]);
}

function resolveTo(file: string, specifier: string): string {
  return specifier.startsWith(".") ? relative(root, join(root, file, "..", specifier)) : specifier;
}

/** Each cycle met in a depth-first walk of the import graph, as `a -> b -> a`. */
function cyclesIn(edges: Map<string, string[]>): string[] {
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    path.push(file);
    for (const target of edges.get(file) ?? []) {
      if (state.get(target) === "open") cycles.push([...path.slice(path.indexOf(target)), target].join(" -> "));
      else if (!state.has(target)) visit(target);
    }
    path.pop();
    state.set(file, "done");
  };
  for (const file of edges.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

/** The only packages src/domain may import: validation, and hashing (pure computation). */
const DOMAIN_PACKAGES = ["zod", "node:crypto"];

/** Which top-level folders of src/ each folder may import (ARCHITECTURE.md, "Layers": domain ← db ← services ← graphql ← server). */
const allowed: Record<string, string[]> = {
  domain: ["domain"],
  db: ["domain", "db"],
  services: ["domain", "db", "services", "events"],
  events: ["domain", "db", "events"],
  graphql: ["domain", "services", "graphql", "events"],
  server: ["domain", "db", "services", "graphql", "server", "events"],
  cli: ["domain", "db", "services", "server", "cli"],
  // Browser code: it reaches the server through the public GraphQL API only, never through an import.
  pages: ["pages"],
  // No code: patch-package's patches of dependencies, applied on install (README, Notes).
  patches: [],
};

describe("the architecture", () => {
  it("keeps src/domain pure: nothing outside it but zod and node:crypto's hashing", () => {
    const offenders = sourceFiles("src/domain").flatMap((file) =>
      importsOf(file)
        .filter((s) => (s.startsWith(".") ? !resolveTo(file, s).startsWith("src/domain") : !DOMAIN_PACKAGES.includes(s)))
        .map((s) => `${file} imports ${s}`),
    );
    expect(offenders).toEqual([]);
  });

  it("keeps every folder to the dependency direction, and src/graphql away from src/db", () => {
    const offenders: string[] = [];
    for (const [folder, may] of Object.entries(allowed)) {
      let files: string[] = [];
      try {
        files = sourceFiles(`src/${folder}`);
      } catch {
        continue;
      }
      for (const file of files) {
        for (const specifier of importsOf(file).filter((s) => s.startsWith("."))) {
          const target = resolveTo(file, specifier).split("/")[1];
          if (!may.includes(target)) offenders.push(`${file} imports ${specifier}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it("has no import cycle in src/, type-only imports included", () => {
    const files = sourceFiles("src");
    const edges = new Map(
      files.map((file) => [
        file,
        importsOf(file)
          .filter((s) => s.startsWith("."))
          .map((s) => resolveTo(file, s).replace(/\.js$/, ".ts"))
          .filter((target) => files.includes(target)),
      ]),
    );
    expect(cyclesIn(edges)).toEqual([]);
  });

  it("knows every folder of src/", () => {
    const folders = readdirSync(join(root, "src"), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(folders.filter((f) => !(f in allowed))).toEqual([]);
  });
});

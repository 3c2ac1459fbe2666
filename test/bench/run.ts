import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Figures, formatFigures, machine } from "./figures.js";

/**
 * `npm run bench [-- <name>...]`: every `*.bench.ts` module of this folder, in name order, one after
 * the other (benches on one machine must not compete). `npm run bench` compiles src and the benches
 * first (tsconfig.bench.json, into .bench-build) and runs them compiled, their servers too, as
 * production runs (`npm run start:prod`); `npx tsx test/bench/run.ts` runs them under tsx, whose kept
 * function names cost every closure our code makes (docs/performance.md, 2026-12-06). A module takes
 * part by exporting a `run<Name>Bench()` function (sync or async) that returns its figures, and may
 * export `format<Name>Bench(figures)` to print them its own way; a new bench is a new file. Names
 * given on the command line keep only the modules whose file name contains one of them.
 */
const BENCH_FUNCTION = /^run([A-Z]\w*)Bench$/;

type Run = () => unknown;
type Format = (figures: unknown) => string;

/** Nested figures as `a.b  value` lines; fractions kept to three decimals. */
function flatten(value: unknown, prefix = "", into: Figures = {}): Figures {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, into);
  } else if (typeof value === "number") {
    into[prefix] = Number.isInteger(value) ? value : Math.round(value * 1000) / 1000;
  } else {
    into[prefix || "result"] = typeof value === "string" || typeof value === "boolean" ? value : JSON.stringify(value);
  }
  return into;
}

const host = machine();
const folder = fileURLToPath(new URL(".", import.meta.url));
/** `.bench.ts` under tsx, `.bench.js` in the build. */
const suffix = import.meta.url.endsWith(".ts") ? ".bench.ts" : ".bench.js";
const only = process.argv.slice(2);
const files = (await readdir(folder))
  .filter((file) => file.endsWith(suffix))
  // In the build, only benches whose source is still there (a compiled file outlives a removed source).
  .filter(
    (file) =>
      suffix === ".bench.ts" || existsSync(fileURLToPath(new URL(`../../../test/bench/${file.replace(/\.js$/, ".ts")}`, import.meta.url))),
  )
  .filter((file) => only.length === 0 || only.some((name) => file.includes(name)))
  .sort();

const outcomes: { name: string; figures?: Figures; error?: unknown }[] = [];
for (const file of files) {
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(`${folder}${file}`).href)) as Record<string, unknown>;
  } catch (error) {
    console.error(`${file} failed to load:`, error);
    outcomes.push({ name: file, error });
    continue;
  }
  const runs = Object.keys(module).filter((name) => BENCH_FUNCTION.test(name) && typeof module[name] === "function");
  if (runs.length === 0) console.warn(`${file}: exports no run…Bench function, skipped`);
  for (const name of runs) {
    try {
      const result = await (module[name] as Run)();
      const format = module[name.replace(BENCH_FUNCTION, "format$1Bench")];
      if (typeof format === "function") console.log(`\n${(format as Format)(result)}`);
      outcomes.push({ name, figures: flatten(result) });
    } catch (error) {
      console.error(`${name} failed:`, error);
      outcomes.push({ name, error });
    }
  }
}

console.log("\n=== Benchmark summary ===");
console.log(formatFigures(host));
for (const { name, figures, error } of outcomes) {
  console.log(`\n${name}${error ? `: FAILED (${error instanceof Error ? error.message : String(error)})` : ""}`);
  if (figures) console.log(formatFigures(figures));
}
if (outcomes.length === 0) console.log("\nno bench module matched");
if (outcomes.length === 0 || outcomes.some((o) => o.error)) process.exitCode = 1;

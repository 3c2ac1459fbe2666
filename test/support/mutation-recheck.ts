/**
 * Checks the mutants a StrykerJS JSON report counts as undetected (Survived, NoCoverage) again, one
 * at a time and by hand: each is written into its source file as the report recorded that file,
 * the unit tests of the mutation config that covered it in the run and those named after its file
 * run (`vitest.mutation.config.ts`; for a mutant of code that runs while modules load, all the
 * domain's: it fails test files as they load, which Stryker cannot see), and the file is put back. Prints which mutants the tests kill now and which still survive.
 *
 * Why: a long Stryker run on this 2-core machine (issue 20) reported mutants as survivors that the
 * existing tests kill when the mutant is applied by hand (a mutant that makes `null.filter(…)` throw
 * inside a tested function, an endless loop), so its list of survivors is checked before tests are
 * written against it. Mutants of a file changed since the run are applied to the file as it was
 * then (the report's `source`): what is checked is whether today's tests kill them in that code.
 *
 *   npx tsx test/support/mutation-recheck.ts reports/mutation/<batch>.json [file filter]
 *
 * Changes the files under src/ while it runs (each put back afterwards, and when the process is
 * interrupted or terminated): run nothing else then, and do not edit src/ meanwhile.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";

interface Position {
  line: number;
  column: number;
}

interface Mutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  status: string;
  static?: boolean;
  coveredBy?: string[];
  location: { start: Position; end: Position };
}

interface Report {
  files: Record<string, { source: string; mutants: Mutant[] }>;
  testFiles?: Record<string, { tests: { id: string }[] }>;
}

/** Offset in `source` of a 1-based line and column, as Stryker reports them. */
function offsetOf(source: string, { line, column }: Position): number {
  let offset = 0;
  for (let l = 1; l < line; l++) offset = source.indexOf("\n", offset) + 1;
  return offset + column - 1;
}

function mutate(source: string, mutant: Mutant): string {
  const start = offsetOf(source, mutant.location.start);
  const end = offsetOf(source, mutant.location.end);
  return `${source.slice(0, start)}${mutant.replacement ?? ""}${source.slice(end)}`;
}

/** The file holding a mutant now, and what to put back (also when this process is stopped). */
let current: { file: string; original: string } | undefined;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    if (current) writeFileSync(current.file, current.original);
    process.exit(130);
  });
}

/** Whether the unit tests in `tests` fail with `file` holding `text` (the file is restored afterwards). */
function testsFail(file: string, text: string, tests: string[]): boolean {
  const original = readFileSync(file, "utf8");
  current = { file, original };
  writeFileSync(file, text);
  try {
    const run = spawnSync("npx", ["vitest", "run", "--config", "vitest.mutation.config.ts", "--bail", "1", "--reporter", "dot", ...tests], {
      encoding: "utf8",
      timeout: 300_000,
    });
    return run.status !== 0;
  } finally {
    writeFileSync(file, original);
    current = undefined;
  }
}

const [reportFile, filter = ""] = process.argv.slice(2);
if (!reportFile) throw new Error("usage: mutation-recheck.ts <report.json> [file filter]");
const report = JSON.parse(readFileSync(reportFile, "utf8")) as Report;
const fileOfTest = new Map<string, string>();
for (const [testFile, { tests }] of Object.entries(report.testFiles ?? {})) for (const test of tests) fileOfTest.set(test.id, testFile);
const unitTests = readdirSync("test/unit", { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".test.ts"));

/**
 * The test files to run for a mutant: those that covered it in the run, and those named after its
 * source file (tests written since); a mutant reached while modules load, every domain test.
 */
function testsFor(file: string, mutant: Mutant): string[] {
  if (mutant.static) return ["test/unit/domain", "test/unit/diff", "test/unit/step-settings-schema.test.ts"];
  const base = basename(file, ".ts");
  const named = unitTests
    .filter((f) => basename(f).startsWith(`${base}.`) || basename(f).startsWith(`${base}-`))
    .map((f) => `test/unit/${f}`);
  const covering = (mutant.coveredBy ?? []).flatMap((id) => fileOfTest.get(id) ?? []);
  return [...new Set([...covering, ...named])];
}
const killed: string[] = [];
const surviving: string[] = [];
for (const [file, { source, mutants }] of Object.entries(report.files)) {
  if (!file.includes(filter)) continue;
  for (const mutant of mutants.filter((m) => m.status === "Survived" || m.status === "NoCoverage")) {
    const line = `${file}:${mutant.location.start.line}:${mutant.location.start.column} ${mutant.mutatorName} → ${JSON.stringify(mutant.replacement ?? "").slice(0, 80)}`;
    const fails = testsFail(file, mutate(source, mutant), testsFor(file, mutant));
    (fails ? killed : surviving).push(line);
    console.log(`${fails ? "killed   " : "SURVIVES "} ${line}`);
  }
}
console.log(`\n${killed.length} killed now, ${surviving.length} still surviving:`);
for (const line of surviving) console.log(`  ${line}`);

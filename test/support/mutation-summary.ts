/**
 * Summarizes a StrykerJS JSON report (`npm run test:mutation` writes reports/mutation/mutation.json)
 * for docs/mutation-testing.md: the score per file and overall, and every mutant that was not
 * detected, by file and line.
 *
 *   npx tsx test/support/mutation-summary.ts [reports/mutation/mutation.json]
 */
import { readFileSync } from "node:fs";

interface Mutant {
  mutatorName: string;
  replacement?: string;
  status: string;
  location: { start: { line: number; column: number } };
}

interface Report {
  files: Record<string, { source: string; mutants: Mutant[] }>;
}

const DETECTED = new Set(["Killed", "Timeout"]);
const UNDETECTED = new Set(["Survived", "NoCoverage"]);

const report = JSON.parse(readFileSync(process.argv[2] ?? "reports/mutation/mutation.json", "utf8")) as Report;
const percent = (detected: number, valid: number) => (valid === 0 ? "—" : `${((100 * detected) / valid).toFixed(1)}%`);

const rows: string[] = [
  "| file | mutants | killed | timed out | survived | no coverage | score |",
  "| --- | --- | --- | --- | --- | --- | --- |",
];
const undetected: string[] = [];
let allDetected = 0;
let allValid = 0;
for (const [file, { source, mutants }] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
  const count = (status: string) => mutants.filter((m) => m.status === status).length;
  const detected = mutants.filter((m) => DETECTED.has(m.status)).length;
  const valid = detected + mutants.filter((m) => UNDETECTED.has(m.status)).length;
  allDetected += detected;
  allValid += valid;
  rows.push(
    `| ${file} | ${mutants.length} | ${count("Killed")} | ${count("Timeout")} | ${count("Survived")} | ${count("NoCoverage")} | ${percent(detected, valid)} |`,
  );
  const lines = source.split("\n");
  for (const m of mutants.filter((m) => UNDETECTED.has(m.status)).sort((a, b) => a.location.start.line - b.location.start.line)) {
    const line = m.location.start.line;
    const replacement = (m.replacement ?? "").replace(/\s+/g, " ").slice(0, 60);
    undetected.push(
      `- ${file}:${line} ${m.mutatorName}${m.status === "NoCoverage" ? " (no coverage)" : ""}: \`${lines[line - 1]?.trim().slice(0, 80)}\` → \`${replacement}\``,
    );
  }
}
rows.push(`| **all** | | | | | | **${percent(allDetected, allValid)}** |`);
console.log(rows.join("\n"));
console.log(`\nUndetected (${undetected.length}):\n`);
console.log(undetected.join("\n"));

import { execFileSync } from "node:child_process";
import { cpus, loadavg, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import type autocannon from "autocannon";

/** What a bench returns to the runner: named results, each a number (unit in the name) or a short text. */
export type Figures = Record<string, number | string | boolean>;

/** The machine the figures were taken on: they mean nothing without it. */
export function machine(): Figures {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? "unknown",
    cpus: list.length,
    "memory GiB": Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    // Other work on the machine skews every figure: a load average near or above the CPU count means noisy numbers.
    "load average 1 min": round(loadavg()[0], 2),
  };
}

/** The figures of one autocannon run that the benches compare, prefixed with what was measured. */
export function loadFigures(label: string, result: autocannon.Result): Figures {
  return {
    [`${label} req/s`]: round(result.requests.average),
    [`${label} p50 ms`]: result.latency.p50,
    [`${label} p99 ms`]: result.latency.p99,
    [`${label} requests`]: result.requests.total,
    [`${label} failures`]: result.errors + result.timeouts + result.non2xx + result.mismatches,
  };
}

export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Aligned `name  value` lines. */
export function formatFigures(figures: Figures, indent = "  "): string {
  const width = Math.max(...Object.keys(figures).map((k) => k.length));
  return Object.entries(figures)
    .map(([name, value]) => `${indent}${name.padEnd(width)}  ${value}`)
    .join("\n");
}

/** The code measured: the repository moves while benches run. */
export function commit(): string {
  // The checkout: two folders up from the sources, three from the benches' build (.bench-build/test/bench).
  const root = fileURLToPath(new URL(import.meta.url.endsWith(".ts") ? "../.." : "../../..", import.meta.url));
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src"], { cwd: root, encoding: "utf8" }).trim();
    return dirty ? `${head} (src/ modified)` : head;
  } catch {
    return "unknown";
  }
}

import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

const root = new URL("../..", import.meta.url).pathname;
const tsx = join(root, "node_modules/.bin/tsx");

/** A script of the project (`src/server/main.ts`, `src/cli/token.ts`…) run by tsx as its own process, its output collected. */
export function runScript(script: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(tsx, [join(root, script), ...args], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Waits (a minute at most) until the output matches `pattern`; fails with the output when it never does or the process ends. */
export async function waitFor(read: () => string, pattern: RegExp, child: ChildProcess): Promise<RegExpMatchArray> {
  for (let i = 0; i < 600; i++) {
    const match = read().match(pattern);
    if (match) return match;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never printed ${pattern}:\n${read()}`);
}

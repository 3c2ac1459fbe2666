import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { ProcessStats } from "./process-probe.js";

const folder = fileURLToPath(new URL(".", import.meta.url));
/** Run from the benches' build (`npm run bench`, .bench-build/test/bench): the servers run compiled too, as production runs. */
const compiled = !import.meta.url.endsWith(".ts");
/** The checkout (the servers' working directory). */
const root = resolve(folder, compiled ? "../../.." : "../..");

export interface ServerProcessOptions {
  /** Prefix of the lines it prints after its first one. */
  label: string;
  /** How long it may take to print its first line (migrations and seeding included). */
  startTimeoutMs: number;
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /**
   * What to do with each line it prints to stdout or stderr after its first stdout line (stderr
   * before it is shown). Default: passed through, prefixed with the label (stderr is then inherited
   * as is).
   */
  onOutput?: (line: string, stream: "stdout" | "stderr") => void;
}

export interface ServerProcess<Info, Stats> {
  /** What it announced on its first stdout line. */
  info: Info;
  /** A request to its probe (`process-probe.ts`). */
  probe<T>(path: string, method?: "GET" | "POST"): Promise<T>;
  /** Its figures (after full collections with `gc`). */
  stats(gc?: boolean): Promise<Stats>;
  /** Without `path`: starts a CPU profile; with `path`: stops it and writes it there. */
  profile(path?: string): Promise<unknown>;
  heapSnapshot(path: string): Promise<{ path: string }>;
  /** Its exit code once it has exited (null: killed by a signal); undefined while it runs. */
  exitCode(): number | null | undefined;
  /** SIGTERM (so that it cleans up), SIGKILL after 10 s; resolves when it has exited. */
  stop(): Promise<void>;
}

/**
 * A benchmarked server in a child process of its own: `script` (a file of this folder) started with
 * the TypeScript loader and `--expose-gc`, its first stdout line read as the JSON it announces
 * (`announce` of `process-probe.ts`: URLs, tokens, IDs, its probe's URL).
 */
export async function startServerProcess<Info extends { probeUrl: string }, Stats = ProcessStats>(
  script: string,
  options: ServerProcessOptions,
): Promise<ServerProcess<Info, Stats>> {
  // BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server (Node refuses --cpu-prof in NODE_OPTIONS).
  const extra = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter((arg) => arg !== "");
  // As `npm start` runs the server: a 32 MB young generation (package.json; docs/performance.md).
  const program = compiled ? [join(folder, script.replace(/\.ts$/, ".js"))] : ["--import", "tsx", join(folder, script)];
  const child = spawn(process.execPath, [...extra, "--max-semi-space-size=32", "--expose-gc", ...program], {
    cwd: root,
    env: options.env ? { ...process.env, ...options.env } : process.env,
    stdio: ["ignore", "pipe", options.onOutput ? "pipe" : "inherit"],
  });
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      exitCode = code;
      resolve(code);
    }),
  );
  const lines = createInterface({ input: child.stdout! });
  let started = false;
  if (options.onOutput && child.stderr) {
    const onOutput = options.onOutput;
    // Until it has started, what it prints on stderr is why it did not: shown as is.
    createInterface({ input: child.stderr }).on("line", (line) =>
      started ? onOutput(line, "stderr") : console.error(`[${options.label}] ${line}`),
    );
  }
  const passOn = (line: string) => (options.onOutput ? options.onOutput(line, "stdout") : console.log(`[${options.label}] ${line}`));
  const info = await new Promise<Info>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGTERM");
      reject(new Error(`${script} did not start within ${options.startTimeoutMs / 1000} s`));
    }, options.startTimeoutMs);
    // Its first line that is a JSON object; lines before it (V8's --trace-gc, say) are passed on.
    const announced = (line: string) => {
      if (!line.startsWith("{")) return passOn(line);
      lines.off("line", announced);
      clearTimeout(timer);
      started = true;
      resolve(JSON.parse(line) as Info);
    };
    lines.on("line", announced);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before it started`));
    });
  });
  // Anything it prints later is passed through (or handed to onOutput).
  lines.on("line", passOn);
  const probe = async <T>(path: string, method: "GET" | "POST" = "GET"): Promise<T> => {
    const response = await fetch(`${info.probeUrl}${path}`, { method });
    if (!response.ok) throw new Error(`probe ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  return {
    info,
    probe,
    stats: (gc = false) => probe<Stats>(`/stats${gc ? "?gc=1" : ""}`),
    profile: (path?: string) => probe(path ? `/profile/stop?path=${encodeURIComponent(path)}` : "/profile/start", "POST"),
    heapSnapshot: (path: string) => probe<{ path: string }>(`/heap-snapshot?path=${encodeURIComponent(path)}`, "POST"),
    exitCode: () => exitCode,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

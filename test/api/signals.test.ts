import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseUrl } from "../support/database.js";
import { gql } from "../support/graphql.js";

/**
 * `npm start` and the production build stop cleanly when only the process that was started is signalled, as a
 * process manager or a container runtime does: npm's pid for `npm start` and `npm run start:prod`, node's for
 * `node dist/src/server/main.js`. Each is its own process group (`detached`), so whatever it leaves behind is found.
 */

const root = new URL("../..", import.meta.url).pathname;
const temps: string[] = [];
const running = new Set<number>();

function temp(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** The environment of a server: the suite's database (a fresh PGlite folder per test without DATABASE_URL). */
function serverEnv(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl ?? "",
    DATA_DIR: dataDir,
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "info",
    // The demo organization proves PGlite's folder is reopened with its data; never seeded into the shared server.
    SEED_DEMO: databaseUrl ? "false" : "true",
  };
  delete env.NODE_OPTIONS; // nothing may be preloaded: the production build runs on node alone
  return env;
}

/** Runs a command in the foreground, failing with its output. */
function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout!.on("data", (chunk) => (output += chunk));
    child.stderr!.on("data", (chunk) => (output += chunk));
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} exited ${code}:\n${output}`))));
  });
}

interface Server {
  pid: number;
  url: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function start(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Server> {
  const child: ChildProcess = spawn(command, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const pid = child.pid!;
  running.add(pid);
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  for (let i = 0; i < 400; i++) {
    const match = /GraphiQL: (http:\/\/\S+\/graphql)/.exec(output);
    if (match) return { pid, url: match[1], output: () => output, exited };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${command} ${args.join(" ")} did not start:\n${output}`);
}

/** The live processes of a process group (zombies, already dead and waiting for init to reap them, aside). */
function processGroup(pgid: number): { pid: number; command: string }[] {
  const members: { pid: number; command: string }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(pgrp) !== pgid || state === "Z") continue;
      members.push({ pid: Number(entry), command: readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ").trim() });
    } catch {
      // the process ended while it was read
    }
  }
  return members;
}

function connectionRefused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });
}

/** Signals the started pid alone and checks that everything it started is gone, cleanly. */
async function stopWith(server: Server, signal: NodeJS.Signals) {
  process.kill(server.pid, signal);
  const timeout = new Promise<"still running">((resolve) => setTimeout(() => resolve("still running"), 5_000).unref());
  const result = await Promise.race([server.exited, timeout]);
  expect(result, `${signal}: ${processGroup(server.pid).map((p) => p.command)}\n${server.output()}`).toEqual({ code: 0, signal: null });
  running.delete(server.pid);
  expect(server.output()).toContain(`"signal":"${signal}","msg":"shutting down"`);
  expect(server.output()).toMatch(/"msg":"stopped"/);
  expect(await connectionRefused(server.url)).toBe(true);
  // A process that outlived the started one would have been reparented but kept its group.
  let left = processGroup(server.pid);
  for (let i = 0; i < 30 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    left = processGroup(server.pid);
  }
  expect(left).toEqual([]);
}

/** On PGlite: the first start seeded the demo organization; the next one finds it and its token still works. */
async function expectReopened(first: Server, next: Server) {
  if (databaseUrl) return;
  const token = /jpt_[\w-]+/.exec(first.output())?.[0];
  expect(token).toBeDefined();
  // The line after the URL may arrive in the next chunk of the pipe.
  await expect.poll(() => next.output(), { timeout: 5_000 }).toMatch(/New token: stop the server/);
  const result = await gql(next.url, token!, "{ viewer { role organization { name } } }");
  expect(result.data.viewer).toEqual({ role: "ADMIN", organization: { name: "Demo" } });
}

afterAll(() => {
  for (const pid of running) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

describe("npm start", () => {
  it("stops on SIGTERM sent to npm alone, and the next start on the same database stops on SIGINT", { timeout: 60_000 }, async () => {
    const env = serverEnv(temp("jp-signals-data-"));
    const first = await start("npm", ["start"], root, env);
    await stopWith(first, "SIGTERM");
    const next = await start("npm", ["start"], root, env);
    await expectReopened(first, next);
    await stopWith(next, "SIGINT");
  });
});

describe("the production build", () => {
  /** What a deployment holds: package.json, the output of `npm run build` and node_modules; no src, no tsconfig. */
  let deployment: string;

  beforeAll(async () => {
    const build = temp("jp-signals-build-");
    for (const path of ["src", "migrations", "package.json", "tsconfig.json", "tsconfig.build.json"]) {
      cpSync(join(root, path), join(build, path), { recursive: true });
    }
    symlinkSync(join(root, "node_modules"), join(build, "node_modules"));
    await run("npm", ["run", "-s", "build"], build);
    deployment = temp("jp-signals-deployment-");
    renameSync(join(build, "dist"), join(deployment, "dist"));
    cpSync(join(root, "package.json"), join(deployment, "package.json"));
    symlinkSync(join(root, "node_modules"), join(deployment, "node_modules"));
    // tsc over the whole server and esbuild over the pages: a minute on a busy two-core machine.
  }, 150_000);

  it("runs on node alone, stops on SIGTERM to npm run start:prod, then on SIGINT to node", { timeout: 60_000 }, async () => {
    const env = serverEnv(temp("jp-signals-data-"));
    const first = await start("npm", ["run", "start:prod"], deployment, env);
    const processes = processGroup(first.pid).map((p) => p.command);
    expect(processes).toContain("node --max-semi-space-size=32 dist/src/server/main.js");
    expect(processes.filter((command) => /tsx|\.ts\b/.test(command))).toEqual([]);
    await stopWith(first, "SIGTERM");

    const next = await start(process.execPath, ["dist/src/server/main.js"], deployment, env);
    await expectReopened(first, next);
    await stopWith(next, "SIGINT");
  });
});

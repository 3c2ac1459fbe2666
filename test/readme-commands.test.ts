import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";

/**
 * README.md's shell commands run as written (as its ```graphql operations do in test/api/operation-cost.test.ts):
 * every command line of its ```sh blocks (a line ending in `\` continues, `#` starts a comment, `a && b` is two
 * commands run in turn), and its inline `VAR=… npm start` commands. A command is left out only by NOT_RUN below;
 * everything else runs, so a new example is tested as soon as it is written and fails this test when it fails.
 *
 * They run in bash (`-o pipefail`) as on a fresh machine: in a fresh folder holding the checkout (links to its files
 * and node_modules, but no ./data, dist/ or secrets.key), so what they make (./data, the embedded database; a key
 * file) is made there, never in the shared checkout; and none of the server's settings is in their environment, so
 * the README's defaults hold (PORT 4000, HOST 0.0.0.0, DATA_DIR ./data, the demo seed) but TOKEN (see PLACEHOLDERS).
 *
 * The suite's own DATABASE_URL is not given to them, on purpose: `npm start` as written is the embedded database, and
 * on the suite's shared PostgreSQL database (other tests' organizations in it) it would seed nothing and print no
 * token. The README's PostgreSQL line (`DATABASE_URL=postgres://…/journeys npm start`) runs on PostgreSQL whatever
 * the suite's database: on a scratch database of the server it names, when that server answers.
 *
 * Order: README order, one line at a time, but for client lines (those that address localhost:4000: the curl
 * examples). A server line (`[VAR=… ]npm start`) is a session, and nothing else runs during it, since on PGlite one
 * process at a time owns the data folder (the token commands open it themselves): the server is started in the
 * background, waited for ("GraphiQL: http://localhost:4000/graphql", then the admin token it prints on its fresh
 * database), every client line runs against it in README order, and it is stopped by SIGTERM to its pid alone and
 * must exit 0. So the README's first `npm start` seeds the demo on the fresh ./data before `npm run token` opens it,
 * and a line that prepares a server (a key file) runs before the server line that follows it.
 */

/** What is not run, and why. Matched against each command (continuations joined, comment stripped). */
const NOT_RUN: { command: RegExp; why: string }[] = [
  {
    command: /^npm (install|i|ci)\b/,
    why: "CI has just run `npm ci`; installing again would rewrite node_modules under the running suite",
  },
  { command: /^npm (test|t|run test)\b/, why: "the suite, which this test is part of" },
  {
    command: /^npm run build$/,
    why: "test/api/signals.test.ts builds a copy of the checkout; building here would replace the dist/ others use meanwhile",
  },
  { command: /^npm run start:prod$/, why: "test/api/signals.test.ts starts the build with it and stops it by SIGTERM and by SIGINT" },
];

/** What a command gets in place of the README's placeholders (anything else written `<like-this>` fails the test). */
const PLACEHOLDERS: { written: string; becomes: string }[] = [
  { written: "<token>", becomes: "the last token (`jpt_…`) an earlier command printed for the same database" },
  {
    written: "$TOKEN",
    becomes: "itself: the shell expands it from the environment, where TOKEN is the admin token the server printed on start",
  },
  {
    written: "postgres://user@host:port/<name> (`journeys`)",
    becomes:
      "the same server and user, another database: a scratch one created before the first command that names it and dropped " +
      "afterwards (`journeys` may be a developer's); the commands are skipped, with the reason logged, when that server does not answer",
  },
];

const root = new URL("..", import.meta.url).pathname;
/** The port the README's examples address (`localhost:4000`): the server's default. */
const PORT = 4000;
const TOKEN_FORMAT = /^jpt_[A-Za-z0-9_-]{43}$/;
/** `npm start` after optional `VAR=value` assignments (a value may be quoted: `KEY="$(cat key)"`). */
const SERVER = /^((?:[A-Za-z_]\w*=(?:"[^"]*"|'[^']*'|[^\s"'])*\s+)*)npm start$/;
const CLIENT = new RegExp(`\\b(localhost|127\\.0\\.0\\.1):${PORT}\\b`);
const DATABASE_URL = /\bDATABASE_URL=(\S+)/;
const EMBEDDED = "the embedded database";

interface Command {
  /** README.md:<line> of its line's first line. */
  where: string;
  /** The command as written: continuations (`\` and a newline) kept, comment stripped. */
  source: string;
  /** The same on one line, to match and show. */
  text: string;
}

interface Line {
  where: string;
  commands: Command[];
}

/** The command lines of a shell block: quotes, escapes, `\` continuations, `#` comments and `&&` as bash reads them. */
function shellLines(file: string, block: string, firstLine: number): Line[] {
  const lines: Line[] = [];
  let commands: Command[] = [];
  let source = "";
  let quote: string | null = null;
  let lineNumber = firstLine;
  let start = firstLine;
  const endCommand = () => {
    const trimmed = source.trim();
    if (trimmed) commands.push({ where: `${file}:${start}`, source: trimmed, text: trimmed.replace(/\s*\\\n\s*/g, " ") });
    source = "";
  };
  for (let i = 0; i < block.length; i++) {
    const c = block[i];
    if (c === "\n") lineNumber++;
    if (quote === "'") {
      source += c;
      if (c === "'") quote = null;
    } else if (quote === '"') {
      source += c;
      if (c === "\\") {
        source += block[++i];
        if (block[i] === "\n") lineNumber++;
      } else if (c === '"') quote = null;
    } else if (c === "\\") {
      source += c + block[++i];
      if (block[i] === "\n") lineNumber++;
    } else if (c === "'" || c === '"') {
      quote = c;
      source += c;
    } else if (c === "#" && (source === "" || /\s$/.test(source))) {
      while (i + 1 < block.length && block[i + 1] !== "\n") i++;
    } else if (c === "&" && block[i + 1] === "&") {
      i++;
      endCommand();
    } else if (c === "\n") {
      endCommand();
      if (commands.length > 0) lines.push({ where: commands[0].where, commands });
      commands = [];
      start = lineNumber;
    } else {
      if (source === "" && commands.length === 0 && /\S/.test(c)) start = lineNumber;
      source += c;
    }
  }
  if (quote) throw new Error(`${file}:${start}: a ${quote} quote is never closed`);
  endCommand();
  if (commands.length > 0) lines.push({ where: commands[0].where, commands });
  return lines;
}

interface Plan {
  /** Every command line, in README order. */
  lines: Line[];
  notRun: { command: Command; why: string }[];
  /** Run against every server, during its session. */
  clients: Command[];
  /** What runs, in README order: servers (each with the clients) and every other command. */
  steps: { command: Command; server: boolean }[];
}

/** The README's ```sh (```bash, ```shell) blocks, and its inline `VAR=… npm start` commands, sorted as the test runs them. */
function planOf(readme: string, file = "README.md"): Plan {
  const lines: Line[] = [];
  const text = readme.split("\n");
  for (let i = 0; i < text.length; i++) {
    const fence = /^```(\w*)\s*$/.exec(text[i]);
    if (fence) {
      let end = i + 1;
      while (end < text.length && !/^```\s*$/.test(text[end])) end++;
      if (["sh", "bash", "shell"].includes(fence[1])) lines.push(...shellLines(file, text.slice(i + 1, end).join("\n"), i + 2));
      i = end;
      continue;
    }
    for (const inline of text[i].matchAll(/`((?:[A-Z][A-Z0-9_]*=\S+ )+npm start)`/g)) {
      const where = `${file}:${i + 1}`;
      lines.push({ where, commands: [{ where, source: inline[1], text: inline[1] }] });
    }
  }
  const plan: Plan = { lines, notRun: [], clients: [], steps: [] };
  for (const command of lines.flatMap((l) => l.commands)) {
    const left = NOT_RUN.find((n) => n.command.test(command.text));
    if (left) plan.notRun.push({ command, why: left.why });
    else if (SERVER.test(command.text)) plan.steps.push({ command, server: true });
    else if (CLIENT.test(command.text)) plan.clients.push(command);
    else plan.steps.push({ command, server: false });
  }
  return plan;
}

// ---- running

/** The fresh machine: the files a commit of the checkout would hold (tracked, or new and not ignored) and node_modules. */
const machine = mkdtempSync(join(tmpdir(), "jp-readme-machine-"));
const entries = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" });
for (const entry of new Set([
  ...entries
    .split("\n")
    .filter(Boolean)
    .map((path) => path.split("/")[0]),
  "node_modules",
])) {
  symlinkSync(join(root, entry), join(machine, entry));
}
const running = new Set<number>();
const scratch = new Map<string, Promise<{ url: string } | { unreachable: string }>>();
/** Tokens printed so far, per database (EMBEDDED or a scratch database's URL). */
const tokens = new Map<string, string[]>();

afterAll(async () => {
  for (const pid of running) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const [written, created] of scratch) {
    const database = await created;
    if (!("url" in database)) continue;
    const admin = postgres(adminUrl(written), { max: 1, connect_timeout: 5, onnotice: () => {} });
    await admin.unsafe(`drop database if exists "${new URL(database.url).pathname.slice(1)}" with (force)`);
    await admin.end();
  }
  rmSync(machine, { recursive: true, force: true }); // the links, not what they point to
});

/** The environment of a fresh machine's shell: none of the server's settings (the README's defaults), TOKEN if given. */
function shellEnv(token?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [
    "PORT",
    "HOST",
    "DATABASE_URL",
    "DATA_DIR",
    "SECRETS_KEY",
    "SECRETS_KEY_PREVIOUS",
    "DATABASE_POOL_SIZE",
    "LOG_LEVEL",
    "SEED_DEMO",
    "INTROSPECTION",
    "RESPONSE_CACHE",
    "CORS_ORIGINS",
    "PERSISTED_DOCUMENTS",
    "PERSISTED_DOCUMENTS_ONLY",
    "NODE_OPTIONS",
    "TOKEN",
  ]) {
    delete env[name];
  }
  if (token) env.TOKEN = token;
  return env;
}

function adminUrl(written: string): string {
  const url = new URL(written);
  url.pathname = "/postgres";
  return url.toString();
}

/** A scratch database on the server `written` names, once per written URL; or why that server cannot be used. */
function scratchDatabase(written: string): Promise<{ url: string } | { unreachable: string }> {
  let created = scratch.get(written);
  if (!created) {
    created = (async () => {
      const name = `jp_readme_${process.pid}_${Date.now().toString(36)}`;
      const admin = postgres(adminUrl(written), { max: 1, connect_timeout: 3, onnotice: () => {} });
      try {
        await admin.unsafe(`create database "${name}"`);
      } catch (error) {
        return { unreachable: `${new URL(written).host} did not answer (${(error as Error).message})` };
      } finally {
        await admin.end({ timeout: 1 }).catch(() => {});
      }
      const url = new URL(written);
      url.pathname = `/${name}`;
      return { url: url.toString() };
    })();
    scratch.set(written, created);
  }
  return created;
}

interface Prepared {
  /** What runs: the command with its placeholders substituted. */
  source: string;
  /** The database it uses: EMBEDDED or a scratch database's URL. */
  database: string;
}

/** The command with PLACEHOLDERS substituted, or why it cannot run here (its PostgreSQL server does not answer). */
async function prepare(command: Command, database?: string): Promise<Prepared | { skip: string }> {
  let source = command.source;
  const written = DATABASE_URL.exec(source)?.[1];
  if (written) {
    const created = await scratchDatabase(written);
    if ("unreachable" in created) return { skip: created.unreachable };
    source = source.replace(written, created.url);
    database ??= created.url;
  }
  database ??= EMBEDDED;
  if (source.includes("<token>")) {
    const token = tokens.get(database)?.at(-1);
    if (!token) throw new Error(`${command.where}: \`${command.text}\` needs <token>, but no earlier command printed one (${database})`);
    source = source.replaceAll("<token>", token);
  }
  const unknown = /<[a-z][\w-]*>/.exec(source);
  if (unknown) throw new Error(`${command.where}: \`${command.text}\`: ${unknown[0]} is in no PLACEHOLDERS entry of this test`);
  return { source, database };
}

function keepTokens(database: string, output: string) {
  const printed = output.match(/\bjpt_[A-Za-z0-9_-]{43}\b/g) ?? [];
  tokens.set(database, [...(tokens.get(database) ?? []), ...printed]);
}

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command in the foreground (its own process group, killed after `timeoutMs`). */
function sh(source: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Ran> {
  const started = performance.now();
  const child = spawn("bash", ["-o", "pipefail", "-c", source], { cwd: machine, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child.pid!);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const timer = setTimeout(() => {
    stderr += `\n[killed after ${timeoutMs} ms]`;
    process.kill(-child.pid!, "SIGKILL");
  }, timeoutMs);
  return new Promise((resolve) =>
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      running.delete(child.pid!);
      resolve({ code, signal, stdout, stderr, ms: Math.round(performance.now() - started) });
    }),
  );
}

const shown = (command: Command, ran?: Ran) =>
  `${command.where}: \`${command.text}\`${ran ? `\n--- stdout\n${ran.stdout}--- stderr\n${ran.stderr}` : ""}`;

/** Runs a command and checks its exit code and, where it means something, its output. */
async function runCommand(command: Command, prepared: Prepared, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Ran> {
  const ran = await sh(prepared.source, env, timeoutMs);
  console.log(`${command.where} \`${command.text}\`: exit ${ran.code ?? ran.signal} in ${ran.ms} ms`);
  expect({ code: ran.code, signal: ran.signal }, shown(command, ran)).toEqual({ code: 0, signal: null });
  if (/^curl\b.*\/graphql\b/.test(command.text)) expectAnswered(command, ran);
  if (/^npm run token -- (?!.*--revoke)/.test(command.text)) {
    // "the token is the last line"
    expect(ran.stdout.trimEnd().split("\n").at(-1), shown(command, ran)).toMatch(TOKEN_FORMAT);
  }
  if (/^npm run token -- --revoke\b/.test(command.text)) expect(ran.stdout, shown(command, ran)).toMatch(/^Revoked token "/m);
  keepTokens(prepared.database, ran.stdout);
  return ran;
}

/** A GraphQL answer (or a batch of them): data, no errors, and no mutation answering one of its typed errors. */
function expectAnswered(command: Command, ran: Ran) {
  let body: unknown;
  try {
    body = JSON.parse(ran.stdout);
  } catch {
    expect.fail(`not a JSON answer: ${shown(command, ran)}`);
  }
  for (const answer of (Array.isArray(body) ? body : [body]) as { data?: Record<string, unknown>; errors?: unknown }[]) {
    expect(answer.errors, shown(command, ran)).toBeUndefined();
    expect(answer.data, shown(command, ran)).toBeTypeOf("object");
    expect(answer.data, shown(command, ran)).not.toBeNull();
    for (const [field, value] of Object.entries(answer.data!)) {
      const error = value as { code?: unknown; message?: unknown } | null;
      expect(error && typeof error === "object" && "code" in error && "message" in error, `${field}: ${shown(command, ran)}`).toBeFalsy();
    }
  }
}

/** Whether anything holds the port: something listening on it, on any interface, or answering localhost:PORT. */
async function portBusy(): Promise<string | null> {
  const listen = await new Promise<string | null>((resolve) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    probe.listen(PORT, "0.0.0.0", () => probe.close(() => resolve(null)));
  });
  if (listen) return listen;
  return new Promise((resolve) => {
    const socket = connect(PORT, "localhost");
    socket.once("connect", () => {
      socket.destroy();
      resolve("localhost accepts connections");
    });
    socket.once("error", () => resolve(null));
  });
}

interface Server {
  pid: number;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a server line in the background (its own process group) and waits for its GraphiQL line and token. */
async function startServer(command: Command, prepared: Prepared): Promise<{ server: Server; url: string; token: string }> {
  const busy = await portBusy();
  if (busy) {
    throw new Error(
      `port ${PORT} is busy (${busy}): the README's examples address localhost:${PORT}, so this test does not move to another port. ` +
        `Stop what holds it (ss -ltnp 'sport = :${PORT}') and run the test again.`,
    );
  }
  // `exec`, after the line's own VAR=… assignments: the pid signalled is npm's, as a terminal's or a process manager's.
  const [, assignments] = SERVER.exec(prepared.source.trim())!;
  const child = spawn("bash", ["-c", `${assignments}exec npm start`], {
    cwd: machine,
    env: shellEnv(),
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const pid = child.pid!;
  running.add(pid);
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const server = { pid, output: () => output, exited };
  const started = performance.now();
  for (let i = 0; i < 600; i++) {
    // The JSON log lines (written asynchronously) may fall between the console's lines: skip them.
    const ready = /GraphiQL: (\S+)\n(?:\{[^\n]*\}\n)*(?:Admin token[^\n]*\n(?:\{[^\n]*\}\n)*(jpt_\S+)\n|New token)/.exec(output);
    if (ready) {
      console.log(`${command.where} \`${command.text}\`: ready in ${Math.round(performance.now() - started)} ms`);
      expect(ready[1], shown(command) + output).toBe(`http://localhost:${PORT}/graphql`);
      // A fresh database (the test's own folder or scratch database): the demo is seeded and its admin token printed.
      expect(ready[2], `no admin token printed on a fresh database: ${shown(command)}\n${output}`).toMatch(TOKEN_FORMAT);
      keepTokens(prepared.database, ready[2]);
      return { server, url: ready[1], token: ready[2] };
    }
    if (child.exitCode !== null || child.signalCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${shown(command)} did not start:\n${output}`);
}

/** SIGTERM to the started pid alone: the server must stop cleanly, exit 0 and free the port. */
async function stopServer(command: Command, server: Server) {
  process.kill(server.pid, "SIGTERM");
  const timeout = new Promise<"still running">((resolve) => setTimeout(() => resolve("still running"), 20_000).unref());
  const result = await Promise.race([server.exited, timeout]);
  expect(result, `SIGTERM: ${shown(command)}\n${server.output()}`).toEqual({ code: 0, signal: null });
  running.delete(server.pid);
  expect(server.output()).toMatch(/"msg":"stopped"/);
}

// ---- the tests

const readme = readFileSync(join(root, "README.md"), "utf8");
const plan = planOf(readme);

describe("README.md's shell commands", () => {
  it("open with the two commands that set everything up on a fresh machine", () => {
    const first = plan.lines.slice(0, 2).map((line) => line.commands.map((c) => c.text).join(" && "));
    expect(first).toEqual(["npm install && npm start", "npm test"]);
  });

  it("are all run but those of the table: a command nobody listed that fails fails the test", async () => {
    const synthetic = planOf(
      "```sh\nnpm install   # not run\nnpm run no-such-script -- --org \\\n  Acme   # run, and failing\n```\n",
      "example.md",
    );
    expect(synthetic.notRun.map((n) => n.command.text)).toEqual(["npm install"]);
    expect(synthetic.steps.map((step) => step.command.text)).toEqual(["npm run no-such-script -- --org Acme"]);
    const { command } = synthetic.steps[0];
    await expect(runCommand(command, { source: command.source, database: EMBEDDED }, shellEnv(), 30_000)).rejects.toThrow(/no-such-script/);
    for (const { command, why } of plan.notRun) console.log(`${command.where} \`${command.text}\`: not run, ${why}`);
    for (const { written, becomes } of PLACEHOLDERS) console.log(`${written} becomes ${becomes}`);
    expect(
      plan.steps.filter((step) => step.server),
      "no `npm start` line: the curl examples would have no server",
    ).not.toEqual([]);
  });

  for (const { command, server } of plan.steps) {
    const name = server
      ? `${command.where} \`${command.text}\` answers the README's curl examples, then stops on SIGTERM with exit 0`
      : `${command.where} \`${command.text}\``;
    it(name, { timeout: 150_000 }, async (context) => {
      const prepared = await prepare(command);
      if ("skip" in prepared) {
        console.warn(`${shown(command)}: skipped, ${prepared.skip}`);
        context.skip(prepared.skip);
        return;
      }
      if (!server) {
        await runCommand(command, prepared, shellEnv(tokens.get(EMBEDDED)?.[0]), 60_000);
        return;
      }
      const session = await startServer(command, prepared);
      try {
        for (const client of plan.clients) {
          const preparedClient = await prepare(client, prepared.database);
          if ("skip" in preparedClient) throw new Error(`${shown(client)}: ${preparedClient.skip}`);
          await runCommand(client, preparedClient, shellEnv(session.token), 20_000);
        }
      } finally {
        await stopServer(command, session.server);
      }
    });
  }
});

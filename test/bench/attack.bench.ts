/**
 * Attack benchmark (issue 11): another tenant's latency while an attacker with tokens of its own
 * organization runs each attack of the issue at full speed, against the same latency without the
 * attacker, in one run. Target: the victim's p99 at most 3× its quiet p99 under every attack; under
 * the subscription flood on PostgreSQL also an absolute p99 under 200 ms.
 *
 * One server in a child process per database (`attack-server.ts`: the real `createApp`, embedded
 * PGlite, and with DATABASE_URL set also a scratch database on that PostgreSQL server), seeded with
 * a victim organization and an attacker organization whose application has 20 journeys and a
 * history of 3,000 sync notifications. The victim's requests come from a process of their own
 * (`latency-client.ts`), so that the attacker's work in this process never delays them: `{
 * __typename }` 50 times a second and a small dashboard query 25 times a second (250 samples in a
 * phase of 10 s, so that its p99 is not just the slowest two of 100), on schedule, latency counted
 * from when each request was due. First a warm-up, then the quiet phase, then one
 * phase per attack (`ATTACK_SECONDS`, default 10, each), the attacker alone in it:
 *
 * 1. fan-out: `node(id: $app) { ... on Application { journeys { application { journeys { … } } } } }`
 *    four lists deep (20⁴ keys), with 1 to 8 aliases of `node`, VIEWER token, 4 connections;
 * 2. the same through connections sized by a variable (`first: $n`, n = 100): `applications` and
 *    `syncNotifications` with the same nesting below them;
 * 3. subscription flood: one WebSocket (graphql-transport-ws) sending 1,000
 *    `syncStatusChanged(after: "0")` at once — each resumes from the start of the 3,000 stored
 *    notifications — waiting until the history stops flowing, completing them and sending 1,000
 *    more, until the phase ends;
 * 4. nested JSON: 1.8 MB bodies of `[[[[…]]]]` in `variables`, on 4 connections (2 with a token,
 *    2 without), and over WebSocket a 0.9 MB nested `connection_init` payload, connection after
 *    connection;
 * 5. crafted cursors (a 36-dash id, a NUL name, dates outside PostgreSQL's range) over HTTP on 3
 *    connections, and over one WebSocket syntax errors, validation errors and the same cursors, one
 *    after the other (reconnecting when the server closes the socket);
 * 6. aliased diffs: one VIEWER request with 20 aliases of `diff` development → staging of an
 *    application whose `ATTACK_DIFF_JOURNEYS` (120) journeys of 20 steps all differ (an organization of its own,
 *    so the other attacks' lists stay as they were), on 4 connections; the aliases' names change
 *    with each request, so the response cache never answers. The server runs diffs one at a time
 *    per organization (src/services/index.ts); `ATTACK_DIFF_QUEUE=bypass` starts the server with the
 *    diffs called directly, for comparison.
 *
 * Per phase: the victim's p50/p99 of both queries and their ratio to the quiet p99, the attacker's
 * outcomes (refused with which code, answered, HTTP statuses, WebSocket close codes), the server's
 * CPU time, memory, log lines, and how long it took to answer quickly again once the attacker
 * stopped. Every attacker connection is closed when its phase ends; a phase that cannot stop is cut
 * off; nothing waits without a timeout.
 *
 * A quiet phase is measured again before each attack after the first, and after the attacks; the
 * ratios are to the median p99 of all the run's quiet phases, so that neither a quiet phase slowed
 * by the machine's other load (which would make a target easy) nor one that happened to be
 * unusually calm decides a verdict — on this 2-core machine one quiet phase's p99 swings 2.4–8 ms
 * from one minute to the next. Each attack's ratio to the quiet phase just before it is shown too.
 * Sizes: `ATTACK_SECONDS` (10), `ATTACK_CONCURRENCY` (4), `ATTACK_SUBSCRIPTIONS` (1,000), and for
 * the server `ATTACK_JOURNEYS` (20), `ATTACK_HISTORY` (3,000); `ATTACK_ONLY=flood,nested` runs only
 * the attacks whose key contains one of the words; `ATTACK_NESTED=http` or `ws` only that part of
 * the nested-JSON attack.
 *
 *   npm run bench -- attack
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench -- attack
 *     (also on a scratch database of that PostgreSQL server, dropped at the end)
 *   ATTACK_SECONDS=5 ATTACK_CONCURRENCY=2 npm run bench -- attack.bench
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { loadavg, setPriority } from "node:os";
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import WebSocket from "ws";
import type { AttackCounters, AttackServerInfo } from "./attack-server.js";
import { commit, type Figures, formatFigures, machine, round } from "./figures.js";
import { benchTargets, type DatabaseTarget, percentile } from "./large-application.js";
import { type LatencyClient, type LatencyStream, type StreamLatencies, startLatencyClient } from "./latency-client.js";
import type { ProcessStats } from "./process-probe.js";
import { type ServerProcess, startServerProcess } from "./server-process.js";

const SECONDS = Number(process.env.ATTACK_SECONDS ?? 10);
/** Only the attacks whose key contains one of these (comma-separated): `ATTACK_ONLY=flood,nested`. */
const ONLY = (process.env.ATTACK_ONLY ?? "").split(",").filter(Boolean);
const WARMUP_SECONDS = 2;
/** Attacker connections of the HTTP attacks. */
const CONCURRENCY = Number(process.env.ATTACK_CONCURRENCY ?? 4);
/** Subscriptions the flood sends at once on its one socket. */
const SUBSCRIPTIONS = Number(process.env.ATTACK_SUBSCRIPTIONS ?? 1_000);
/** A file that gets every line the server prints outside its logger (`ATTACK_SERVER_OUTPUT`). */
const SERVER_OUTPUT = process.env.ATTACK_SERVER_OUTPUT;
/** Size of the nested JSON bodies. */
const NESTED_BODY_BYTES = 1_800_000;
/** The nested-JSON attack's parts (`ATTACK_NESTED=http` or `ws` runs one, to tell their costs apart). */
const NESTED_PARTS = (process.env.ATTACK_NESTED ?? "http,ws").split(",");
/** Size of the nested `connection_init` (a WebSocket message may be 1 MiB). */
const NESTED_INIT_BYTES = 900_000;
/** The issue's targets. */
const TARGET_RATIO = 3;
const FLOOD_TARGET_MS = 200;
/** The victim's requests: a request not answered by then counts as a timeout. */
const VICTIM_TIMEOUT_MS = 15_000;
/** An attacker's request, a WebSocket handshake or answer: given up after this. */
const ATTACK_TIMEOUT_MS = 30_000;
/** After the phase, how long the attack may take to stop (its requests are aborted, its sockets terminated). */
const STOP_TIMEOUT_MS = 15_000;
/** After the phase, the server must answer three `{ __typename }` in a row quickly within this. */
const RECOVERY_TIMEOUT_MS = 60_000;
/** After a phase, how long the server may take to let go of the attacker's subscriptions. */
const RELEASE_TIMEOUT_MS = 10_000;
/** A subscription wave is over when no message arrived for this long. */
const FLOOD_IDLE_MS = 1_000;
/** Bytes of a response read for its error code; the rest is counted, not kept. */
const HEAD_BYTES = 64 * 1024;

const VICTIM_DASHBOARD = `query VictimDashboard {
  viewer { role organization { id name } }
  environments { id key name }
  applications(first: 10) { edges { node { id name clients { id environment { id key } syncStatus } journeys { id key name } } } }
}`;

const VICTIM_STREAMS: LatencyStream[] = [
  { name: "{ __typename }", query: "{ __typename }", perSecond: 50, maxInFlight: 8, expect: "__typename" },
  { name: "dashboard", query: VICTIM_DASHBOARD, perSecond: 25, maxInFlight: 4, expect: "applications" },
];

/** Four `journeys` lists deep below the application: 20⁴ keys per alias with 20 journeys. */
const FAN_OUT_SELECTION = "journeys { application { journeys { application { journeys { application { journeys { key } } } } } } }";

function fanOutQuery(aliases: number): string {
  const fields = Array.from({ length: aliases }, (_, i) => `a${i + 1}: node(id: $app) { ... on Application { ${FAN_OUT_SELECTION} } }`);
  return `query FanOut($app: ID!) { ${fields.join(" ")} }`;
}

/** The same growth through connections whose size is a variable. */
const CONNECTIONS_QUERY = `query Pages($n: Int!) {
  applications(first: $n) { edges { node { journeys { application { journeys { application { journeys { key } } } } } } } }
  n1: syncNotifications(first: $n) { edges { node { application { journeys { application { journeys { application { journeys { key } } } } } } } } }
  n2: syncNotifications(first: $n) { edges { node { journey { application { journeys { application { journeys { key } } } } } } } }
}`;
const CONNECTIONS_FIRST = 100;

const FLOOD_SUBSCRIPTION = "subscription Flood($after: String) { syncStatusChanged(after: $after) { cursor status } }";

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const SOME_ID = "00000000-0000-0000-0000-000000000000";
/** Cursors that decode, and whose parts pass a shape check, but that no list ever issued. */
const CRAFTED_CURSOR_QUERIES = [
  `{ applications(after: "${base64url(["x", "-".repeat(36)])}") { edges { cursor } } }`,
  `{ applications(after: "${base64url(["\u0000", SOME_ID])}") { edges { cursor } } }`,
  `{ applications(after: "${Buffer.from("-".repeat(36)).toString("base64")}") { edges { cursor } } }`,
  `{ propagations(after: "${base64url(["275760-09-13T00:00:00.000Z", SOME_ID])}") { edges { cursor } } }`,
  `{ propagations(after: "${base64url(["-271821-04-20T00:00:00.000Z", SOME_ID])}") { edges { cursor } } }`,
];
const BAD_DOCUMENTS = ["{ applications(", "query { secretAdminField }", "{ viewer { role(x: 1) } }"];

/** Aliases of `diff` in one request: the most an operation may have. */
const DIFF_ALIASES = 20;
/** `count` aliases of the same diff, named after `request` (a new text each time: the response cache never answers). */
function aliasedDiffs(count: number, request: number): string {
  const fields = Array.from(
    { length: count },
    (_, i) => `r${request}d${i + 1}: diff(applicationId: $app, fromEnvironmentId: $from, toEnvironmentId: $to) { status }`,
  );
  return `query Diffs($app: ID!, $from: ID!, $to: ID!) { ${fields.join(" ")} }`;
}

/**
 * The attacker's CPU priority during its phases (`ATTACK_NICE`, default 10; 0: none). An attacker's
 * client runs on machines of its own; here it shares the 2 cores with the server and the victim,
 * and without this the OS gives it as much CPU as the server, so the victim's latency measured the
 * attacker's client as much as the server. Niced, it still gets all the CPU the server and the victim
 * leave (its request rates are in the figures); the victim's latency measures the server.
 */
const ATTACK_NICE = Number(process.env.ATTACK_NICE ?? 10);

/** Sets this process's priority, every thread of it (Linux: /proc/self/task); returns what was set, or why not. */
function setAttackerPriority(nice: number): string {
  try {
    const threads = existsSync("/proc/self/task") ? readdirSync("/proc/self/task").map(Number) : [0];
    for (const thread of threads) {
      try {
        setPriority(thread, nice);
      } catch (error) {
        // A thread that ended meanwhile.
        if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
      }
    }
    return String(nice);
  } catch (error) {
    return `not set (${(error as Error).message})`;
  }
}

/**
 * ATTACK_LATENCIES=/tmp/latencies.jsonl: every victim request's latency, in the order they fell due,
 * one line per phase (warm-up and quiet included), to see when in a phase the slow ones came.
 */
const LATENCY_DUMP = process.env.ATTACK_LATENCIES;

/** ATTACK_PROFILE_DIR=/tmp/prof: a CPU profile of the server during each attack phase, written there. */
const PROFILE_DIR = process.env.ATTACK_PROFILE_DIR;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// What the attacker saw

/** The attacker's outcomes in one phase: counts by label, the first answer of each label as a sample. */
class Outcomes {
  readonly counts: Record<string, number> = {};
  readonly samples = new Map<string, string>();
  /** Round trips of the attacker's requests (or WebSocket operations), ms. */
  readonly roundTrips: number[] = [];
  bytes = 0;
  /** Other figures of the attack (e.g. history messages received). */
  readonly extra: Record<string, number> = {};

  add(label: string, options: { ms?: number; sample?: string; bytes?: number; count?: number } = {}): void {
    this.counts[label] = (this.counts[label] ?? 0) + (options.count ?? 1);
    if (options.ms !== undefined) this.roundTrips.push(options.ms);
    if (options.bytes) this.bytes += options.bytes;
    if (options.sample && !this.samples.has(label)) this.samples.set(label, options.sample.replace(/\s+/g, " ").slice(0, 200));
  }

  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }
}

interface GraphQLErrorShape {
  message?: string;
  extensions?: { code?: string };
}

function codeOf(errors: GraphQLErrorShape[] | undefined): string {
  return errors?.[0]?.extensions?.code ?? "without a code";
}

/** True when a `data` holds anything but nulls. */
function hasData(data: unknown): boolean {
  return !!data && typeof data === "object" && Object.values(data).some((v) => v !== null);
}

/** An HTTP answer as a label: `refused <code>`, `partial data, <code>`, `answered`, prefixed with a status other than 200. */
function classify(status: number, head: string, complete: boolean): { label: string; sample?: string } {
  const prefix = status === 200 ? "" : `HTTP ${status} `;
  if (complete) {
    let body: { data?: unknown; errors?: GraphQLErrorShape[] };
    try {
      body = JSON.parse(head) as typeof body;
    } catch {
      return { label: `${prefix}not JSON`, sample: head.slice(0, 200) };
    }
    if (body.errors?.length) {
      const kind = hasData(body.data) ? "partial data," : "refused";
      return { label: `${prefix}${kind} ${codeOf(body.errors)}`, sample: body.errors[0].message };
    }
    return { label: `${prefix}answered` };
  }
  // Too large to keep: errors come first in a response, so the head tells whether there are any.
  const code = /"errors":\[.*?"code":"(\w+)"/.exec(head)?.[1];
  return { label: code ? `${prefix}large answer with errors, ${code}` : `${prefix}answered` };
}

/** Reads a response to its end: its first `HEAD_BYTES` as text, how many bytes in all. */
async function readHead(response: Response): Promise<{ head: string; bytes: number; complete: boolean }> {
  const chunks: Uint8Array[] = [];
  let kept = 0;
  let bytes = 0;
  if (response.body) {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.byteLength;
      if (kept < HEAD_BYTES) {
        chunks.push(chunk);
        kept += chunk.byteLength;
      }
    }
  }
  return { head: Buffer.concat(chunks).subarray(0, HEAD_BYTES).toString("utf8"), bytes, complete: bytes <= HEAD_BYTES };
}

function isAbort(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name;
  return name === "AbortError" || name === "TimeoutError";
}

/**
 * One attacker connection over HTTP: requests one after the other until the phase ends; the one
 * under way then is aborted and counted apart.
 */
async function httpLoop(
  url: string,
  signal: AbortSignal,
  outcomes: Outcomes,
  next: () => { body: string; token?: string; label?: string },
): Promise<void> {
  while (!signal.aborted) {
    const { body, token, label = "" } = next();
    const started = performance.now();
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/graphql-response+json, application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(ATTACK_TIMEOUT_MS)]),
      });
      const { head, bytes, complete } = await readHead(response);
      const outcome = classify(response.status, head, complete);
      outcomes.add(`${label}${outcome.label}`, { ms: performance.now() - started, sample: outcome.sample, bytes });
    } catch (error) {
      if (signal.aborted) {
        outcomes.add(`${label}under way when the phase ended`);
        return;
      }
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      outcomes.add(
        `${label}${isAbort(error) ? `no answer within ${ATTACK_TIMEOUT_MS / 1000} s` : `network error ${cause ?? String(error)}`}`,
        {
          ms: performance.now() - started,
        },
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// WebSocket (graphql-transport-ws over plain `ws` sockets, as subscribers.bench.ts speaks it)

type Connection = { socket: WebSocket; outcome: "ack" } | { socket: WebSocket; outcome: string };

/** Opens a socket and sends `init` (a `connection_init` message, as text); resolves on the server's first answer. */
function connect(url: string, init: string, signal: AbortSignal): Promise<Connection> {
  const socket = new WebSocket(url, "graphql-transport-ws", { perMessageDeflate: false });
  return new Promise<Connection>((resolve) => {
    const done = (outcome: string) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      socket.removeAllListeners("message");
      socket.removeAllListeners("close");
      socket.removeAllListeners("unexpected-response");
      resolve({ socket, outcome });
    };
    const onAbort = () => done("aborted");
    const timer = setTimeout(() => done(`no answer within ${ATTACK_TIMEOUT_MS / 1000} s`), ATTACK_TIMEOUT_MS);
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("open", () => socket.send(init));
    socket.once("message", (data: Buffer) => {
      const type = parse<{ type?: string }>(data)?.type;
      done(type === "connection_ack" ? "ack" : `answered ${type}`);
    });
    socket.once("close", (code) => done(`closed ${code}`));
    socket.once("unexpected-response", (_request, response) => done(`HTTP ${response.statusCode}`));
    socket.on("error", () => {}); // followed by close
  });
}

/** A server message, or undefined when it is not JSON (counted, never thrown in a socket's event handler). */
function parse<T>(data: Buffer): T | undefined {
  try {
    return JSON.parse(data.toString()) as T;
  } catch {
    return undefined;
  }
}

function initMessage(token: string, extra?: string): string {
  const payload = `{"authorization":"Bearer ${token}"${extra ? `,"x":${extra}` : ""}}`;
  return `{"type":"connection_init","payload":${payload}}`;
}

function terminate(socket: WebSocket): void {
  socket.removeAllListeners();
  socket.on("error", () => {});
  socket.terminate();
}

// ---------------------------------------------------------------------------------------------
// The attacks

interface AttackContext {
  info: AttackServerInfo;
  /** The cursor the flood resumes after: "0" when the server takes it, else the first stored one. */
  resumeCursor: string;
  /** A 1.8 MB body: `{ __typename }` with a variable of nested arrays. */
  nestedBody: string;
  nestedInit: string;
}

interface Attack {
  key: string;
  title: string;
  /** Runs until `signal` aborts, then closes every connection it opened and returns. */
  run(context: AttackContext, outcomes: Outcomes, signal: AbortSignal): Promise<void>;
}

const loops = (count: number, loop: (index: number) => Promise<void>): Promise<void> =>
  Promise.all(Array.from({ length: count }, (_, i) => loop(i))).then(() => {});

const ATTACKS: Attack[] = [
  {
    key: "fan-out",
    title: `fan-out: node(id: $app) → journeys ×4 (20⁴ keys per alias), 1–8 aliases, VIEWER token, ${CONCURRENCY} connections`,
    run({ info }, outcomes, signal) {
      let sent = 0;
      return loops(CONCURRENCY, () =>
        httpLoop(info.url, signal, outcomes, () => ({
          body: JSON.stringify({ query: fanOutQuery((sent++ % 8) + 1), variables: { app: info.attacker.applicationId } }),
          token: info.attacker.viewerToken,
        })),
      );
    },
  },
  {
    key: "connections",
    title: `fan-out through connections: applications(first: $n) and 2 × syncNotifications(first: $n) → journeys ×3, n = ${CONNECTIONS_FIRST}, ${CONCURRENCY} connections`,
    run({ info }, outcomes, signal) {
      const body = JSON.stringify({ query: CONNECTIONS_QUERY, variables: { n: CONNECTIONS_FIRST } });
      return loops(CONCURRENCY, () => httpLoop(info.url, signal, outcomes, () => ({ body, token: info.attacker.viewerToken })));
    },
  },
  {
    key: "subscription-flood",
    title: `subscription flood: ${SUBSCRIPTIONS} syncStatusChanged(after: "0") at once on one WebSocket, again once the history stops flowing`,
    run: subscriptionFlood,
  },
  {
    key: "nested-json",
    title: `nested JSON: ${(NESTED_BODY_BYTES / 1e6).toFixed(1)} MB of [[[…]]] in variables on ${CONCURRENCY} connections (half with a token), and a ${(NESTED_INIT_BYTES / 1e6).toFixed(1)} MB nested connection_init over WebSocket`,
    run(context, outcomes, signal) {
      const { info, nestedBody, nestedInit } = context;
      const parts = NESTED_PARTS;
      const http = loops(parts.includes("http") ? CONCURRENCY : 0, (index) =>
        httpLoop(info.url, signal, outcomes, () =>
          index % 2 === 0
            ? { body: nestedBody, token: info.attacker.viewerToken, label: "with token: " }
            : { body: nestedBody, label: "without token: " },
        ),
      );
      const webSocket = (async () => {
        while (parts.includes("ws") && !signal.aborted) {
          const started = performance.now();
          const { socket, outcome } = await connect(info.wsUrl, nestedInit, signal);
          terminate(socket);
          if (outcome !== "aborted")
            outcomes.add(`WebSocket nested connection_init: ${outcome === "ack" ? "acknowledged" : outcome}`, {
              ms: performance.now() - started,
            });
        }
      })();
      return Promise.all([http, webSocket]).then(() => {});
    },
  },
  {
    key: "cursors-and-bad-documents",
    title: `crafted cursors over HTTP on ${Math.max(1, CONCURRENCY - 1)} connections; syntax errors, validation errors and crafted cursors over one WebSocket`,
    run({ info }, outcomes, signal) {
      let sent = 0;
      const http = loops(Math.max(1, CONCURRENCY - 1), () =>
        httpLoop(info.url, signal, outcomes, () => ({
          body: JSON.stringify({ query: CRAFTED_CURSOR_QUERIES[sent++ % CRAFTED_CURSOR_QUERIES.length] }),
          token: info.attacker.viewerToken,
          label: "HTTP cursor: ",
        })),
      );
      return Promise.all([http, badDocumentsOverWebSocket(info, outcomes, signal)]).then(() => {});
    },
  },
  {
    key: "aliased-diffs",
    title: `aliased diffs: ${DIFF_ALIASES} × diff(development → staging) of an application whose journeys all differ, VIEWER token, ${CONCURRENCY} connections`,
    run({ info }, outcomes, signal) {
      const { differ } = info;
      const variables = { app: differ.applicationId, from: differ.developmentId, to: differ.stagingId };
      let sent = 0;
      return loops(CONCURRENCY, () =>
        httpLoop(info.url, signal, outcomes, () => ({
          body: JSON.stringify({ query: aliasedDiffs(DIFF_ALIASES, sent++), variables }),
          token: differ.viewerToken,
        })),
      );
    },
  },
];

/** One socket; one operation after the other, each answered (or the socket closed) before the next; reconnects when closed. */
async function badDocumentsOverWebSocket(info: AttackServerInfo, outcomes: Outcomes, signal: AbortSignal): Promise<void> {
  const documents = [...BAD_DOCUMENTS, ...CRAFTED_CURSOR_QUERIES];
  let sent = 0;
  while (!signal.aborted) {
    const { socket, outcome } = await connect(info.wsUrl, initMessage(info.attacker.viewerToken), signal);
    if (outcome !== "ack") {
      terminate(socket);
      if (outcome !== "aborted") outcomes.add(`WebSocket connect: ${outcome}`);
      continue;
    }
    let closed: number | undefined;
    let answer: ((label: string, sample?: string) => void) | undefined;
    socket.on("message", (data: Buffer) => {
      const message = parse<{
        type: string;
        payload?: GraphQLErrorShape[] | { data?: unknown; errors?: GraphQLErrorShape[] };
      }>(data);
      if (!message) return answer?.("message not JSON");
      if (message.type === "ping") return socket.send('{"type":"pong"}');
      if (message.type === "error") {
        const errors = message.payload as GraphQLErrorShape[];
        return answer?.(`error message ${codeOf(errors)}`, errors?.[0]?.message);
      }
      if (message.type === "next") {
        const { data, errors } = message.payload as { data?: unknown; errors?: GraphQLErrorShape[] };
        return answer?.(
          errors?.length ? `${hasData(data) ? "partial data," : "next with errors"} ${codeOf(errors)}` : "next with data",
          errors?.[0]?.message,
        );
      }
      // `complete` follows a `next`: nothing to count.
    });
    socket.on("close", (code) => {
      closed = code;
      answer?.(`socket closed ${code}`);
    });
    socket.on("error", () => {});
    while (!signal.aborted && closed === undefined) {
      const document = documents[sent++ % documents.length];
      const kind = BAD_DOCUMENTS.includes(document) ? "bad document" : "cursor";
      const started = performance.now();
      const { label, sample } = await new Promise<{ label: string; sample?: string }>((resolve) => {
        const finish = (label: string, sample?: string) => {
          clearTimeout(timer);
          signal.removeEventListener("abort", onAbort);
          answer = undefined;
          resolve({ label, sample });
        };
        const onAbort = () => finish("aborted");
        const timer = setTimeout(() => finish(`no answer within ${ATTACK_TIMEOUT_MS / 1000} s`), ATTACK_TIMEOUT_MS);
        signal.addEventListener("abort", onAbort, { once: true });
        answer = finish;
        socket.send(JSON.stringify({ id: String(sent), type: "subscribe", payload: { query: document } }));
      });
      if (label !== "aborted") outcomes.add(`WebSocket ${kind}: ${label}`, { ms: performance.now() - started, sample });
    }
    terminate(socket);
  }
}

/**
 * Waves of `SUBSCRIPTIONS` resumed subscriptions on one socket: each wave is sent at once; once
 * the server has answered and then sent nothing for `FLOOD_IDLE_MS` (the history is out), every
 * subscription still open is completed and the next wave goes out. `next` messages are counted
 * from their first bytes (the attacker's side must cost little); anything else is read whole.
 */
async function subscriptionFlood(context: AttackContext, outcomes: Outcomes, signal: AbortSignal): Promise<void> {
  const { info, resumeCursor } = context;
  let wave = 0;
  outcomes.extra["history messages received"] = 0;
  outcomes.extra["waves sent"] = 0;
  while (!signal.aborted) {
    const { socket, outcome } = await connect(info.wsUrl, initMessage(info.attacker.viewerToken), signal);
    if (outcome !== "ack") {
      terminate(socket);
      if (outcome !== "aborted") outcomes.add(`WebSocket connect: ${outcome}`);
      continue;
    }
    let closed: number | undefined;
    let lastMessage = performance.now();
    let messagesOfWave = 0;
    const ended = new Set<string>();
    const refused = new Set<string>();
    const streamed = new Set<string>();
    socket.on("message", (data: Buffer) => {
      lastMessage = performance.now();
      messagesOfWave++;
      outcomes.bytes += data.length;
      const head = data.subarray(0, 160).toString("latin1");
      const type = /"type":"(\w+)"/.exec(head)?.[1];
      const id = /"id":"([^"]+)"/.exec(head)?.[1];
      if (type === "next" && head.includes('"payload":{"data":{"syncStatusChanged":{')) {
        outcomes.extra["history messages received"]++;
        if (id) streamed.add(id);
        return;
      }
      if (type === "ping") return socket.send('{"type":"pong"}');
      const message = parse<{ id?: string; type: string; payload?: GraphQLErrorShape[] | { errors?: GraphQLErrorShape[] } }>(data);
      if (!message) return outcomes.add("message not JSON");
      // A refusal comes as an `error` message, or as a `next` carrying the error (then `complete`).
      const errors = Array.isArray(message.payload) ? message.payload : message.payload?.errors;
      if (message.type === "error" || (message.type === "next" && errors?.length)) {
        if (message.id) {
          ended.add(message.id);
          refused.add(message.id);
        }
        outcomes.add(`subscription refused (${message.type} message) ${codeOf(errors)}`, { sample: errors?.[0]?.message });
      } else if (message.type === "complete") {
        if (message.id) ended.add(message.id);
        if (!message.id || !refused.has(message.id)) outcomes.add("subscription completed by the server");
      } else outcomes.add(`unexpected ${message.type} message`, { sample: data.toString().slice(0, 200) });
    });
    socket.on("close", (code) => (closed = code));
    socket.on("error", () => {});
    while (!signal.aborted && closed === undefined) {
      wave++;
      outcomes.extra["waves sent"]++;
      const ids = Array.from({ length: SUBSCRIPTIONS }, (_, i) => `${wave}-${i}`);
      lastMessage = performance.now();
      messagesOfWave = 0;
      for (const id of ids) {
        socket.send(JSON.stringify({ id, type: "subscribe", payload: { query: FLOOD_SUBSCRIPTION, variables: { after: resumeCursor } } }));
      }
      // Over once the server has answered and then gone quiet (a server that has not answered yet gets no more).
      const over = () => (messagesOfWave > 0 && performance.now() - lastMessage >= FLOOD_IDLE_MS) || ids.every((id) => ended.has(id));
      while (!signal.aborted && closed === undefined && !over()) {
        await sleep(50);
      }
      // Whatever the server did not end itself was accepted: count it, and end it.
      for (const id of ids) {
        if (ended.has(id)) continue;
        if (closed !== undefined) outcomes.add(`subscription ended by the socket's close${streamed.has(id) ? ", history streamed" : ""}`);
        else outcomes.add(streamed.has(id) ? "subscription accepted, history streamed" : "subscription accepted, nothing received yet");
        if (closed === undefined && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ id, type: "complete" }));
      }
    }
    if (closed !== undefined) outcomes.add(`socket closed by the server ${closed}`);
    terminate(socket);
  }
}

// ---------------------------------------------------------------------------------------------
// Phases

type Server = ServerProcess<AttackServerInfo, ProcessStats & AttackCounters>;

/** The server's output outside the JSON logger (stack traces printed by libraries, say): counted, a few kept. */
class ServerOutput {
  lines = 0;
  readonly samples: string[] = [];
  readonly onOutput = (line: string, stream: "stdout" | "stderr") => {
    // ATTACK_SERVER_OUTPUT=<file> keeps every line (a run with BENCH_SERVER_NODE_ARGS=--trace-gc-nvp, say).
    if (SERVER_OUTPUT) appendFileSync(SERVER_OUTPUT, `${line}\n`);
    this.lines++;
    if (this.samples.length < 5) this.samples.push(`${stream}: ${line.slice(0, 200)}`);
  };
}

async function within<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([work.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface VictimFigures {
  p50: number;
  p99: number;
  requests: number;
  failures: number;
  timeouts: number;
  unsent: number;
  samples: string[];
}

function victimFigures(streams: StreamLatencies[]): Record<string, VictimFigures> {
  if (LATENCY_DUMP) {
    const line = streams.map((stream) => ({ name: stream.name, latencies: stream.latencies.map((ms) => round(ms, 1)) }));
    appendFileSync(LATENCY_DUMP, `${JSON.stringify(line)}\n`);
  }
  return Object.fromEntries(
    streams.map((s) => [
      s.name,
      {
        p50: round(percentile(s.latencies, 0.5), 2),
        p99: round(percentile(s.latencies, 0.99), 2),
        requests: s.latencies.length,
        failures: s.failures,
        timeouts: s.timeouts,
        unsent: s.unsent,
        samples: s.failureSamples,
      },
    ]),
  );
}

async function measureVictim(latency: LatencyClient, info: AttackServerInfo, seconds: number) {
  return victimFigures(
    await latency.measure({
      url: info.url,
      token: info.victim.viewerToken,
      durationMs: seconds * 1000,
      timeoutMs: VICTIM_TIMEOUT_MS,
      streams: VICTIM_STREAMS,
    }),
  );
}

/** Seconds until the server answers the victim's `{ __typename }` three times in a row within `fastMs`; undefined if it never does. */
async function recovery(info: AttackServerInfo, fastMs: number): Promise<number | undefined> {
  const started = performance.now();
  let fast = 0;
  while (performance.now() - started < RECOVERY_TIMEOUT_MS) {
    const sent = performance.now();
    try {
      const response = await fetch(info.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${info.victim.viewerToken}` },
        body: '{"query":"{ __typename }"}',
        signal: AbortSignal.timeout(5_000),
      });
      await response.text();
      fast = response.ok && performance.now() - sent <= fastMs ? fast + 1 : 0;
    } catch {
      fast = 0;
    }
    if (fast === 3) return round((performance.now() - started) / 1000, 2);
    await sleep(50);
  }
  return undefined;
}

async function graphql(info: AttackServerInfo, token: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(info.url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(ATTACK_TIMEOUT_MS),
  });
  return (await response.json()) as { data?: Record<string, any>; errors?: GraphQLErrorShape[] };
}

/** One `diff` of the diff attacker's application, alone, five times (new alias each: no cached answer): the median time and its changes. */
async function timeOneDiff(info: AttackServerInfo): Promise<{ ms: number; changes: number }> {
  const { differ } = info;
  const times: number[] = [];
  let changes = 0;
  for (let i = 0; i < 5; i++) {
    const query = `query($app: ID!, $from: ID!, $to: ID!) { once${i}: diff(applicationId: $app, fromEnvironmentId: $from, toEnvironmentId: $to) { status changes { id } } }`;
    const started = performance.now();
    const result = await graphql(info, differ.viewerToken, query, {
      app: differ.applicationId,
      from: differ.developmentId,
      to: differ.stagingId,
    });
    times.push(performance.now() - started);
    const diff = result.data?.[`once${i}`] as { changes?: unknown[] } | undefined;
    if (!diff?.changes) throw new Error(`the diff attacker's diff does not work: ${JSON.stringify(result).slice(0, 300)}`);
    changes = diff.changes.length;
  }
  return { ms: round(percentile(times, 0.5), 1), changes };
}

/** "0" when the server takes it as a notification cursor (resume from the start); else the first stored notification's. */
async function resumeCursorOf(info: AttackServerInfo): Promise<string> {
  const query = "query($after: String) { syncNotifications(after: $after, first: 1) { edges { cursor } } }";
  const fromZero = await graphql(info, info.attacker.viewerToken, query, { after: "0" });
  if (!fromZero.errors && fromZero.data?.syncNotifications?.edges?.length === 1) return "0";
  const first = await graphql(info, info.attacker.viewerToken, query, {});
  const cursor = first.data?.syncNotifications?.edges?.[0]?.cursor as string | undefined;
  if (!cursor) throw new Error(`the attacker's history cannot be read: ${JSON.stringify(first).slice(0, 300)}`);
  return cursor;
}

function nested(bytes: number): string {
  const depth = Math.floor(bytes / 2);
  return "[".repeat(depth) + "]".repeat(depth);
}

interface PhaseFigures {
  victim: Record<string, VictimFigures>;
  outcomes: Outcomes;
  /** The attacker's CPU priority during the phase (ATTACK_NICE). */
  attackerNice: string;
  serverCpuMs?: number;
  serverSystemCpuMs?: number;
  serverRssMb?: number;
  loopDelayMaxMs?: number;
  gcPauseMaxMs?: number;
  /** Attacker's and victim's requests admission held during the phase, and the share of its samples that found the server overloaded. */
  admission?: string;
  logLines?: number;
  outputLines: number;
  liveSubscriptionsAfter?: string;
  recoverySeconds?: number;
  stopped: boolean;
  serverExited?: number | null;
}

/** Admission between two readings: requests that waited and that went at once, and the share of samples overloaded. */
function admissionFigure(before: AttackCounters["admission"], after: AttackCounters["admission"]): string {
  const samples = after.samples - before.samples;
  const overloaded = samples === 0 ? 0 : ((after.overloadedSamples - before.overloadedSamples) / samples) * 100;
  return `${after.waited - before.waited} / ${after.admittedAtOnce - before.admittedAtOnce}; ${round(overloaded)}% of the time`;
}

async function runPhase(
  server: Server,
  output: ServerOutput,
  latency: LatencyClient,
  context: AttackContext,
  attack: Attack,
  fastMs: number,
): Promise<PhaseFigures> {
  const { info } = server;
  const logged = (stats?: AttackCounters) => (stats ? Object.values(stats.logged).reduce((a, b) => a + b, 0) : undefined);
  const before = await within(server.stats(), 30_000);
  const outputBefore = output.lines;
  const outcomes = new Outcomes();
  const controller = new AbortController();
  console.error(`[attack] ${attack.key}: ${SECONDS} s`);
  if (PROFILE_DIR) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    await server.probe("/profile/start", "POST");
  }
  const attackerNice = ATTACK_NICE === 0 ? "0" : setAttackerPriority(ATTACK_NICE);
  const attacking = attack.run(context, outcomes, controller.signal).catch((error: unknown) => {
    outcomes.add(`attack failed: ${String(error)}`);
  });
  let victim: Record<string, VictimFigures>;
  try {
    victim = await measureVictim(latency, info, SECONDS);
  } finally {
    controller.abort();
  }
  const stopped =
    (await within(
      attacking.then(() => true),
      STOP_TIMEOUT_MS,
    )) ?? false;
  // Back to normal before the recovery probe, and before the next server process is started (it would inherit it).
  if (ATTACK_NICE !== 0 && setAttackerPriority(0) !== "0") console.error("[attack] the priority could not be set back to 0");
  const after = await within(server.stats(), 30_000);
  if (PROFILE_DIR) {
    const path = `${PROFILE_DIR}/${attack.key}-${server.info.database.replace(/[^A-Za-z0-9]+/g, "-").slice(0, 24)}-${Date.now()}.cpuprofile`;
    await server.probe(`/profile/stop?path=${encodeURIComponent(path)}`, "POST");
    console.error(`[attack] ${attack.key}: CPU profile of the server in ${path}`);
  }
  const exited = server.exitCode();
  const recoverySeconds = exited === undefined ? await recovery(info, fastMs) : undefined;
  const afterRecovery = exited === undefined ? await within(server.stats(), 30_000) : undefined;
  // The server lets go of the attacker's subscriptions once their sockets are gone: how long that takes.
  let released: string | undefined;
  if (afterRecovery) {
    const since = performance.now();
    let live = afterRecovery.subscribers;
    while (live > 0 && performance.now() - since < RELEASE_TIMEOUT_MS) {
      await sleep(200);
      live = (await within(server.stats(), 5_000))?.subscribers ?? live;
    }
    const waited = round((performance.now() - since) / 1000, 1);
    released = live === 0 ? (waited === 0 ? "0" : `0 (after ${waited} s more)`) : `${live} STILL LIVE after ${waited} s more`;
  }
  return {
    victim,
    outcomes,
    attackerNice,
    serverCpuMs: before && after ? round(after.cpuMs - before.cpuMs) : undefined,
    serverSystemCpuMs: before && after ? round(after.systemCpuMs - before.systemCpuMs) : undefined,
    serverRssMb: after ? round(after.rss / 2 ** 20) : undefined,
    loopDelayMaxMs: after ? round(after.loopDelayMaxMs) : undefined,
    gcPauseMaxMs: after ? round(after.gcPauseMaxMs) : undefined,
    admission: before && after ? admissionFigure(before.admission, after.admission) : undefined,
    logLines: before && afterRecovery ? logged(afterRecovery)! - logged(before)! : undefined,
    outputLines: output.lines - outputBefore,
    liveSubscriptionsAfter: released,
    recoverySeconds,
    stopped,
    serverExited: exited,
  };
}

// ---------------------------------------------------------------------------------------------
// Figures

const verdict = (ok: boolean) => (ok ? "met" : "MISSED");

/** The median of a non-empty list. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : round((sorted[middle - 1] + sorted[middle]) / 2, 2);
}

/** A phase's figures, and the targets it missed. */
function phaseFigures(
  phase: PhaseFigures,
  quiet: Record<string, VictimFigures>,
  target: DatabaseTarget,
  attack: Attack,
): { figures: Figures; missed: string[] } {
  const figures: Figures = {};
  const missed: string[] = [];
  for (const [name, v] of Object.entries(phase.victim)) {
    const ratio = round(v.p99 / quiet[name].p99, 2);
    figures[`victim ${name} p50 ms`] = v.p50;
    figures[`victim ${name} p99 ms`] = v.p99;
    figures[`victim ${name} p99 / quiet p99`] = ratio;
    figures[`victim ${name} target ≤ ${TARGET_RATIO}× quiet p99`] = verdict(ratio <= TARGET_RATIO);
    if (!(ratio <= TARGET_RATIO)) missed.push(`${name} p99 ${ratio}× quiet`);
    if (v.failures + v.timeouts + v.unsent > 0) {
      figures[`victim ${name} failed / timed out / unsent`] = `${v.failures} / ${v.timeouts} / ${v.unsent} of ${v.requests}`;
    }
  }
  if (attack.key === "subscription-flood") {
    const p99 = phase.victim["{ __typename }"].p99;
    figures[`victim { __typename } p99 < ${FLOOD_TARGET_MS} ms${target === "postgres" ? "" : " (the target is on PostgreSQL)"}`] = verdict(
      p99 < FLOOD_TARGET_MS,
    );
    if (target === "postgres" && !(p99 < FLOOD_TARGET_MS)) missed.push(`{ __typename } p99 ${p99} ms ≥ ${FLOOD_TARGET_MS} ms`);
  }
  const { outcomes } = phase;
  figures["attacker operations"] = outcomes.total;
  for (const [label, count] of Object.entries(outcomes.counts).sort((a, b) => b[1] - a[1])) figures[`attacker: ${label}`] = count;
  for (const [name, value] of Object.entries(outcomes.extra)) figures[`attacker ${name}`] = value;
  if (outcomes.roundTrips.length > 0) {
    figures["attacker round trip p50 / p99 ms"] =
      `${round(percentile(outcomes.roundTrips, 0.5))} / ${round(percentile(outcomes.roundTrips, 0.99))}`;
  }
  figures["attacker MB received"] = round(outcomes.bytes / 1e6);
  figures["attacker's CPU priority (nice)"] = phase.attackerNice;
  figures["server CPU s"] = phase.serverCpuMs === undefined ? "no answer" : round(phase.serverCpuMs / 1000, 2);
  if (phase.serverSystemCpuMs !== undefined) figures["server CPU s in the kernel"] = round(phase.serverSystemCpuMs / 1000, 2);
  figures["server RSS MB at the end"] = phase.serverRssMb ?? "no answer";
  figures["server event loop longest delay ms"] = phase.loopDelayMaxMs ?? "no answer";
  figures["server longest garbage collection ms"] = phase.gcPauseMaxMs ?? "no answer";
  figures["server admission: requests held / admitted at once; overloaded"] = phase.admission ?? "no answer";
  figures["server log lines (warn and above)"] = phase.logLines ?? "no answer";
  figures["server output lines outside the logger"] = phase.outputLines;
  figures["live subscriptions after the phase"] = phase.liveSubscriptionsAfter ?? "no answer";
  figures["answers quickly again after s"] =
    phase.recoverySeconds ?? (phase.serverExited === undefined ? `not within ${RECOVERY_TIMEOUT_MS / 1000}` : "-");
  if (!phase.stopped) figures["attack stopped"] = `NO: cut off after ${STOP_TIMEOUT_MS / 1000} s`;
  if (phase.serverExited !== undefined) {
    figures["SERVER EXITED"] = String(phase.serverExited);
    missed.push("the server exited");
  }
  return { figures, missed };
}

function quietFigures(quiet: Record<string, VictimFigures>): Figures {
  const figures: Figures = {};
  for (const [name, v] of Object.entries(quiet)) {
    figures[`victim ${name} p50 ms`] = v.p50;
    figures[`victim ${name} p99 ms`] = v.p99;
    figures[`victim ${name} requests`] = v.requests;
    if (v.failures + v.timeouts + v.unsent > 0)
      figures[`victim ${name} failed / timed out / unsent`] = `${v.failures} / ${v.timeouts} / ${v.unsent}`;
  }
  return figures;
}

interface TargetFigures {
  database: string;
  setup: Figures;
  /** The commit measured (taken as the server started: the repository moves while benches run). */
  code: string;
  quiet: Figures;
  /** The quiet phase again after the attacks: how much the machine's other load moved the figures. */
  quietAgain: Figures;
  /** What the ratios are to: per query, the median p99 of the run's quiet phases. */
  quietBasis: Figures;
  attacks: Record<string, Figures>;
  /** Per attack: "met", or the targets it missed. */
  verdicts: Record<string, string>;
  /** Samples of the attacker's answers (first of each kind), of the victim's failures, of the server's output. */
  samples: Record<string, string>;
}

export interface AttackBenchFigures {
  machine: Figures;
  /** The commit at the end of the run (each database's figures name the one its server started on). */
  commit: string;
  settings: Figures;
  databases: Partial<Record<DatabaseTarget, TargetFigures>>;
  targets: Record<string, string>;
}

async function runTarget(target: DatabaseTarget, latency: LatencyClient): Promise<TargetFigures> {
  const output = new ServerOutput();
  const started = performance.now();
  const code = commit();
  const server: Server = await startServerProcess<AttackServerInfo, ProcessStats & AttackCounters>("attack-server.ts", {
    label: `attack ${target}`,
    startTimeoutMs: 180_000,
    env: { ATTACK_BENCH_TARGET: target },
    onOutput: output.onOutput,
  });
  const samples: Record<string, string> = {};
  try {
    const { info } = server;
    const check = await graphql(info, info.victim.viewerToken, "{ viewer { role } }");
    if (check.data?.viewer?.role !== "VIEWER") throw new Error(`the victim's token does not work: ${JSON.stringify(check).slice(0, 300)}`);
    const context: AttackContext = {
      info,
      resumeCursor: await resumeCursorOf(info),
      nestedBody: `{"query":"{ __typename }","variables":{"x":${nested(NESTED_BODY_BYTES - 100)}}}`,
      nestedInit: initMessage(info.attacker.viewerToken, nested(NESTED_INIT_BYTES - 200)),
    };
    const oneDiff = await timeOneDiff(info);
    const setup: Figures = {
      "attacker journeys": info.attacker.journeys,
      "diff attacker's differing journeys": info.differ.journeys,
      "diffs through the queue": info.differ.diffQueue ? "yes" : "NO (ATTACK_DIFF_QUEUE=bypass, for comparison)",
      "one diff over HTTP, median of 5 ms": oneDiff.ms,
      "one diff's changes": oneDiff.changes,
      "attacker notifications stored": info.attacker.history,
      "flood resumes after cursor": context.resumeCursor,
      "seeded in s": info.seedSeconds,
      "started in s": round((performance.now() - started) / 1000, 1),
    };
    console.error(`[attack] ${target}: warm-up ${WARMUP_SECONDS} s, quiet ${SECONDS} s`);
    await measureVictim(latency, info, WARMUP_SECONDS);
    const quiet = await measureVictim(latency, info, SECONDS);
    for (const [name, v] of Object.entries(quiet))
      v.samples.forEach((s, i) => {
        samples[`quiet victim ${name} failure ${i + 1}`] = s;
      });
    // "Quickly again": within the target's bound, and never asked for below 25 ms (a quiet p99 of 2 ms is no bar for a server catching up).
    const fastMs = Math.max(25, TARGET_RATIO * quiet["{ __typename }"].p99);
    const attacks: Record<string, Figures> = {};
    const verdicts: Record<string, string> = {};
    const phases: { name: string; attack: Attack; phase: PhaseFigures; before: Record<string, VictimFigures> }[] = [];
    /** Every quiet phase of the run, in order: the first, one before each later attack, and the last. */
    const quietPhases: Record<string, VictimFigures>[] = [quiet];
    for (const [index, attack] of ATTACKS.entries()) {
      if (ONLY.length > 0 && !ONLY.some((part) => attack.key.includes(part))) continue;
      const name = `${index + 1}. ${attack.key}`;
      if (server.exitCode() !== undefined) {
        attacks[name] = { skipped: `the server exited (${server.exitCode()})` };
        verdicts[name] = "MISSED (not run: the server exited)";
        continue;
      }
      if (phases.length > 0) {
        console.error(`[attack] ${target}: quiet before ${attack.key} ${SECONDS} s`);
        quietPhases.push(await measureVictim(latency, info, SECONDS));
      }
      const before = quietPhases[quietPhases.length - 1];
      const phase = await runPhase(server, output, latency, context, attack, fastMs);
      phases.push({ name, attack, phase, before });
      for (const [label, sample] of phase.outcomes.samples) samples[`${attack.key}: ${label}`] = sample;
      for (const [name, v] of Object.entries(phase.victim))
        v.samples.forEach((s, i) => {
          samples[`${attack.key}: victim ${name} failure ${i + 1}`] = s;
        });
    }
    let again: Record<string, VictimFigures> | undefined;
    if (server.exitCode() === undefined) {
      console.error(`[attack] ${target}: quiet again ${SECONDS} s`);
      again = await measureVictim(latency, info, SECONDS);
      quietPhases.push(again);
    }
    // The ratios' basis: per query, the median p99 of the run's quiet phases — neither one slowed by
    // the machine's other load (which would make a target easy) nor one that happened to be
    // unusually calm (on this machine one phase's p99 swings 2.4–8 ms from one minute to the next).
    const basis = Object.fromEntries(
      Object.entries(quiet).map(([name, v]) => [name, { ...v, p99: median(quietPhases.map((phase) => phase[name].p99)) }]),
    );
    for (const { name, attack, phase, before } of phases) {
      const { figures, missed } = phaseFigures(phase, basis, target, attack);
      for (const [stream, v] of Object.entries(phase.victim)) {
        figures[`victim ${stream} p99 / p99 of the quiet phase just before`] = round(v.p99 / before[stream].p99, 2);
      }
      attacks[name] = figures;
      verdicts[name] = missed.length === 0 ? "met" : `MISSED (${missed.join("; ")})`;
    }
    output.samples.forEach((line, i) => {
      samples[`server output ${i + 1}`] = line;
    });
    return {
      database: info.database,
      code,
      setup,
      quiet: quietFigures(quiet),
      quietAgain: again ? quietFigures(again) : { skipped: "the server exited" },
      quietBasis: Object.fromEntries(
        Object.entries(basis).flatMap(([name, v]) => [
          [`victim ${name} quiet p99 ms (median of the ${quietPhases.length} quiet phases)`, v.p99],
          [`victim ${name} p99 ms of each quiet phase`, quietPhases.map((phase) => phase[name].p99).join(" / ")],
        ]),
      ),
      attacks,
      verdicts,
      samples,
    };
  } finally {
    await server.stop();
  }
}

export async function runAttackBench(): Promise<AttackBenchFigures> {
  const host = machine();
  const latency = startLatencyClient();
  const databases: AttackBenchFigures["databases"] = {};
  try {
    for (const target of benchTargets()) databases[target] = await runTarget(target, latency);
  } finally {
    await latency.stop();
  }
  const targets: Record<string, string> = {};
  for (const [target, figures] of Object.entries(databases)) {
    for (const [attack, result] of Object.entries(figures.verdicts)) targets[`${target} ${attack}`] = result;
  }
  return {
    machine: { ...host, "load average 1 min at end": round(loadavg()[0], 2) },
    commit: commit(),
    settings: {
      "seconds per phase": SECONDS,
      "attacker HTTP connections": CONCURRENCY,
      "flood subscriptions per wave": SUBSCRIPTIONS,
      "diff aliases per request": DIFF_ALIASES,
      "attacker's CPU priority (nice) during its phases": ATTACK_NICE,
      "victim requests per second": VICTIM_STREAMS.map((s) => `${s.name} ${s.perSecond}`).join(", "),
    },
    databases,
    targets,
  };
}

export function formatAttackBench(figures: AttackBenchFigures): string {
  const lines = [
    `Attack benchmark: another tenant's latency (victim) while an attacker runs each attack at full speed for ${SECONDS} s, against the quiet latency;`,
    `target: victim p99 ≤ ${TARGET_RATIO}× quiet p99 (the median of the run's quiet phases: the first, one before each later attack, the last) under every attack, and < ${FLOOD_TARGET_MS} ms under the subscription flood on PostgreSQL`,
    formatFigures({ ...figures.machine, "commit at the end": figures.commit }),
    formatFigures(figures.settings),
  ];
  for (const [target, f] of Object.entries(figures.databases)) {
    lines.push(
      `\n  === ${target}: ${f.database}, code ${f.code} ===`,
      formatFigures(f.setup, "    "),
      "    quiet:",
      formatFigures(f.quiet, "      "),
      "    quiet again, after the attacks:",
      formatFigures(f.quietAgain, "      "),
      "    the ratios' basis:",
      formatFigures(f.quietBasis, "      "),
    );
    for (const [name, phase] of Object.entries(f.attacks)) {
      const attack = ATTACKS.find((a) => name.endsWith(a.key));
      lines.push(`    ${name}${attack ? ` — ${attack.title}` : ""}:`, formatFigures(phase, "      "));
    }
    if (Object.keys(f.samples).length > 0) lines.push("    samples:", formatFigures(f.samples, "      "));
  }
  lines.push("\n  targets:", formatFigures(figures.targets, "    "));
  return lines.join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  console.log(formatAttackBench(await runAttackBench()));
}

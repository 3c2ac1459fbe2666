/**
 * Subscribers benchmark (issue 6): 5,000 concurrent graphql-ws subscribers to
 * `syncStatusChanged(environmentId: staging)` on one server process, opened by a second process
 * (this one), then one save that puts the login journey out of sync in staging; the delivery latency
 * from the mutation's response to each subscriber's receipt (p50, p99, max, how many received),
 * and the server's memory per idle subscriber. The same measurement, in the same run, against the
 * stack's ceiling: bare graphql-yoga + graphql-ws whose mutation publishes straight to an
 * in-process pub/sub (`ceiling-server.ts`).
 *
 * Each server runs in a child process of its own (`subscribers-server.ts`, `ceiling-server.ts`)
 * and reports its memory through a probe on another port (`process-probe.ts`). Subscribers speak
 * the graphql-transport-ws protocol over plain `ws` sockets, one subscription per connection (the
 * connections are what is measured), and timestamp a message before anything else is done with it.
 *
 * Per stack: open 100 subscribers and take the memory baseline (after full collections), open the
 * other 4,900, wait until the server has registered all 5,000 and idles, take the memory again.
 * Both servers then hold their subscribers at once, and the rounds alternate between them so that
 * whatever else runs on the machine weighs on both alike: one warm-up cycle each, then five
 * measured rounds each. A round is the measured out-of-sync mutation, then (not measured, but
 * awaited by every subscriber) the one that brings staging back in sync. Latency figures are the
 * median of the rounds; the server's CPU time per event is the figure that depends least on the
 * machine's other load.
 *
 *   npm run bench -- subscribers.bench
 *   SUBSCRIBERS=1000 npm run bench -- subscribers.bench
 *   SUBSCRIBERS_BENCH_PROFILE=/tmp/prof npm run bench -- subscribers.bench
 *     (also writes each server's CPU profile of its first measured round, and at the end a heap
 *     snapshot with its subscribers, into that folder)
 */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import WebSocket from "ws";
import { type Figures, formatFigures, machine, round } from "./figures.js";
import type { ProcessStats } from "./process-probe.js";
import { startServerProcess } from "./server-process.js";

const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 5_000);
/** Opened before the memory baseline, so that what the first connection costs once is not counted per subscriber. */
const BASELINE_SUBSCRIBERS = Math.min(100, Math.floor(SUBSCRIBERS / 10));
/** Connections being opened at once (the server's accept backlog is 511). */
const OPEN_CONCURRENCY = 200;
const WARMUP_CYCLES = 1;
const MEASURED_ROUNDS = 5;
const DELIVERY_TIMEOUT_MS = 120_000;
const REGISTRATION_TIMEOUT_MS = 120_000;
/** Idle time before the after-subscription memory reading: connection timers and buffers settle. */
const SETTLE_MS = 2_000;
/** The targets of the issue: ours within 1.5× of the ceiling. */
const TARGET_RATIO = 1.5;
const PROFILE_DIR = process.env.SUBSCRIBERS_BENCH_PROFILE || undefined;

/** What a dashboard selects: the same document for both stacks (the ceiling's schema has the same fields). */
const SUBSCRIPTION = `subscription Sync($env: ID!) {
  syncStatusChanged(environmentId: $env) {
    id cursor status message changeCount occurredAt
    application { name } journey { key } environment { key } sourceEnvironment { key }
  }
}`;

const SAVE_STEP = `mutation SaveStep($input: SaveJourneyStepInput!) {
  saveJourneyStep(input: $input) { __typename ... on SaveJourneyStepSuccess { draft { revision } } ... on Error { code message } } }`;
const SAVE = `mutation Save($input: SaveJourneyInput!) {
  saveJourney(input: $input) { __typename ... on SaveJourneySuccess { version { version } } ... on Error { code message } } }`;
const PROMOTE_NOW = `mutation PromoteNow($input: PromoteNowInput!) {
  promoteNow(input: $input) { __typename ... on Error { code message } } }`;
const PUBLISH = `mutation Publish($env: ID!, $status: String!) { publish(environmentId: $env, status: $status) }`;

type Status = "OUT_OF_SYNC" | "IN_SYNC";

/** What a server child process announces on its first stdout line. */
interface ServerInfo {
  url: string;
  wsUrl: string;
  probeUrl: string;
  adminToken?: string;
  /** Dashboard tokens: a token may hold 1,000 subscriptions at once on an instance. */
  viewerTokens?: string[];
  journeyId?: string;
  developmentId?: string;
  stagingId?: string;
  applicationId?: string;
}

interface Stack {
  name: "ours" | "ceiling";
  script: string;
  /** The connection_init payload of the `index`th subscriber. */
  connectionParams(info: ServerInfo, index: number): Record<string, unknown>;
  environmentId(info: ServerInfo): string;
  /** Sends what changes staging's status to `status`; resolves when the response of the mutation that commits it has arrived. */
  change(info: ServerInfo, status: Status, round: number): Promise<void>;
}

async function post(url: string, token: string | undefined, query: string, variables: Record<string, unknown>) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Record<string, any>; errors?: unknown[] };
  if (response.status !== 200 || body.errors) throw new Error(`HTTP ${response.status}: ${JSON.stringify(body)}`);
  return body.data!;
}

/** A mutation result union that must be its Success branch. */
function succeeded<T extends { __typename: string; code?: string; message?: string }>(result: T): T {
  if (!result.__typename.endsWith("Success")) throw new Error(`${result.__typename} ${result.code}: ${result.message}`);
  return result;
}

const OURS: Stack = {
  name: "ours",
  script: "subscribers-server.ts",
  connectionParams: (info, index) => ({ authorization: `Bearer ${info.viewerTokens![index % info.viewerTokens!.length]}` }),
  environmentId: (info) => info.stagingId!,
  async change(info, status, roundNumber) {
    if (status === "IN_SYNC") {
      const input = { applicationId: info.applicationId, fromEnvironmentId: info.developmentId, toEnvironmentId: info.stagingId };
      succeeded((await post(info.url, info.adminToken, PROMOTE_NOW, { input })).promoteNow);
      return;
    }
    // Save changes on a step (the draft: no notification), then save in development: staging is out of sync.
    const ids = { journeyId: info.journeyId, environmentId: info.developmentId };
    const step = {
      key: "password",
      type: "PASSWORD",
      name: "Password",
      enabled: true,
      settings: { minLength: 13 + roundNumber },
      transitions: [
        { outcome: "success", to: "email-otp" },
        { outcome: "failure", to: "DENY" },
      ],
    };
    const { draft } = succeeded((await post(info.url, info.adminToken, SAVE_STEP, { input: { ...ids, step } })).saveJourneyStep);
    succeeded((await post(info.url, info.adminToken, SAVE, { input: { ...ids, draftRevision: draft.revision } })).saveJourney);
  },
};

const CEILING: Stack = {
  name: "ceiling",
  script: "ceiling-server.ts",
  connectionParams: () => ({}),
  environmentId: () => "staging",
  async change(info, status) {
    await post(info.url, undefined, PUBLISH, { env: "staging", status });
  },
};

/** A server in a child process (`server-process.ts`), read from its first stdout line. */
function startServer(stack: Stack) {
  return startServerProcess<ServerInfo>(stack.script, { label: stack.name, startTimeoutMs: 180_000 });
}

/**
 * The subscribers: one graphql-transport-ws connection each, one subscription per connection.
 * Within a phase, each one records the arrival time and the raw frame of its first message.
 */
class Subscribers {
  readonly sockets: WebSocket[] = [];
  private arrivals = new Float64Array(0);
  private frames: (Buffer | undefined)[] = [];
  private received = 0;
  private onAll: (() => void) | undefined;
  /** Connections the server closed, or that failed, after they were subscribed. */
  lost = 0;

  constructor(
    private readonly wsUrl: string,
    private readonly connectionParams: (index: number) => Record<string, unknown>,
    private readonly variables: Record<string, unknown>,
  ) {}

  /** Opens `count` more, `OPEN_CONCURRENCY` at a time; resolves when each has sent its subscribe message. */
  async open(count: number): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < count) {
        next++;
        await this.openOne();
      }
    };
    await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, count) }, worker));
  }

  private openOne(): Promise<void> {
    const index = this.sockets.length;
    const socket = new WebSocket(this.wsUrl, "graphql-transport-ws", { perMessageDeflate: false, skipUTF8Validation: true });
    this.sockets.push(socket);
    return new Promise<void>((resolve, reject) => {
      let subscribed = false;
      socket.once("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: this.connectionParams(index) })));
      socket.on("message", (data: Buffer) => {
        if (subscribed) {
          const at = performance.now();
          if (this.frames[index] === undefined) {
            this.arrivals[index] = at;
            this.frames[index] = data;
            this.received++;
            this.checkAll();
          }
          return;
        }
        const message = JSON.parse(data.toString()) as { type: string };
        if (message.type !== "connection_ack") return reject(new Error(`expected connection_ack, got ${data}`));
        subscribed = true;
        socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: SUBSCRIPTION, variables: this.variables } }));
        resolve();
      });
      let lost = false;
      const lose = () => {
        if (lost) return;
        lost = true;
        this.lost++;
        this.checkAll();
      };
      socket.once("error", (error) => (subscribed ? lose() : reject(error)));
      socket.once("close", (code, reason) => (subscribed ? lose() : reject(new Error(`closed ${code} ${reason}`))));
    });
  }

  /** Every subscriber still connected has its message of this phase. */
  private checkAll(): void {
    if (this.received + this.lost >= this.sockets.length) this.onAll?.();
  }

  /** Forgets the last phase's messages: every subscriber awaits one more. */
  startPhase(): void {
    this.arrivals = new Float64Array(this.sockets.length).fill(Number.NaN);
    this.frames = new Array(this.sockets.length);
    this.received = 0;
  }

  /** Resolves when every subscriber received its message of this phase, or after the timeout. */
  waitForAll(timeoutMs = DELIVERY_TIMEOUT_MS): Promise<void> {
    if (this.received + this.lost >= this.sockets.length) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.onAll = undefined;
        resolve();
      }, timeoutMs);
      this.onAll = () => {
        clearTimeout(timer);
        this.onAll = undefined;
        resolve();
      };
    });
  }

  /** The phase's latencies from `from` for every subscriber that received the expected event, and how many received something else. */
  latencies(from: number, status: Status): { latencies: number[]; wrong: number; unexpected?: string } {
    const latencies: number[] = [];
    let wrong = 0;
    let unexpected: string | undefined;
    this.frames.forEach((frame, index) => {
      if (!frame) return;
      const message = JSON.parse(frame.toString()) as {
        type: string;
        payload?: { data?: { syncStatusChanged?: { status: string; environment: { key: string } } } };
      };
      const event = message.type === "next" ? message.payload?.data?.syncStatusChanged : undefined;
      if (event?.status === status && event.environment.key === "staging") latencies.push(this.arrivals[index] - from);
      else {
        wrong++;
        unexpected ??= frame.toString().slice(0, 300);
      }
    });
    return { latencies, wrong, unexpected };
  }

  async close(): Promise<void> {
    await Promise.all(
      this.sockets.map(
        (socket) =>
          new Promise<void>((resolve) => {
            if (socket.readyState === WebSocket.CLOSED) return resolve();
            socket.removeAllListeners("close");
            socket.once("close", () => resolve());
            socket.terminate();
          }),
      ),
    );
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );

async function waitForRegistrations(stats: () => Promise<ProcessStats>, count: number): Promise<void> {
  const deadline = Date.now() + REGISTRATION_TIMEOUT_MS;
  for (;;) {
    const { subscribers } = await stats();
    if (subscribers === count) return;
    if (Date.now() > deadline) throw new Error(`the server registered ${subscribers} of ${count} subscriptions`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface RoundFigures {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  received: number;
  wrong: number;
  /** Receipts timestamped before the mutation's response arrived. */
  beforeResponse: number;
  /** The measured mutation's round trip. */
  mutationMs: number;
  /**
   * CPU time of the server process from before the mutation until every subscriber had its event:
   * unlike the latencies, it hardly depends on what else the machine is running.
   */
  serverCpuMs: number;
  /** How long the server's event loop was busy in that time (wall clock: includes time the process waited for a CPU). */
  serverBusyMs: number;
  /** CPU time of this process (the subscribers' side) in that time: when it nears the latencies, the client is the bottleneck. */
  clientCpuMs: number;
  /** From the response until the last receipt (or the timeout). */
  waitedMs: number;
  /** SQL statements the server ran in that time (the mutation's included). */
  sqlStatements?: number;
  /** Connections lost so far. */
  lost: number;
  /** The first unexpected message, if any. */
  unexpected?: string;
}

interface StackFigures {
  subscribers: number;
  "open s": number;
  "p50 ms": number;
  "p99 ms": number;
  "max ms": number;
  /** The fewest subscribers that received the measured event in one round. */
  received: number;
  "fewest received of any event": number;
  "connections lost": number;
  "mutation ms": number;
  "server CPU ms per event": number;
  "server busy ms per event": number;
  "client CPU ms per event": number;
  /** SQL statements of one measured round (the mutation's included); "-" where the server does not count them. */
  "SQL statements per event": number | string;
  "idle RSS KB per subscriber": number;
  "idle heap KB per subscriber": number;
  "heap KB per subscriber after events": number;
  "RSS MB with subscribers": number;
  rounds: Record<string, string>;
}

const KB = 1024;

/** One stack under measurement: its server process and its subscribers. */
class StackRun {
  private server: Awaited<ReturnType<typeof startServer>> | undefined;
  private subscribers: Subscribers | undefined;
  private baseline: ProcessStats | undefined;
  private idle: ProcessStats | undefined;
  private openSeconds = 0;
  private roundNumber = 0;
  /** Over every event sent, warm-up and back-in-sync ones included. */
  private fewestReceived = Number.POSITIVE_INFINITY;
  readonly rounds: RoundFigures[] = [];

  constructor(readonly stack: Stack) {}

  /** Starts the server, opens every subscriber and takes the idle memory figures. */
  async open(): Promise<void> {
    const server = (this.server = await startServer(this.stack));
    const subscribers = (this.subscribers = new Subscribers(server.info.wsUrl, (index) => this.stack.connectionParams(server.info, index), {
      env: this.stack.environmentId(server.info),
    }));
    const opening = performance.now();
    await subscribers.open(BASELINE_SUBSCRIBERS);
    await waitForRegistrations(server.stats, BASELINE_SUBSCRIBERS);
    this.baseline = await server.stats(true);
    await subscribers.open(SUBSCRIBERS - BASELINE_SUBSCRIBERS);
    await waitForRegistrations(server.stats, SUBSCRIBERS);
    this.openSeconds = (performance.now() - opening) / 1000;
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    this.idle = await server.stats(true);
  }

  /** One phase: send the change, wait until every subscriber has it, and measure. */
  private async phase(status: Status): Promise<RoundFigures> {
    const server = this.server!;
    const subscribers = this.subscribers!;
    subscribers.startPhase();
    const before = await server.stats();
    const clientCpu = process.cpuUsage();
    const sent = performance.now();
    await this.stack.change(server.info, status, this.roundNumber);
    const responded = performance.now();
    await subscribers.waitForAll();
    const waitedMs = performance.now() - responded;
    const clientCpuUsed = process.cpuUsage(clientCpu);
    const after = await server.stats();
    const { latencies, wrong, unexpected } = subscribers.latencies(responded, status);
    const sorted = latencies.sort((a, b) => a - b);
    const figures: RoundFigures = {
      p50Ms: round(percentile(sorted, 0.5)),
      p99Ms: round(percentile(sorted, 0.99)),
      maxMs: round(sorted[sorted.length - 1] ?? Number.NaN),
      received: sorted.length,
      wrong,
      beforeResponse: sorted.filter((l) => l < 0).length,
      mutationMs: round(responded - sent),
      serverCpuMs: round(after.cpuMs - before.cpuMs),
      serverBusyMs: round(after.activeMs - before.activeMs),
      clientCpuMs: round((clientCpuUsed.user + clientCpuUsed.system) / 1000),
      waitedMs: round(waitedMs),
      sqlStatements: after.sqlStatements === undefined ? undefined : after.sqlStatements - before.sqlStatements!,
      lost: subscribers.lost,
      unexpected,
    };
    // Progress on stderr: a full run takes minutes.
    console.error(`[${this.stack.name}] round ${this.roundNumber} ${status}: ${JSON.stringify(figures)}`);
    return figures;
  }

  /** Out of sync (measured unless warming up), then back in sync: every subscriber must get both. */
  async cycle(measured: boolean): Promise<void> {
    const profile = PROFILE_DIR && measured && this.rounds.length === 0;
    if (profile) await this.server!.probe("/profile/start", "POST");
    const outOfSync = await this.phase("OUT_OF_SYNC");
    if (profile) {
      mkdirSync(PROFILE_DIR, { recursive: true });
      await this.server!.probe(
        `/profile/stop?path=${encodeURIComponent(join(PROFILE_DIR, `${this.stack.name}-delivery.cpuprofile`))}`,
        "POST",
      );
    }
    if (measured) this.rounds.push(outOfSync);
    const restored = await this.phase("IN_SYNC");
    this.roundNumber++;
    this.fewestReceived = Math.min(this.fewestReceived, outOfSync.received, restored.received);
  }

  async figures(): Promise<StackFigures> {
    const server = this.server!;
    const afterEvents = await server.stats(true);
    if (PROFILE_DIR) {
      // Last: after a heap snapshot the process's garbage collections are slower.
      await server.probe(
        `/heap-snapshot?path=${encodeURIComponent(join(PROFILE_DIR, `${this.stack.name}-after-events.heapsnapshot`))}`,
        "POST",
      );
    }
    const { baseline, idle, rounds } = this;
    const added = SUBSCRIBERS - BASELINE_SUBSCRIBERS;
    return {
      subscribers: SUBSCRIBERS,
      "open s": round(this.openSeconds),
      "p50 ms": median(rounds.map((r) => r.p50Ms)),
      "p99 ms": median(rounds.map((r) => r.p99Ms)),
      "max ms": median(rounds.map((r) => r.maxMs)),
      received: Math.min(...rounds.map((r) => r.received)),
      "fewest received of any event": this.fewestReceived,
      "connections lost": this.subscribers!.lost,
      "mutation ms": median(rounds.map((r) => r.mutationMs)),
      "server CPU ms per event": median(rounds.map((r) => r.serverCpuMs)),
      "server busy ms per event": median(rounds.map((r) => r.serverBusyMs)),
      "client CPU ms per event": median(rounds.map((r) => r.clientCpuMs)),
      "SQL statements per event": rounds[0].sqlStatements ?? "-",
      "idle RSS KB per subscriber": round((idle!.rss - baseline!.rss) / added / KB),
      "idle heap KB per subscriber": round((idle!.heapUsed - baseline!.heapUsed) / added / KB),
      "heap KB per subscriber after events": round((afterEvents.heapUsed - baseline!.heapUsed) / added / KB),
      "RSS MB with subscribers": round(idle!.rss / KB / KB),
      rounds: Object.fromEntries(
        rounds.map((r, i) => [
          `${i + 1}`,
          `p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, max ${r.maxMs} ms, received ${r.received}` +
            `${r.wrong ? `, ${r.wrong} wrong` : ""}${r.beforeResponse ? `, ${r.beforeResponse} before the response` : ""}, ` +
            `mutation ${r.mutationMs} ms, server CPU ${r.serverCpuMs} ms, busy ${r.serverBusyMs} ms, client CPU ${r.clientCpuMs} ms` +
            `${r.sqlStatements === undefined ? "" : `, ${r.sqlStatements} SQL statements`}${r.lost ? `, ${r.lost} connections lost` : ""}`,
        ]),
      ),
    };
  }

  async close(): Promise<void> {
    await this.subscribers?.close();
    await this.server?.stop();
  }
}

/** `ulimit -n` applies to each process: this one holds every client socket, the server child every server socket. */
function openFilesLimit(): number {
  const limit = execFileSync("/bin/sh", ["-c", "ulimit -n"], { encoding: "utf8" }).trim();
  return limit === "unlimited" ? Number.POSITIVE_INFINITY : Number(limit);
}

export interface SubscribersBenchFigures {
  machine: Figures;
  ceiling: StackFigures;
  ours: StackFigures;
  ratios: { p99: number; p50: number; serverCpuPerEvent: number; idleRssPerSubscriber: number; idleHeapPerSubscriber: number };
  targets: { within: number; p99: boolean; memory: boolean; everyoneReceived: boolean };
}

export async function runSubscribersBench(): Promise<SubscribersBenchFigures> {
  const limit = openFilesLimit();
  if (limit < SUBSCRIBERS + 1_000) {
    throw new Error(
      `open files limit ${limit} is too low for ${SUBSCRIBERS} connections: raise it (ulimit -n ${SUBSCRIBERS * 2}) and run again`,
    );
  }
  const host = machine();
  // Both servers hold their subscribers at once and the rounds alternate between them, so that
  // whatever else runs on the machine weighs on both alike.
  const runs = [new StackRun(CEILING), new StackRun(OURS)];
  let ceiling: StackFigures;
  let ours: StackFigures;
  try {
    for (const run of runs) await run.open();
    for (let i = 0; i < WARMUP_CYCLES; i++) for (const run of runs) await run.cycle(false);
    for (let i = 0; i < MEASURED_ROUNDS; i++) for (const run of runs) await run.cycle(true);
    [ceiling, ours] = [await runs[0].figures(), await runs[1].figures()];
  } finally {
    for (const run of runs) await run.close();
  }
  const ratio = (a: number, b: number) => round(a / b, 2);
  const ratios = {
    p99: ratio(ours["p99 ms"], ceiling["p99 ms"]),
    p50: ratio(ours["p50 ms"], ceiling["p50 ms"]),
    serverCpuPerEvent: ratio(ours["server CPU ms per event"], ceiling["server CPU ms per event"]),
    idleRssPerSubscriber: ratio(ours["idle RSS KB per subscriber"], ceiling["idle RSS KB per subscriber"]),
    idleHeapPerSubscriber: ratio(ours["idle heap KB per subscriber"], ceiling["idle heap KB per subscriber"]),
  };
  return {
    machine: { ...host, "open files limit": limit, "load average 1 min at end": round(loadavg()[0], 2) },
    ceiling,
    ours,
    ratios,
    targets: {
      within: TARGET_RATIO,
      p99: ratios.p99 <= TARGET_RATIO,
      memory: ratios.idleRssPerSubscriber <= TARGET_RATIO && ratios.idleHeapPerSubscriber <= TARGET_RATIO,
      everyoneReceived: [ours, ceiling].every((f) => f["fewest received of any event"] === SUBSCRIBERS && f["connections lost"] === 0),
    },
  };
}

export function formatSubscribersBench(figures: SubscribersBenchFigures): string {
  const stack = ({ rounds, ...rest }: StackFigures) =>
    `${formatFigures(rest, "    ")}\n${formatFigures(
      Object.fromEntries(Object.entries(rounds).map(([n, text]) => [`round ${n}`, text])),
      "    ",
    )}`;
  const { ratios, targets } = figures;
  const verdict = (ok: boolean) => (ok ? "meets target" : "MISSES TARGET");
  return [
    `Subscribers benchmark: ${SUBSCRIBERS} graphql-ws subscribers (one per connection) on one server process, opened by another;`,
    `latency from the mutation's response to each receipt; median of ${MEASURED_ROUNDS} rounds after ${WARMUP_CYCLES} warm-up cycle`,
    formatFigures(figures.machine),
    "  ceiling (bare graphql-yoga + graphql-ws, in-process pub/sub):",
    stack(figures.ceiling),
    "  ours (save in development → pg_notify → relay → EventHub → graphql execution per subscriber):",
    stack(figures.ours),
    "  ours / ceiling:",
    formatFigures(
      {
        p50: ratios.p50,
        "server CPU per event": ratios.serverCpuPerEvent,
        p99: `${ratios.p99}  (${verdict(targets.p99)} ≤ ${targets.within})`,
        "idle RSS per subscriber": `${ratios.idleRssPerSubscriber}  (${verdict(ratios.idleRssPerSubscriber <= targets.within)} ≤ ${targets.within})`,
        "idle heap per subscriber": `${ratios.idleHeapPerSubscriber}  (${verdict(ratios.idleHeapPerSubscriber <= targets.within)} ≤ ${targets.within})`,
        "every subscriber received": `${verdict(targets.everyoneReceived)}`,
      },
      "    ",
    ),
  ].join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  console.log(formatSubscribersBench(await runSubscribersBench()));
}

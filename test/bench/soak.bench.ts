/**
 * Soak benchmark (issue 7, issue 17): the mix of operations below against one server in a child
 * process (`soak-server.ts`: 20 applications with clients in development and staging and 3
 * journeys each) while 500 graphql-ws subscribers listen to `syncStatusChanged`, on each database —
 * embedded PGlite, and with DATABASE_URL set also a scratch database on that PostgreSQL server
 * (dropped at the end). Target (issue 17): for 60 s at a steady load, the p99 of every operation at
 * most 3× its p99 on a quiet server in the same run; zero errors; every notification delivered
 * exactly once; memory flat.
 *
 * The mix, each operation picked at random with these shares:
 *
 * - 80% the dashboard query of issue 2 (the first 50 applications — all 20 of this seed — with
 *   their clients and their journeys' configuration in staging: production has no clients here);
 * - 15% the diff development → staging of a random application (changes and bundles);
 * - 2.5% a save: `saveJourneyStep` (renames the journey's first step, a new name every time) then
 *   `saveJourney` in development, on a random journey (below); one operation, timed as a whole;
 * - 2.5% a propagation: `promoteNow` development → staging of a random application;
 *   `NOTHING_TO_PROPAGATE` is an expected answer.
 *
 * One run, one server per database, the subscribers connected throughout, in this order:
 *
 * 1. warm-up (`SOAK_WARMUP_SECONDS`, default 5): the closed loop of phase 2, so that compiled
 *    queries and caches are filled before anything is timed;
 * 2. capacity (`SOAK_CAPACITY_SECONDS`, default 10): `SOAK_CLIENTS` (50) clients, each running one
 *    operation after the other (closed loop) — the server at saturation: its throughput;
 * 3. quiet: one client runs the mix one operation after the other (nothing else in flight, the
 *    subscribers idle but for the notifications of its own writes) until it has at least
 *    `SOAK_QUIET_READS` (200) dashboards and diffs and `SOAK_QUIET_WRITES` (40) saves and
 *    propagations — 1,600 operations or so (the mix's picks are random). In the mix's proportions, not kind after kind: every
 *    write drops the response cache (it is per organization revision), so the quiet reads must
 *    meet writes as often as the soak's do, or their p99 would be of another cache hit rate. After
 *    the capacity phase, so that the memory reading at the soak's start, like the one at its end,
 *    follows a quiet phase rather than saturation;
 * 4. soak (`SOAK_SECONDS`, default 60): open loop at `SOAK_LOAD` (default 0.5) × that throughput
 *    (or at a fixed `SOAK_RATE` ops/s) —
 *    arrivals on a fixed schedule (`SOAK_ARRIVALS=poisson`: exponential gaps of the same mean),
 *    each sent when due whatever the earlier ones are doing, at most `SOAK_CLIENTS` under way (an
 *    arrival due while they are all under way waits for one to return). Latency is counted from
 *    when each operation was due, not from when it went out, so that a stall is charged to every
 *    operation it held back (no coordinated omission); arrivals still due when the time is up are
 *    counted as unsent, with what they had waited as their latency. Before it, right after the
 *    memory reading at its start (full collections, below), `SOAK_LEAD_IN_SECONDS` (5) of the same
 *    open loop, untimed: a server in service never runs full collections, and the seconds after
 *    them (the heap growing back) are not the load's doing; its errors count. (The soak's own
 *    schedule, seed 7, has its densest second of writes — 13, against 4.7–6.1 on average — in its
 *    first 4 s: that burst, not the collections, is where most of its slowest saves were due in the
 *    runs of 2026-12-06, with the lead-in too; docs/performance.md);
 * 5. quiet again, as phase 3 (after the soak's notifications have been delivered).
 *
 * Each phase starts once the subscribers have received every notification of the phases before.
 *
 * Why the soak runs at a fraction of the capacity, not at saturation (as before issue 17): in a
 * closed loop at full speed every client waits in the server's queue, so a request's latency is
 * mostly that wait — clients ÷ throughput on average (50 clients at 130 ops/s: 0.4 s; the
 * dashboard's p99 was ~900 ms) — whatever the request itself costs the server: the p99 measures
 * the number of clients, not the server. At a fraction of the capacity measured just before, on
 * the same server, a queue forms only from bursts and slow operations, so the ratio to the quiet
 * p99 shows what the load does to each request. The
 * ratios' basis is the lower p99 of the two quiet phases (a quiet phase slowed by the machine's
 * other load must not make the target easy); when the two differ much, that load moved the figures.
 *
 * Journeys: by default (`SOAK_JOURNEYS=own`) no two saves under way edit one journey — in the
 * closed loops each client edits only journeys of its own (journey i belongs to client i mod 50),
 * in the open loop a save takes a journey no save under way is editing — so `DRAFT_CONFLICT`
 * counts as an error. With `SOAK_JOURNEYS=shared` any save edits any journey, and `DRAFT_CONFLICT`
 * from two saves racing on one draft is counted apart, as expected.
 *
 * Errors (target: zero in the quiet phases and the soak, and nothing logged by the server at warn
 * level or above): HTTP status other than 200, failed requests, GraphQL errors, typed errors other
 * than the expected ones, responses of the wrong shape. Those of the warm-up and capacity phases
 * are counted and shown, not held against the target: at saturation an operation may wait in the
 * queue past the server's time budget (`OPERATION_TIMEOUT`), as designed.
 *
 * Subscribers: one graphql-ws client (one connection) each, in a process of their own
 * (soak-subscribers.ts: receiving thousands of notifications a second, they held the timing
 * client's event loop); a third listen to the whole
 * organization, a third to staging, a third to one application. At the end every notification
 * committed since they subscribed is read back through `syncNotifications`, and each subscriber
 * must have received exactly those its filter matches, each once. Server memory after full collections (the child runs with `--expose-gc`): once the
 * subscribers are connected, at the start of the soak (after warm-up, capacity and quiet: compiled
 * queries and caches full) and at the end (after quiet again); the target is flat: RSS and heap at
 * the end at most 10% above the start (memory given back, a fall, is no leak).
 *
 * The bench's own process sends the traffic and does nothing else: its CPU use, the subscribers'
 * process's, and how late the open loop sent its arrivals, are in the figures.
 *
 * Sizes: `SOAK_CLIENTS` (50), `SOAK_SUBSCRIBERS` (500), `SOAK_APPLICATIONS` (20, read by the
 * server). `SOAK_TARGET=embedded` or `postgres` runs on that database only.
 *
 *   npm run bench -- soak
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench -- soak
 *     (also on a scratch database of that PostgreSQL server, dropped at the end)
 *   SOAK_SECONDS=20 npm run bench -- soak.bench
 *   SOAK_HEAP_SNAPSHOTS=/tmp/soak npm run bench -- soak.bench
 *     (also writes the server's heap snapshots at the soak's start and end into that folder, for a
 *     comparison in Chrome DevTools' Memory tab)
 *   SOAK_TIMELINE_GC=1 SOAK_SECONDS=300 npm run bench -- soak.bench
 *     (every timeline reading after full collections: the heap's slope, with a pause every 5 s)
 *   SOAK_PROFILE=/tmp/soak.cpuprofile npm run bench -- soak.bench
 *     (also writes the server's CPU profile of the soak phase: Chrome DevTools or speedscope; on
 *     both databases, one file each, the database's name before the extension)
 *
 * A profiled run's figures are not the targets': the profiler about doubles the server's CPU time
 * per operation, so a soak offered half the unprofiled capacity saturates the server. Nor is the
 * RSS of a run with heap snapshots: writing one leaves the process's resident memory larger.
 */
import { mkdirSync } from "node:fs";
import { Agent, request } from "node:http";
import { loadavg } from "node:os";
import { extname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { DASHBOARD, PAGE_SIZE } from "./dashboard-data.js";
import { commit, type Figures, formatFigures, machine, round } from "./figures.js";
import { benchTargets, type DatabaseTarget, percentile } from "./large-application.js";
import type { ProcessStats } from "./process-probe.js";
import { startServerProcess } from "./server-process.js";
import type { DatabaseWaits, SoakCounters, SoakServerInfo } from "./soak-server.js";
import { type SubscribersProcess, startSubscribers } from "./soak-subscribers.js";

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const WARMUP_SECONDS = Number(process.env.SOAK_WARMUP_SECONDS ?? 5);
/** Untimed open loop at the soak's rate between the start's memory reading (full collections) and the soak. */
const LEAD_IN_SECONDS = Number(process.env.SOAK_LEAD_IN_SECONDS ?? 5);
/** `SOAK_SLOW=150`: also list the soak's operations slower than that many ms, with when each was due. */
const SLOW_MS = process.env.SOAK_SLOW ? Number(process.env.SOAK_SLOW) : undefined;
const CAPACITY_SECONDS = Number(process.env.SOAK_CAPACITY_SECONDS ?? 10);
/** The soak's offered rate, as a share of the throughput measured at saturation. */
const LOAD = Number(process.env.SOAK_LOAD ?? 0.5);
/**
 * A fixed offered rate, ops/s, instead (`SOAK_RATE=60`): the share of a capacity that every cache
 * raises moves the load with it, so that two versions of the server compare at one load only so.
 */
const RATE = process.env.SOAK_RATE ? Number(process.env.SOAK_RATE) : undefined;
const ARRIVALS: "uniform" | "poisson" = process.env.SOAK_ARRIVALS === "poisson" ? "poisson" : "uniform";
/** Quiet samples, at least, of each read (dashboard, diff) and of each write (save, propagation). */
const QUIET_READS = Number(process.env.SOAK_QUIET_READS ?? 200);
const QUIET_WRITES = Number(process.env.SOAK_QUIET_WRITES ?? 40);
const CLIENTS = Number(process.env.SOAK_CLIENTS ?? 50);
/** Operations of the open loop under way at once, at most: as many as the closed loop's clients. */
const MAX_IN_FLIGHT = CLIENTS;
const SUBSCRIBERS = Number(process.env.SOAK_SUBSCRIBERS ?? 500);
const JOURNEY_MODE: "own" | "shared" = process.env.SOAK_JOURNEYS === "shared" ? "shared" : "own";
const HEAP_SNAPSHOTS = process.env.SOAK_HEAP_SNAPSHOTS || undefined;
const PROFILE = process.env.SOAK_PROFILE || undefined;
/** Timeline readings after full collections: shows whether the heap grows, at the cost of a pause every reading. */
const TIMELINE_GC = process.env.SOAK_TIMELINE_GC === "1";
/** The random choices of the clients are reproducible from this seed. */
const SEED = Number(process.env.SOAK_SEED ?? 7);
/** Share of the operations per kind; cumulative thresholds in `pick`. */
const MIX = { dashboard: 0.8, diff: 0.15, save: 0.025, propagate: 0.025 } as const;
/** The issue's target: soak p99 at most this many times the quiet p99, for every kind. */
const TARGET_RATIO = 3;
/** Memory may end this much above the start and still count as flat (below it, whatever: memory given back). */
const FLAT_TOLERANCE = 0.1;
/** How often the server is read during the soak, for the timeline. */
const SAMPLE_EVERY_MS = 5_000;
const OPEN_CONCURRENCY = 50;
const REGISTRATION_TIMEOUT_MS = 60_000;
const DRAIN_TIMEOUT_MS = 60_000;
const ERROR_SAMPLES = 5;

type Kind = keyof typeof MIX;
const KINDS = Object.keys(MIX) as Kind[];

const DIFF = `query Diff($a: ID!, $from: ID!, $to: ID!) {
  diff(applicationId: $a, fromEnvironmentId: $from, toEnvironmentId: $to) {
    status message
    changes { id path kind summary oldValue newValue requires bundleId journey { key } stepKey }
    bundles { id label changeIds }
  }
}`;

const SAVE_STEP = `mutation SaveStep($input: SaveJourneyStepInput!) {
  saveJourneyStep(input: $input) { __typename ... on SaveJourneyStepSuccess { draft { revision } } ... on Error { code message } }
}`;

const SAVE = `mutation Save($input: SaveJourneyInput!) {
  saveJourney(input: $input) { __typename ... on SaveJourneySuccess { version { version } } ... on Error { code message } }
}`;

const PROMOTE_NOW = `mutation PromoteNow($input: PromoteNowInput!) {
  promoteNow(input: $input) { __typename ... on PromoteNowSuccess { propagation { id items { id } } } ... on Error { code message } }
}`;

const SUBSCRIPTION = `subscription Sync($env: ID, $app: ID) {
  syncStatusChanged(environmentId: $env, applicationId: $app) {
    id cursor status message changeCount occurredAt
    application { id name } journey { key } environment { id key } sourceEnvironment { key }
  }
}`;

const NOTIFICATIONS = `query Notifications($after: String) {
  syncNotifications(after: $after, first: 100) {
    edges { cursor node { application { id } environment { id } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** Typed answers that are not errors: the expected outcome of a race or of a target already in sync. */
const EXPECTED_CODES: Record<"save" | "propagate", readonly string[]> = {
  save: JOURNEY_MODE === "shared" ? ["DRAFT_CONFLICT"] : [],
  propagate: ["NOTHING_TO_PROPAGATE"],
};

type ErrorCategory = "http" | "network" | "graphql" | "typed" | "invalid";
const ERROR_CATEGORIES: ErrorCategory[] = ["http", "network", "graphql", "typed", "invalid"];

/** An operation's failure: counted under its category, the first few kept as samples. */
class OperationError extends Error {
  constructor(
    readonly category: ErrorCategory,
    message: string,
  ) {
    super(message);
  }
}

/** Deterministic random numbers (mulberry32), one stream per client. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// The server child process

function startServer(target: DatabaseTarget) {
  return startServerProcess<SoakServerInfo, ProcessStats & SoakCounters>("soak-server.ts", {
    label: `server ${target}`,
    startTimeoutMs: 300_000,
    env: { SOAK_BENCH_TARGET: target },
  });
}

/** The databases to run on: `SOAK_TARGET` if set, otherwise embedded and, with DATABASE_URL set, PostgreSQL. */
function targets(): DatabaseTarget[] {
  const only = process.env.SOAK_TARGET;
  if (!only) return benchTargets();
  if (only !== "embedded" && only !== "postgres") throw new Error(`SOAK_TARGET=${only}: embedded or postgres`);
  if (only === "postgres" && !process.env.DATABASE_URL) throw new Error("SOAK_TARGET=postgres needs DATABASE_URL");
  return [only];
}

type Server = Awaited<ReturnType<typeof startServer>>;
type Stats = ProcessStats & SoakCounters;

// ---------------------------------------------------------------------------------------------
// Subscribers

async function waitForRegistrations(server: Server, count: number): Promise<void> {
  const deadline = Date.now() + REGISTRATION_TIMEOUT_MS;
  for (;;) {
    const { subscribers } = await server.stats();
    if (subscribers === count) return;
    if (Date.now() > deadline) throw new Error(`the server registered ${subscribers} of ${count} subscriptions`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---------------------------------------------------------------------------------------------
// Traffic

interface GraphQLBody {
  data?: Record<string, any>;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/**
 * The timing client's connections: node:http over kept-alive sockets rather than `fetch`, whose
 * WHATWG streams cost this process about three times the CPU per request (measured: docs/performance.md,
 * seventeenth session) — CPU taken from the server and the database on a machine of two cores, and a
 * later send of each arrival, which counts in its latency.
 */
const agent = new Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT + 10 });

/** One POST's status and body; a failed request rejects. */
function send(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", agent, headers: { ...headers, "content-length": String(Buffer.byteLength(body)) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** One POST; an HTTP status other than 200, a failed request or GraphQL errors are operation errors. */
async function post(
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown>,
  /** Labels the request for the server's own timing of it (soak-server.ts). */
  kind?: string,
): Promise<Record<string, any>> {
  let status: number;
  let text: string;
  try {
    ({ status, text } = await send(
      url,
      {
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
        authorization: `Bearer ${token}`,
        ...(kind ? { "x-soak-kind": kind } : {}),
      },
      JSON.stringify({ query, variables }),
    ));
  } catch (error) {
    throw new OperationError("network", String((error as Error).cause ?? error));
  }
  if (status !== 200) throw new OperationError("http", `HTTP ${status}: ${text.slice(0, 300)}`);
  const body = JSON.parse(text) as GraphQLBody;
  if (body.errors?.length) throw new OperationError("graphql", JSON.stringify(body.errors).slice(0, 300));
  if (!body.data) throw new OperationError("invalid", `no data: ${text.slice(0, 300)}`);
  return body.data;
}

/** A mutation result union: its Success branch, or the code of an expected typed error; anything else is an error. */
function outcome(result: { __typename: string; code?: string; message?: string }, expected: readonly string[]): string {
  if (result.__typename.endsWith("Success")) return "success";
  if (result.code && expected.includes(result.code)) return result.code;
  throw new OperationError("typed", `${result.__typename} ${result.code}: ${result.message}`);
}

/** What the clients did in one phase. */
class Recorder {
  readonly latencies = Object.fromEntries(KINDS.map((k) => [k, [] as number[]])) as Record<Kind, number[]>;
  /** Completed operations by kind and outcome (`success` or an expected code); errors apart. */
  readonly outcomes = Object.fromEntries(KINDS.map((k) => [k, {} as Record<string, number>])) as Record<Kind, Record<string, number>>;
  readonly errors = Object.fromEntries(ERROR_CATEGORIES.map((c) => [c, 0])) as Record<ErrorCategory, number>;
  readonly errorsByKind = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
  readonly errorSamples: string[] = [];
  /** When each operation returned (performance.now()) and how long it took: the timeline. */
  readonly completions: { at: number; ms: number; kind: Kind }[] = [];
  /** Open loop: arrivals due but never sent (every slot held until the end); their wait is among the latencies. */
  unsent = 0;
  /** The phase's length, s (set by the phase). */
  seconds = 0;

  constructor(readonly phase: string) {}

  record(kind: Kind, ms: number, result: string | OperationError): void {
    this.latencies[kind].push(ms);
    this.completions.push({ at: performance.now(), ms, kind });
    if (typeof result === "string") {
      this.outcomes[kind][result] = (this.outcomes[kind][result] ?? 0) + 1;
      return;
    }
    this.errors[result.category]++;
    this.errorsByKind[kind]++;
    if (this.errorSamples.length < ERROR_SAMPLES) this.errorSamples.push(`${this.phase} ${kind} ${result.category}: ${result.message}`);
  }

  recordUnsent(kind: Kind, ms: number): void {
    this.latencies[kind].push(ms);
    this.unsent++;
  }

  /** Operations of the kind that returned, answered or failed (unsent arrivals are not among them). */
  completed(kind: Kind): number {
    return Object.values(this.outcomes[kind]).reduce((sum, n) => sum + n, 0) + this.errorsByKind[kind];
  }

  get operations(): number {
    return KINDS.reduce((sum, kind) => sum + this.completed(kind), 0);
  }

  get errorCount(): number {
    return ERROR_CATEGORIES.reduce((sum, category) => sum + this.errors[category], 0);
  }

  p99(kind: Kind): number {
    return percentile(this.latencies[kind], 0.99);
  }

  /** Per kind: samples, p50, p99, max. */
  latencyFigures(): Figures {
    const figures: Figures = {};
    for (const kind of KINDS) {
      const values = this.latencies[kind];
      figures[`${kind} samples`] = values.length;
      figures[`${kind} p50 ms`] = round(percentile(values, 0.5));
      figures[`${kind} p99 ms`] = round(percentile(values, 0.99));
      figures[`${kind} max ms`] = round(maximum(values));
    }
    return figures;
  }

  throughputFigures(): Figures {
    const figures: Figures = { "all ops/s": round(this.operations / this.seconds) };
    for (const kind of KINDS) figures[`${kind} ops/s`] = round(this.completed(kind) / this.seconds);
    return figures;
  }

  outcomeFigures(): Figures {
    const figures: Figures = {};
    for (const kind of KINDS) for (const [result, count] of Object.entries(this.outcomes[kind])) figures[`${kind} ${result}`] = count;
    return figures;
  }
}

interface JourneyRef {
  id: string;
  step: SoakServerInfo["applications"][number]["journeys"][number]["step"];
}

/**
 * Journeys for saves to take. Exclusive (the open loop with `SOAK_JOURNEYS=own`): a journey taken
 * is not taken again until released, so no two saves under way edit one draft.
 */
class JourneyPool {
  private readonly busy = new Set<JourneyRef>();

  constructor(
    private readonly journeys: JourneyRef[],
    private readonly exclusive: boolean,
  ) {}

  take(next: () => number): JourneyRef {
    const free = this.exclusive ? this.journeys.filter((j) => !this.busy.has(j)) : this.journeys;
    // Every journey busy (more saves under way than journeys): any, and a DRAFT_CONFLICT counts as an error.
    const from = free.length > 0 ? free : this.journeys;
    const journey = from[Math.floor(next() * from.length)];
    if (this.exclusive) this.busy.add(journey);
    return journey;
  }

  release(journey: JourneyRef): void {
    this.busy.delete(journey);
  }
}

/** How the open loop kept its schedule. */
interface Pacing {
  offeredPerSecond: number;
  /** From when each arrival was due to when it went out, ms: the bench's own lateness and the in-flight bound. */
  sendLags: number[];
  /** Arrivals that found `MAX_IN_FLIGHT` operations under way and waited for one to return. */
  waitedForSlot: number;
  maxInFlight: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The traffic of every phase: closed loops of `CLIENTS` clients, one quiet client, the open loop. */
class Traffic {
  private readonly journeys: JourneyRef[];
  private renames = 0;

  constructor(private readonly info: SoakServerInfo) {
    this.journeys = info.applications.flatMap((a) => a.journeys.map(({ id, step }) => ({ id, step })));
    if (JOURNEY_MODE === "own" && this.journeys.length < CLIENTS) {
      throw new Error(`${this.journeys.length} journeys for ${CLIENTS} clients: with SOAK_JOURNEYS=own every client needs one of its own`);
    }
  }

  /** Closed loop: `CLIENTS` clients, each running one operation after the other until `seconds` have passed. */
  async run(seconds: number, recorder: Recorder, seedOffset: number): Promise<void> {
    const began = performance.now();
    const deadline = began + seconds * 1000;
    const shared = new JourneyPool(this.journeys, false);
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        const next = random(SEED * 1_000 + seedOffset * 100 + client);
        const pool =
          JOURNEY_MODE === "shared"
            ? shared
            : new JourneyPool(
                this.journeys.filter((_, index) => index % CLIENTS === client),
                false,
              );
        while (performance.now() < deadline) {
          const kind = this.pick(next());
          await this.timed(kind, next, pool, recorder, performance.now());
        }
      }),
    );
    recorder.seconds = (performance.now() - began) / 1000;
  }

  /**
   * Quiet: one client, one operation after the other, in the mix's proportions, until it has
   * `QUIET_READS` samples of each read and `QUIET_WRITES` of each write.
   */
  async quiet(recorder: Recorder, seedOffset: number): Promise<void> {
    const began = performance.now();
    const next = random(SEED * 1_000 + seedOffset * 100);
    const pool = new JourneyPool(this.journeys, false);
    const wanted = (kind: Kind) => (kind === "dashboard" || kind === "diff" ? QUIET_READS : QUIET_WRITES);
    while (KINDS.some((kind) => recorder.latencies[kind].length < wanted(kind))) {
      const kind = this.pick(next());
      await this.timed(kind, next, pool, recorder, performance.now());
    }
    recorder.seconds = (performance.now() - began) / 1000;
  }

  /**
   * Open loop: arrivals at `perSecond` for `seconds`, each sent when due whatever the earlier ones
   * are doing, at most `MAX_IN_FLIGHT` under way; latency from when each was due.
   */
  async open(seconds: number, perSecond: number, recorder: Recorder, seedOffset: number): Promise<Pacing> {
    const next = random(SEED * 1_000 + seedOffset * 100);
    const gaps = random(SEED * 1_000 + seedOffset * 100 + 99);
    const interval = 1000 / perSecond;
    const gap = () => (ARRIVALS === "poisson" ? -Math.log(1 - gaps()) * interval : interval);
    const pool = new JourneyPool(this.journeys, JOURNEY_MODE === "own");
    const pacing: Pacing = { offeredPerSecond: perSecond, sendLags: [], waitedForSlot: 0, maxInFlight: 0 };
    const inFlight = new Set<Promise<void>>();
    const began = performance.now();
    const until = began + seconds * 1000;
    let due = began;
    while (due < until) {
      const now = performance.now();
      if (now < due) await sleep(due - now);
      if (inFlight.size >= MAX_IN_FLIGHT) {
        pacing.waitedForSlot++;
        while (inFlight.size >= MAX_IN_FLIGHT && performance.now() < until) {
          await Promise.race([...inFlight, sleep(until - performance.now())]);
        }
        // Every slot held until the end: this arrival and those due after it are never sent.
        if (inFlight.size >= MAX_IN_FLIGHT) break;
      }
      const scheduled = due;
      due += gap();
      const kind = this.pick(next());
      pacing.sendLags.push(performance.now() - scheduled);
      const tracked: Promise<void> = this.timed(kind, next, pool, recorder, scheduled).finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      pacing.maxInFlight = Math.max(pacing.maxInFlight, inFlight.size);
    }
    // Due but never sent: every slot was held until the end.
    const end = performance.now();
    for (; due < until; due += gap()) recorder.recordUnsent(this.pick(next()), end - due);
    await Promise.all(inFlight);
    recorder.seconds = (performance.now() - began) / 1000;
    return pacing;
  }

  /** One operation, recorded with its latency from `from` (when it was sent, or when it was due). */
  private async timed(kind: Kind, next: () => number, pool: JourneyPool, recorder: Recorder, from: number): Promise<void> {
    let result: string | OperationError;
    try {
      result = await this.operation(kind, next, pool);
    } catch (error) {
      result = error instanceof OperationError ? error : new OperationError("invalid", String(error));
    }
    recorder.record(kind, performance.now() - from, result);
  }

  private pick(r: number): Kind {
    let threshold = 0;
    for (const kind of KINDS) {
      threshold += MIX[kind];
      if (r < threshold) return kind;
    }
    return KINDS[KINDS.length - 1];
  }

  /** Draws its random choices before its first await: concurrent operations share one stream. */
  private operation(kind: Kind, next: () => number, pool: JourneyPool): Promise<string> {
    const { url, viewerToken, promoterToken, environments, applications } = this.info;
    const application = () => applications[Math.floor(next() * applications.length)];
    switch (kind) {
      case "dashboard":
        return this.dashboard();
      case "diff":
        return post(url, viewerToken, DIFF, { a: application().id, from: environments.development, to: environments.staging }, "diff").then(
          (data) => {
            if (!["IN_SYNC", "OUT_OF_SYNC"].includes(data.diff?.status))
              throw new OperationError("invalid", `diff: ${JSON.stringify(data).slice(0, 300)}`);
            return "success";
          },
        );
      case "save": {
        const journey = pool.take(next);
        return this.save(journey).finally(() => pool.release(journey));
      }
      case "propagate": {
        const input = {
          applicationId: application().id,
          fromEnvironmentId: environments.development,
          toEnvironmentId: environments.staging,
        };
        return post(url, promoterToken, PROMOTE_NOW, { input }, "propagate").then((data) =>
          outcome(data.promoteNow, EXPECTED_CODES.propagate),
        );
      }
    }
  }

  /** The first page of applications, each with its two clients and three journeys configured in staging. */
  private async dashboard(): Promise<string> {
    const { url, viewerToken, environments, applications } = this.info;
    const data = await post(url, viewerToken, DASHBOARD, { env: environments.staging }, "dashboard");
    const edges = (data.applications?.edges ?? []) as {
      node: { name: string; clients: unknown[]; journeys: { configuration: { hash: string } | null }[] };
    }[];
    const wrong =
      edges.length !== Math.min(PAGE_SIZE, applications.length)
        ? `${edges.length} applications`
        : edges.find(
            ({ node }) => node.clients.length !== 2 || node.journeys.length !== 3 || node.journeys.some((j) => !j.configuration?.hash),
          )?.node.name;
    if (wrong) throw new OperationError("invalid", `dashboard: ${wrong}`);
    return "success";
  }

  /** Save changes on a step (a new name every time, so the draft always differs), then save in development. */
  private async save(journey: JourneyRef): Promise<string> {
    const { url, promoterToken, environments } = this.info;
    const ids = { journeyId: journey.id, environmentId: environments.development };
    const step = { ...journey.step, name: `${journey.step.name} #${++this.renames}` };
    const stepResult = (await post(url, promoterToken, SAVE_STEP, { input: { ...ids, step } }, "saveJourneyStep")).saveJourneyStep;
    const stepOutcome = outcome(stepResult, EXPECTED_CODES.save);
    if (stepOutcome !== "success") return stepOutcome;
    const input = { ...ids, draftRevision: stepResult.draft.revision, comment: "soak" };
    return outcome((await post(url, promoterToken, SAVE, { input }, "saveJourney")).saveJourney, EXPECTED_CODES.save);
  }
}

// ---------------------------------------------------------------------------------------------
// Notifications committed, read back

/** Every notification after `after`, oldest first, with what the subscribers filter on. */
async function notificationsAfter(info: SoakServerInfo, after: string | undefined) {
  const list: { cursor: string; app: string; env: string }[] = [];
  let cursor = after;
  for (;;) {
    const page = (await post(info.url, info.viewerToken, NOTIFICATIONS, { after: cursor })).syncNotifications;
    for (const edge of page.edges as { cursor: string; node: { application: { id: string }; environment: { id: string } } }[]) {
      list.push({ cursor: edge.cursor, app: edge.node.application.id, env: edge.node.environment.id });
    }
    cursor = page.pageInfo.endCursor ?? cursor;
    if (!page.pageInfo.hasNextPage) return { list, last: cursor };
  }
}

// ---------------------------------------------------------------------------------------------
// The run

const MB = 1024 * 1024;

interface MemoryReading {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

function memoryFigures(stats: MemoryReading): Figures {
  return {
    "rss MB": round(stats.rss / MB),
    "heapUsed MB": round(stats.heapUsed / MB),
    "external MB": round(stats.external / MB),
    "arrayBuffers MB": round(stats.arrayBuffers / MB),
  };
}

/** The largest value (0 for none); Math.max(...values) overflows the stack on long runs. */
const maximum = (values: readonly number[]) => values.reduce((max, value) => Math.max(max, value), 0);

const change = (from: number, to: number) => round(((to - from) / from) * 100);

/**
 * One entry per server reading of the soak, by seconds into it: operations that returned
 * since the previous reading, the slowest of them, the server's memory and its longest event loop
 * delay since the previous reading.
 */
function timeline(
  recorder: Recorder,
  began: number,
  readings: { at: number; stats?: ProcessStats & SoakCounters; error?: string }[],
): Figures {
  let from = began;
  const entries = readings
    .sort((a, b) => a.at - b.at)
    .map(({ at, stats, error }) => {
      const done = recorder.completions.filter((c) => c.at > from && c.at <= at);
      const text =
        `${String(done.length).padStart(4)} ops, slowest ${String(Math.round(maximum(done.map((c) => c.ms)))).padStart(6)} ms; ` +
        (stats
          ? `server rss ${round(stats.rss / MB)} MB, heapUsed ${round(stats.heapUsed / MB)} MB, event loop delay max ${Math.round(stats.loopDelayMaxMs)} ms`
          : `server reading failed: ${error}`);
      from = at;
      return [`${((at - began) / 1000).toFixed(1)} s`, text] as const;
    });
  return Object.fromEntries(entries);
}

/** The longest time in the soak during which no operation returned, ms. */
function longestGap(recorder: Recorder, began: number): number {
  const times = [began, ...recorder.completions.map((c) => c.at).sort((a, b) => a - b)];
  return maximum(times.slice(1).map((t, i) => t - times[i]));
}

/** One database's figures. */
export interface SoakTargetFigures {
  database: string;
  setup: Figures;
  quiet: Figures;
  quietAgain: Figures;
  capacity: Figures;
  soak: { throughput: Figures; latency: Figures; pacing: Figures; outcomes: Figures };
  /** Per kind: the quiet basis, the soak's p99 and their ratio. */
  ratios: Figures;
  errors: Figures;
  notifications: Figures;
  /** The server process during the soak. */
  server: Figures;
  memory: { connected: Figures; start: Figures; end: Figures; change: Figures; timeline: Figures };
  targets: { "p99 ratio": boolean; "zero errors": boolean; "every notification delivered": boolean; "memory flat": boolean };
  /** The kinds whose soak p99 is more than `TARGET_RATIO` × their quiet p99. */
  missedRatios: string[];
  samples: { errors: string[]; subscribers: string[]; serverLog: string[] };
  /** The SQL statements the server ran most in the soak (deliveries to subscribers included). */
  statements: Figures;
}

export interface SoakBenchFigures {
  machine: Figures;
  settings: Figures;
  databases: Partial<Record<DatabaseTarget, SoakTargetFigures>>;
  /** Per database and target: met, or MISSED. */
  targets: Record<string, string>;
}

/** The `count` statement shapes run most between two readings. */
function topStatements(before: Record<string, number>, after: Record<string, number>, count: number): Figures {
  return Object.fromEntries(
    Object.entries(after)
      .map(([shape, n]) => [shape, n - (before[shape] ?? 0)] as const)
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1])
      .slice(0, count),
  );
}

/**
 * Every notification committed since `since`, then a wait (`DRAIN_TIMEOUT_MS` at most) until the
 * subscribers have received as many as their filters match: each phase starts with nothing left
 * to deliver.
 */
async function settle(info: SoakServerInfo, subscribers: SubscribersProcess, since: string | undefined) {
  const { list } = await notificationsAfter(info, since);
  const expectedTotal = await subscribers.expectedTotal(list);
  const started = performance.now();
  while ((await subscribers.status()).total < expectedTotal && performance.now() - started < DRAIN_TIMEOUT_MS) {
    await new Promise((r) => setTimeout(r, 100));
  }
  return { list, expectedTotal, drainMs: performance.now() - started };
}

/** The server's CPU, event loop and SQL statements between two readings, per second and per operation. */
function serverUse(before: Stats, after: Stats, seconds: number, operations: number): Figures {
  const cpuMs = after.cpuMs - before.cpuMs;
  return {
    "CPU % of one core": round((cpuMs / (seconds * 1000)) * 100),
    "event loop busy %": round(((after.activeMs - before.activeMs) / (seconds * 1000)) * 100),
    "CPU ms per op": round(cpuMs / operations, 2),
    "SQL statements per op": round(((after.sqlStatements ?? 0) - (before.sqlStatements ?? 0)) / operations, 1),
    "operations that waited for admission": after.admission.waited - before.admission.waited,
    "samples overloaded (admission)": after.admission.overloadedSamples - before.admission.overloadedSamples,
    ...databaseWaits(before.waits, after.waits),
  };
}

/**
 * Each request's time in the server during the soak (from the soak's readings, the last one at its
 * end: each brings what came since the one before), p50 and p99 by request: set against the soak's latencies, what of them is the server's
 * and what is waiting outside it (the client's event loop, the machine's other processes).
 */
function serverTimes(readings: { stats?: Stats }[]): Figures {
  const byKind: Record<string, number[]> = {};
  for (const { stats } of readings) {
    for (const [kind, times] of Object.entries(stats?.serverMs ?? {})) (byKind[kind] ??= []).push(...times);
  }
  const figures: Figures = {};
  for (const [kind, times] of Object.entries(byKind).sort()) {
    figures[`${kind} in the server p50 ms`] = round(percentile(times, 0.5), 2);
    figures[`${kind} in the server p99 ms`] = round(percentile(times, 0.99), 2);
  }
  return figures;
}

/**
 * PostgreSQL's sessions between two readings (sampled every 20 ms by the server): how many ran a
 * statement and how many waited for a lock, on average, and the share of samples with a lock wait.
 */
function databaseWaits(before: DatabaseWaits | undefined, after: DatabaseWaits | undefined): Figures {
  if (!before || !after || after.samples === before.samples) return {};
  const samples = after.samples - before.samples;
  const lockedBy = Object.entries(after.lockedBy)
    .map(([event, count]) => [event, count - (before.lockedBy[event] ?? 0)] as const)
    .filter(([, count]) => count > 0)
    .map(([event, count]) => `${event} ${round(count / samples, 3)}`)
    .join(", ");
  return {
    "PostgreSQL sessions running a statement, mean": round((after.active - before.active) / samples, 2),
    "PostgreSQL sessions waiting for a lock, mean": round((after.locked - before.locked) / samples, 3),
    "PostgreSQL samples with a lock wait %": round(((after.anyLocked - before.anyLocked) / samples) * 100, 1),
    "PostgreSQL lock waits by event, mean sessions": lockedBy || "none",
  };
}

const clientCpuPercent = (used: NodeJS.CpuUsage, seconds: number) => round(((used.user + used.system) / 1000 / (seconds * 1000)) * 100);

/** `/tmp/soak.cpuprofile` → `/tmp/soak.postgres.cpuprofile` when the bench runs on more than one database. */
function profilePath(path: string, target: DatabaseTarget, several: boolean): string {
  if (!several) return path;
  const extension = extname(path);
  return `${path.slice(0, path.length - extension.length)}.${target}${extension}`;
}

/** One database: its server, the five phases, the checks. */
async function runTarget(target: DatabaseTarget, several: boolean): Promise<SoakTargetFigures> {
  const log = (text: string) => console.error(`[soak] ${target}: ${text}`);
  const server = await startServer(target);
  const subscribers = startSubscribers();
  try {
    const { info } = server;
    const opening = performance.now();
    await subscribers.open({
      wsUrl: info.wsUrl,
      token: info.viewerToken,
      count: SUBSCRIBERS,
      concurrency: OPEN_CONCURRENCY,
      query: SUBSCRIPTION,
      staging: info.environments.staging,
      applications: info.applications.map((application) => application.id),
      errorSamples: ERROR_SAMPLES,
    });
    await waitForRegistrations(server, SUBSCRIBERS);
    const openSeconds = (performance.now() - opening) / 1000;
    // Subscribers get live events only: what is committed from here on.
    const { last: since } = await notificationsAfter(info, undefined);
    const connected = await server.stats(true);
    const traffic = new Traffic(info);

    log(`${SUBSCRIBERS} subscribers connected; warm-up ${WARMUP_SECONDS} s`);
    const warmup = new Recorder("warm-up");
    if (WARMUP_SECONDS > 0) await traffic.run(WARMUP_SECONDS, warmup, 0);
    await settle(info, subscribers, since);

    log(`capacity: ${CLIENTS} clients, closed loop, ${CAPACITY_SECONDS} s`);
    const capacity = new Recorder("capacity");
    const capacityBefore = await server.stats();
    const capacityCpu = process.cpuUsage();
    await traffic.run(CAPACITY_SECONDS, capacity, 2);
    const capacityClientCpu = process.cpuUsage(capacityCpu);
    const capacityAfter = await server.stats();
    const capacityPerSecond = capacity.operations / capacity.seconds;
    if (!(capacityPerSecond > 0)) throw new Error("the capacity phase completed no operation");
    await settle(info, subscribers, since);

    log("quiet");
    const quiet = new Recorder("quiet");
    await traffic.quiet(quiet, 1);
    await settle(info, subscribers, since);

    const start = await server.stats(true);
    if (HEAP_SNAPSHOTS) {
      mkdirSync(HEAP_SNAPSHOTS, { recursive: true });
      await server.heapSnapshot(join(HEAP_SNAPSHOTS, `soak-${target}-start.heapsnapshot`));
    }

    const offered = RATE ?? LOAD * capacityPerSecond;
    // The reading above ran full collections, which a server in service never does: for the next few
    // seconds its heap grows back. Not the load's doing: untimed.
    const leadIn = new Recorder("lead-in");
    if (LEAD_IN_SECONDS > 0) {
      log(`lead-in: ${round(offered)} ops/s, open loop, ${LEAD_IN_SECONDS} s, untimed`);
      await traffic.open(LEAD_IN_SECONDS, offered, leadIn, 5);
    }

    // The soak, with memory readings (no collections) along the way.
    log(
      `soak: ${round(offered)} ops/s offered (${RATE === undefined ? `${LOAD} × ` : `fixed; capacity `}${round(capacityPerSecond)}), open loop, ${SECONDS} s`,
    );
    const loadAtStart = loadavg()[0];
    const readings: { at: number; stats?: Stats; error?: string }[] = [];
    const sampler = setInterval(() => {
      const at = performance.now();
      void server.stats(TIMELINE_GC).then(
        (stats) => readings.push({ at, stats }),
        (error: unknown) => readings.push({ at, error: String((error as Error).cause ?? error).slice(0, 80) }),
      );
    }, SAMPLE_EVERY_MS);
    const soak = new Recorder("soak");
    const clientCpu = process.cpuUsage();
    const subscribersAtStart = await subscribers.status();
    if (PROFILE) await server.profile();
    const before = await server.stats();
    const began = performance.now();
    const pacing = await traffic.open(SECONDS, offered, soak, 3);
    if (SLOW_MS !== undefined) {
      const slow = soak.completions.filter((c) => c.ms > SLOW_MS);
      log(
        `slower than ${SLOW_MS} ms (due at s: kind ms): ${slow.map((c) => `${round((c.at - c.ms - began) / 1000, 2)}: ${c.kind} ${round(c.ms)}`).join(", ")}`,
      );
    }
    clearInterval(sampler);
    const after = await server.stats();
    readings.push({ at: performance.now(), stats: after });
    if (PROFILE) await server.profile(profilePath(PROFILE, target, several));
    const clientCpuUsed = process.cpuUsage(clientCpu);
    const subscribersCpuMs = (await subscribers.status()).cpuMs - subscribersAtStart.cpuMs;
    const loadAtEnd = loadavg()[0];

    // Every write has committed (its response arrived): wait for the deliveries.
    const { drainMs } = await settle(info, subscribers, since);
    const lags = await subscribers.lagsFrom(subscribersAtStart.lagCount);

    log("quiet again");
    const again = new Recorder("quiet again");
    await traffic.quiet(again, 4);

    // Every notification of the run, and what each subscriber should have received of them.
    const { list, expectedTotal } = await settle(info, subscribers, since);
    const { missing, unexpected } = await subscribers.tally(list);
    const received = await subscribers.status();

    const end = await server.stats(true);
    if (HEAP_SNAPSHOTS) await server.heapSnapshot(join(HEAP_SNAPSHOTS, `soak-${target}-end.heapsnapshot`));

    // The ratios: the soak's p99 to the lower quiet p99 of the two.
    const ratios: Figures = {};
    const missedRatios: string[] = [];
    for (const kind of KINDS) {
      const basis = Math.min(quiet.p99(kind), again.p99(kind));
      const ratio = soak.p99(kind) / basis;
      ratios[`${kind} quiet p99 ms (lower of two)`] = round(basis);
      ratios[`${kind} soak p99 ms`] = round(soak.p99(kind));
      ratios[`${kind} ratio`] = round(ratio, 2);
      if (!(ratio <= TARGET_RATIO)) missedRatios.push(`${kind} ${round(ratio, 2)}×`);
    }

    const phases = [warmup, capacity, quiet, leadIn, soak, again];
    // At saturation an operation may run out of the server's time budget: shown, not held against the target.
    const errorTotal = [quiet, leadIn, soak, again].reduce((sum, phase) => sum + phase.errorCount, 0);
    const logged = Object.values(end.logged).reduce((sum, n) => sum + n, 0);
    const errors: Figures = {
      ...Object.fromEntries(phases.map((phase) => [`in ${phase.phase}`, phase.errorCount])),
      ...Object.fromEntries(ERROR_CATEGORIES.map((c) => [`soak ${c}`, soak.errors[c]])),
      ...Object.fromEntries(KINDS.map((k) => [`soak in ${k}`, soak.errorsByKind[k]])),
      "server log warn+": logged,
    };

    const notifications: Figures = {
      committed: list.length,
      "deliveries expected": expectedTotal,
      "deliveries received": received.total,
      missing,
      unexpected,
      duplicates: received.duplicates,
      "subscription errors": received.errors,
      "subscriptions completed": received.completed,
      "connections closed": received.closed,
      "soak deliveries": lags.length,
      "soak lag p50 ms": round(percentile(lags, 0.5)),
      "soak lag p99 ms": round(percentile(lags, 0.99)),
      "soak lag max ms": round(maximum(lags)),
      "drain ms after the soak": round(drainMs),
    };
    const rssChange = change(start.rss, end.rss);
    const heapChange = change(start.heapUsed, end.heapUsed);
    const flat = rssChange <= FLAT_TOLERANCE * 100 && heapChange <= FLAT_TOLERANCE * 100;
    const quietFigures = (recorder: Recorder): Figures => ({
      operations: recorder.operations,
      seconds: round(recorder.seconds, 1),
      ...recorder.latencyFigures(),
    });
    return {
      database: info.database,
      setup: {
        applications: info.applications.length,
        journeys: info.applications.length * 3,
        subscribers: SUBSCRIBERS,
        "subscribers open s": round(openSeconds, 1),
        "warm-up ops": warmup.operations,
        "load average 1 min at the soak's start": round(loadAtStart, 2),
        "load average 1 min at the soak's end": round(loadAtEnd, 2),
        commit: commit(),
      },
      // The server's readings right after each quiet phase bring its requests' times in the server.
      quiet: { ...quietFigures(quiet), ...serverTimes([{ stats: start }]) },
      quietAgain: { ...quietFigures(again), ...serverTimes([{ stats: end }]) },
      capacity: {
        ...capacity.throughputFigures(),
        ...Object.fromEntries(KINDS.flatMap((k) => [[`${k} p99 ms (queueing)`, round(capacity.p99(k))]])),
        ...serverUse(capacityBefore, capacityAfter, capacity.seconds, capacity.operations),
        "client CPU % of one core": clientCpuPercent(capacityClientCpu, capacity.seconds),
      },
      soak: {
        throughput: { "offered ops/s": round(offered), ...soak.throughputFigures() },
        latency: soak.latencyFigures(),
        pacing: {
          "send lag p50 ms": round(percentile(pacing.sendLags, 0.5), 2),
          "send lag p99 ms": round(percentile(pacing.sendLags, 0.99), 2),
          "send lag max ms": round(maximum(pacing.sendLags), 1),
          "arrivals that waited for a slot": pacing.waitedForSlot,
          "most under way at once": pacing.maxInFlight,
          "unsent at the end": soak.unsent,
        },
        outcomes: soak.outcomeFigures(),
      },
      ratios,
      errors,
      notifications,
      server: {
        ...serverUse(before, after, soak.seconds, soak.operations),
        "longest time without a response ms": round(longestGap(soak, began)),
        "client CPU % of one core": clientCpuPercent(clientCpuUsed, soak.seconds),
        "subscribers' process CPU % of one core": round((subscribersCpuMs / (soak.seconds * 1000)) * 100),
        ...serverTimes(readings),
      },
      memory: {
        connected: memoryFigures(connected),
        start: memoryFigures(start),
        end: memoryFigures(end),
        change: {
          "rss MB": round((end.rss - start.rss) / MB),
          "rss %": rssChange,
          "heapUsed MB": round((end.heapUsed - start.heapUsed) / MB),
          "heapUsed %": heapChange,
          "external MB": round((end.external - start.external) / MB),
          "rss % since connected": change(connected.rss, end.rss),
          "heapUsed % since connected": change(connected.heapUsed, end.heapUsed),
        },
        timeline: timeline(soak, began, readings),
      },
      targets: {
        "p99 ratio": missedRatios.length === 0,
        "zero errors": errorTotal === 0 && logged === 0,
        "every notification delivered":
          missing === 0 && unexpected === 0 && received.duplicates === 0 && received.errors === 0 && received.closed === 0,
        "memory flat": flat,
      },
      missedRatios,
      statements: topStatements(before.statements, after.statements, 12),
      samples: {
        errors: phases.flatMap((phase) => phase.errorSamples).slice(0, ERROR_SAMPLES),
        subscribers: received.errorSamples,
        serverLog: end.loggedSamples,
      },
    };
  } finally {
    await subscribers.stop();
    await server.stop();
  }
}

const RATIO_TARGET = `p99 ≤ ${TARGET_RATIO}× quiet p99, every kind`;
const FLAT_TARGET = `memory flat (at most +${FLAT_TOLERANCE * 100}%)`;

function verdicts(f: SoakTargetFigures): Record<string, string> {
  const verdict = (ok: boolean, detail = "") => (ok ? "met" : `MISSED${detail}`);
  return {
    [RATIO_TARGET]: verdict(f.targets["p99 ratio"], ` (${f.missedRatios.join(", ")})`),
    "zero errors": verdict(f.targets["zero errors"]),
    "every notification delivered once": verdict(f.targets["every notification delivered"]),
    [FLAT_TARGET]: verdict(f.targets["memory flat"]),
  };
}

export async function runSoakBench(): Promise<SoakBenchFigures> {
  const host = machine();
  const list = targets();
  const databases: SoakBenchFigures["databases"] = {};
  try {
    for (const target of list) databases[target] = await runTarget(target, list.length > 1);
  } finally {
    agent.destroy();
  }
  const summary: Record<string, string> = {};
  for (const [target, figures] of Object.entries(databases)) {
    for (const [name, result] of Object.entries(verdicts(figures))) summary[`${target} ${name}`] = result;
  }
  return {
    machine: { ...host, "load average 1 min at the end": round(loadavg()[0], 2) },
    settings: {
      "warm-up s": WARMUP_SECONDS,
      "lead-in s (untimed, before the soak)": LEAD_IN_SECONDS,
      "quiet samples, at least": `${QUIET_READS} dashboards and diffs, ${QUIET_WRITES} saves and propagations (one client, the mix's proportions)`,
      "capacity s": CAPACITY_SECONDS,
      "capacity clients (closed loop)": CLIENTS,
      "soak s": SECONDS,
      "soak load (share of capacity)": RATE === undefined ? LOAD : `fixed ${RATE} ops/s`,
      "soak arrivals": ARRIVALS === "poisson" ? "Poisson (exponential gaps)" : "evenly spaced",
      "soak operations under way at most": MAX_IN_FLIGHT,
      subscribers: SUBSCRIBERS,
      mix: KINDS.map((k) => `${k} ${MIX[k] * 100}%`).join(", "),
      "journey editing":
        JOURNEY_MODE === "own"
          ? "own (no two saves under way edit one journey: DRAFT_CONFLICT is an error)"
          : "shared (DRAFT_CONFLICT expected)",
      seed: SEED,
      "timeline readings": TIMELINE_GC ? "after full GC (pauses the server every reading)" : "without GC",
    },
    databases,
    targets: summary,
  };
}

export function formatSoakBench(f: SoakBenchFigures): string {
  const section = (title: string, figures: Figures) => `  ${title}:\n${formatFigures(figures, "    ")}`;
  const lines = [
    `Soak benchmark: capacity (${f.settings["capacity clients (closed loop)"]} clients, closed loop), quiet (one client), then ` +
      `${f.settings["soak s"]} s open loop at ${typeof f.settings["soak load (share of capacity)"] === "number" ? `${f.settings["soak load (share of capacity)"]} × capacity` : f.settings["soak load (share of capacity)"]}, while ` +
      `${f.settings.subscribers} graphql-ws subscribers listen; then quiet again. Server in a child process.`,
    `Target: every kind's soak p99 ≤ ${TARGET_RATIO}× its quiet p99 (the lower of the two quiet phases); zero errors; ` +
      "every notification delivered exactly once; memory flat. Soak latency counted from when each operation was due.",
    formatFigures(f.machine),
    section("settings", f.settings),
  ];
  for (const [target, t] of Object.entries(f.databases)) {
    const samples = [
      ...t.samples.errors.map((s) => `    error: ${s}`),
      ...t.samples.subscribers.map((s) => `    subscriber: ${s}`),
      ...t.samples.serverLog.map((s) => `    server log: ${s}`),
    ];
    lines.push(
      `\n  === ${target}: ${t.database} ===`,
      section("setup", t.setup),
      section("capacity: closed loop at saturation (its p99 is the queue's)", t.capacity),
      section("quiet: one client, one operation after the other (save = saveJourneyStep + saveJourney)", t.quiet),
      section("soak throughput", t.soak.throughput),
      section("soak latency, from when each operation was due", t.soak.latency),
      section("soak pacing (open loop)", t.soak.pacing),
      section("soak outcomes", t.soak.outcomes),
      section("quiet again, after the soak", t.quietAgain),
      section(`p99 ratios, soak to quiet (target ≤ ${TARGET_RATIO})`, t.ratios),
      section("errors (the target: quiet, lead-in, soak, quiet again, server log; at saturation shown only)", t.errors),
      section(
        "notifications (subscribers; soak lag: commit to receipt, of what they received from the soak's start until it was all delivered)",
        t.notifications,
      ),
      section("server process (soak)", t.server),
      section("memory after full GC: subscribers connected", t.memory.connected),
      section("memory after full GC: start of the soak (after warm-up, capacity, quiet)", t.memory.start),
      section("memory after full GC: end (after quiet again)", t.memory.end),
      section("memory change, end vs start", t.memory.change),
      `  timeline of the soak, every ${SAMPLE_EVERY_MS / 1000} s (memory ${TIMELINE_GC ? "after full collections" : "without collections"}):`,
      formatFigures(t.memory.timeline, "    "),
      section("targets", verdicts(t)),
      section("SQL statements run most in the soak", t.statements),
      ...(samples.length > 0 ? ["  samples:", ...samples] : []),
    );
  }
  lines.push("", section("targets", f.targets));
  return lines.join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  console.log(formatSoakBench(await runSoakBench()));
}

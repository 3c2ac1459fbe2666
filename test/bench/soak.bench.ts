/**
 * Soak benchmark (issue 7): mixed traffic for `SOAK_SECONDS` (default 60) from 50 concurrent
 * clients while 500 graphql-ws subscribers listen to `syncStatusChanged`, against one server in a
 * child process (`soak-server.ts`: embedded PGlite, 20 applications with clients in development
 * and staging and 3 journeys each). Each client runs one operation after the other (closed loop):
 *
 * - 80% the dashboard query of issue 2 (the first 50 applications — all 20 of this seed — with
 *   their clients and their journeys' configuration in staging: production has no clients here);
 * - 15% the diff development → staging of a random application (changes and bundles);
 * - 2.5% a save: `saveJourneyStep` (renames the journey's first step, a new name every time) then
 *   `saveJourney` in development, on a random journey of the client's own (below);
 * - 2.5% a propagation: `promoteNow` development → staging of a random application;
 *   `NOTHING_TO_PROPAGATE` is an expected answer.
 *
 * Journeys: by default (`SOAK_JOURNEYS=own`) each client edits only journeys of its own (journey i
 * belongs to client i mod 50), so no two clients race on one draft and `DRAFT_CONFLICT` counts as
 * an error. With `SOAK_JOURNEYS=shared` any client edits any journey, and `DRAFT_CONFLICT` from two
 * clients racing on one draft is counted apart, as expected.
 *
 * Errors (target: zero): HTTP status other than 200, failed requests, GraphQL errors, typed errors
 * other than the expected ones, responses of the wrong shape. Subscribers: one graphql-ws client
 * (one connection) each; a third listen to the whole organization, a third to staging, a third to
 * one application. At the end every notification committed since they subscribed is read back
 * through `syncNotifications`, and each subscriber must have received exactly those its filter
 * matches. Server memory after full collections (the child runs with `--expose-gc`): once the
 * subscribers are connected, after a warm-up of the same traffic (`SOAK_WARMUP_SECONDS`, default
 * 5: compiled queries and caches fill), and at the end; the target is flat (end within 10% of the
 * start after warm-up).
 *
 * Sizes: `SOAK_CLIENTS` (50), `SOAK_SUBSCRIBERS` (500), `SOAK_APPLICATIONS` (20, read by the server).
 *
 *   npm run bench -- soak
 *   SOAK_SECONDS=20 npx tsx test/bench/soak.bench.ts
 *   SOAK_HEAP_SNAPSHOTS=/tmp/soak npx tsx test/bench/soak.bench.ts
 *     (also writes the server's heap snapshots at start and end into that folder, for a comparison
 *     in Chrome DevTools' Memory tab)
 *   SOAK_TIMELINE_GC=1 SOAK_SECONDS=300 npx tsx test/bench/soak.bench.ts
 *     (every timeline reading after full collections: the heap's slope, with a pause every 5 s)
 *   SOAK_PROFILE=/tmp/soak.cpuprofile npx tsx test/bench/soak.bench.ts
 *     (also writes the server's CPU profile of the measured run: Chrome DevTools or speedscope)
 */
import { mkdirSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { type Client, createClient as createWsClient } from "graphql-ws";
import WebSocket from "ws";
import { commit, type Figures, formatFigures, machine, round } from "./figures.js";
import { percentile } from "./large-application.js";
import type { ProcessStats } from "./process-probe.js";
import { startServerProcess } from "./server-process.js";
import type { SoakCounters, SoakServerInfo } from "./soak-server.js";

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const WARMUP_SECONDS = Number(process.env.SOAK_WARMUP_SECONDS ?? 5);
const CLIENTS = Number(process.env.SOAK_CLIENTS ?? 50);
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
/** Memory may end this much above (or below) the start and still count as flat. */
const FLAT_TOLERANCE = 0.1;
/** How often the server is read during the measured run, for the timeline. */
const SAMPLE_EVERY_MS = 5_000;
const OPEN_CONCURRENCY = 50;
const REGISTRATION_TIMEOUT_MS = 60_000;
const DRAIN_TIMEOUT_MS = 60_000;
const ERROR_SAMPLES = 5;

type Kind = keyof typeof MIX;
const KINDS = Object.keys(MIX) as Kind[];

const DASHBOARD_PAGE = 50;
const DASHBOARD = `query Dashboard($env: ID!) {
  applications(first: ${DASHBOARD_PAGE}) {
    edges { node {
      name
      clients { environment { key } clientId }
      journeys { key configuration(environmentId: $env) { version hash } }
    } }
  }
}`;

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

function startServer() {
  return startServerProcess<SoakServerInfo, ProcessStats & SoakCounters>("soak-server.ts", { label: "server", startTimeoutMs: 300_000 });
}

type Server = Awaited<ReturnType<typeof startServer>>;

// ---------------------------------------------------------------------------------------------
// Subscribers

type Filter = { env?: string; app?: string };

interface NotificationEvent {
  syncStatusChanged: { cursor: string; occurredAt: string; application: { id: string }; environment: { id: string } };
}

/** One graphql-ws client (one connection, one subscription) per subscriber; what each received, by cursor. */
class Subscribers {
  readonly filters: Filter[] = [];
  readonly received: Set<string>[] = [];
  private readonly clients: Client[] = [];
  /** From the notification's `occurredAt` (its transaction's time) to its receipt, ms. */
  readonly lags: number[] = [];
  total = 0;
  duplicates = 0;
  /** Subscriptions that ended with an error or completed, and connections closed under them. */
  errors = 0;
  completed = 0;
  closed = 0;
  readonly errorSamples: string[] = [];
  private closing = false;

  constructor(
    private readonly info: SoakServerInfo,
    private readonly token: string,
  ) {}

  /** A third listen to the whole organization, a third to staging, a third to one application each. */
  private filterOf(index: number): Filter {
    const { applications, environments } = this.info;
    if (index % 3 === 0) return {};
    if (index % 3 === 1) return { env: environments.staging };
    return { app: applications[Math.floor(index / 3) % applications.length].id };
  }

  async open(count: number): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < count) await this.openOne(next++);
    };
    await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, count) }, worker));
  }

  private openOne(index: number): Promise<void> {
    const filter = this.filterOf(index);
    const received = new Set<string>();
    this.filters[index] = filter;
    this.received[index] = received;
    return new Promise<void>((resolve, reject) => {
      const client = createWsClient({
        url: this.info.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${this.token}` },
        lazy: false,
        retryAttempts: 0,
        on: {
          connected: () => resolve(),
          closed: (event) => {
            if (this.closing) return;
            this.closed++;
            this.sample(`connection ${index} closed: ${(event as { code?: number }).code}`);
            reject(new Error(`subscriber ${index} could not connect`));
          },
        },
      });
      this.clients[index] = client;
      client.subscribe<NotificationEvent>(
        { query: SUBSCRIPTION, variables: filter },
        {
          next: (value) => {
            const at = Date.now();
            const event = value.data?.syncStatusChanged;
            if (value.errors || !event) {
              this.errors++;
              this.sample(`subscriber ${index}: ${JSON.stringify(value).slice(0, 300)}`);
              return;
            }
            this.total++;
            if (received.has(event.cursor)) this.duplicates++;
            received.add(event.cursor);
            this.lags.push(at - Date.parse(event.occurredAt));
          },
          error: (error) => {
            this.errors++;
            this.sample(`subscriber ${index} error: ${JSON.stringify(error).slice(0, 300)}`);
          },
          complete: () => {
            if (!this.closing) this.completed++;
          },
        },
      );
    });
  }

  private sample(text: string): void {
    if (this.errorSamples.length < ERROR_SAMPLES) this.errorSamples.push(text);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.clients.map((client) => client.dispose()));
  }
}

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

/** One POST; an HTTP status other than 200, a failed request or GraphQL errors are operation errors. */
async function post(url: string, token: string, query: string, variables: Record<string, unknown>): Promise<Record<string, any>> {
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ query, variables }),
    });
    text = await response.text();
  } catch (error) {
    throw new OperationError("network", String((error as Error).cause ?? error));
  }
  if (response.status !== 200) throw new OperationError("http", `HTTP ${response.status}: ${text.slice(0, 300)}`);
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
  readonly completions: { at: number; ms: number }[] = [];

  record(kind: Kind, ms: number, result: string | OperationError): void {
    this.latencies[kind].push(ms);
    this.completions.push({ at: performance.now(), ms });
    if (typeof result === "string") {
      this.outcomes[kind][result] = (this.outcomes[kind][result] ?? 0) + 1;
      return;
    }
    this.errors[result.category]++;
    this.errorsByKind[kind]++;
    if (this.errorSamples.length < ERROR_SAMPLES) this.errorSamples.push(`${kind} ${result.category}: ${result.message}`);
  }

  get operations(): number {
    return KINDS.reduce((sum, kind) => sum + this.latencies[kind].length, 0);
  }

  get errorCount(): number {
    return ERROR_CATEGORIES.reduce((sum, category) => sum + this.errors[category], 0);
  }
}

interface JourneyRef {
  id: string;
  step: SoakServerInfo["applications"][number]["journeys"][number]["step"];
}

/** The 50 clients: each runs one operation after the other until the phase ends. */
class Traffic {
  private readonly journeys: JourneyRef[];
  private renames = 0;

  constructor(private readonly info: SoakServerInfo) {
    this.journeys = info.applications.flatMap((a) => a.journeys.map(({ id, step }) => ({ id, step })));
    if (JOURNEY_MODE === "own" && this.journeys.length < CLIENTS) {
      throw new Error(`${this.journeys.length} journeys for ${CLIENTS} clients: with SOAK_JOURNEYS=own every client needs one of its own`);
    }
  }

  /** Runs every client for `seconds`; resolves when each has finished its last operation. */
  async run(seconds: number, recorder: Recorder, seedOffset: number): Promise<void> {
    const deadline = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        const next = random(SEED * 1_000 + seedOffset * 100 + client);
        const own = this.journeys.filter((_, index) => JOURNEY_MODE === "shared" || index % CLIENTS === client);
        while (performance.now() < deadline) {
          const kind = this.pick(next());
          const started = performance.now();
          let result: string | OperationError;
          try {
            result = await this.operation(kind, next, own);
          } catch (error) {
            result = error instanceof OperationError ? error : new OperationError("invalid", String(error));
          }
          recorder.record(kind, performance.now() - started, result);
        }
      }),
    );
  }

  private pick(r: number): Kind {
    let threshold = 0;
    for (const kind of KINDS) {
      threshold += MIX[kind];
      if (r < threshold) return kind;
    }
    return KINDS[KINDS.length - 1];
  }

  private operation(kind: Kind, next: () => number, own: JourneyRef[]): Promise<string> {
    const { url, viewerToken, promoterToken, environments, applications } = this.info;
    const application = () => applications[Math.floor(next() * applications.length)];
    switch (kind) {
      case "dashboard":
        return this.dashboard();
      case "diff":
        return post(url, viewerToken, DIFF, { a: application().id, from: environments.development, to: environments.staging }).then(
          (data) => {
            if (!["IN_SYNC", "OUT_OF_SYNC"].includes(data.diff?.status))
              throw new OperationError("invalid", `diff: ${JSON.stringify(data).slice(0, 300)}`);
            return "success";
          },
        );
      case "save":
        return this.save(own[Math.floor(next() * own.length)]);
      case "propagate": {
        const input = {
          applicationId: application().id,
          fromEnvironmentId: environments.development,
          toEnvironmentId: environments.staging,
        };
        return post(url, promoterToken, PROMOTE_NOW, { input }).then((data) => outcome(data.promoteNow, EXPECTED_CODES.propagate));
      }
    }
  }

  /** The first page of applications, each with its two clients and three journeys configured in staging. */
  private async dashboard(): Promise<string> {
    const { url, viewerToken, environments, applications } = this.info;
    const data = await post(url, viewerToken, DASHBOARD, { env: environments.staging });
    const edges = (data.applications?.edges ?? []) as {
      node: { name: string; clients: unknown[]; journeys: { configuration: { hash: string } | null }[] };
    }[];
    const wrong =
      edges.length !== Math.min(DASHBOARD_PAGE, applications.length)
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
    const stepResult = (await post(url, promoterToken, SAVE_STEP, { input: { ...ids, step } })).saveJourneyStep;
    const stepOutcome = outcome(stepResult, EXPECTED_CODES.save);
    if (stepOutcome !== "success") return stepOutcome;
    const input = { ...ids, draftRevision: stepResult.draft.revision, comment: "soak" };
    return outcome((await post(url, promoterToken, SAVE, { input })).saveJourney, EXPECTED_CODES.save);
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

/** For each subscriber, the cursors its filter matches. */
function expectedDeliveries(subscribers: Subscribers, list: { cursor: string; app: string; env: string }[]): string[][] {
  return subscribers.filters.map((filter) =>
    list.filter((n) => (!filter.env || n.env === filter.env) && (!filter.app || n.app === filter.app)).map((n) => n.cursor),
  );
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
 * One entry per server reading of the measured run, by seconds into it: operations that returned
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

/** The longest time in the measured run during which no operation returned, ms. */
function longestGap(recorder: Recorder, began: number): number {
  const times = [began, ...recorder.completions.map((c) => c.at).sort((a, b) => a - b)];
  return maximum(times.slice(1).map((t, i) => t - times[i]));
}

export interface SoakBenchFigures {
  machine: Figures;
  setup: Figures;
  throughput: Figures;
  latency: Figures;
  outcomes: Figures;
  errors: Figures;
  notifications: Figures;
  server: Figures;
  memory: { connected: Figures; start: Figures; end: Figures; change: Figures; timeline: Figures };
  targets: { "zero errors": boolean; "every notification delivered": boolean; "memory flat": boolean };
  samples: { errors: string[]; subscribers: string[]; serverLog: string[] };
  /** The SQL statements the server ran most in the measured run (deliveries to subscribers included). */
  statements: Figures;
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

export async function runSoakBench(): Promise<SoakBenchFigures> {
  const host = machine();
  const server = await startServer();
  const subscribers = new Subscribers(server.info, server.info.viewerToken);
  try {
    const { info } = server;
    const opening = performance.now();
    await subscribers.open(SUBSCRIBERS);
    await waitForRegistrations(server, SUBSCRIBERS);
    const openSeconds = (performance.now() - opening) / 1000;
    // Subscribers get live events only: what is committed from here on.
    const { last: since } = await notificationsAfter(info, undefined);
    const connected = await server.stats(true);

    const traffic = new Traffic(info);
    const warmup = new Recorder();
    if (WARMUP_SECONDS > 0) await traffic.run(WARMUP_SECONDS, warmup, 0);
    const start = await server.stats(true);
    if (HEAP_SNAPSHOTS) {
      mkdirSync(HEAP_SNAPSHOTS, { recursive: true });
      await server.heapSnapshot(join(HEAP_SNAPSHOTS, "soak-start.heapsnapshot"));
    }

    // The measured run, with memory readings (no collections) along the way.
    const loadAtStart = loadavg()[0];
    const readings: { at: number; stats?: ProcessStats & SoakCounters; error?: string }[] = [];
    const sampler = setInterval(() => {
      const at = performance.now();
      void server.stats(TIMELINE_GC).then(
        (stats) => readings.push({ at, stats }),
        (error: unknown) => readings.push({ at, error: String((error as Error).cause ?? error).slice(0, 80) }),
      );
    }, SAMPLE_EVERY_MS);
    const recorder = new Recorder();
    const clientCpu = process.cpuUsage();
    if (PROFILE) await server.profile();
    const before = await server.stats();
    const began = performance.now();
    await traffic.run(SECONDS, recorder, 1);
    const elapsed = (performance.now() - began) / 1000;
    clearInterval(sampler);
    const after = await server.stats();
    readings.push({ at: performance.now(), stats: after });
    if (PROFILE) await server.profile(PROFILE);
    const clientCpuUsed = process.cpuUsage(clientCpu);
    const loadAtEnd = loadavg()[0];

    // Every write has committed (its response arrived): the list is final. Wait for the deliveries.
    const { list } = await notificationsAfter(info, since);
    const expected = expectedDeliveries(subscribers, list);
    const expectedTotal = expected.reduce((sum, cursors) => sum + cursors.length, 0);
    const drainStarted = performance.now();
    while (subscribers.total < expectedTotal && performance.now() - drainStarted < DRAIN_TIMEOUT_MS) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const drainMs = performance.now() - drainStarted;
    let missing = 0;
    let unexpected = 0;
    expected.forEach((cursors, index) => {
      const wanted = new Set(cursors);
      const got = subscribers.received[index];
      for (const cursor of wanted) if (!got.has(cursor)) missing++;
      for (const cursor of got) if (!wanted.has(cursor)) unexpected++;
    });

    const end = await server.stats(true);
    if (HEAP_SNAPSHOTS) await server.heapSnapshot(join(HEAP_SNAPSHOTS, "soak-end.heapsnapshot"));

    const throughput: Figures = { "all ops/s": round(recorder.operations / elapsed) };
    const latency: Figures = {};
    const outcomes: Figures = {};
    for (const kind of KINDS) {
      const values = recorder.latencies[kind];
      throughput[`${kind} ops/s`] = round(values.length / elapsed);
      latency[`${kind} p50 ms`] = round(percentile(values, 0.5));
      latency[`${kind} p99 ms`] = round(percentile(values, 0.99));
      latency[`${kind} max ms`] = round(maximum(values));
      for (const [result, count] of Object.entries(recorder.outcomes[kind])) outcomes[`${kind} ${result}`] = count;
    }
    const logged = Object.values(end.logged).reduce((sum, n) => sum + n, 0);
    const errors: Figures = {
      total: recorder.errorCount,
      ...Object.fromEntries(ERROR_CATEGORIES.map((c) => [c, recorder.errors[c]])),
      ...Object.fromEntries(KINDS.map((k) => [`in ${k}`, recorder.errorsByKind[k]])),
      "warm-up errors": warmup.errorCount,
      "server log warn+": logged,
    };
    const lags = subscribers.lags;
    const notifications: Figures = {
      committed: list.length,
      "deliveries expected": expectedTotal,
      "deliveries received": subscribers.total,
      missing,
      unexpected,
      duplicates: subscribers.duplicates,
      "subscription errors": subscribers.errors,
      "subscriptions completed": subscribers.completed,
      "connections closed": subscribers.closed,
      "lag p50 ms": round(percentile(lags, 0.5)),
      "lag p99 ms": round(percentile(lags, 0.99)),
      "lag max ms": round(maximum(lags)),
      "drain ms after load": round(drainMs),
    };
    const cpuMs = after.cpuMs - before.cpuMs;
    const serverFigures: Figures = {
      "CPU % of one core": round((cpuMs / (elapsed * 1000)) * 100),
      "event loop busy %": round(((after.activeMs - before.activeMs) / (elapsed * 1000)) * 100),
      "CPU ms per op": round(cpuMs / recorder.operations, 2),
      "SQL statements per op": round((after.sqlStatements! - before.sqlStatements!) / recorder.operations, 1),
      "longest time without a response ms": round(longestGap(recorder, began)),
      "client CPU % of one core": round(((clientCpuUsed.user + clientCpuUsed.system) / 1000 / (elapsed * 1000)) * 100),
    };
    const rssChange = change(start.rss, end.rss);
    const heapChange = change(start.heapUsed, end.heapUsed);
    const flat = Math.abs(rssChange) <= FLAT_TOLERANCE * 100 && Math.abs(heapChange) <= FLAT_TOLERANCE * 100;
    return {
      machine: { ...host, "load average 1 min at start": round(loadAtStart, 2), "load average 1 min at end": round(loadAtEnd, 2) },
      setup: {
        applications: info.applications.length,
        journeys: info.applications.length * 3,
        subscribers: SUBSCRIBERS,
        "subscribers open s": round(openSeconds, 1),
        clients: CLIENTS,
        "seconds measured": round(elapsed),
        "warm-up seconds": WARMUP_SECONDS,
        "warm-up ops": warmup.operations,
        mix: KINDS.map((k) => `${k} ${MIX[k] * 100}%`).join(", "),
        "journey editing":
          JOURNEY_MODE === "own"
            ? "own (each client edits its own journeys: DRAFT_CONFLICT is an error)"
            : "shared (DRAFT_CONFLICT expected)",
        seed: SEED,
        commit: commit(),
        "timeline readings": TIMELINE_GC ? "after full GC (pauses the server every reading)" : "without GC",
      },
      throughput,
      latency,
      outcomes,
      errors,
      notifications,
      server: serverFigures,
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
        timeline: timeline(recorder, began, readings),
      },
      targets: {
        "zero errors": recorder.errorCount === 0 && logged === 0,
        "every notification delivered":
          missing === 0 && unexpected === 0 && subscribers.duplicates === 0 && subscribers.errors === 0 && subscribers.closed === 0,
        "memory flat": flat,
      },
      statements: topStatements(before.statements, after.statements, 12),
      samples: {
        errors: [...warmup.errorSamples, ...recorder.errorSamples].slice(0, ERROR_SAMPLES),
        subscribers: subscribers.errorSamples,
        serverLog: end.loggedSamples,
      },
    };
  } finally {
    await subscribers.close();
    await server.stop();
  }
}

export function formatSoakBench(f: SoakBenchFigures): string {
  const verdict = (ok: boolean) => (ok ? "met" : "MISSED");
  const section = (title: string, figures: Figures) => `  ${title}:\n${formatFigures(figures, "    ")}`;
  const samples = [
    ...f.samples.errors.map((s) => `    error: ${s}`),
    ...f.samples.subscribers.map((s) => `    subscriber: ${s}`),
    ...f.samples.serverLog.map((s) => `    server log: ${s}`),
  ];
  return [
    `Soak benchmark: ${f.setup.clients} clients, closed loop, ${f.setup["seconds measured"]} s after ${f.setup["warm-up seconds"]} s warm-up, ` +
      `while ${f.setup.subscribers} graphql-ws subscribers listen; server in a child process (embedded PGlite)`,
    formatFigures(f.machine),
    section("setup", f.setup),
    section("throughput", f.throughput),
    section("latency (save = saveJourneyStep + saveJourney)", f.latency),
    section("outcomes", f.outcomes),
    section("errors", f.errors),
    section("notifications (subscribers)", f.notifications),
    section("server process (measured run)", f.server),
    section("memory after full GC: subscribers connected", f.memory.connected),
    section("memory after full GC: start (after warm-up)", f.memory.start),
    section("memory after full GC: end", f.memory.end),
    section("memory change, end vs start", f.memory.change),
    `  timeline of the measured run, every ${SAMPLE_EVERY_MS / 1000} s (memory ${TIMELINE_GC ? "after full collections" : "without collections"}):`,
    formatFigures(f.memory.timeline, "    "),
    section("targets", {
      "zero errors": verdict(f.targets["zero errors"]),
      "every notification delivered": verdict(f.targets["every notification delivered"]),
      [`memory flat (±${FLAT_TOLERANCE * 100}%)`]: verdict(f.targets["memory flat"]),
    }),
    section("SQL statements run most in the measured run", f.statements),
    ...(samples.length > 0 ? ["  samples:", ...samples] : []),
  ].join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  console.log(formatSoakBench(await runSoakBench()));
}

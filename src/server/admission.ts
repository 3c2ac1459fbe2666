import { type EventLoopUtilization, performance } from "node:perf_hooks";
import type { Plugin } from "graphql-yoga";

export interface AdmissionOptions {
  /** How often the event loop's utilization is sampled, ms (default 250). */
  sampleMs?: number;
  /** Samples averaged: the overload must last `sampleMs × window` (default 4: one second). */
  window?: number;
  /** Average utilization at which the server counts as overloaded (default 0.75)… */
  overloaded?: number;
  /** …and below which it no longer does (default 0.4). */
  recovered?: number;
  /**
   * Requests an organization has under way or waiting on average (over about a second) above which
   * it is one of those filling the server (default 0.5: an organization with a request under way
   * half of the time — many short requests fill a server as well as a few long ones).
   */
  heavy?: number;
  /** Requests under way a heavy organization may have while the server is overloaded (default 1). */
  heavyInFlight?: number;
  /** The most a held organization's pause grows to, in times its requests' time (default 16). */
  maxPauseFactor?: number;
  /** The share of the last interval the event loop was busy (default: node's eventLoopUtilization). */
  utilization?: () => number;
  /**
   * The event loop's utilization over the last few tens of milliseconds (at least `contentionMs`)
   * from which an organization that took most of them while another one used the server runs
   * `heavyInFlight` at a time, each request followed by a pause as long as it took (default 0.75;
   * above 1, never).
   */
  contended?: number;
  /** The shortest interval over which `recentUtilization` is read, ms (default 50). */
  contentionMs?: number;
  /** The event loop's utilization since the previous call, read at most every `contentionMs` (default: a second reading of node's eventLoopUtilization). */
  recentUtilization?: () => number;
  /** Milliseconds, monotonic (default performance.now). */
  now?: () => number;
  /** Samples on a timer (default true; tests call `sample()`). */
  timer?: boolean;
}

interface Organization {
  inFlight: number;
  /** Requests under way or waiting on average, decayed over USAGE_MS. */
  usage: number;
  /** The same, decayed over RECENT_USAGE_MS. */
  recentUsage: number;
  at: number;
  waiting: { admit: () => void; signal?: AbortSignal }[];
  /** While held, each request is followed by a pause this many times as long as it took. */
  pauseFactor: number;
  /** Held at the last sample: it stays held after the overload while it keeps the loop busy. */
  held: boolean;
}

/** Usage above which another organization counts as using the server: a request in about the last second or two. */
const OTHERS_ACTIVE = 0.001;

/** The longest pause after a held organization's request. */
const MAX_PAUSE_MS = 1_000;

/**
 * The event loop's utilization a held organization's pauses aim at: above it, its pauses grow (by
 * PAUSE_STEP at each sample, up to `maxPauseFactor` times its requests' time); well below it, they
 * shrink back to as long as its requests took.
 */
const HELD_UTILIZATION = 0.6;
const PAUSE_STEP = 1.5;

/**
 * The event loop's utilization below which a held organization is let go. Above it, an
 * organization held once stays held while it asks as much: let go as soon as the overload is over
 * (which holding it ended), it would fill the server again, and the others would wait through
 * another second of overload before it is held again.
 */
const RELEASED_BELOW = 0.2;

/** The time over which an organization's usage is averaged. */
const USAGE_MS = 1_000;

/** The time over which an organization's recent usage is averaged (for contention). */
const RECENT_USAGE_MS = 200;

/** Recent usage from which an organization may contend: a request under way a fifth of the time. */
const CONTENDING_USAGE = 0.2;

/** Recent usage from which another organization counts as using the server for contention: a request in the last ~200 ms. */
const OTHERS_RECENTLY_ACTIVE = 0.01;

/** Node's utilization of the event loop since the previous call. */
function eventLoopUtilization(): () => number {
  let previous: EventLoopUtilization = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(now, previous);
    previous = now;
    return delta.utilization;
  };
}

/**
 * Fairness under overload: while the event loop has been busy for a sustained while (one second
 * above `overloaded`) and more than one organization is using the server, an organization whose
 * requests fill it — on average more than `heavy` of them under way or waiting — is held: it runs
 * `heavyInFlight` at a time, each followed by a pause as long as it took (longer, up to 16 times,
 * while the event loop stays over 60% busy), and its other requests wait, before their bodies are
 * read, in arrival order. Every other organization's requests are admitted at once. A valid token
 * that sends accepted requests back to back — a few costly ones or many cheap ones, on many
 * connections, each under every limit — then takes half of the thread at most, not all of it, and
 * the others' requests no longer queue behind its own. Before the overload has lasted a second,
 * an organization that has taken most of the last ~200 ms while the loop was busy and another
 * organization used the server too (it "contends") runs one request at a time, each followed by a
 * pause as long as it took, from its first busy tens of milliseconds. Waiting requests are admitted
 * in a later turn of the event loop than the one that let them go, so that requests that arrived
 * meanwhile are read between two of a held organization's. Nothing is refused; nothing waits while
 * the server keeps up, nor while one organization is alone on it.
 */
export class Admission {
  private readonly organizations = new Map<string, Organization>();
  private readonly samples: number[] = [];
  private overloaded = false;
  /** The event loop's utilization averaged over the window, as of the last sample. */
  private average = 0;
  /** The event loop's utilization over the last `contentionMs` or more, read at `recentAt`. */
  private recent = 0;
  private recentAt = Number.NEGATIVE_INFINITY;
  private readonly counts = { admittedAtOnce: 0, waited: 0, samples: 0, overloadedSamples: 0 };
  private readonly timer?: NodeJS.Timeout;
  private readonly options: Required<Omit<AdmissionOptions, "timer">>;

  constructor(options: AdmissionOptions = {}) {
    this.options = {
      sampleMs: options.sampleMs ?? 250,
      window: options.window ?? 4,
      overloaded: options.overloaded ?? 0.75,
      recovered: options.recovered ?? 0.4,
      heavy: options.heavy ?? 0.5,
      heavyInFlight: options.heavyInFlight ?? 1,
      maxPauseFactor: options.maxPauseFactor ?? 16,
      utilization: options.utilization ?? eventLoopUtilization(),
      contended: options.contended ?? 0.75,
      contentionMs: options.contentionMs ?? 50,
      recentUtilization: options.recentUtilization ?? eventLoopUtilization(),
      now: options.now ?? (() => performance.now()),
    };
    if (options.timer !== false) {
      this.timer = setInterval(() => this.sample(), this.options.sampleMs);
      this.timer.unref();
    }
  }

  /** Whether the server counts as overloaded now (for tests and diagnostics). */
  get isOverloaded(): boolean {
    return this.overloaded;
  }

  /** Requests waiting for admission (for tests and diagnostics). */
  get waiting(): number {
    let count = 0;
    for (const organization of this.organizations.values()) count += organization.waiting.length;
    return count;
  }

  /**
   * Since the start (for benchmarks and diagnostics): requests admitted at once, requests that
   * waited, samples taken and those that found the server overloaded.
   */
  get stats(): Readonly<{ admittedAtOnce: number; waited: number; samples: number; overloadedSamples: number }> {
    return { ...this.counts };
  }

  /** An organization's requests under way and waiting now, and its pauses' factor (for tests and diagnostics). */
  of(organizationId: string): { inFlight: number; waiting: number; pauseFactor: number } {
    const organization = this.organizations.get(organizationId);
    return {
      inFlight: organization?.inFlight ?? 0,
      waiting: organization?.waiting.length ?? 0,
      pauseFactor: organization?.pauseFactor ?? 1,
    };
  }

  /**
   * Admits a request of the organization: undefined when it may go at once, else a promise that
   * resolves when it may (or when `signal` aborts: the caller gave up). Each admitted request is
   * followed by one `leave`.
   */
  enter(organizationId: string, signal?: AbortSignal): Promise<void> | undefined {
    const organization = this.updated(organizationId);
    // A caller that gave up already (a socket closed while its operations waited to be set up) does
    // not wait its turn: admitted, it ends at once and leaves.
    if (signal?.aborted || !this.mustWait(organization)) {
      organization.inFlight++;
      this.counts.admittedAtOnce++;
      return undefined;
    }
    this.counts.waited++;
    return new Promise<void>((resolve) => {
      const waiting = {
        signal,
        admit: () => {
          signal?.removeEventListener("abort", gaveUp);
          resolve();
        },
      };
      const gaveUp = () => {
        const index = organization.waiting.indexOf(waiting);
        // Admitted already, its turn about to come (counted as under way): nothing to undo.
        if (index < 0) return;
        organization.waiting.splice(index, 1);
        // Admitted all the same, so that it leaves like any other: its request ends at once.
        organization.inFlight++;
        resolve();
      };
      signal?.addEventListener("abort", gaveUp, { once: true });
      organization.waiting.push(waiting);
    });
  }

  /** A request admitted by `enter` is done. */
  leave(organizationId: string, tookMs = 0): void {
    const organization = this.updated(organizationId);
    organization.inFlight = Math.max(0, organization.inFlight - 1);
    // A held organization's next request waits as long as its last one took, or longer while the
    // server stays busy (up to MAX_PAUSE_MS): half the thread at most, less if the rest of the work
    // (the others' requests, and the garbage its own requests leave) still fills it.
    const limited = tookMs > 0 && this.limits(organization);
    if (limited || (tookMs > 0 && this.contends(organization))) {
      organization.inFlight++;
      const factor = limited ? organization.pauseFactor : 1;
      setTimeout(() => this.leave(organizationId), Math.min(tookMs * factor, MAX_PAUSE_MS)).unref();
      return;
    }
    this.admitWaiting(organization);
  }

  /** Takes a sample of the event loop's utilization; lets the waiting go once the overload is over. */
  sample(): void {
    this.samples.push(this.options.utilization());
    if (this.samples.length > this.options.window) this.samples.shift();
    const average = this.samples.reduce((sum, value) => sum + value, 0) / this.samples.length;
    this.average = average;
    if (!this.overloaded && this.samples.length === this.options.window && average >= this.options.overloaded) this.overloaded = true;
    else if (this.overloaded && average < this.options.recovered) this.overloaded = false;
    this.counts.samples++;
    if (this.overloaded) this.counts.overloadedSamples++;
    for (const [id, organization] of this.organizations) {
      this.updated(id);
      organization.held = this.limits(organization);
      if (organization.held && average > HELD_UTILIZATION) {
        organization.pauseFactor = Math.min(organization.pauseFactor * PAUSE_STEP, this.options.maxPauseFactor);
      } else if (!organization.held || average < HELD_UTILIZATION - 0.1) {
        organization.pauseFactor = Math.max(1, organization.pauseFactor / PAUSE_STEP);
      }
      this.admitWaiting(organization);
      // An organization with nothing under way, nothing waiting and its usage gone is forgotten.
      if (organization.inFlight === 0 && organization.waiting.length === 0 && organization.usage < OTHERS_ACTIVE / 10)
        this.organizations.delete(id);
    }
  }

  /** Stops sampling. */
  stop(): void {
    clearInterval(this.timer);
  }

  /** The yoga plugin: admission after authentication (`organizationOf`), before the body is read; leaving with the response. */
  plugin(organizationOf: (request: Request) => string | undefined): Plugin {
    const admitted = new WeakMap<Request, { organizationId: string; at: number }>();
    return {
      onRequestParse: async ({ request }) => {
        const organizationId = organizationOf(request);
        if (organizationId === undefined) return;
        const wait = this.enter(organizationId, request.signal);
        if (wait) await wait;
        admitted.set(request, { organizationId, at: this.options.now() });
      },
      onResponse: ({ request }) => {
        const entry = admitted.get(request);
        if (entry === undefined) return;
        admitted.delete(request);
        this.leave(entry.organizationId, this.options.now() - entry.at);
      },
    };
  }

  /**
   * Whether the organization is held to its share: the server is overloaded (or was, for an
   * organization held since then, while the loop stays RELEASED_BELOW busy or more), the organization is
   * among those filling it (its usage above `heavy`, and no other's more than twice its own: an
   * organization slowed down by another, whose requests take longer and so are under way longer, is
   * not mistaken for the one slowing it), and another organization is using it too (alone, it may
   * have all of it).
   */
  private limits(organization: Organization): boolean {
    const busy = this.overloaded || (organization.held && this.average >= RELEASED_BELOW);
    if (!busy || organization.usage <= this.options.heavy) return false;
    let othersActive = false;
    for (const other of this.organizations.values()) {
      if (other === organization) continue;
      if (other.usage > organization.usage * 2) return false;
      if (other.inFlight > 0 || other.usage > OTHERS_ACTIVE) othersActive = true;
    }
    return othersActive;
  }

  /**
   * Whether the organization contends for a busy thread: the event loop was `contended` busy or more
   * over the last few tens of milliseconds, another organization has used the server in the last
   * ~200 ms, and this one has had a request under way a fifth of that time or more, over twice as
   * much as any other. (Requests under way, not thread time: an organization whose requests wait on
   * the database has more under way for the same thread time — as with `limits`.) Between two
   * samples of the overload (a second's average) an attacker's requests would take most of the
   * thread for a second or more while the others' wait for turns of the loop; from its first busy
   * tens of milliseconds it runs one at a time, each followed by a pause as long as it took.
   */
  private contends(organization: Organization): boolean {
    if (organization.recentUsage < CONTENDING_USAGE || this.recentUtilization() < this.options.contended) return false;
    const now = this.options.now();
    let othersActive = false;
    for (const other of this.organizations.values()) {
      if (other === organization) continue;
      const decay = Math.exp(-(now - other.at) / RECENT_USAGE_MS);
      const recentUsage = other.recentUsage * decay + (other.inFlight + other.waiting.length) * (1 - decay);
      if (recentUsage * 2 >= organization.recentUsage) return false;
      if (other.inFlight > 0 || recentUsage >= OTHERS_RECENTLY_ACTIVE) othersActive = true;
    }
    return othersActive;
  }

  private recentUtilization(): number {
    const now = this.options.now();
    if (now - this.recentAt >= this.options.contentionMs) {
      this.recent = this.options.recentUtilization();
      this.recentAt = now;
    }
    return this.recent;
  }

  private mustWait(organization: Organization): boolean {
    return (
      (organization.inFlight >= this.options.heavyInFlight || organization.waiting.length > 0) &&
      (this.limits(organization) || this.contends(organization))
    );
  }

  private admitWaiting(organization: Organization) {
    while (organization.waiting.length > 0) {
      const next = organization.waiting[0];
      if (organization.inFlight >= this.options.heavyInFlight && (this.limits(organization) || this.contends(organization))) return;
      organization.waiting.shift();
      organization.inFlight++;
      // In a later turn of the event loop, after it has polled for I/O: admitted in the turn of the
      // request that left (its response just written, with nothing to wait for), a held
      // organization's requests would run back to back in one turn, every other request that
      // arrived meanwhile unread until they are all done.
      setImmediate(next.admit);
    }
  }

  /** The organization's record, its usage brought up to now. */
  private updated(organizationId: string): Organization {
    const now = this.options.now();
    let organization = this.organizations.get(organizationId);
    if (!organization) {
      organization = { inFlight: 0, usage: 0, recentUsage: 0, at: now, waiting: [], pauseFactor: 1, held: false };
      this.organizations.set(organizationId, organization);
      return organization;
    }
    const decay = Math.exp(-(now - organization.at) / USAGE_MS);
    const recentDecay = Math.exp(-(now - organization.at) / RECENT_USAGE_MS);
    // Its demand: requests under way (or pausing) and waiting. Held, an organization still asking for
    // more than its share stays heavy; counting only those under way, it would fall below `heavy`
    // between two of its turns and be let go at full concurrency, over and over.
    const demand = organization.inFlight + organization.waiting.length;
    organization.usage = organization.usage * decay + demand * (1 - decay);
    organization.recentUsage = organization.recentUsage * recentDecay + demand * (1 - recentDecay);
    organization.at = now;
    return organization;
  }
}

import { writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { Session } from "node:inspector/promises";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { writeHeapSnapshot } from "node:v8";
import { EventHub } from "../../src/events/hub.js";

/**
 * `PROBE_ALLOCATIONS=1`: the profiles also sample allocations, collected ones included;
 * `PROBE_ALLOCATIONS=survivors`: only those that outlived a young-generation collection (promoted to
 * the old generation, whose collections are the long pauses), collected or not.
 */
const ALLOCATIONS = process.env.PROBE_ALLOCATIONS === "1" || process.env.PROBE_ALLOCATIONS === "survivors";
const YOUNG_GARBAGE_TOO = process.env.PROBE_ALLOCATIONS === "1";

/** What a benchmarked server process reports about itself. */
export interface ProcessStats {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** CPU time (user and system) of the process since it started, milliseconds. */
  cpuMs: number;
  /** Of `cpuMs`, the time spent in the kernel (system calls: sockets, memory). */
  systemCpuMs: number;
  /** Milliseconds the event loop has been busy since the process started. */
  activeMs: number;
  /** Subscriptions currently listening for events. */
  subscribers: number;
  /** SQL statements run since the process started, where the server counts them. */
  sqlStatements?: number;
}

/** What the server process counts for the probe. */
export interface ProbeCounters {
  subscribers: number;
  sqlStatements?: number;
}

/**
 * A tiny HTTP endpoint, on a port of its own, through which the bench asks a server process in a
 * child process about itself without going through the server being measured:
 *
 * - `GET /stats[?gc=1]`: memory (after full collections with `gc=1`; needs `--expose-gc`), event
 *   CPU time, event loop busy time, live subscriptions (and SQL statements run, where counted);
 * - `POST /profile/start`, `POST /profile/stop?path=…`: a CPU profile (`.cpuprofile`, opens in
 *   Chrome DevTools or speedscope) of what happens in between; with `PROBE_ALLOCATIONS=1` in the
 *   process's environment also a sampled profile of every allocation made in between, collected or
 *   not (`….heapprofile` beside it: what makes the garbage, where `--heap-prof` shows only what is
 *   still alive at exit; `PROBE_ALLOCATIONS=survivors`: only what outlived a young collection);
 * - `POST /heap-snapshot?path=…`: a heap snapshot.
 *
 * Resolves to its base URL.
 */
export async function startProbe(counters: () => ProbeCounters): Promise<string> {
  const session = new Session();
  session.connect();
  const stats = async (gc: boolean): Promise<ProcessStats> => {
    const collect = (globalThis as { gc?: () => void }).gc;
    if (gc) {
      if (!collect) throw new Error("start the process with --expose-gc");
      // A few rounds: finalizers and weak references free more on the next collection.
      for (let i = 0; i < 3; i++) {
        collect();
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    return {
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      heapTotal: memory.heapTotal,
      external: memory.external,
      arrayBuffers: memory.arrayBuffers,
      cpuMs: (cpu.user + cpu.system) / 1000,
      systemCpuMs: cpu.system / 1000,
      activeMs: performance.eventLoopUtilization().active,
      ...counters(),
    };
  };
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://probe");
    const path = url.searchParams.get("path");
    const answer = async (): Promise<unknown> => {
      if (request.method === "GET" && url.pathname === "/stats") return stats(url.searchParams.get("gc") === "1");
      if (request.method === "POST" && url.pathname === "/profile/start") {
        await session.post("Profiler.enable");
        await session.post("Profiler.setSamplingInterval", { interval: 200 });
        await session.post("Profiler.start");
        if (ALLOCATIONS) {
          await session.post("HeapProfiler.enable");
          await session.post("HeapProfiler.startSampling", {
            samplingInterval: 16_384,
            includeObjectsCollectedByMajorGC: true,
            includeObjectsCollectedByMinorGC: YOUNG_GARBAGE_TOO,
          } as never);
        }
        return { started: true };
      }
      if (request.method === "POST" && url.pathname === "/profile/stop" && path) {
        const { profile } = await session.post("Profiler.stop");
        await writeFile(path, JSON.stringify(profile));
        if (ALLOCATIONS) {
          const { profile: allocations } = await session.post("HeapProfiler.stopSampling");
          await writeFile(`${path.replace(/\.cpuprofile$/, "")}.heapprofile`, JSON.stringify(allocations));
        }
        return { path };
      }
      if (request.method === "POST" && url.pathname === "/heap-snapshot" && path) return { path: writeHeapSnapshot(path) };
      response.statusCode = 404;
      return { error: "unknown probe request" };
    };
    answer().then(
      (body) => response.end(JSON.stringify(body)),
      (error: unknown) => {
        response.statusCode = 500;
        response.end(JSON.stringify({ error: String(error) }));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The first line of a child process's stdout that the bench reads: where to reach it. */
export function announce(value: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/**
 * Stops this process (with SIGTERM, so that it cleans up) when the bench that started it is gone
 * without stopping it, e.g. killed: a server holding thousands of sockets must not outlive it.
 */
export function exitWithParent(): void {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.kill(process.pid, "SIGTERM");
  }, 1_000).unref();
}

/**
 * Counts the live subscriptions to sync topics, so that a bench can wait until every subscriber is
 * registered before it measures. Wraps the hub's method from outside; nothing in src/ changes.
 * Returns the function that reads the count.
 */
export function countLiveSubscriptions(): () => number {
  let live = 0;
  const listen = EventHub.prototype.listen;
  EventHub.prototype.listen = function countedListen(this: EventHub, topic, handler) {
    const stop = listen.call(this, topic, handler as never);
    if (!String(topic).startsWith("sync:")) return stop;
    live++;
    let stopped = false;
    return () => {
      if (!stopped) live--;
      stopped = true;
      stop();
    };
  } as typeof listen;
  return () => live;
}

/**
 * A tenant's GraphQL-over-HTTP client in a process of its own, for benches that load the server
 * from the bench process (an attacker, say) and must not time the other tenant's requests on that
 * busy event loop. Started with an IPC channel (`startLatencyClient`); on each `measure` command it
 * sends every stream's operation at the stream's fixed rate for the given time, then reports each
 * request's latency.
 *
 * Latency is counted from when a request was due, not from when it went out (no coordinated
 * omission): when the server stalls and a stream has `maxInFlight` requests waiting, the requests
 * falling due meanwhile wait too, and that wait is part of their latency. Requests still due when
 * the time is up are not sent; each counts as `unsent`, with what it had waited as its latency.
 */
import { performance } from "node:perf_hooks";
import { answerParent, startChild } from "./child-process.js";

export interface LatencyStream {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  /** Requests per second, sent on schedule. */
  perSecond: number;
  /** Requests of the stream under way at once, at most. */
  maxInFlight: number;
  /** A field the response's `data` must have for the request to count as answered. */
  expect: string;
}

export interface MeasureCommand {
  url: string;
  token: string;
  durationMs: number;
  /** A request not answered by then is aborted and counted as a timeout (with this latency). */
  timeoutMs: number;
  streams: LatencyStream[];
}

export interface StreamLatencies {
  name: string;
  /** Every request's latency, ms, answered or not. */
  latencies: number[];
  /** Answered with an HTTP status other than 200, GraphQL errors, or without the expected field. */
  failures: number;
  timeouts: number;
  unsent: number;
  failureSamples: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function request(command: MeasureCommand, stream: LatencyStream): Promise<string | null> {
  const response = await fetch(command.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json",
      authorization: `Bearer ${command.token}`,
    },
    body: JSON.stringify({ query: stream.query, variables: stream.variables ?? {} }),
    signal: AbortSignal.timeout(command.timeoutMs),
  });
  const text = await response.text();
  if (response.status !== 200) return `HTTP ${response.status}: ${text.slice(0, 200)}`;
  const body = JSON.parse(text) as { data?: Record<string, unknown>; errors?: unknown[] };
  if (body.errors?.length || body.data?.[stream.expect] == null) return text.slice(0, 200);
  return null;
}

async function runStream(command: MeasureCommand, stream: LatencyStream, until: number): Promise<StreamLatencies> {
  const result: StreamLatencies = { name: stream.name, latencies: [], failures: 0, timeouts: 0, unsent: 0, failureSamples: [] };
  const interval = 1000 / stream.perSecond;
  const inFlight = new Set<Promise<void>>();
  let due = performance.now();
  while (due < until) {
    const now = performance.now();
    if (now < due) await sleep(due - now);
    while (inFlight.size >= stream.maxInFlight && performance.now() < until)
      await Promise.race([...inFlight, sleep(until - performance.now())]);
    if (performance.now() >= until) break;
    const scheduled = due;
    due += interval;
    const sent = request(command, stream).then(
      (failure) => {
        result.latencies.push(performance.now() - scheduled);
        if (failure) {
          result.failures++;
          if (result.failureSamples.length < 3) result.failureSamples.push(failure);
        }
      },
      (error: unknown) => {
        result.latencies.push(performance.now() - scheduled);
        const name = (error as { name?: string }).name;
        if (name === "TimeoutError" || name === "AbortError") result.timeouts++;
        else {
          result.failures++;
          if (result.failureSamples.length < 3) result.failureSamples.push(String((error as Error).cause ?? error));
        }
      },
    );
    const tracked: Promise<void> = sent.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  }
  // Due but never sent: the server held every slot of the stream until the end.
  const end = performance.now();
  for (; due < until; due += interval) {
    result.unsent++;
    result.latencies.push(end - due);
  }
  await Promise.all(inFlight);
  return result;
}

async function measure(command: MeasureCommand): Promise<StreamLatencies[]> {
  const until = performance.now() + command.durationMs;
  return Promise.all(command.streams.map((stream) => runStream(command, stream, until)));
}

export interface LatencyClient {
  measure(command: MeasureCommand): Promise<StreamLatencies[]>;
  stop(): Promise<void>;
}

/** Starts the client process; `measure` commands run one at a time. */
export function startLatencyClient(): LatencyClient {
  const child = startChild(import.meta.url, "latency client");
  return {
    measure: (command) => child.ask<StreamLatencies[]>(command),
    stop: () => child.stop(),
  };
}

// In the child: answer the parent's commands.
answerParent<MeasureCommand>(import.meta.url, measure);

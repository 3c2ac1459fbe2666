import { type ExecutionResult, GraphQLError, GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString } from "graphql";
import { createYoga } from "graphql-yoga";
import { describe, expect, it } from "vitest";
import { EventHub } from "../../src/events/hub.js";
import { DIRECT_HELD_AT_MOST, SEND_DIRECTLY, useSharedEventExecution } from "../../src/server/shared-events.js";
import { TokenBuckets } from "../../src/services/rate.js";
import { ReadQueue } from "../../src/services/read-queue.js";
import { BEHIND_AT_MOST, eventStream } from "../../src/services/sync-stream.js";

/**
 * Live events written straight to subscribers' sockets (src/server/shared-events.ts, the stream's
 * side in src/services/sync-stream.ts): the real event stream and shared execution on a yoga
 * instance of their own. Each subscriber plays graphql-ws: its iterator is consumed one result at a
 * time, each "sent" after a pause, and its direct sender (the root value's SEND_DIRECTLY) can refuse
 * as a socket that is not read does. Both ways write into one log per subscriber, in wire order.
 */
interface Event {
  seq: number;
  environmentId: string;
  applicationId: string;
  fail?: boolean;
  /** Its execution never ends (a read that hangs). */
  hang?: boolean;
}

const actor = { organizationId: "org", tokenId: "token", role: "VIEWER", name: "dashboard" } as const;
const QUERY = `subscription Events($env: String, $after: Int) { event(env: $env, after: $after) { seq } }`;

function world(stored: Event[] = []) {
  const hub = new EventHub();
  let executions = 0;
  const EventType = new GraphQLObjectType<Event>({
    name: "Event",
    fields: {
      seq: {
        type: GraphQLInt,
        resolve: (event) => {
          if (event.fail) throw new GraphQLError("this event fails", { extensions: { code: "FAILS" } });
          if (event.hang) return new Promise<number>(() => {});
          return event.seq;
        },
      },
    },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: "Query", fields: { ok: { type: GraphQLString } } }),
    subscription: new GraphQLObjectType({
      name: "Subscription",
      fields: {
        event: {
          type: EventType,
          args: { env: { type: GraphQLString }, after: { type: GraphQLInt } },
          subscribe: (_root, args: { env?: string; after?: number }) =>
            eventStream<Event>(
              hub,
              new ReadQueue(1, 1),
              new TokenBuckets(10_000, 10_000),
              actor,
              {
                topic: "sync:org",
                history: async (after, limit) => stored.filter((event) => event.seq > after).slice(0, limit),
                matches: (event) => !args.env || event.environmentId === args.env,
                readKey: args.env ?? "",
                filteredOn: args.env ? [args.env] : [],
              },
              args.after ?? undefined,
            ),
          resolve: (event: Event) => {
            executions++;
            return event;
          },
        },
      },
    }),
  });
  const yoga = createYoga({
    schema,
    logging: false,
    plugins: [
      useSharedEventExecution({
        audienceOf: () => "org:VIEWER",
        filterOnlyFields: new Set(["event"]),
        deliveriesPerTurn: 2,
        directDeliveriesPerTurn: 2,
      }),
    ],
  });

  /** A subscriber: its log (sequence numbers in wire order, with how each went), and its socket's state. */
  async function subscribe(variables: Record<string, unknown> = {}, sendPauseMs = 1, direct = true) {
    const log: { seq: number | null; via: "direct" | "iterator"; errors?: string[] }[] = [];
    const socket = { takes: true, open: true };
    const send = (json: string) => {
      if (!socket.open || !socket.takes) return false;
      const result = JSON.parse(json) as ExecutionResult<{ event: { seq: number } }>;
      log.push({ seq: result.data?.event.seq ?? null, via: "direct" });
      return true;
    };
    const { parse, subscribe: run, contextFactory, schema: enveloped } = yoga.getEnveloped({});
    const stream = (await run({
      schema: enveloped,
      document: parse(QUERY),
      variableValues: variables,
      contextValue: await contextFactory(),
      rootValue: direct ? { [SEND_DIRECTLY]: send } : {},
    })) as AsyncIterableIterator<ExecutionResult<{ event: { seq: number } | null }>>;
    // graphql-ws: the next result is asked for once the last one is sent.
    let asking = true;
    const ended = (async () => {
      for await (const result of stream) {
        asking = false;
        log.push({
          seq: result.data?.event?.seq ?? null,
          via: "iterator",
          ...(result.errors ? { errors: result.errors.map((e) => e.message) } : {}),
        });
        await new Promise((resolve) => setTimeout(resolve, sendPauseMs));
        // The loop asks for the next result as this turn ends.
        asking = true;
      }
    })();
    return {
      log,
      socket,
      stream,
      ended,
      seqs: () => log.map((entry) => entry.seq),
      /** Whether it has sent what it was given and asked for more (what a direct send waits for). */
      asking: () => asking,
    };
  }

  const event = (seq: number, environmentId = "staging", extra: Partial<Event> = {}): Event => ({
    seq,
    environmentId,
    applicationId: "app",
    ...extra,
  });

  return {
    subscribe,
    event,
    publish: (e: Event) => hub.publish("sync:org", e as never),
    gone: (id: string) => hub.publish(`gone:${id}`, true),
    executions: () => executions,
    listening: () => (hub as unknown as { topics: Map<string, Set<unknown>> }).topics.get("sync:org")?.size ?? 0,
  };
}

/** Turns of the event loop until `check` holds. */
async function until(check: () => boolean, timeoutMs = 2_000) {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("live events written straight to subscribers", () => {
  it("sends each event's one result to every subscriber of the key as graphql-ws would, nothing through the iterators", async () => {
    const w = world();
    const subscribers = await Promise.all([1, 2, 3].map(() => w.subscribe()));
    await until(() => w.listening() === 3);
    for (const seq of range(1, 5)) w.publish(w.event(seq));
    await until(() => subscribers.every((s) => s.log.length === 5));
    for (const s of subscribers) {
      expect(s.seqs()).toEqual(range(1, 5));
      expect(s.log.every((entry) => entry.via === "direct")).toBe(true);
    }
    expect(w.executions()).toBe(5);
    await Promise.all(subscribers.map((s) => s.stream.return?.()));
  });

  it("keeps a subscriber's order while its socket refuses, and sends directly again once its iterator has sent all", async () => {
    const w = world();
    const slow = await w.subscribe({}, 5);
    const other = await w.subscribe();
    await until(() => w.listening() === 2);
    w.publish(w.event(1));
    await until(() => slow.log.length === 1);
    slow.socket.takes = false;
    for (const seq of range(2, 4)) w.publish(w.event(seq));
    await until(() => other.log.length === 4);
    // Refused: given back to its iterator, which sends them one by one (5 ms each); meanwhile the
    // socket takes again, and events published now must not overtake them.
    slow.socket.takes = true;
    for (const seq of range(5, 7)) w.publish(w.event(seq));
    await until(() => slow.log.length === 7 && other.log.length === 7);
    expect(slow.seqs()).toEqual(range(1, 7));
    expect(slow.log.slice(1, 4).every((entry) => entry.via === "iterator")).toBe(true);
    // Once its iterator has sent the last (its 5 ms) and waits again, the next event goes straight.
    await new Promise((resolve) => setTimeout(resolve, 20));
    w.publish(w.event(8));
    await until(() => slow.log.length === 8);
    expect(slow.log[7]).toEqual({ seq: 8, via: "direct" });
    expect(other.seqs()).toEqual(range(1, 8));
    expect(other.log.every((entry) => entry.via === "direct")).toBe(true);
    await Promise.all([slow, other].map((s) => s.stream.return?.()));
  });

  it("hands a result with errors to the iterator (masked and counted there), in its place", async () => {
    const w = world();
    const s = await w.subscribe();
    await until(() => w.listening() === 1);
    w.publish(w.event(1));
    w.publish(w.event(2, "staging", { fail: true }));
    w.publish(w.event(3));
    await until(() => s.log.length === 3);
    expect(s.log).toEqual([
      { seq: 1, via: "direct" },
      { seq: null, via: "iterator", errors: ["this event fails"] },
      { seq: 3, via: "iterator" },
    ]);
    await s.stream.return?.();
  });

  it("delivers the events published before what it filters on went, then ends", async () => {
    const w = world();
    const s = await w.subscribe({ env: "staging" });
    await until(() => w.listening() === 1);
    // The events and the end in one turn: the events still wait for their execution when the stream ends.
    w.publish(w.event(1));
    w.publish(w.event(2, "production"));
    w.publish(w.event(3));
    w.gone("staging");
    w.publish(w.event(4));
    await s.ended;
    expect(s.seqs()).toEqual([1, 3]);
  });

  it("sends nothing to a subscriber that left, even for events it had been given", async () => {
    const w = world();
    const leaving = await w.subscribe();
    const staying = await w.subscribe();
    await until(() => w.listening() === 2);
    w.publish(w.event(1));
    await leaving.stream.return?.();
    w.publish(w.event(2));
    await until(() => staying.log.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(leaving.seqs()).toEqual([]);
    expect(staying.seqs()).toEqual([1, 2]);
    await staying.stream.return?.();
  });

  it("resumes through the iterator, then goes straight: no gap, no duplicate at the seam", async () => {
    const stored: Event[] = [];
    const w = world(stored);
    for (const seq of range(1, 30)) stored.push(w.event(seq));
    const s = await w.subscribe({ after: 10 }, 1);
    await until(() => w.listening() === 1);
    // Live events while history is read and sent: the first of them also stored, as a commit does.
    for (const seq of range(31, 35)) {
      stored.push(w.event(seq));
      w.publish(w.event(seq));
    }
    await until(() => s.log.length === 25 && s.asking());
    expect(s.seqs()).toEqual(range(11, 35));
    w.publish(w.event(36));
    await until(() => s.log.length === 26);
    expect(s.log[25]).toEqual({ seq: 36, via: "direct" });
    await s.stream.return?.();
  });

  it("holds a bounded number behind an execution that hangs: past it the iterator's own bound ends the stream", async () => {
    for (const direct of [false, true]) {
      const w = world();
      const s = await w.subscribe({}, 1, direct);
      await until(() => w.listening() === 1);
      w.publish(w.event(1, "staging", { hang: true }));
      for (let seq = 2; seq <= DIRECT_HELD_AT_MOST + BEHIND_AT_MOST + 10; seq++) w.publish(w.event(seq));
      // Ended (no longer listening), as through the iterator alone: nothing grows without bound.
      await until(() => w.listening() === 0);
      expect(s.log).toEqual([]);
    }
  });
});

/** A seeded pseudo-random sequence in [0, 1). */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

describe("live events written straight to subscribers, under random refusals, pauses and bursts", () => {
  it("every subscriber gets every event once, in order", { timeout: 60_000 }, async () => {
    const rnd = random(12_345);
    for (let trial = 0; trial < 8; trial++) {
      const w = world();
      const subscribers = await Promise.all([0, 1, 2, 3].map((i) => w.subscribe({}, i === 0 ? 0 : Math.floor(rnd() * 4))));
      await until(() => w.listening() === 4);
      const count = 200;
      for (let seq = 0; seq < count; ) {
        const burst = 1 + Math.floor(rnd() * 8);
        for (let k = 0; k < burst && seq < count; k++) w.publish(w.event(++seq));
        for (const s of subscribers) if (rnd() < 0.3) s.socket.takes = !s.socket.takes;
        const wait = Math.floor(rnd() * 4);
        if (wait === 0) await Promise.resolve();
        else if (wait === 1) await new Promise((resolve) => setImmediate(resolve));
        else await new Promise((resolve) => setTimeout(resolve, wait));
      }
      for (const s of subscribers) s.socket.takes = true;
      await until(() => subscribers.every((s) => s.log.length >= count), 10_000);
      for (const s of subscribers) expect(s.seqs(), `trial ${trial}`).toEqual(range(1, count));
      await Promise.all(subscribers.map((s) => s.stream.return?.()));
    }
  });

  it("results with errors stay in their place, and exactly the events before what is filtered on went arrive, then the end", {
    timeout: 60_000,
  }, async () => {
    const rnd = random(777);
    for (let trial = 0; trial < 6; trial++) {
      const w = world();
      const subscribers = await Promise.all([0, 1, 2].map(() => w.subscribe({ env: "staging" }, Math.floor(rnd() * 3))));
      await until(() => w.listening() === 3);
      const expected: (number | null)[] = [];
      const count = 80 + Math.floor(rnd() * 80);
      for (let seq = 0; seq < count; ) {
        const burst = 1 + Math.floor(rnd() * 10);
        for (let k = 0; k < burst && seq < count; k++) {
          seq++;
          const fail = rnd() < 0.1;
          w.publish(w.event(seq, "staging", { fail }));
          expected.push(fail ? null : seq);
        }
        for (const s of subscribers) if (rnd() < 0.3) s.socket.takes = !s.socket.takes;
        if (rnd() < 0.5) await new Promise((resolve) => setImmediate(resolve));
        else await Promise.resolve();
      }
      w.gone("staging");
      w.publish(w.event(count + 1));
      for (const s of subscribers) s.socket.takes = true;
      await Promise.all(subscribers.map((s) => s.ended));
      for (const s of subscribers) expect(s.seqs(), `trial ${trial}`).toEqual(expected);
    }
  });
});

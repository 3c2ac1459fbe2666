import { Repeater } from "@repeaterjs/repeater";
import { type ExecutionResult, GraphQLError, GraphQLID, GraphQLObjectType, GraphQLSchema, GraphQLString } from "graphql";
import { createYoga } from "graphql-yoga";
import { describe, expect, it } from "vitest";
import { DeliveryTurns, type SharedEventOptions, useSharedEventExecution } from "../../src/server/shared-events.js";
import { useSubscriptionLimits } from "../../src/server/subscription-limits.js";

/**
 * The shared execution of live events (src/server/shared-events.ts) on a yoga instance of its own:
 * a schema whose subscription resolver counts its executions and whose fields read the audience
 * from the context, so a result given to the wrong audience would show.
 */
interface Context {
  audience: string | null;
}

/** The one connection every subscriber of a world comes on (for the subscription limits). */
const CONNECTION = {};

function world(options: Pick<SharedEventOptions, "deliveriesPerTurn" | "aroundEvent"> = {}) {
  const listeners = new Set<(event: object) => void>();
  const stops = new Set<() => void>();
  let executions = 0;
  const Event = new GraphQLObjectType<{ id: string }, Context>({
    name: "Event",
    fields: {
      id: { type: GraphQLID },
      audience: { type: GraphQLString, resolve: (_event, _args, context) => context.audience },
      kind: { type: GraphQLString, args: { kind: { type: GraphQLString } }, resolve: (_event, args) => args.kind },
    },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: "Query", fields: { ok: { type: GraphQLString } } }),
    subscription: new GraphQLObjectType<unknown, Context>({
      name: "Subscription",
      fields: {
        event: {
          type: Event,
          args: { kind: { type: GraphQLString }, after: { type: GraphQLString } },
          subscribe: (_root, args: { kind?: string }) => {
            if (args.kind === "missing") throw new GraphQLError("no such kind");
            return new Repeater<object>(async (push, stop) => {
              listeners.add(push);
              stops.add(stop);
              await stop;
              listeners.delete(push);
              stops.delete(stop);
            });
          },
          resolve: (event: unknown) => {
            executions++;
            return event;
          },
        },
      },
    }),
  });
  const limits = useSubscriptionLimits({
    perConnection: 100,
    perToken: 100,
    perOrganization: 100,
    connectionOf: () => CONNECTION,
    tokenOf: () => "token",
    organizationOf: () => "org",
  });
  const yoga = createYoga<Context>({
    schema,
    // A failing execution is one of the cases: yoga would log it.
    logging: false,
    plugins: [
      limits,
      useSharedEventExecution({ audienceOf: (context) => (context as Context).audience, filterOnlyFields: new Set(["event"]), ...options }),
    ],
  });

  async function subscribe(audience: string | null, query: string, variables: Record<string, unknown> = {}) {
    const { parse, validate, subscribe: run, contextFactory, schema: enveloped } = yoga.getEnveloped({ audience });
    const document = parse(query);
    expect(validate(enveloped, document)).toEqual([]);
    const contextValue = { ...(await contextFactory()), audience };
    return (await run({ schema: enveloped, document, variableValues: variables, contextValue })) as
      | AsyncIterableIterator<ExecutionResult>
      | ExecutionResult;
  }

  return {
    subscribe,
    publish: (event: object) => {
      for (const push of listeners) push(event);
    },
    listeners: () => listeners.size,
    executions: () => executions,
    /** Ends every stream from the source's side (as a revoked token does). */
    end: () => {
      for (const stop of stops) stop();
    },
    /** Subscriptions the limits count as open. */
    open: () => limits.openOn(CONNECTION),
  };
}

const QUERY = `subscription Events($kind: String) { event(kind: $kind) { id audience kind(kind: $kind) } }`;

function iterator(subscription: AsyncIterableIterator<ExecutionResult> | ExecutionResult) {
  if (!(Symbol.asyncIterator in subscription)) throw new Error(`not a stream: ${JSON.stringify(subscription)}`);
  return subscription;
}

async function untilListening(w: ReturnType<typeof world>, count: number) {
  await expect.poll(() => w.listeners()).toBe(count);
}

describe("shared execution of live events", () => {
  it("executes an event once for subscribers of one audience, document and variables", async () => {
    const w = world();
    const streams = await Promise.all([1, 2, 3].map(async () => iterator(await w.subscribe("org-a:VIEWER", QUERY, { kind: "x" }))));
    const received = streams.map((s) => s.next());
    await untilListening(w, 3);
    w.publish({ id: "1" });
    const results = await Promise.all(received);
    expect(w.executions()).toBe(1);
    for (const result of results) expect(result.value).toEqual({ data: { event: { id: "1", audience: "org-a:VIEWER", kind: "x" } } });
    await Promise.all(streams.map((s) => s.return?.()));
  });

  it("executes separately for another audience, other variables or another document", async () => {
    const w = world();
    const streams = [
      iterator(await w.subscribe("org-a:VIEWER", QUERY, { kind: "x" })),
      iterator(await w.subscribe("org-b:VIEWER", QUERY, { kind: "x" })),
      iterator(await w.subscribe("org-a:ADMIN", QUERY, { kind: "x" })),
      iterator(await w.subscribe("org-a:VIEWER", QUERY, { kind: "y" })),
      iterator(await w.subscribe("org-a:VIEWER", `subscription { event { id audience } }`)),
    ];
    const received = streams.map((s) => s.next());
    await untilListening(w, 5);
    w.publish({ id: "2" });
    const results = (await Promise.all(received)).map((r) => r.value as ExecutionResult);
    expect(w.executions()).toBe(5);
    expect(results.map((r) => r.data)).toEqual([
      { event: { id: "2", audience: "org-a:VIEWER", kind: "x" } },
      { event: { id: "2", audience: "org-b:VIEWER", kind: "x" } },
      { event: { id: "2", audience: "org-a:ADMIN", kind: "x" } },
      { event: { id: "2", audience: "org-a:VIEWER", kind: "y" } },
      { event: { id: "2", audience: "org-a:VIEWER" } },
    ]);
    await Promise.all(streams.map((s) => s.return?.()));
  });

  it("leaves variables used only in the subscription field's arguments out of the key", async () => {
    const w = world();
    const RESUMED = `subscription Resumed($after: String, $kind: String) { event(after: $after, kind: $kind) { id audience } }`;
    const streams = [
      iterator(await w.subscribe("org-a:VIEWER", RESUMED, { after: "1", kind: "x" })),
      iterator(await w.subscribe("org-a:VIEWER", RESUMED, { after: "7" })),
      iterator(await w.subscribe("org-a:VIEWER", RESUMED, {})),
      // $kind also selects below the root: subscribers with other values execute on their own.
      iterator(await w.subscribe("org-a:VIEWER", QUERY, { kind: "x" })),
      iterator(await w.subscribe("org-a:VIEWER", QUERY, { kind: "y" })),
    ];
    const received = streams.map((s) => s.next());
    await untilListening(w, 5);
    w.publish({ id: "6" });
    const results = (await Promise.all(received)).map((r) => r.value as ExecutionResult);
    expect(w.executions()).toBe(3);
    expect(results.slice(0, 3).map((r) => r.data)).toEqual(Array(3).fill({ event: { id: "6", audience: "org-a:VIEWER" } }));
    expect(results.slice(3).map((r) => r.data)).toEqual([
      { event: { id: "6", audience: "org-a:VIEWER", kind: "x" } },
      { event: { id: "6", audience: "org-a:VIEWER", kind: "y" } },
    ]);
    await Promise.all(streams.map((s) => s.return?.()));
  });

  it("tells a variable left out (its default applies) from one given as null", async () => {
    const w = world();
    const DEFAULTED = `subscription Defaulted($kind: String = "default") { event { id kind(kind: $kind) } }`;
    const streams = [
      iterator(await w.subscribe("org-a:VIEWER", DEFAULTED, {})),
      iterator(await w.subscribe("org-a:VIEWER", DEFAULTED, { kind: null })),
      iterator(await w.subscribe("org-a:VIEWER", DEFAULTED, { kind: "default" })),
    ];
    const received = streams.map((s) => s.next());
    await untilListening(w, 3);
    w.publish({ id: "3" });
    const results = (await Promise.all(received)).map((r) => (r.value as ExecutionResult).data);
    expect(results).toEqual([
      { event: { id: "3", kind: "default" } },
      { event: { id: "3", kind: null } },
      { event: { id: "3", kind: "default" } },
    ]);
    expect(w.executions()).toBe(3);
    await Promise.all(streams.map((s) => s.return?.()));
  });

  it("shares nothing without an audience, nor between distinct event objects", async () => {
    const w = world();
    const streams = [iterator(await w.subscribe(null, QUERY)), iterator(await w.subscribe(null, QUERY))];
    const received = streams.map((s) => s.next());
    await untilListening(w, 2);
    w.publish({ id: "3" });
    await Promise.all(received);
    expect(w.executions()).toBe(2);

    await Promise.all(streams.map((s) => s.return?.()));

    const shared = [iterator(await w.subscribe("org-a:VIEWER", QUERY)), iterator(await w.subscribe("org-a:VIEWER", QUERY))];
    const firstTwo = shared.map(async (s) => [await s.next(), await s.next()]);
    await untilListening(w, 2);
    // Equal content, different objects (as each subscriber's own history is): not shared with each other.
    w.publish({ id: "4" });
    w.publish({ id: "4" });
    await Promise.all(firstTwo);
    // Two events, each executed once for both subscribers.
    expect(w.executions()).toBe(2 + 2);
    await Promise.all(shared.map((s) => s.return?.()));
  });

  it("keeps subscribe-time errors per subscriber", async () => {
    const w = world();
    const failed = await w.subscribe("org-a:VIEWER", QUERY, { kind: "missing" });
    expect(Symbol.asyncIterator in failed).toBe(false);
    expect((failed as ExecutionResult).errors?.[0]?.message).toBe("no such kind");
    const ok = iterator(await w.subscribe("org-a:VIEWER", QUERY, { kind: "x" }));
    const next = ok.next();
    await untilListening(w, 1);
    w.publish({ id: "5" });
    expect((await next).value).toEqual({ data: { event: { id: "5", audience: "org-a:VIEWER", kind: "x" } } });
    await ok.return?.();
  });

  it("stops listening when an idle subscriber leaves", async () => {
    const w = world();
    const stream = iterator(await w.subscribe("org-a:VIEWER", QUERY));
    const pending = stream.next();
    await untilListening(w, 1);
    await stream.return?.();
    await untilListening(w, 0);
    expect((await pending).done).toBe(true);
  });

  it("hands one event's results out a few subscribers per turn of the event loop, each subscriber's events in order", async () => {
    const w = world({ deliveriesPerTurn: 3 });
    const streams = await Promise.all(Array.from({ length: 10 }, async () => iterator(await w.subscribe("org-a:VIEWER", QUERY))));
    const received: string[][] = streams.map(() => []);
    const reading = streams.map(async (stream, i) => {
      for (let n = 0; n < 2; n++) received[i].push((await stream.next()).value.data.event.id);
    });
    await untilListening(w, 10);
    w.publish({ id: "1" });
    w.publish({ id: "2" });
    const counts: number[] = [];
    while (received.some((ids) => ids.length < 2)) {
      await new Promise((resolve) => setImmediate(resolve));
      counts.push(received.reduce((sum, ids) => sum + ids.length, 0));
    }
    await Promise.all(reading);
    // 20 results, at most 3 more after each turn.
    expect(counts.length).toBeGreaterThanOrEqual(7);
    for (const [turn, count] of counts.entries()) expect(count - (counts[turn - 1] ?? 0)).toBeLessThanOrEqual(3);
    for (const ids of received) expect(ids).toEqual(["1", "2"]);
    expect(w.executions()).toBe(2);
    await Promise.all(streams.map((s) => s.return?.()));
  });

  it("hands nothing to a subscriber that left while its result waited for its turn", async () => {
    const w = world({ deliveriesPerTurn: 1 });
    const first = iterator(await w.subscribe("org-a:VIEWER", QUERY));
    const second = iterator(await w.subscribe("org-a:VIEWER", QUERY));
    const firstNext = first.next();
    const secondNext = second.next();
    await untilListening(w, 2);
    w.publish({ id: "1" });
    expect((await firstNext).value).toMatchObject({ data: { event: { id: "1" } } });
    // The second subscriber's result waits for the next turn; the subscriber completes meanwhile.
    expect(await second.return?.()).toEqual({ done: true, value: undefined });
    expect(await secondNext).toEqual({ done: true, value: undefined });
    await first.return?.();
  });

  it("closes a stream whose event fails to execute, and the subscription stops counting", async () => {
    const w = world({
      aroundEvent: (_context, execute) => (w.failing ? Promise.reject(new Error("execution failed")) : execute()),
    }) as ReturnType<typeof world> & { failing?: boolean };
    const stream = iterator(await w.subscribe("org-a:VIEWER", QUERY));
    expect(w.open()).toBe(1);
    const first = stream.next();
    await untilListening(w, 1);
    w.publish({ id: "1" });
    expect((await first).value).toMatchObject({ data: { event: { id: "1" } } });
    w.failing = true;
    const second = stream.next();
    w.publish({ id: "2" });
    // Masked by yoga, as any unexpected error.
    await expect(second).rejects.toThrow();
    await untilListening(w, 0);
    await expect.poll(() => w.open()).toBe(0);
  });

  it("stops counting a subscription whose stream ends from the source's side, or which the subscriber leaves", async () => {
    const w = world({ deliveriesPerTurn: 2 });
    const ended = iterator(await w.subscribe("org-a:VIEWER", QUERY));
    const left = iterator(await w.subscribe("org-a:VIEWER", QUERY));
    expect(w.open()).toBe(2);
    const pending = ended.next();
    const leaving = left.next();
    await untilListening(w, 2);
    await left.return?.();
    expect((await leaving).done).toBe(true);
    expect(w.open()).toBe(1);
    w.end();
    expect((await pending).done).toBe(true);
    expect(w.open()).toBe(0);
  });
});

describe("DeliveryTurns", () => {
  it("releases its waiters in arrival order, at most so many per turn of the event loop", async () => {
    const turns = new DeliveryTurns(2);
    const order: number[] = [];
    const all = [0, 1, 2, 3, 4].map((n) => turns.take().then(() => order.push(n)));
    expect(turns.pending).toBe(5);
    await Promise.resolve();
    expect(order).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([0, 1]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([0, 1, 2, 3]);
    await Promise.all(all);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(turns.pending).toBe(0);
    // Empty again, it starts over: a later waiter has its turn in the next one.
    let later = false;
    void turns.take().then(() => {
      later = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(later).toBe(true);
  });

  it("releases fewer per turn while busy, and always some: the deliveries go on however busy", async () => {
    let busy = true;
    const turns = new DeliveryTurns(4, 1, () => busy);
    const order: number[] = [];
    const all = Array.from({ length: 10 }, (_, n) => turns.take().then(() => order.push(n)));
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    await turn();
    expect(order).toEqual([0]);
    await turn();
    expect(order).toEqual([0, 1]);
    busy = false;
    await turn();
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    await Promise.all(all);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("keeps only the waiters not yet released while the queue never empties", async () => {
    const turns = new DeliveryTurns(100);
    const held = (turns as unknown as { waiting: unknown[] }).waiting;
    let released = 0;
    // Each turn 100 leave and 100 new ones arrive: the queue stays 300 long for 50 turns.
    for (let i = 0; i < 300; i++) void turns.take().then(() => released++);
    for (let turn = 0; turn < 50; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
      for (let i = 0; i < 100; i++) void turns.take().then(() => released++);
      expect(turns.pending).toBeLessThanOrEqual(300);
      expect(held.length).toBeLessThanOrEqual(1_024 + 300);
    }
    while (turns.pending > 0) await new Promise((resolve) => setImmediate(resolve));
    expect(released).toBe(5_300);
  });
});

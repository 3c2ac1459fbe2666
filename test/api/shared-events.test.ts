import { Repeater } from "@repeaterjs/repeater";
import { type ExecutionResult, GraphQLError, GraphQLID, GraphQLObjectType, GraphQLSchema, GraphQLString } from "graphql";
import { createYoga } from "graphql-yoga";
import { describe, expect, it } from "vitest";
import { useSharedEventExecution } from "../../src/server/shared-events.js";

/**
 * The shared execution of live events (src/server/shared-events.ts) on a yoga instance of its own:
 * a schema whose subscription resolver counts its executions and whose fields read the audience
 * from the context, so a result given to the wrong audience would show.
 */
interface Context {
  audience: string | null;
}

function world() {
  const listeners = new Set<(event: object) => void>();
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
              await stop;
              listeners.delete(push);
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
  const yoga = createYoga<Context>({
    schema,
    plugins: [useSharedEventExecution({ audienceOf: (context) => (context as Context).audience, filterOnlyFields: new Set(["event"]) })],
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
});

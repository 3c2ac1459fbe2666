import { describe, expect, it } from "vitest";
import { EventHub } from "../../../src/events/hub.js";
import { TokenBuckets } from "../../../src/services/rate.js";
import { ReadQueue } from "../../../src/services/read-queue.js";
import { BEHIND_AT_MOST, eventStream } from "../../../src/services/sync-stream.js";

const actor = { organizationId: "org", tokenId: "token", role: "VIEWER", name: "dashboard" } as const;

/** A hub that counts its listeners. */
function countingHub() {
  const hub = new EventHub();
  let listening = 0;
  const listen = hub.listen.bind(hub);
  hub.listen = ((topic: never, handler: never) => {
    listening++;
    const stop = listen(topic, handler);
    return () => {
      listening--;
      stop();
    };
  }) as typeof hub.listen;
  return { hub, listening: () => listening };
}

/** A stored history of `count` events, numbered from 1. */
const history = (count: number) => ({
  topic: "sync:org" as const,
  history: async (after: number, limit: number) =>
    Array.from({ length: Math.max(0, Math.min(limit, count - after)) }, (_, i) => ({ seq: after + i + 1 })),
  matches: () => true,
  readKey: "all",
  filteredOn: [],
});

describe("a resumed subscription's history", () => {
  it("lets go at once of a subscriber that leaves while it waits for the history rate, and gives back its share", async () => {
    const { hub, listening } = countingHub();
    // 10 at once, then 10 a second: the first slice of history waits seconds.
    const rate = new TokenBuckets(10, 10);
    const stream = eventStream(hub, new ReadQueue(1, 1), rate, actor, history(300), 0);
    const first = stream.next();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(listening()).toBeGreaterThan(0);
    const started = performance.now();
    await stream.return?.(undefined);
    await first;
    expect(listening()).toBe(0);
    expect(performance.now() - started).toBeLessThan(500);
    // What it had taken ahead is back: the next taker does not wait behind it.
    expect(rate.wait("org")).toBe(0);
  });

  it("delivers a page a slice at a time, with turns of the event loop between", async () => {
    const { hub } = countingHub();
    const stream = eventStream(hub, new ReadQueue(1, 1), new TokenBuckets(10_000, 10_000), actor, history(500), 0);
    let turns = 0;
    let turning = true;
    const turn = () => {
      turns++;
      if (turning) setImmediate(turn);
    };
    setImmediate(turn);
    const seqs: number[] = [];
    for await (const event of stream) {
      seqs.push(event.seq);
      if (seqs.length === 500) break;
    }
    turning = false;
    expect(seqs).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    // 500 events in slices of 50: other work ran between the slices.
    expect(turns).toBeGreaterThanOrEqual(9);
  });
});

describe("live events while history catches up", () => {
  it("keeps a bounded number, reads the rest from history, and delivers each event once and in order", async () => {
    const { hub } = countingHub();
    // The store: 150 events at first (a full page of 100, then a short one); every live event is
    // stored before it is published.
    const stored: { seq: number }[] = Array.from({ length: 150 }, (_, i) => ({ seq: i + 1 }));
    const store = {
      ...history(0),
      history: async (after: number, limit: number) => stored.filter((event) => event.seq > after).slice(0, limit),
    };
    // 50 at once, then 100 a second: each later slice of 50 waits half a second.
    const earlyAtMost = 5;
    const stream = eventStream(hub, new ReadQueue(1, 1), new TokenBuckets(50, 100), actor, store, 0, () => {}, earlyAtMost);
    const received: number[] = [];
    let hundredth: () => void = () => {};
    const atHundred = new Promise<void>((resolve) => {
      hundredth = resolve;
    });
    const reading = (async () => {
      for await (const event of stream) {
        received.push(event.seq);
        if (event.seq === 100) hundredth();
        if (event.seq === 170) break;
      }
    })();
    // The last (short) page of history is read and waits for the rate: 20 live events come then,
    // more than the stream keeps.
    await atHundred;
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (let seq = 151; seq <= 170; seq++) {
      stored.push({ seq });
      hub.publish("sync:org", { seq } as never);
    }
    await Promise.race([reading, new Promise((resolve) => setTimeout(resolve, 3_000))]);
    expect(received).toEqual(Array.from({ length: 170 }, (_, i) => i + 1));
    await stream.return?.(undefined);
  });
});

describe("a live subscriber that does not keep up", () => {
  const live = {
    topic: "sync:org" as const,
    history: async (): Promise<{ seq: number }[]> => [],
    matches: () => true,
    readKey: "all",
    filteredOn: [],
  };

  it("ends its own stream after what it holds, and every other subscriber still gets every event in order", async () => {
    const { hub, listening } = countingHub();
    const rate = new TokenBuckets(10_000, 10_000);
    const slow = eventStream(hub, new ReadQueue(1, 1), rate, actor, live, undefined);
    const reader = eventStream(hub, new ReadQueue(1, 1), rate, actor, live, undefined);
    // Both listening (a Repeater starts on its first next()).
    const slowFirst = slow.next();
    const received: number[] = [];
    const reading = (async () => {
      for await (const event of reader) {
        received.push(event.seq);
        if (event.seq === 3_000) break;
      }
    })();
    await new Promise((resolve) => setImmediate(resolve));
    expect(listening()).toBe(2 * 2);
    for (let seq = 1; seq <= 3_000; seq++) {
      hub.publish("sync:org", { seq } as never);
      if (seq % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await reading;
    expect(received).toEqual(Array.from({ length: 3_000 }, (_, i) => i + 1));
    // The slow one gets what it held, in order, then its end; it resumes after the last it saw.
    const held: number[] = [(await slowFirst).value.seq];
    for await (const event of slow) held.push(event.seq);
    expect(held).toEqual(Array.from({ length: held.length }, (_, i) => i + 1));
    expect(held.length).toBeGreaterThanOrEqual(BEHIND_AT_MOST - 1);
    expect(held.length).toBeLessThanOrEqual(BEHIND_AT_MOST + 1);
    expect(listening()).toBe(0);
  });
});

describe("the event hub", () => {
  it("gives an event to every listener when one throws, and reports what it threw", () => {
    const errors: unknown[] = [];
    const hub = new EventHub((error) => errors.push(error));
    const got: string[] = [];
    hub.listen("gone:x", () => got.push("first"));
    hub.listen("gone:x", () => {
      throw new Error("broken listener");
    });
    hub.listen("gone:x", () => got.push("third"));
    hub.publish("gone:x", true);
    expect(got).toEqual(["first", "third"]);
    expect(errors).toHaveLength(1);
    // Without a reporter, the error is thrown once every listener has had the event.
    const bare = new EventHub();
    const after: string[] = [];
    bare.listen("gone:y", () => {
      throw new Error("broken listener");
    });
    bare.listen("gone:y", () => after.push("second"));
    expect(() => bare.publish("gone:y", true)).toThrow("broken listener");
    expect(after).toEqual(["second"]);
  });
});

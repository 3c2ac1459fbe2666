import { describe, expect, it } from "vitest";
import { EventHub } from "../../../src/events/hub.js";
import { TokenBuckets } from "../../../src/services/rate.js";
import { ReadQueue } from "../../../src/services/read-queue.js";
import { eventStream } from "../../../src/services/sync-stream.js";

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

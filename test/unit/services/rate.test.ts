import { describe, expect, it } from "vitest";
import { TokenBuckets } from "../../../src/services/rate.js";

describe("token buckets", () => {
  it("gives a full bucket at once, then makes takers wait in order for the refill", async () => {
    const buckets = new TokenBuckets(10, 200);
    const started = performance.now();
    await buckets.take("a", 10);
    expect(performance.now() - started).toBeLessThan(20);
    const order: string[] = [];
    const first = buckets.take("a", 10).then(() => order.push("first"));
    const second = buckets.take("a", 10).then(() => order.push("second"));
    await Promise.all([first, second]);
    // 20 tokens at 200 a second: about 100 ms.
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
    expect(order).toEqual(["first", "second"]);
  });

  it("keeps keys apart and forgets a bucket once it is full again", async () => {
    const buckets = new TokenBuckets(5, 1_000);
    await buckets.take("a", 5);
    const started = performance.now();
    await buckets.take("b", 5);
    expect(performance.now() - started).toBeLessThan(20);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(buckets.size).toBe(0);
  });

  it("lets a taker that gives up go at once and puts back what it took, so the taker behind waits less", async () => {
    const buckets = new TokenBuckets(10, 100);
    await buckets.take("a", 10);
    const leaving = new AbortController();
    const started = performance.now();
    // 50 tokens ahead: half a second.
    const left = buckets.take("a", 50, leaving.signal);
    leaving.abort();
    await left;
    expect(performance.now() - started).toBeLessThan(50);
    // Only its own 5 tokens to wait for: about 50 ms, not 550.
    await buckets.take("a", 5);
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(40);
    expect(waited).toBeLessThan(400);
  });

  it("puts back no more than makes the bucket full", async () => {
    const buckets = new TokenBuckets(10, 1);
    expect(buckets.charge("a", -100)).toBe(10);
  });
});

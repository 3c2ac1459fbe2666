import { describe, expect, it, vi } from "vitest";
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

  it("makes the takers already waiting behind a taker that gives up due sooner by what it put back, still in order", async () => {
    const buckets = new TokenBuckets(10, 100);
    await buckets.take("a", 10);
    const leaving = new AbortController();
    const started = performance.now();
    const order: string[] = [];
    // 50 tokens ahead (half a second), then two takers of 5 behind it: due at 550 and 600 ms.
    const left = buckets.take("a", 50, leaving.signal);
    const first = buckets.take("a", 5).then(() => order.push(`first ${Math.round(performance.now() - started)}`));
    const second = buckets.take("a", 5).then(() => order.push(`second ${Math.round(performance.now() - started)}`));
    await new Promise((resolve) => setTimeout(resolve, 20));
    leaving.abort();
    await Promise.all([left, first, second]);
    // Without the 50 they wait for their own 5 and 10: about 50 and 100 ms.
    const [firstMs, secondMs] = order.map((entry) => Number(entry.split(" ")[1]));
    expect(order.map((entry) => entry.split(" ")[0])).toEqual(["first", "second"]);
    expect(firstMs).toBeGreaterThanOrEqual(40);
    expect(secondMs).toBeGreaterThanOrEqual(90);
    expect(secondMs).toBeLessThan(400);
  });

  it("keeps one timer per key however often it is charged, and forgets each bucket once it is full again", () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    try {
      const buckets = new TokenBuckets(10, 100);
      // A flood of refusals charges one token's bucket a thousand times.
      for (let i = 0; i < 1_000; i++) buckets.charge("a", 1);
      buckets.charge("b", 1);
      expect([vi.getTimerCount(), buckets.size]).toEqual([2, 2]);
      // "b" was one below full: 10 ms. "a"'s timer, set when it was one below, finds it still short and is set again.
      vi.advanceTimersByTime(100);
      expect([vi.getTimerCount(), buckets.size]).toEqual([1, 1]);
      // "a" was 1,000 below: 10 s at 100 a second.
      vi.advanceTimersByTime(9_800);
      expect(buckets.size).toBe(1);
      vi.advanceTimersByTime(300);
      expect([vi.getTimerCount(), buckets.size]).toEqual([0, 0]);
      // Longer than Node keeps a timeout (2^31 - 1 ms; a longer one fires after 1 ms): one timer,
      // set for the longest; a bucket taken by NaN is forgotten at once.
      new TokenBuckets(100, 10).charge("years", 3e7);
      expect(vi.getTimerCount()).toBe(1);
      const before = performance.now();
      vi.advanceTimersToNextTimer();
      expect(performance.now() - before).toBe(2 ** 31 - 1);
      expect(vi.getTimerCount()).toBe(1);
      vi.clearAllTimers();
      const odd = new TokenBuckets(10, 100);
      odd.charge("n", Number.NaN);
      expect([odd.size, vi.getTimerCount()]).toEqual([0, 0]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("puts back no more than makes the bucket full", async () => {
    const buckets = new TokenBuckets(10, 1);
    expect(buckets.charge("a", -100)).toBe(10);
  });
});

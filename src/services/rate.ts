/** The longest delay `setTimeout` keeps: 2^31 − 1 ms (about 24.8 days). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A taker waiting for its reservation to be covered by the refill. */
interface Waiter {
  /** When the bucket will hold what it took (performance.now() time). */
  readyAt: number;
  timer?: NodeJS.Timeout;
  done: () => void;
}

/**
 * Token buckets by key. A bucket starts full (`capacity`) and refills at `perSecond`. `take` waits
 * until the bucket holds what is taken (a take larger than what is left reserves it ahead, so later
 * takers wait behind it, in order; a taker that gives up puts back what it took, and every taker
 * waiting behind it is due that much sooner); `charge` takes without waiting, and `wait` tells how
 * long until a bucket holds one again. A bucket full again is forgotten: idle keys hold nothing.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** Per key, the takers waiting, in the order they reserved. */
  private readonly waiters = new Map<string, Waiter[]>();
  /** Per key with a bucket not full, the timer that forgets it once full. */
  private readonly forgetting = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
  ) {}

  /**
   * Resolves once `amount` is taken from the key's bucket: at once while it holds enough. When
   * `signal` aborts first (the taker left), it resolves then and puts the amount back, so that
   * takers behind it do not wait for what nobody uses.
   */
  async take(key: string, amount: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return;
    const tokens = this.charge(key, amount);
    if (tokens >= 0) return;
    await new Promise<void>((resolve) => {
      const queue = this.waiters.get(key) ?? [];
      this.waiters.set(key, queue);
      const waiter: Waiter = {
        readyAt: performance.now() + (-tokens / this.perSecond) * 1000,
        done: () => {
          clearTimeout(waiter.timer);
          signal?.removeEventListener("abort", gaveUp);
          const index = queue.indexOf(waiter);
          if (index >= 0) queue.splice(index, 1);
          if (queue.length === 0 && this.waiters.get(key) === queue) this.waiters.delete(key);
          resolve();
        },
      };
      const gaveUp = () => {
        const before = this.refilled(key).tokens;
        const returnedMs = ((this.charge(key, -amount) - before) / this.perSecond) * 1000;
        // Those who reserved after it waited for its tokens too: each is due that much sooner.
        for (const behind of queue.slice(queue.indexOf(waiter) + 1)) {
          behind.readyAt -= returnedMs;
          this.schedule(behind);
        }
        waiter.done();
      };
      queue.push(waiter);
      this.schedule(waiter);
      signal?.addEventListener("abort", gaveUp, { once: true });
    });
  }

  /** Takes `amount` at once, even below empty (a negative amount puts back, up to full); returns what the bucket holds then. */
  charge(key: string, amount: number): number {
    const bucket = this.refilled(key);
    bucket.tokens = Math.min(this.capacity, bucket.tokens - amount);
    this.buckets.set(key, bucket);
    if (!this.forgetting.has(key)) this.forgetWhenFull(key);
    return bucket.tokens;
  }

  /** Seconds until the key's bucket holds at least one: 0 while it does. */
  wait(key: string): number {
    if (!this.buckets.has(key)) return 0;
    const { tokens } = this.refilled(key);
    return tokens >= 1 ? 0 : (1 - tokens) / this.perSecond;
  }

  /** Keys with a bucket that is not full (for tests and diagnostics). */
  get size(): number {
    return this.buckets.size;
  }

  private schedule(waiter: Waiter) {
    clearTimeout(waiter.timer);
    waiter.timer = setTimeout(waiter.done, Math.max(0, waiter.readyAt - performance.now()));
  }

  private refilled(key: string) {
    const now = performance.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.capacity, at: now };
    bucket.tokens = Math.min(this.capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    return bucket;
  }

  /**
   * Forgets the key's bucket once it is full again: one timer per key, however often it is charged
   * (a flood of refusals charges a token's bucket thousands of times a second), set again for what
   * is left when the bucket was charged in between.
   */
  private forgetWhenFull(key: string) {
    const bucket = this.buckets.has(key) ? this.refilled(key) : undefined;
    // Not below full (a bucket taken by NaN is never below anything): forgotten.
    if (!bucket || !(bucket.tokens < this.capacity)) {
      this.buckets.delete(key);
      this.forgetting.delete(key);
      return;
    }
    // At most the longest timeout Node keeps (a longer one fires after 1 ms); set again when it fires.
    const ms = Math.min(MAX_TIMEOUT_MS, ((this.capacity - bucket.tokens) / this.perSecond) * 1000 + 1);
    const timer = setTimeout(() => this.forgetWhenFull(key), ms);
    this.forgetting.set(key, timer.unref());
  }
}

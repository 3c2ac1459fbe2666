/**
 * Token buckets by key. A bucket starts full (`capacity`) and refills at `perSecond`. `take` waits
 * until the bucket holds what is taken (a take larger than what is left reserves it ahead, so later
 * takers wait behind it, in order; a taker that gives up puts back what it took); `charge` takes
 * without waiting, and `wait` tells how long until a bucket holds one again. A bucket full again is
 * forgotten: idle keys hold nothing.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

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
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", gaveUp);
        resolve();
      };
      const gaveUp = () => {
        this.charge(key, -amount);
        done();
      };
      const timer = setTimeout(done, (-tokens / this.perSecond) * 1000);
      signal?.addEventListener("abort", gaveUp, { once: true });
    });
  }

  /** Takes `amount` at once, even below empty (a negative amount puts back, up to full); returns what the bucket holds then. */
  charge(key: string, amount: number): number {
    const bucket = this.refilled(key);
    bucket.tokens = Math.min(this.capacity, bucket.tokens - amount);
    this.buckets.set(key, bucket);
    setTimeout(() => this.forgetIfFull(key), ((this.capacity - bucket.tokens) / this.perSecond) * 1000 + 1).unref();
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

  private refilled(key: string) {
    const now = performance.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.capacity, at: now };
    bucket.tokens = Math.min(this.capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    return bucket;
  }

  private forgetIfFull(key: string) {
    if (this.buckets.has(key) && this.refilled(key).tokens >= this.capacity) this.buckets.delete(key);
  }
}

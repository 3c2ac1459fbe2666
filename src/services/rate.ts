/**
 * Token buckets by key: `take` waits until the key's bucket holds what is taken. A bucket starts
 * full (`capacity`) and refills at `perSecond`; a take larger than what is left reserves it ahead,
 * so later takers wait behind it, in order.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
  ) {}

  /** Resolves once `amount` is taken from the key's bucket: at once while it holds enough. */
  async take(key: string, amount: number): Promise<void> {
    const now = performance.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.capacity, at: now };
    bucket.tokens = Math.min(this.capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond) - amount;
    bucket.at = now;
    this.buckets.set(key, bucket);
    // Forgotten once full again: an idle key holds nothing.
    setTimeout(() => this.forgetIfFull(key), (this.capacity - bucket.tokens) / this.perSecond * 1000 + 1).unref();
    if (bucket.tokens < 0) await new Promise((resolve) => setTimeout(resolve, (-bucket.tokens / this.perSecond) * 1000));
  }

  /** Keys with a bucket that is not full (for tests and diagnostics). */
  get size(): number {
    return this.buckets.size;
  }

  private forgetIfFull(key: string) {
    const bucket = this.buckets.get(key);
    if (!bucket) return;
    const tokens = bucket.tokens + ((performance.now() - bucket.at) / 1000) * this.perSecond;
    if (tokens >= this.capacity) this.buckets.delete(key);
  }
}

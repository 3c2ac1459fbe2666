/**
 * Runs reads at most `perKey` at a time per key and `total` at a time in all, in arrival order
 * (a waiting read of a key with room is never held up by reads of a busy key). Used for the history
 * a resumed subscription reads: a thousand resumes of one organization take one connection at a
 * time and leave the pool, and the other organizations' history, to everyone else.
 */
export class ReadQueue {
  private readonly running = new Map<string, number>();
  private runningTotal = 0;
  private readonly waiting: { key: string; start: () => void }[] = [];

  constructor(
    private readonly perKey: number,
    private readonly total: number,
  ) {}

  async run<T>(key: string, read: () => Promise<T>): Promise<T> {
    // A waiting read is started with its room already taken (see startWaiting).
    if (this.hasRoom(key)) this.take(key);
    else await new Promise<void>((start) => this.waiting.push({ key, start }));
    try {
      return await read();
    } finally {
      const left = (this.running.get(key) ?? 1) - 1;
      if (left > 0) this.running.set(key, left);
      else this.running.delete(key);
      this.runningTotal--;
      this.startWaiting();
    }
  }

  /** Reads waiting for room (for tests and diagnostics). */
  get queued(): number {
    return this.waiting.length;
  }

  private hasRoom(key: string): boolean {
    return this.runningTotal < this.total && (this.running.get(key) ?? 0) < this.perKey;
  }

  private take(key: string) {
    this.running.set(key, (this.running.get(key) ?? 0) + 1);
    this.runningTotal++;
  }

  private startWaiting() {
    for (let i = 0; i < this.waiting.length && this.runningTotal < this.total; i++) {
      const next = this.waiting[i];
      if ((this.running.get(next.key) ?? 0) >= this.perKey) continue;
      this.waiting.splice(i, 1);
      this.take(next.key);
      next.start();
      i--;
    }
  }
}

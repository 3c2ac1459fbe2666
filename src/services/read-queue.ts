import { addTablesRead, trackingTablesRead } from "../db/read-tracking.js";

/** A read waiting for room, and how many callers still want its result. */
interface Waiting {
  key: string;
  callers: number;
  start: () => void;
}

/**
 * Runs reads at most `perKey` at a time per key and `total` at a time in all, in arrival order
 * (a waiting read of a key with room is never held up by reads of a busy key). Used for the history
 * a resumed subscription reads: a thousand resumes of one organization take one connection at a
 * time and leave the pool, and the other organizations' history, to everyone else.
 */
export class ReadQueue {
  private readonly running = new Map<string, number>();
  private runningTotal = 0;
  private readonly waiting: Waiting[] = [];
  /** Reads that wait, by key and share, with the tables they read: a later identical read joins them. */
  private readonly sharedWaiting = new Map<string, Waiting & { result: Promise<unknown>; tables: Set<string> }>();

  constructor(
    private readonly perKey: number,
    private readonly total: number,
  ) {}

  /**
   * Runs `read` when there is room. With `share`, a read that has to wait joins an identical one
   * (same key and share) that is still waiting, and gets its result: that read starts after both
   * asked, so the joined result is as fresh as its own would have been. When `signal` aborts (the
   * caller left), the caller's promise rejects with its reason at once, and a read still waiting
   * that no caller wants any more leaves the queue without running.
   */
  run<T>(key: string, read: () => Promise<T>, share?: string, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.hasRoom(key)) {
      this.take(key);
      return this.execute(key, read);
    }
    const shareKey = share === undefined ? undefined : `${key}\u0000${share}`;
    const joined = shareKey === undefined ? undefined : this.sharedWaiting.get(shareKey);
    if (joined) {
      joined.callers++;
      // The read runs for the caller that started it: its tables are the joiner's too (what the
      // response cache keeps the joiner's response for, src/db/read-tracking.ts).
      const result = joined.result.then((value) => {
        addTablesRead(joined.tables);
        return value as T;
      });
      return this.leavable(result, joined, shareKey, signal);
    }
    const tables = new Set<string>();
    const waiting: Waiting = { key, callers: 1, start: () => {} };
    // Started with its room already taken (see startWaiting).
    const result = new Promise<void>((start) => {
      waiting.start = start;
      this.waiting.push(waiting);
    }).then(() => {
      if (shareKey !== undefined) this.sharedWaiting.delete(shareKey);
      return this.execute(key, () => trackingTablesRead(tables, read));
    });
    if (shareKey !== undefined) this.sharedWaiting.set(shareKey, Object.assign(waiting, { result, tables }));
    return this.leavable(result, waiting, shareKey, signal);
  }

  /** The caller's promise of a waiting read: rejects when its signal aborts; the last caller to leave takes the read out of the queue. */
  private leavable<T>(result: Promise<T>, waiting: Waiting, shareKey: string | undefined, signal: AbortSignal | undefined): Promise<T> {
    if (!signal) return result;
    return new Promise<T>((resolve, reject) => {
      const leave = () => {
        waiting.callers--;
        const index = this.waiting.indexOf(waiting);
        if (waiting.callers === 0 && index >= 0) {
          this.waiting.splice(index, 1);
          if (shareKey !== undefined) this.sharedWaiting.delete(shareKey);
        }
        reject(signal.reason);
      };
      signal.addEventListener("abort", leave, { once: true });
      result.then(
        (value) => {
          signal.removeEventListener("abort", leave);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener("abort", leave);
          reject(error);
        },
      );
    });
  }

  /** Reads waiting for room (for tests and diagnostics). */
  get queued(): number {
    return this.waiting.length;
  }

  private async execute<T>(key: string, read: () => Promise<T>): Promise<T> {
    try {
      // A turn of the event loop first: on the embedded database a read runs in this thread, and
      // reads started one after the other would otherwise hold it without a break.
      await new Promise<void>((resolve) => setImmediate(resolve));
      return await read();
    } finally {
      const left = (this.running.get(key) ?? 1) - 1;
      if (left > 0) this.running.set(key, left);
      else this.running.delete(key);
      this.runningTotal--;
      this.startWaiting();
    }
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

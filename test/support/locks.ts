import { type SQL, sql } from "drizzle-orm";
import { type Db, rowsOf } from "../../src/db/client.js";
import { testDatabase } from "./database.js";

/*
 * Forced interleavings for the races on PostgreSQL: the test holds a lock from a transaction of its
 * own, starts the competitors one by one until each is blocked behind it (or done), then lets go —
 * so every competitor was inside its transaction at once, in a known order, and the locks alone
 * decide the outcome.
 */

/** Runs a statement in a transaction of its own on the test's pool and keeps it open (its locks held) until released. */
export async function holdOpen(statement: SQL): Promise<{ pid: number; release(): Promise<void> }> {
  const { db } = await testDatabase();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let started!: (pid: number) => void;
  const pid = new Promise<number>((resolve) => (started = resolve));
  const done = db.transaction(async (tx) => {
    await tx.execute(statement);
    started(rowsOf<{ pid: number }>(await tx.execute(sql`select pg_backend_pid() as pid`))[0].pid);
    await gate;
  });
  return {
    pid: await pid,
    release: () => {
      release();
      return done;
    },
  };
}

/** A call whose settling is known (for counting the competitors that are done). */
export function track<T>(promise: Promise<T>): { promise: Promise<T>; done: () => boolean } {
  let settled = false;
  const tracked = promise.finally(() => {
    settled = true;
  });
  return { promise: tracked, done: () => settled };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until `count` of the calls are finished or blocked — behind the test's process `pid` or,
 * transitively, behind a process blocked by it: then every one of them is inside its transaction.
 * Only this test worker's sessions count: another worker's, blocked behind a table lock the test
 * holds, is not one of the calls.
 */
export async function waitForBlockedOrDone(pid: number, count: number, calls: { done: () => boolean }[]): Promise<void> {
  const { db } = await testDatabase();
  for (let attempt = 0; attempt < 400; attempt++) {
    const waiting = rowsOf<{ pid: number; blockers: number[]; ours: boolean }>(
      await db.execute(
        sql`select pid, pg_blocking_pids(pid) as blockers, application_name = current_setting('application_name') as ours
          from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`,
      ),
    );
    const behind = new Set([pid]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const w of waiting) {
        if (!behind.has(w.pid) && w.blockers.some((b) => behind.has(b))) {
          behind.add(w.pid);
          grew = true;
        }
      }
    }
    const ours = waiting.filter((w) => w.ours && w.pid !== pid && behind.has(w.pid)).length;
    if (ours + calls.filter((c) => c.done()).length >= count) return;
    await pause(25);
  }
  throw new Error(`fewer than ${count} competitors ever got blocked behind process ${pid}`);
}

/**
 * Runs the competitors while the test holds `hold`: each starts once the ones before it are blocked
 * (or done), and the test lets go once all of them are.
 */
export async function heldWhile<R>(hold: SQL, competitors: (() => Promise<R>)[]): Promise<R[]> {
  const held = await holdOpen(hold);
  const started: { promise: Promise<R>; done: () => boolean }[] = [];
  try {
    for (const competitor of competitors) {
      started.push(track(competitor()));
      await waitForBlockedOrDone(held.pid, started.length, started);
    }
  } finally {
    await held.release();
  }
  return Promise.all(started.map((s) => s.promise));
}

/**
 * Runs `write` in a transaction of the test's that first takes `lock`, then starts `read` and, once
 * `read` is blocked behind that transaction (or done), commits it: what `read` read before it was
 * blocked is the state before the write, what it reads after is the state after it. PostgreSQL only.
 */
export async function readAcrossWrite<T>(lock: SQL, write: (tx: Db) => Promise<void>, read: () => Promise<T>): Promise<T> {
  const { db } = await testDatabase();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let started!: (pid: number) => void;
  let failed!: (error: unknown) => void;
  const pid = new Promise<number>((resolve, reject) => {
    started = resolve;
    failed = reject;
  });
  const writer = db
    .transaction(async (transaction) => {
      const tx = transaction as unknown as Db;
      await tx.execute(lock);
      await write(tx);
      started(rowsOf<{ pid: number }>(await tx.execute(sql`select pg_backend_pid() as pid`))[0].pid);
      await gate;
    })
    .catch((error) => {
      failed(error);
      throw error;
    });
  try {
    const held = await pid;
    const during = track(read());
    await waitForBlockedOrDone(held, 1, [during]);
    release();
    await writer;
    return await during.promise;
  } finally {
    release();
    await writer.catch(() => undefined);
  }
}

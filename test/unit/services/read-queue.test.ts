import { describe, expect, it } from "vitest";
import { noteStatement, trackingTablesRead } from "../../../src/db/read-tracking.js";
import { ReadQueue } from "../../../src/services/read-queue.js";

/** A read that finishes when told to, recording that it started. */
function controlled(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const read = async () => {
    log.push(name);
    await done;
    return name;
  };
  return { read, finish };
}

/**
 * Lets every started read reach its body. A read starts after a setImmediate turn (see
 * ReadQueue.execute), queued once the microtasks before it have run: a timer first drains those
 * microtasks, then an immediate queued after it runs after the read's. A timer alone raced the
 * read's immediate on a loaded machine.
 */
const settle = async () => {
  await new Promise((resolve) => setTimeout(resolve, 0));
  await new Promise((resolve) => setImmediate(resolve));
};

describe("the read queue", () => {
  it("runs one read at a time per key, in arrival order", async () => {
    const queue = new ReadQueue(1, 10);
    const log: string[] = [];
    const [a, b, c] = ["a1", "a2", "a3"].map((n) => controlled(log, n));
    const results = [queue.run("a", a.read), queue.run("a", b.read), queue.run("a", c.read)];
    await settle();
    expect(log).toEqual(["a1"]);
    a.finish();
    await settle();
    expect(log).toEqual(["a1", "a2"]);
    b.finish();
    c.finish();
    expect(await Promise.all(results)).toEqual(["a1", "a2", "a3"]);
    expect(queue.queued).toBe(0);
  });

  it("lets another key's read pass a busy key's queue, up to the total", async () => {
    const queue = new ReadQueue(1, 2);
    const log: string[] = [];
    const reads = ["a1", "a2", "a3", "b1", "c1"].map((n) => ({ n, ...controlled(log, n) }));
    const results = reads.map(({ n, read }) => queue.run(n[0], read));
    await settle();
    expect(log).toEqual(["a1", "b1"]);
    expect(queue.queued).toBe(3);
    reads.find((r) => r.n === "b1")!.finish();
    await settle();
    expect(log).toEqual(["a1", "b1", "c1"]);
    for (const r of reads) r.finish();
    await Promise.all(results);
    expect(log).toEqual(["a1", "b1", "c1", "a2", "a3"]);
  });

  it("frees the room of a read that failed", async () => {
    const queue = new ReadQueue(1, 1);
    await expect(queue.run("a", () => Promise.reject(new Error("lost")))).rejects.toThrow("lost");
    expect(await queue.run("a", async () => "next")).toBe("next");
  });
});

describe("shared reads", () => {
  it("joins a waiting read with the same share, and never a running one", async () => {
    const queue = new ReadQueue(1, 1);
    const log: string[] = [];
    const running = controlled(log, "running");
    const first = queue.run("a", running.read, "page-1");
    const waiting = controlled(log, "waiting");
    const second = queue.run("a", waiting.read, "page-1");
    const joiner = queue.run("a", controlled(log, "joiner").read, "page-1");
    const other = controlled(log, "other");
    const third = queue.run("a", other.read, "page-2");
    running.finish();
    await settle();
    waiting.finish();
    await settle();
    other.finish();
    expect(await Promise.all([first, second, joiner, third])).toEqual(["running", "waiting", "waiting", "other"]);
    expect(log).toEqual(["running", "waiting", "other"]);
  });

  it("gives a joiner the tables the read it joined named, as the response cache needs", async () => {
    const queue = new ReadQueue(1, 1);
    const running = controlled([], "running");
    const first = queue.run("a", running.read);
    const starterTables = new Set<string>();
    const joinerTables = new Set<string>();
    const starter = trackingTablesRead(starterTables, () =>
      queue.run(
        "a",
        async () => {
          noteStatement(`select "hash" from "journey_heads"`);
          return "shared";
        },
        "diff",
      ),
    );
    const joiner = trackingTablesRead(joinerTables, () => queue.run("a", async () => "never run", "diff"));
    running.finish();
    expect(await Promise.all([first, starter, joiner])).toEqual(["running", "shared", "shared"]);
    expect([...starterTables]).toEqual(["journey_heads"]);
    expect([...joinerTables]).toEqual(["journey_heads"]);
  });
});

describe("callers that leave", () => {
  it("takes a waiting read out of the queue once every caller of it has left, and runs the next", async () => {
    const queue = new ReadQueue(1, 1);
    const log: string[] = [];
    const running = controlled(log, "running");
    const first = queue.run("a", running.read);
    const starter = new AbortController();
    const joiner = new AbortController();
    const left = queue.run("a", controlled(log, "left").read, "page-1", starter.signal);
    const joined = queue.run("a", controlled(log, "left").read, "page-1", joiner.signal);
    const next = controlled(log, "next");
    const after = queue.run("a", next.read);
    starter.abort(new Error("gone"));
    await expect(left).rejects.toThrow("gone");
    // One caller still wants it: it stays.
    expect(queue.queued).toBe(2);
    joiner.abort(new Error("gone too"));
    await expect(joined).rejects.toThrow("gone too");
    expect(queue.queued).toBe(1);
    running.finish();
    await settle();
    next.finish();
    expect(await Promise.all([first, after])).toEqual(["running", "next"]);
    expect(log).toEqual(["running", "next"]);
  });

  it("gives the others their result when one caller of a shared read leaves", async () => {
    const queue = new ReadQueue(1, 1);
    const running = controlled([], "running");
    const first = queue.run("a", running.read);
    const leaving = new AbortController();
    const shared = controlled([], "shared");
    const starter = queue.run("a", shared.read, "page-1", leaving.signal);
    const joiner = queue.run("a", async () => "never run", "page-1", new AbortController().signal);
    leaving.abort(new Error("gone"));
    await expect(starter).rejects.toThrow("gone");
    running.finish();
    await settle();
    shared.finish();
    expect(await Promise.all([first, joiner])).toEqual(["running", "shared"]);
  });

  it("refuses at once a caller that has already left", async () => {
    const queue = new ReadQueue(1, 1);
    const left = new AbortController();
    left.abort(new Error("gone"));
    let ran = false;
    await expect(
      queue.run(
        "a",
        async () => {
          ran = true;
        },
        undefined,
        left.signal,
      ),
    ).rejects.toThrow("gone");
    expect(ran).toBe(false);
  });
});

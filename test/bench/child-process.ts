/**
 * A bench helper in a process of its own (a timing client, the soak's subscribers), asked over its
 * IPC channel one request at a time: `startChild` in the bench, `answerParent` in the child (the same
 * module, forked). Each answer is `{ value }` or `{ error }`.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface Child {
  /** Sends `request` once the requests before it are answered; resolves with the answer's value. */
  ask<T>(request: unknown): Promise<T>;
  /** Ends the process (SIGTERM) and resolves once it has exited. */
  stop(): Promise<void>;
  /** Whether it is still running. */
  readonly running: boolean;
}

/** Forks `moduleUrl` (a module that calls `answerParent`), under tsx as this process is or compiled (`npm run bench`). */
export function startChild(moduleUrl: string, label: string): Child {
  const child: ChildProcess = fork(fileURLToPath(moduleUrl), [], {
    execArgv: moduleUrl.endsWith(".ts") ? ["--import", "tsx"] : [],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let queue: Promise<unknown> = Promise.resolve();
  return {
    ask<T>(request: unknown): Promise<T> {
      const answer = queue.then(
        () =>
          new Promise<T>((resolve, reject) => {
            const onMessage = (message: { value?: T; error?: string }) => {
              child.off("exit", onExit);
              if (message.error !== undefined) reject(new Error(`${label}: ${message.error}`));
              else resolve(message.value as T);
            };
            const onExit = (code: number | null) => {
              child.off("message", onMessage);
              reject(new Error(`${label} exited with ${code}`));
            };
            child.once("message", onMessage);
            child.once("exit", onExit);
            child.send(request as object);
          }),
      );
      queue = answer.catch(() => {});
      return answer;
    },
    get running() {
      return child.exitCode === null && child.signalCode === null;
    },
    async stop() {
      if (this.running) child.kill("SIGTERM");
      await exited;
    },
  };
}

/**
 * In the forked module (`moduleUrl` is its own `import.meta.url`): answers each request from the
 * parent with `answer`'s value, and exits when the parent goes. Does nothing in a module that was
 * imported rather than forked.
 */
export function answerParent<R>(moduleUrl: string, answer: (request: R) => Promise<unknown>): void {
  if (!process.send || process.argv[1] !== fileURLToPath(moduleUrl)) return;
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(1);
  }, 1_000).unref();
  process.on("disconnect", () => process.exit(0));
  process.on("message", (request: R) => {
    answer(request).then(
      (value) => process.send!({ value: value ?? null }),
      (error: unknown) => process.send!({ error: String(error) }),
    );
  });
}

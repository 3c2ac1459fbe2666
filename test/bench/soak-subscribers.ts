/**
 * The soak's subscribers (soak.bench.ts) in a process of their own: one graphql-ws client (one
 * connection, one subscription) per subscriber, and what each received, by cursor.
 *
 * Why a process: the soak's 500 subscribers receive thousands of notifications a second, each parsed
 * and checked by graphql-ws's client. In the bench's own process they held the event loop that sends
 * the timed operations and reads their responses — tens of milliseconds after each write (~340
 * notifications at once) — and that wait was counted as the server's (docs/performance.md, 2026-12-06
 * thirteenth session). As latency-client.ts does for the attack bench, the timing client's thread
 * now does nothing else.
 *
 * The parent (`startSubscribers`) asks, the child answers, over the IPC channel: open them, how many
 * received (and errors), the delivery lags, and which notifications each was owed and got.
 */
import { type Client, createClient } from "graphql-ws";
import { WebSocket } from "ws";
import { answerParent, startChild } from "./child-process.js";

export type Filter = { env?: string; app?: string };

/** A committed notification, with what subscribers filter on. */
export interface Committed {
  cursor: string;
  app: string;
  env: string;
}

export interface OpenCommand {
  wsUrl: string;
  token: string;
  count: number;
  /** Subscribers opened at once. */
  concurrency: number;
  query: string;
  /** A third listen to the whole organization, a third to `staging`, a third to one application each. */
  staging: string;
  applications: string[];
  errorSamples: number;
}

export interface SubscriberStatus {
  total: number;
  duplicates: number;
  /** Subscriptions that ended with an error or completed, and connections closed under them. */
  errors: number;
  completed: number;
  closed: number;
  lagCount: number;
  errorSamples: string[];
  /** CPU time of the subscribers' process so far, ms. */
  cpuMs: number;
}

export interface Tally {
  expectedTotal: number;
  missing: number;
  unexpected: number;
}

type Request =
  | { op: "open"; command: OpenCommand }
  | { op: "status" }
  | { op: "lags"; from: number }
  | { op: "expected"; list: Committed[] }
  | { op: "tally"; list: Committed[] }
  | { op: "close" };

interface NotificationEvent {
  syncStatusChanged: { cursor: string; occurredAt: string };
}

class Subscribers {
  private readonly filters: Filter[] = [];
  private readonly received: Set<string>[] = [];
  private readonly clients: Client[] = [];
  /** From the notification's `occurredAt` (its transaction's time) to its receipt, ms, in the order received. */
  private readonly lags: number[] = [];
  private total = 0;
  private duplicates = 0;
  private errors = 0;
  private completed = 0;
  private closed = 0;
  private readonly errorSamples: string[] = [];
  private closing = false;
  private command!: OpenCommand;

  private filterOf(index: number): Filter {
    const { applications, staging } = this.command;
    if (index % 3 === 0) return {};
    if (index % 3 === 1) return { env: staging };
    return { app: applications[Math.floor(index / 3) % applications.length] };
  }

  async open(command: OpenCommand): Promise<void> {
    this.command = command;
    let next = 0;
    const worker = async () => {
      while (next < command.count) await this.openOne(next++);
    };
    await Promise.all(Array.from({ length: Math.min(command.concurrency, command.count) }, worker));
  }

  private openOne(index: number): Promise<void> {
    const filter = this.filterOf(index);
    const received = new Set<string>();
    this.filters[index] = filter;
    this.received[index] = received;
    return new Promise<void>((resolve, reject) => {
      const client = createClient({
        url: this.command.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${this.command.token}` },
        lazy: false,
        retryAttempts: 0,
        on: {
          connected: () => resolve(),
          closed: (event) => {
            if (this.closing) return;
            this.closed++;
            this.sample(`connection ${index} closed: ${(event as { code?: number }).code}`);
            reject(new Error(`subscriber ${index} could not connect`));
          },
        },
      });
      this.clients[index] = client;
      client.subscribe<NotificationEvent>(
        { query: this.command.query, variables: filter },
        {
          next: (value) => {
            const at = Date.now();
            const event = value.data?.syncStatusChanged;
            if (value.errors || !event) {
              this.errors++;
              this.sample(`subscriber ${index}: ${JSON.stringify(value).slice(0, 300)}`);
              return;
            }
            this.total++;
            if (received.has(event.cursor)) this.duplicates++;
            received.add(event.cursor);
            this.lags.push(at - Date.parse(event.occurredAt));
          },
          error: (error) => {
            this.errors++;
            this.sample(`subscriber ${index} error: ${JSON.stringify(error).slice(0, 300)}`);
          },
          complete: () => {
            if (!this.closing) this.completed++;
          },
        },
      );
    });
  }

  private sample(text: string): void {
    if (this.errorSamples.length < this.command.errorSamples) this.errorSamples.push(text);
  }

  status(): SubscriberStatus {
    const cpu = process.cpuUsage();
    return {
      total: this.total,
      duplicates: this.duplicates,
      errors: this.errors,
      completed: this.completed,
      closed: this.closed,
      lagCount: this.lags.length,
      errorSamples: this.errorSamples,
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
  }

  lagsFrom(from: number): number[] {
    return this.lags.slice(from);
  }

  /** For each subscriber, the cursors its filter matches. */
  private expected(list: Committed[]): string[][] {
    return this.filters.map((filter) =>
      list.filter((n) => (!filter.env || n.env === filter.env) && (!filter.app || n.app === filter.app)).map((n) => n.cursor),
    );
  }

  expectedTotal(list: Committed[]): number {
    return this.expected(list).reduce((sum, cursors) => sum + cursors.length, 0);
  }

  tally(list: Committed[]): Tally {
    let missing = 0;
    let unexpected = 0;
    const expected = this.expected(list);
    expected.forEach((cursors, index) => {
      const wanted = new Set(cursors);
      const got = this.received[index];
      for (const cursor of wanted) if (!got.has(cursor)) missing++;
      for (const cursor of got) if (!wanted.has(cursor)) unexpected++;
    });
    return { expectedTotal: expected.reduce((sum, cursors) => sum + cursors.length, 0), missing, unexpected };
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.clients.map((client) => client.dispose()));
  }
}

export interface SubscribersProcess {
  open(command: OpenCommand): Promise<void>;
  status(): Promise<SubscriberStatus>;
  lagsFrom(from: number): Promise<number[]>;
  expectedTotal(list: Committed[]): Promise<number>;
  tally(list: Committed[]): Promise<Tally>;
  /** Closes the subscribers and ends the process. */
  stop(): Promise<void>;
}

/** Starts the subscribers' process; its requests are answered one at a time, in order. */
export function startSubscribers(): SubscribersProcess {
  const child = startChild(import.meta.url, "the subscribers' process");
  const ask = <T>(request: Request) => child.ask<T>(request);
  return {
    open: (command) => ask({ op: "open", command }),
    status: () => ask({ op: "status" }),
    lagsFrom: (from) => ask({ op: "lags", from }),
    expectedTotal: (list) => ask({ op: "expected", list }),
    tally: (list) => ask({ op: "tally", list }),
    async stop() {
      if (child.running) await ask({ op: "close" }).catch(() => {});
      await child.stop();
    },
  };
}

// In the child: answer the parent's requests.
let subscribers: Subscribers | undefined;
answerParent<Request>(import.meta.url, async (request) => {
  subscribers ??= new Subscribers();
  switch (request.op) {
    case "open":
      return subscribers.open(request.command);
    case "status":
      return subscribers.status();
    case "lags":
      return subscribers.lagsFrom(request.from);
    case "expected":
      return subscribers.expectedTotal(request.list);
    case "tally":
      return subscribers.tally(request.list);
    case "close":
      return subscribers.close();
  }
});

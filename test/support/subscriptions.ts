import { type Client, createClient as createWsClient } from "graphql-ws";
import WebSocket from "ws";

/** Collects the events of one subscription, to await them one by one. */
export interface Collector<T = any> {
  events: T[];
  /** Resolves when `count` events arrived in all, or rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<T[]>;
  /** Resolves when the subscription completed (the server ended it). */
  completed: Promise<void>;
  stop(): Promise<void>;
}

function collector<T>(stop: () => Promise<void>): Collector<T> & { push(event: T): void; complete(): void; fail(error: unknown): void } {
  const events: T[] = [];
  const waiters: { count: number; resolve: (events: T[]) => void }[] = [];
  let complete!: () => void;
  let fail!: (error: unknown) => void;
  const completed = new Promise<void>((resolve, reject) => {
    complete = resolve;
    fail = reject;
  });
  completed.catch(() => {});
  return {
    events,
    completed,
    stop,
    complete: () => complete(),
    fail: (error) => fail(error),
    push(event) {
      events.push(event);
      for (const waiter of waiters.filter((w) => events.length >= w.count)) waiter.resolve(events.slice(0, waiter.count));
    },
    waitFor(count, timeoutMs = 10_000) {
      if (events.length >= count) return Promise.resolve(events.slice(0, count));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`got ${events.length} of ${count} events: ${JSON.stringify(events)}`)), timeoutMs);
        waiters.push({
          count,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
        });
      });
    },
  };
}

const connected = new WeakMap<Client, Promise<void>>();

export function wsClient(wsEndpoint: string, token: string): Client {
  let resolve!: () => void;
  const ready = new Promise<void>((r) => (resolve = r));
  const client = createWsClient({
    url: wsEndpoint,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    on: { connected: () => resolve(), closed: () => resolve() },
  });
  connected.set(client, ready);
  return client;
}

/** A subscription over graphql-ws; resolves once the server has started it (acknowledged and subscribed). */
export async function subscribeWs<T = any>(client: Client, query: string, variables: Record<string, unknown> = {}): Promise<Collector<T>> {
  let unsubscribe = () => {};
  const c = collector<T>(async () => unsubscribe());
  unsubscribe = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => (value.errors ? c.fail(new Error(JSON.stringify(value.errors))) : c.push(value.data as T)),
      error: (error) => c.fail(error),
      complete: () => c.complete(),
    },
  );
  await connected.get(client);
  // Give the server a moment to register the subscription after the subscribe message.
  await new Promise((r) => setTimeout(r, 150));
  return c;
}

/** A subscription over server-sent events (graphql-yoga's built-in transport). */
export async function subscribeSse<T = any>(
  endpoint: string,
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Collector<T>> {
  const abort = new AbortController();
  const c = collector<T>(async () => abort.abort());
  const response = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: abort.signal,
  });
  if (!response.ok || !response.body) throw new Error(`SSE refused: ${response.status}`);
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
          const data = block
            .split("\n")
            .filter((line) => line.startsWith("data:"))
            .map((line) => line.slice(5).trim())
            .join("\n");
          if (event === "complete") c.complete();
          else if (data) {
            const value = JSON.parse(data);
            if (value.errors) c.fail(new Error(JSON.stringify(value.errors)));
            else c.push(value.data);
          }
        }
      }
      c.complete();
    } catch (error) {
      if (!abort.signal.aborted) c.fail(error);
    }
  })();
  await new Promise((r) => setTimeout(r, 150));
  return c;
}

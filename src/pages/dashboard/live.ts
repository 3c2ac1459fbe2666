import { createClient as createSseClient } from "graphql-sse";
import { createClient as createWsClient } from "graphql-ws/client";
import { GRAPHQL_PATH } from "./http.js";
import { PROMOTION_REQUEST_CHANGED, SYNC_STATUS_CHANGED, type SyncNotification } from "./operations.js";

export type Transport = "WebSocket" | "SSE";

export interface LiveHandlers {
  /** A notification, in cursor order (replayed ones first after a reconnect). */
  sync(notification: SyncNotification): void;
  /** A promotion request changed status. */
  requestChanged(): void;
  /** Connected (again): what is not resumable by cursor (the side lists) should be read again. */
  connected(transport: Transport): void;
  /** The connection is down; `retryInMs` until the next attempt. */
  reconnecting(retryInMs: number, reason: string): void;
  /** The server refused the token. */
  unauthorized(): void;
}

export interface Live {
  /** Tries again now, without waiting for the back-off (the network is back, the tab is visible again). */
  retryNow(): void;
  stop(): void;
}

/** How a connection ended. */
interface Ending {
  /** Whether it was ever established (acknowledged, or the stream open). */
  connected: boolean;
  unauthorized: boolean;
  reason: string;
}

/** No ping answered within this long after it was sent: the socket is dead (a laptop woke up, a proxy dropped it). */
const PONG_TIMEOUT_MS = 5_000;
const PING_EVERY_MS = 10_000;
/** The server sends an SSE comment every 12 s: nothing for this long means the stream is dead. */
const SSE_SILENCE_MS = 30_000;
/** WebSocket attempts that never connect before the SSE transport is used instead (a proxy that blocks WebSockets). */
const WEBSOCKET_ATTEMPTS = 2;

/** Back-off before attempt `n` (0 after a connection that worked): 0.5 s doubling to 10 s, with jitter. */
function backoff(attempt: number): number {
  const base = Math.min(10_000, 500 * 2 ** attempt);
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

/**
 * The dashboard's live connection: `syncStatusChanged` and `promotionRequestChanged` over graphql-ws, or over
 * GraphQL over SSE (graphql-sse, distinct connections) when WebSockets never get through. Reconnects are ours, not
 * the clients': each new connection subscribes with `after` set to the last cursor received, so the server replays
 * exactly what was missed while the connection was down (a laptop asleep, a network change, a server restart).
 */
export function startLive(token: string, after: string, handlers: LiveHandlers): Live {
  /** The last cursor received: what the next connection resumes after. */
  let cursor = after;
  let stopped = false;
  let transport: Transport = "WebSocket";
  let webSocketEverConnected = false;
  let failedWebSocketAttempts = 0;
  let endCurrent: (() => void) | undefined;
  let wake: (() => void) | undefined;
  const authorization = `Bearer ${token}`;

  const onSync = (data: unknown) => {
    const notification = (data as { syncStatusChanged?: SyncNotification } | null)?.syncStatusChanged;
    if (!notification) return;
    cursor = notification.cursor;
    handlers.sync(notification);
  };

  function overWebSocket(end: (ending: Ending) => void): () => void {
    let connected = false;
    let pongTimer: ReturnType<typeof setTimeout> | undefined;
    let socket: WebSocket | undefined;
    const url = new URL(GRAPHQL_PATH, location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const client = createWsClient({
      url: url.href,
      connectionParams: { authorization },
      lazy: true,
      retryAttempts: 0,
      keepAlive: PING_EVERY_MS,
      on: {
        opened: (opened) => {
          socket = opened as WebSocket;
        },
        connected: () => {
          connected = true;
          webSocketEverConnected = true;
          failedWebSocketAttempts = 0;
          handlers.connected("WebSocket");
        },
        ping: (received) => {
          if (!received) pongTimer = setTimeout(() => socket?.close(4408, "No pong"), PONG_TIMEOUT_MS);
        },
        pong: (received) => {
          if (received) clearTimeout(pongTimer);
        },
        closed: (event) => {
          const code = (event as CloseEvent | undefined)?.code;
          finish(code === 4401 || code === 4403, code ? `closed (${code})` : "closed");
        },
        error: () => finish(false, "connection error"),
      },
    });
    const sink = (next: (data: unknown) => void) => ({
      next: (result: { data?: unknown; errors?: readonly { message: string; extensions?: { code?: unknown } }[] }) => {
        if (result.errors?.length) {
          const error = result.errors[0];
          finish(refusesToken(error.extensions?.code), error.message);
        } else next(result.data);
      },
      error: (error: unknown) => finish(false, describe(error)),
      complete: () => finish(false, "ended by the server"),
    });
    const subscriptions = [
      client.subscribe({ query: SYNC_STATUS_CHANGED, variables: { after: cursor } }, sink(onSync)),
      client.subscribe(
        { query: PROMOTION_REQUEST_CHANGED },
        sink(() => handlers.requestChanged()),
      ),
    ];
    let finished = false;
    function finish(unauthorized: boolean, reason: string) {
      if (finished) return;
      finished = true;
      clearTimeout(pongTimer);
      for (const unsubscribe of subscriptions) unsubscribe();
      // Unsubscribed and disposed before graphql-ws would retry by itself, with the first subscription's `after`.
      // (Its promise rejects with the close event when the socket never connected: that is this very ending.)
      void Promise.resolve(client.dispose()).catch(() => {});
      end({ connected, unauthorized, reason });
    }
    return () => finish(false, "stopped");
  }

  function overSse(end: (ending: Ending) => void): () => void {
    let connected = false;
    let finished = false;
    const client = createSseClient({
      url: GRAPHQL_PATH,
      headers: { authorization },
      credentials: "omit",
      retryAttempts: 0,
      fetchFn: watchedFetch(() => finish(false, "the stream went silent")),
    });
    const sink = (next: (data: unknown) => void) => ({
      next: (result: { data?: unknown; errors?: readonly { message: string; extensions?: { code?: unknown } }[] }) => {
        if (result.errors?.length) {
          const error = result.errors[0];
          finish(refusesToken(error.extensions?.code), error.message);
        } else next(result.data);
      },
      error: (error: unknown) => {
        const status = (error as { response?: { status?: number } } | null)?.response?.status;
        finish(status === 401, describe(error));
      },
      complete: () => finish(false, "ended by the server"),
    });
    const subscriptions = [
      client.subscribe({ query: SYNC_STATUS_CHANGED, variables: { after: cursor } }, sink(onSync), {
        connected: () => {
          connected = true;
          handlers.connected("SSE");
        },
      }),
      client.subscribe(
        { query: PROMOTION_REQUEST_CHANGED },
        sink(() => handlers.requestChanged()),
      ),
    ];
    function finish(unauthorized: boolean, reason: string) {
      if (finished) return;
      finished = true;
      for (const unsubscribe of subscriptions) unsubscribe();
      client.dispose();
      end({ connected, unauthorized, reason });
    }
    return () => finish(false, "stopped");
  }

  void (async () => {
    let attempt = 0;
    while (!stopped) {
      const ending = await new Promise<Ending>((resolve) => {
        endCurrent = (transport === "WebSocket" ? overWebSocket : overSse)(resolve);
      });
      endCurrent = undefined;
      if (stopped) return;
      if (ending.unauthorized) {
        handlers.unauthorized();
        return;
      }
      let delay: number;
      if (transport === "WebSocket" && !ending.connected && !webSocketEverConnected) {
        // WebSockets that never got through: tried once more at once, then SSE at once.
        failedWebSocketAttempts++;
        if (failedWebSocketAttempts >= WEBSOCKET_ATTEMPTS) transport = "SSE";
        delay = 0;
      } else {
        attempt = ending.connected ? 0 : attempt + 1;
        delay = backoff(attempt);
      }
      handlers.reconnecting(delay, ending.reason);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  })();

  return {
    retryNow() {
      if (wake) wake();
    },
    stop() {
      stopped = true;
      endCurrent?.();
      wake?.();
    },
  };
}

/** An error that no reconnect can fix: the token is invalid, revoked, or may not read the dashboard. */
const refusesToken = (code: unknown) => code === "UNAUTHENTICATED" || code === "FORBIDDEN";

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "object" && error !== null && "code" in error) return `closed (${(error as { code: unknown }).code})`;
  return "connection lost";
}

/**
 * A fetch whose response body reports silence: graphql-sse cannot see the server's keep-alive comments, this can.
 * A stream that goes quiet for longer than the server's keep-alive interval is treated as dead.
 */
function watchedFetch(onSilence: () => void): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (!response.body || !response.headers.get("content-type")?.includes("text/event-stream")) return response;
    let timer = setTimeout(onSilence, SSE_SILENCE_MS);
    const watched = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          clearTimeout(timer);
          timer = setTimeout(onSilence, SSE_SILENCE_MS);
          controller.enqueue(chunk);
        },
        flush: () => clearTimeout(timer),
      }),
    );
    return new Response(watched, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

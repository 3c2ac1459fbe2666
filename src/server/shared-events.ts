import {
  type ASTNode,
  createSourceEventStream,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  getOperationAST,
  Kind,
  visit,
} from "graphql";
import type { Plugin } from "graphql-yoga";
import { hasLiveEvents, LIVE_EVENTS, type LiveEvents, type LiveSink } from "../events/live-events.js";
import { documentNumber, variablesKey } from "./document-number.js";

/**
 * Where an operation's root value (`ExecutionArgs.rootValue`) may carry how to send its `next`
 * messages straight to its subscriber (graphql-ws: src/server/websocket.ts): given a result's JSON,
 * sends it and returns true, or returns false when it cannot now (the socket closed, or its client
 * has not read what it was sent): the result then goes the way of every other (graphql-ws).
 */
export const SEND_DIRECTLY = Symbol("send directly");
export type SendDirectly = (resultJson: string) => boolean;

/**
 * Who a subscriber's results are for, as far as they can differ: two subscribers with the same
 * audience, document and variables get the same result for the same event. null: never shared.
 */
export type AudienceOf = (context: unknown) => string | null;

export interface SharedEventOptions {
  /** Whom a subscriber's results are for. */
  audienceOf: AudienceOf;
  /**
   * Subscription fields whose arguments only choose which events arrive (they are read when
   * subscribing) and never change how an event resolves: variables used nowhere but in those
   * arguments are left out of the key, so dashboards that resumed from different cursors, or
   * filter differently, still share.
   */
  filterOnlyFields?: ReadonlySet<string>;
  /**
   * The context an event executes with, made from a subscriber's: whatever is per event (fresh
   * loaders) goes here. The subscriber's own context is never changed.
   */
  contextOfEvent?: (context: unknown, event: object) => unknown;
  /** Runs an event's execution (e.g. within a budget), given its context. */
  aroundEvent?: (context: unknown, execute: () => Promise<ExecutionResult>) => Promise<ExecutionResult>;
  /** Subscribers handed their result per turn of the event loop (DeliveryTurns); 0: all at once. */
  deliveriesPerTurn?: number;
  /**
   * Whether requests are under way: while they are, a turn hands out at most
   * `deliveriesPerTurnWhileBusy` results (DeliveryTurns).
   */
  busy?: () => boolean;
  deliveriesPerTurnWhileBusy?: number;
  /**
   * Results written straight to a subscriber's socket (`SEND_DIRECTLY`), per turn of the event
   * loop, and while `busy()`: a direct delivery costs a fifth of one through the iterator.
   */
  directDeliveriesPerTurn?: number;
  directDeliveriesPerTurnWhileBusy?: number;
}

/** Released waiters kept at the head of the queue at most, before they are dropped. */
const COMPACT_AFTER = 1_024;

/**
 * Turns of the event loop for handing results to subscribers: at most `perTurn` per turn, first come
 * first served. One event goes to hundreds of subscribers, each a message to send (~70 µs); handed
 * out at once, they hold the thread for tens of milliseconds, and a write under way waits that long
 * for each of its statements' answers. Between two turns the loop answers whatever I/O is ready
 * (statements' results, requests), so a write waits for one turn's deliveries at most.
 * While `busy()` (requests under way), a turn hands out at most `perTurnWhileBusy`: a request waits
 * for a turn at each of its steps (each statement's answer, its response), so the turns are short
 * while anyone waits, and the deliveries go on between the steps — every turn hands some out, so
 * they never stop, however busy the server. Each subscriber still gets its events in order: it asks
 * for its next event only after it sent the last.
 */
export class DeliveryTurns {
  private readonly waiting: (() => void)[] = [];
  private next = 0;
  private scheduled = false;

  constructor(
    private readonly perTurn: number,
    private readonly perTurnWhileBusy = perTurn,
    private readonly busy: () => boolean = () => false,
  ) {}

  /** Resolves in a later turn of the event loop: the caller's turn. */
  take(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.release);
      }
    });
  }

  /** Waiters not yet released. */
  get pending(): number {
    return this.waiting.length - this.next;
  }

  private readonly release = () => {
    const end = Math.min(this.waiting.length, this.next + (this.busy() ? this.perTurnWhileBusy : this.perTurn));
    while (this.next < end) this.waiting[this.next++]();
    if (this.next < this.waiting.length) {
      // Under steady deliveries the queue may never empty: released waiters are dropped as they pile up.
      if (this.next >= COMPACT_AFTER) {
        this.waiting.splice(0, this.next);
        this.next = 0;
      }
      setImmediate(this.release);
      return;
    }
    this.waiting.length = 0;
    this.next = 0;
    this.scheduled = false;
  };
}

/**
 * The names of the variables an event's execution can depend on: every variable of the operation
 * but those used only in arguments of `filterOnlyFields` at its root.
 */
function variablesOfEvents(
  document: DocumentNode,
  operationName: string | null | undefined,
  filterOnlyFields: ReadonlySet<string>,
): string[] {
  const operation = getOperationAST(document, operationName);
  if (!operation) return [];
  const filters = new Set<ASTNode>();
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind === Kind.FIELD && filterOnlyFields.has(selection.name.value)) {
      for (const argument of selection.arguments ?? []) filters.add(argument);
    }
  }
  const names = new Set<string>();
  visit(document, {
    VariableDefinition: () => false,
    Argument: (node) => (filters.has(node) ? false : undefined),
    Variable: (node) => {
      names.add(node.name.value);
    },
  });
  return [...names].sort();
}

/**
 * The results of a stream's events, one after the other: each asked for only when the previous one
 * was taken, so a subscriber gets its events in order. A failed execution closes the stream. Once
 * the subscriber has left (`return`, as graphql-ws does on the client's `complete`), a result still
 * waiting for its turn is not handed over: nothing is sent for an operation after its completion
 * (its id may already name a new one). What `mapAsyncIterator` does, with two promises per event
 * instead of a chain of them: this runs once per subscriber per event.
 */
function resultsOf<E>(
  events: AsyncIterator<E>,
  resultOf: (event: E) => Promise<ExecutionResult>,
  /** Detached once the stream is over: the subscriber left, the events ended, or they failed. */
  direct: DirectSubscriber | undefined,
): AsyncIterableIterator<ExecutionResult> {
  let left = false;
  const end = () => direct?.detach(false);
  const done = (): IteratorResult<ExecutionResult> => ({ done: true, value: undefined });
  const close = (): Promise<IteratorResult<ExecutionResult>> => {
    left = true;
    end();
    return (events.return?.() ?? Promise.resolve()).then(done);
  };
  const next = (step: IteratorResult<E>): IteratorResult<ExecutionResult> | Promise<IteratorResult<ExecutionResult>> => {
    if (step.done) end();
    return step.done || left
      ? done()
      : resultOf(step.value).then(
          (value) => (left ? done() : { done: false, value }),
          (error: unknown) =>
            close().then(
              () => Promise.reject(error),
              () => Promise.reject(error),
            ),
        );
  };
  const failed = (error: unknown) => {
    end();
    return Promise.reject(error);
  };
  return {
    next: () => events.next().then(next, failed),
    return: close,
    throw: (error: unknown) => {
      if (!events.throw) return close().then(() => Promise.reject(error));
      left = true;
      end();
      return events.throw(error).then(next);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

function jsonOf(result: ExecutionResult): string | undefined {
  try {
    return JSON.stringify(result);
  } catch {
    return undefined;
  }
}

/**
 * Live events a direct subscriber holds at most while its channel executes the ones before them
 * (an execution that hangs, a read that waits long): past it, it gives them all back to its iterator
 * and uses only that from then on, whose stream ends past its own bound (BEHIND_AT_MOST,
 * src/services/sync-stream.ts) as before.
 */
export const DIRECT_HELD_AT_MOST = 1_000;

/** A subscriber whose live events a channel sends straight to its socket while it can. */
class DirectSubscriber implements LiveSink<object> {
  /** Live events taken and not yet sent or given back, oldest first. */
  readonly held: object[] = [];
  detached = false;
  live!: LiveEvents<object>;

  constructor(
    readonly args: ExecutionArgs,
    readonly send: SendDirectly,
    private readonly channel: Channel,
  ) {}

  /** A live event (LiveSink): queued on its channel, or past the bound, or once detached, its iterator's. */
  take(event: object): void {
    if (!this.detached && this.held.length >= DIRECT_HELD_AT_MOST) this.detach(true);
    if (this.detached) {
      this.live.fallback(event);
      return;
    }
    this.held.push(event);
    this.channel.enqueue(event, this);
  }

  /** The stream ends for a reason of its own (LiveSink): what it holds goes back first. */
  ending(): void {
    this.detach(true);
  }

  /**
   * Its turn for `event` (the oldest it holds): sent as `json` while nothing waits in its iterator
   * and its socket takes it, else given back to the iterator (which then delivers it, and the events
   * after it, in order). No JSON: the result goes the iterator's way (errors are masked and counted there).
   */
  deliver(event: object, json: string | undefined): void {
    if (this.detached) return;
    this.held.shift();
    if (json !== undefined && this.live.idle) {
      try {
        if (this.send(json)) return;
      } catch {
        // The socket failed under the write: the iterator's way reports it as every other send does.
      }
    }
    this.live.fallback(event);
  }

  /** Takes nothing more; what it holds goes back to the iterator when the stream ends for a reason of its own. */
  detach(giveBack: boolean): void {
    if (this.detached) return;
    this.detached = true;
    if (giveBack) for (const event of this.held) this.live.fallback(event);
    this.held.length = 0;
    this.channel.leave();
  }
}

/**
 * The live events of one key (audience, document, variables) for its direct subscribers, one event
 * after the other: the event's result is executed once (as for every subscriber), serialized once,
 * and written to each subscriber that takes it, a slice of them per turn of the event loop.
 */
class Channel {
  private readonly queue: { event: object; subscribers: DirectSubscriber[] }[] = [];
  private running = false;
  private members = 0;

  constructor(
    private readonly resultOf: (args: ExecutionArgs, event: object) => Promise<ExecutionResult>,
    private readonly turns: DeliveryTurns,
    private readonly slice: () => number,
    private readonly emptied: () => void,
  ) {}

  join(): void {
    this.members++;
  }

  leave(): void {
    this.members--;
    if (this.members === 0 && !this.running) this.emptied();
  }

  /** A subscriber's event, queued after everything queued before (the hub publishes one event to all its listeners at once). */
  enqueue(event: object, subscriber: DirectSubscriber): void {
    const last = this.queue[this.queue.length - 1];
    if (last?.event === event) last.subscribers.push(subscriber);
    else this.queue.push({ event, subscribers: [subscriber] });
    if (!this.running) void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const { event, subscribers } = this.queue[0];
        const first = subscribers.find((subscriber) => !subscriber.detached);
        let json: string | undefined;
        if (first) {
          // Executed a microtask later, not inside the hub's publishing: whatever it throws, it is
          // the iterator's to report (a failed execution closes the stream there).
          const result = await Promise.resolve()
            .then(() => this.resultOf(first.args, event))
            .catch(() => undefined);
          // A result with errors goes the iterator's way too (errors are masked and counted there).
          json = result && !result.errors ? jsonOf(result) : undefined;
        }
        for (let next = 0; next < subscribers.length; ) {
          await this.turns.take();
          for (const end = Math.min(subscribers.length, next + this.slice()); next < end; next++) subscribers[next].deliver(event, json);
        }
        this.queue.shift();
      }
    } finally {
      this.running = false;
      if (this.members === 0) this.emptied();
    }
  }
}

/**
 * One event, thousands of subscribers: an organization's dashboards subscribe with the same
 * document, and what an event resolves to depends only on the event, the document, the variables
 * the selection uses and the subscriber's audience (organization and role). So a live event is
 * executed once per such key and its result handed to every subscriber of that key, instead of one
 * execution per subscriber.
 *
 * Subscribing stays per subscriber (graphql-js's `createSourceEventStream`: arguments, scopes and
 * NOT_FOUND are checked for each). Only events that are the same object for several subscribers
 * share — a live event published once to all, and history pages that subscribers resuming alike
 * read together. Each execution gets the context `contextOfEvent` makes for the event (its own
 * loaders), so nothing is changed on a subscriber's context. Results are shared, never changed:
 * later hooks (error masking) make new ones. A result is kept as long as its event object lives,
 * so nothing outlives the event.
 */
export function useSharedEventExecution({
  audienceOf,
  filterOnlyFields = new Set(),
  contextOfEvent = (context) => context,
  aroundEvent = (_context, execute) => execute(),
  deliveriesPerTurn = 0,
  busy,
  deliveriesPerTurnWhileBusy = deliveriesPerTurn,
  directDeliveriesPerTurn = 256,
  directDeliveriesPerTurnWhileBusy = directDeliveriesPerTurn,
}: SharedEventOptions): Plugin {
  const turns = deliveriesPerTurn > 0 ? new DeliveryTurns(deliveriesPerTurn, deliveriesPerTurnWhileBusy, busy) : null;
  // One slice of direct deliveries per turn, its size chosen when the turn comes.
  const directTurns = new DeliveryTurns(1);
  const directSlice = () => (busy?.() ? directDeliveriesPerTurnWhileBusy : directDeliveriesPerTurn);
  const channels = new Map<string, Channel>();
  const results = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();
  /** Per document and operation: the variables its events depend on. */
  const variablesOf = new WeakMap<DocumentNode, Map<string, string[]>>();

  /**
   * What identifies the execution of an event for this subscriber, but for the event and audience:
   * null when no key tells its variables apart (it executes on its own). A variable left out (its
   * default applies) is not one given as null.
   */
  function operationKey({ document, operationName, variableValues }: ExecutionArgs): string | null {
    let byOperation = variablesOf.get(document);
    if (!byOperation) variablesOf.set(document, (byOperation = new Map()));
    let names = byOperation.get(operationName ?? "");
    if (!names) byOperation.set(operationName ?? "", (names = variablesOfEvents(document, operationName, filterOnlyFields)));
    const given = variableValues ?? {};
    const values = variablesKey(Object.fromEntries(names.filter((name) => Object.hasOwn(given, name)).map((name) => [name, given[name]])));
    return values === null ? null : `${documentNumber(document)}\u0000${operationName ?? ""}\u0000${values}`;
  }

  function executeShared(args: ExecutionArgs, key: string | null, event: unknown): Promise<ExecutionResult> {
    const run = () => {
      const contextValue =
        typeof event === "object" && event !== null ? contextOfEvent(args.contextValue, event) : { ...(args.contextValue as object) };
      return aroundEvent(contextValue, async () => (await execute({ ...args, rootValue: event, contextValue })) as ExecutionResult);
    };
    if (key === null || typeof event !== "object" || event === null) return run();
    let byKey = results.get(event);
    if (!byKey) results.set(event, (byKey = new Map()));
    let result = byKey.get(key);
    if (!result) byKey.set(key, (result = run()));
    return result;
  }

  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args) => {
        const stream = await createSourceEventStream(args);
        if (!(Symbol.asyncIterator in stream)) return stream;
        const audience = audienceOf(args.contextValue);
        const operation = audience === null ? null : operationKey(args);
        const key = operation === null ? null : `${audience}\u0000${operation}`;
        const events = stream[Symbol.asyncIterator]();
        const send = (args.rootValue as { [SEND_DIRECTLY]?: SendDirectly } | null | undefined)?.[SEND_DIRECTLY];
        let direct: DirectSubscriber | undefined;
        if (key !== null && send && hasLiveEvents(events)) {
          let channel = channels.get(key);
          if (!channel) {
            const made = new Channel(
              (args, event) => executeShared(args, key, event),
              directTurns,
              directSlice,
              () => channels.get(key) === made && channels.delete(key),
            );
            channels.set(key, (channel = made));
          }
          channel.join();
          direct = new DirectSubscriber(args, send, channel);
          direct.live = events[LIVE_EVENTS](direct);
        }
        return resultsOf(
          events,
          (event) => {
            const result = executeShared(args, key, event);
            return turns ? result.then((value) => turns.take().then(() => value)) : result;
          },
          direct,
        );
      });
    },
  };
}

/**
 * The stack's ceiling for the subscribers benchmark, in a process of its own: bare graphql-yoga +
 * graphql-ws on one port and path, wired as graphql-yoga's `examples/graphql-ws`, with a tiny schema
 * of its own. Its `publish` mutation publishes a ready-made notification straight to an in-process
 * pub/sub (graphql-yoga's `createPubSub` on an EventTarget without a listener limit), so an event
 * costs only what the stack costs: no database, no authentication, no per-event loaders. The
 * notification has the shape and size of ours, and subscribers select the same fields.
 *
 * Prints one JSON line (URLs) and serves a probe (`process-probe.ts`) on another port. Stops on
 * SIGTERM. Run with `--expose-gc`.
 */
import { setMaxListeners } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { useServer } from "graphql-ws/use/ws";
import { createPubSub, createSchema, createYoga } from "graphql-yoga";
import { WebSocketServer } from "ws";
import { announce, exitWithParent, startProbe } from "./process-probe.js";

interface Notification {
  id: string;
  cursor: string;
  status: "IN_SYNC" | "OUT_OF_SYNC";
  message: string;
  changeCount: number;
  occurredAt: string;
  application: { name: string };
  journey: { key: string };
  environment: { key: string };
  sourceEnvironment: { key: string };
}

/** Counts listeners, so that the bench can wait until every subscription is registered. */
class CountingEventTarget extends EventTarget {
  listeners = 0;
  override addEventListener(...args: Parameters<EventTarget["addEventListener"]>): void {
    this.listeners++;
    super.addEventListener(...args);
  }
  override removeEventListener(...args: Parameters<EventTarget["removeEventListener"]>): void {
    this.listeners--;
    super.removeEventListener(...args);
  }
}

const eventTarget = new CountingEventTarget();
setMaxListeners(0, eventTarget);
const pubSub = createPubSub<{ sync: [environmentId: string, notification: Notification] }>({ eventTarget });

let sequence = 0;

const schema = createSchema({
  typeDefs: /* GraphQL */ `
    type Query {
      ok: Boolean!
    }
    type Mutation {
      "Publishes a notification to the environment's subscribers; returns its cursor."
      publish(environmentId: ID!, status: String!): String!
    }
    type Subscription {
      syncStatusChanged(environmentId: ID!): SyncNotification!
    }
    type SyncNotification {
      id: ID!
      cursor: String!
      status: String!
      message: String!
      changeCount: Int!
      occurredAt: String!
      application: Application!
      journey: Journey
      environment: Environment!
      sourceEnvironment: Environment!
    }
    type Application {
      name: String!
    }
    type Journey {
      key: String!
    }
    type Environment {
      key: String!
    }
  `,
  resolvers: {
    Query: { ok: () => true },
    Mutation: {
      publish: (_root: unknown, args: { environmentId: string; status: "IN_SYNC" | "OUT_OF_SYNC" }) => {
        const cursor = String(++sequence);
        pubSub.publish("sync", args.environmentId, {
          id: `U3luY05vdGlmaWNhdGlvbjo${cursor}`,
          cursor,
          status: args.status,
          message: args.status === "OUT_OF_SYNC" ? "Journey Configuration out of Sync" : "Journey Configuration in Sync",
          changeCount: args.status === "OUT_OF_SYNC" ? 1 : 0,
          occurredAt: new Date().toISOString(),
          application: { name: "Customer Portal" },
          journey: { key: "login" },
          environment: { key: "staging" },
          sourceEnvironment: { key: "development" },
        });
        return cursor;
      },
    },
    Subscription: {
      syncStatusChanged: {
        subscribe: (_root: unknown, args: { environmentId: string }) => pubSub.subscribe("sync", args.environmentId),
        resolve: (notification: Notification) => notification,
      },
    },
  },
});

const yoga = createYoga({ schema, graphqlEndpoint: "/graphql", graphiql: false, logging: false });
const server = createServer(yoga);
const wsServer = new WebSocketServer({ server, path: "/graphql" });

useServer(
  {
    execute: (args) => (args.rootValue as { execute: typeof import("graphql").execute }).execute(args),
    subscribe: (args) => (args.rootValue as { subscribe: typeof import("graphql").subscribe }).subscribe(args),
    onSubscribe: async (ctx, _id, params) => {
      const {
        schema: envelopedSchema,
        execute,
        subscribe,
        contextFactory,
        parse,
        validate,
      } = yoga.getEnveloped({
        ...ctx,
        req: ctx.extra.request,
        socket: ctx.extra.socket,
        params,
      });
      const document = parse(params.query);
      const errors = validate(envelopedSchema, document);
      if (errors.length > 0) return errors;
      return {
        schema: envelopedSchema,
        operationName: params.operationName,
        document,
        variableValues: params.variables,
        contextValue: await contextFactory(),
        rootValue: { execute, subscribe },
      };
    },
  },
  wsServer,
);

await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const probeUrl = await startProbe(() => ({ subscribers: eventTarget.listeners }));

announce({ url: `${url}/graphql`, wsUrl: `${url.replace(/^http/, "ws")}/graphql`, probeUrl });

exitWithParent();
process.once("SIGTERM", () => {
  for (const client of wsServer.clients) client.terminate();
  wsServer.close();
  server.close(() => process.exit(0));
  server.closeAllConnections();
});

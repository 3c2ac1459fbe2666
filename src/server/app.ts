import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { EventHub } from "../events/hub.js";
import { startEventRelay } from "../events/relay.js";
import { createServices, type Keyring, type Services } from "../services/index.js";
import type { Admission } from "./admission.js";
import { loggableError } from "./error-log.js";
import { createGraphQLHandler, type GraphQLHandlerOptions } from "./graphql-handler.js";
import { MAX_WS_MESSAGE_BYTES } from "./limits.js";
import { ClosingResponse, refuseUnboundedBody } from "./request-body.js";
import { RequestsUnderWay } from "./requests-under-way.js";
import { startWebSocketServer } from "./websocket.js";

export type AppOptions = Omit<GraphQLHandlerOptions, "services" | "hub" | "path" | "busy"> & {
  /** What secrets are sealed and opened with (src/server/secret-keys.ts); default: a key of this process only, for tests. */
  keyring?: Keyring;
  /** What promotion requests expire by (default: the system clock): tests move it. */
  clock?: () => Date;
};

export interface App {
  server: Server;
  services: Services;
  /** Listens; resolves to the base URL (`http://host:port`). */
  start(port: number, host?: string): Promise<string>;
  /** Closes WebSockets, drains HTTP; the caller closes the database. */
  stop(): Promise<void>;
  /** Bundles the dashboard (or reads the built pages) now, rather than on its first request. */
  preparePages(): Promise<void>;
  /** Fairness between organizations under overload (src/server/admission.ts): whether it holds anyone now. */
  admission: Pick<Admission, "isOverloaded" | "waiting" | "of" | "stats">;
}

const GRAPHQL_PATH = "/graphql";
/** Longer than common load balancers' idle timeouts (60 s): the client or proxy closes an idle connection, not us. */
const KEEP_ALIVE_MS = 65_000;

/** The server: the use-cases, GraphQL over HTTP and over WebSocket on one port, and the event relay. */
export function createApp(options: AppOptions): App {
  const { database, logger } = options;
  const hub = new EventHub((error, topic) => logger.error({ err: loggableError(error), topic }, "an event listener failed"));
  const services = createServices(database.db, hub, options.keyring, { clock: options.clock, onlyWriter: database.kind === "pglite" });
  const requests = new RequestsUnderWay();
  const graphql = createGraphQLHandler({ ...options, services, hub, path: GRAPHQL_PATH, busy: () => requests.size > 0 });
  // An answer given before the request's body arrived closes the connection rather than drain the body.
  const server = createServer({ ServerResponse: ClosingResponse }, (request, response) => {
    requests.track(request, response);
    return refuseUnboundedBody(request, response) || graphql.yoga(request, response);
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 1_000;
  const webSockets = startWebSocketServer({
    server,
    path: GRAPHQL_PATH,
    maxPayload: MAX_WS_MESSAGE_BYTES,
    yoga: graphql.yoga,
    services,
    hub,
    logger,
    subscriptionsOpenOn: graphql.subscriptionCaps.openOn,
    maxSubscriptionsPerConnection: graphql.maxSubscriptionsPerConnection,
    throttle: graphql.throttle,
    documentToRun: graphql.documentToRun,
    admission: graphql.admission,
  });
  let stopRelay: (() => Promise<void>) | undefined;

  return {
    server,
    services,
    preparePages: graphql.preparePages,
    admission: graphql.admission,
    start: async (port, host = "0.0.0.0") => {
      // LISTEN starts with the server: an instance relays what every instance commits.
      stopRelay = await startEventRelay(database, hub, (error) => logger.error({ err: error }, "event relay failed"));
      return new Promise<string>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          const { port: bound } = server.address() as AddressInfo;
          resolve(`http://${host === "0.0.0.0" || host === "::" ? "localhost" : host}:${bound}`);
        });
      });
    },
    stop: async () => {
      await stopRelay?.();
      await webSockets.stop();
      graphql.closeEventStreams();
      graphql.admission.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      });
    },
  };
}

import { useGraphQlJit } from "@envelop/graphql-jit";
import { BREAK, type DocumentNode, Kind, visit } from "graphql";
import { createYoga, useReadinessCheck } from "graphql-yoga";
import type { Database } from "../db/client.js";
import type { EventHub } from "../events/hub.js";
import type { GraphQLContext } from "../graphql/context.js";
import { schema } from "../graphql/schema/index.js";
import type { Actor, Services } from "../services/index.js";
import { Admission, type AdmissionOptions } from "./admission.js";
import { useAuthentication } from "./authentication.js";
import { corsFor, useCSRFPreventionForSimpleRequests, useVaryByOrigin } from "./cors.js";
import { loggableError } from "./error-log.js";
import { errorMask } from "./error-mask.js";
import { executionBudget } from "./execution-budget.js";
import { batchLimit, disableIntrospection, OPERATION_LIMITS, operationLimits } from "./limits.js";
import { useLocatedErrors } from "./located-errors.js";
import type { Logger } from "./logger.js";
import { useOperationCost } from "./operation-cost.js";
import { createPages } from "./pages.js";
import { documentToRun, type PersistedDocuments, usePersistedDocuments } from "./persisted-documents.js";
import { refusalThrottle } from "./refusal-throttle.js";
import { useBoundedRequestJson } from "./request-body.js";
import { useRequestErrorCodes } from "./request-errors.js";
import { useRequestLogging } from "./request-logging.js";
import { useResponseCache } from "./response-cache.js";
import { useRuntimeScope } from "./runtime-scope.js";
import { useSharedEventExecution } from "./shared-events.js";
import { useSingleConnectionSse } from "./sse.js";
import { SUBSCRIPTION_LIMITS, useSubscriptionLimits } from "./subscription-limits.js";
import { useNoSuggestions } from "./suggestions.js";

export interface GraphQLHandlerOptions {
  database: Database;
  services: Services;
  /** The process's events: a revoked token's SSE streams end. */
  hub: EventHub;
  logger: Logger;
  path: string;
  /** Answer introspection queries and serve GraphiQL (default true). */
  introspection?: boolean;
  /**
   * Cache query responses per audience (organization and role), and diffs across requests, each while
   * the tables it read are unwritten (default true).
   */
  responseCache?: boolean;
  /** Open subscriptions allowed per connection, per token and per organization (default SUBSCRIPTION_LIMITS). */
  subscriptionLimits?: { perConnection: number; perToken: number; perOrganization: number };
  /** Time a query may run before it is stopped with OPERATION_TIMEOUT (default OPERATION_LIMITS.queryTimeMs). */
  queryTimeMs?: number;
  /** Objects and lists one operation may resolve before RESULT_TOO_LARGE (default OPERATION_LIMITS.resolvedFields). */
  resolvedFields?: number;
  /** Bytes of JSON values one operation may return before RESULT_TOO_LARGE (default OPERATION_LIMITS.jsonBytes). */
  jsonBytes?: number;
  /** Origins browsers may call from (CORS); default none. */
  corsOrigins?: readonly string[];
  /** The persisted documents manifest (PERSISTED_DOCUMENTS) and whether only its documents run; default none. */
  persistedDocuments?: PersistedDocuments;
  /** Fairness under overload between organizations (src/server/admission.ts); default its defaults. */
  admission?: AdmissionOptions;
  /** Whether requests are under way (src/server/requests-under-way.ts): live deliveries then take shorter turns. */
  busy?: () => boolean;
}

/**
 * Per document (yoga's parse cache hands out one object per document text): how often it ran, and
 * whether graphql-jit can run it at all.
 */
const executions = new WeakMap<DocumentNode, { runs: number; compilable: boolean }>();

/**
 * Whether this execution of `document` runs compiled (graphql-jit): from its second on. Compiling
 * costs more than running a document once with graphql-js (a few ms of this thread, most of it V8
 * compiling the generated function), which a client repeating its documents pays once; a document
 * sent once — an attacker making every request's text new — never pays it.
 */
function worthCompiling(document: DocumentNode): boolean {
  let seen = executions.get(document);
  if (!seen) {
    const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION).length;
    // One operation only: the plugin keeps one compiled function per document, whichever operation it was compiled for.
    seen = { runs: 0, compilable: operations === 1 && !isSubscription(document) && !hasVariableInLiteral(document) };
    executions.set(document, seen);
  }
  seen.runs++;
  return seen.compilable && seen.runs > 1;
}

const isSubscription = (document: DocumentNode) =>
  document.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION && d.operation === "subscription");

/**
 * Whether a variable stands inside a list or object literal (`settings: { minLength: $n }`).
 * graphql-jit parses scalar literals without the variables, so it would read that one as null.
 */
function hasVariableInLiteral(document: DocumentNode): boolean {
  let found = false;
  let literals = 0;
  const enter = () => void literals++;
  const leave = () => void literals--;
  visit(document, {
    ListValue: { enter, leave },
    ObjectValue: { enter, leave },
    Variable: () => {
      if (literals === 0) return undefined;
      found = true;
      return BREAK;
    },
  });
  return found;
}

/**
 * Whom a response is for, as far as responses can differ: the organization and the role. Nothing in
 * the schema depends on the token itself, so two tokens of one audience share responses and events.
 */
const audienceOf = (context: unknown) => {
  const { actor } = context as { actor: Actor };
  return `${actor.organizationId}:${actor.role}`;
};

/** No manifest: every id is unknown (PERSISTED_DOCUMENT_NOT_FOUND, so Apollo's link sends the text). */
const NO_PERSISTED_DOCUMENTS: PersistedDocuments = { byId: new Map(), only: false };

/**
 * GraphQL over HTTP (and the execution the WebSocket server shares): yoga with our plugins, in the
 * order they must run — request ids; CSRF; the refusal throttle, authentication and admission
 * (fairness under overload) before the body is read; bounded JSON; the batch size; persisted documents; graphql-sse's single connection mode
 * (its requests answered here, once authenticated); document limits and cost before anything
 * resolves; subscription caps; shared event execution; the response cache; the query time budget;
 * compiled execution. CORS is yoga's, with the allow-list (src/server/cors.ts).
 */
export function createGraphQLHandler({
  database,
  services,
  logger,
  path,
  introspection = true,
  responseCache = true,
  subscriptionLimits = SUBSCRIPTION_LIMITS,
  queryTimeMs = OPERATION_LIMITS.queryTimeMs,
  resolvedFields = OPERATION_LIMITS.resolvedFields,
  jsonBytes = OPERATION_LIMITS.jsonBytes,
  corsOrigins = [],
  persistedDocuments = NO_PERSISTED_DOCUMENTS,
  hub,
  admission: admissionOptions,
  busy,
}: GraphQLHandlerOptions) {
  const authentication = useAuthentication(services);
  const admission = new Admission(admissionOptions);
  const throttle = refusalThrottle({ organizationOf: (request) => authentication.find(request)?.actor.organizationId });
  const sse = useSingleConnectionSse({
    path,
    hub,
    actorOf: (request) => authentication.of(request).actor,
    documentToRun: (params) => documentToRun(persistedDocuments, params),
    charge: throttle.charge,
  });
  const budget = executionBudget(schema, { ms: queryTimeMs, fields: resolvedFields, bytes: jsonBytes });
  const subscriptionCaps = useSubscriptionLimits({
    ...subscriptionLimits,
    // A WebSocket; a stream of graphql-sse's single connection mode; else the request (one SSE subscription).
    connectionOf: (context) => {
      const { socket, request } = context as { socket?: object; request: Request };
      return socket ?? sse.connectionOf(request) ?? request;
    },
    tokenOf: (context) => (context as GraphQLContext).actor.tokenId,
    organizationOf: (context) => (context as GraphQLContext).actor.organizationId,
  });

  const cache = responseCache
    ? useResponseCache({
        scopeOf: (context) => {
          const { actor, organizationRevision, tableRevisions } = context as GraphQLContext;
          // A RUNTIME token's reads hold secrets and are audited one by one: never kept.
          if (organizationRevision === undefined || tableRevisions === undefined || actor.role === "RUNTIME") return null;
          return {
            audience: audienceOf(context),
            revision: organizationRevision,
            tables: tableRevisions,
          };
        },
        keepable: (context) => !(context as GraphQLContext).timeDependent,
        executesAfterWaiting: budget.restartClock,
        // A RUNTIME read appends its audit event on its own, raising no revision (src/services/runtime.ts):
        // a response that read the audit log could miss the next one.
        neverKept: ["audit_events"],
      })
    : null;

  // GraphiQL and the dashboard, from this server's own files (src/server/pages.ts).
  const pages = createPages({ graphqlPath: path, logger });

  const yoga = createYoga<{ actor?: Actor }, GraphQLContext>({
    schema,
    graphqlEndpoint: path,
    // Without introspection, no GraphiQL either: it is how a schema is read.
    // The token typed into the headers stays in the tab: never persisted to localStorage.
    graphiql: introspection && {
      title: "Journey promotion API",
      headers: JSON.stringify({ Authorization: "Bearer <token>" }),
      shouldPersistHeaders: false,
    },
    renderGraphiQL: pages.renderGraphiQL,
    landingPage: false,
    multipart: false,
    // Bodies are bounded before yoga reads them (src/server/request-body.ts): its own bound would
    // copy every request's body through a stream pipeline (~0.1 ms and an AbortController's
    // DOMException per request).
    maxRequestBodySize: false,
    batching: { limit: OPERATION_LIMITS.batchOperations },
    cors: corsFor(corsOrigins),
    // A persisted document's id, sent instead of the query (GraphQL over HTTP's persisted documents).
    extraParamNames: ["documentId"],
    logging: {
      debug: (...args) => logger.debug(args.map(String).join(" ")),
      info: (...args) => logger.info(args.map(String).join(" ")),
      warn: (...args) => logger.warn(args.map(String).join(" ")),
      // Yoga logs each error the mask replaced; the mask already logged what is unexpected, without
      // SQL or parameters. An error object here is kept to that, at debug level.
      error: (...args) => {
        const error = args.find((a) => a instanceof Error);
        if (error) logger.debug({ err: loggableError(error) }, "error replaced by the mask");
        else logger.error(args.map(String).join(" "));
      },
    },
    maskedErrors: { maskError: errorMask(logger) },
    plugins: [
      useRequestLogging(logger),
      pages.plugin,
      useCSRFPreventionForSimpleRequests(),
      useVaryByOrigin(corsOrigins),
      throttle.plugin,
      authentication.plugin,
      // Once its organization is known, before its body is read: while the server is overloaded, an
      // organization filling it runs one request at a time.
      admission.plugin((request) => authentication.find(request)?.actor.organizationId),
      useBoundedRequestJson(),
      batchLimit(),
      usePersistedDocuments(persistedDocuments),
      sse.plugin,
      useNoSuggestions(),
      operationLimits(),
      ...(introspection ? [] : [disableIntrospection()]),
      useOperationCost({ maxCost: OPERATION_LIMITS.cost }),
      useRuntimeScope(),
      subscriptionCaps,
      // A live event resolves once per audience, document and variables, with loaders of its own,
      // not once per subscriber. syncStatusChanged's arguments only choose which events arrive.
      useSharedEventExecution({
        audienceOf,
        filterOnlyFields: new Set(["syncStatusChanged", "promotionRequestChanged"]),
        aroundEvent: budget.aroundEvent,
        // An event's results to its hundreds of subscribers, 32 per turn of the event loop, 4 while
        // HTTP requests are under way: a request waits for one turn's deliveries at each of its
        // steps (~0.3 ms while busy), not for all of them (~25 ms).
        deliveriesPerTurn: 32,
        deliveriesPerTurnWhileBusy: 4,
        // Written straight to graphql-ws sockets (~12 µs each instead of ~70), as many per turn for
        // about the same time.
        directDeliveriesPerTurn: 192,
        directDeliveriesPerTurnWhileBusy: 24,
        busy,
        contextOfEvent: (context, event) => {
          const { actor } = context as GraphQLContext;
          return { ...(context as GraphQLContext), loaders: services.eventLoaders(event as object, actor) };
        },
      }),
      ...(cache ? [cache] : []),
      budget.plugin,
      useRequestErrorCodes(),
      useLocatedErrors(),
      // Queries and mutations run as compiled functions (graphql-jit) from their document's second
      // execution; subscriptions, and documents with a variable inside a literal, keep graphql-js's executor.
      useGraphQlJit({}, { enableIf: ({ document }) => worthCompiling(document) }),
      // After it: the cache records the tables read by the execute function that runs.
      ...(cache ? [cache.tracking] : []),
      useReadinessCheck({
        endpoint: "/ready",
        check: () =>
          database.ping().then(
            () => true,
            () => false,
          ),
      }),
    ],
    context: (initial) => {
      // A WebSocket's operations come with the actor their connection authenticated (again) for them.
      if (initial.actor) return { actor: initial.actor, services, loaders: services.loaders(initial.actor) };
      const { actor, organizationRevision, tableRevisions } = authentication.of(initial.request);
      // Without the revisions nothing is kept across requests (the diffs' results, src/services/revised-results.ts).
      if (!responseCache) return { actor, services, loaders: services.loaders(actor) };
      return { actor, organizationRevision, tableRevisions, services, loaders: services.loaders(actor) };
    },
  });

  return {
    yoga,
    throttle,
    subscriptionCaps,
    maxSubscriptionsPerConnection: subscriptionLimits.perConnection,
    /** The document to run for a graphql-ws operation's parameters, or its refusal (persisted documents). */
    documentToRun: (params: Record<string, unknown>) => documentToRun(persistedDocuments, params),
    /** Ends the event streams of graphql-sse's single connection mode. */
    closeEventStreams: sse.closeAll,
    /** Fairness under overload (its state, for diagnostics; stopped with the server). */
    admission,
    /** Bundles the dashboard (or reads the built pages) now, rather than on its first request. */
    preparePages: pages.prepare,
  };
}

import { createClient } from "graphql-sse";

/**
 * Starts yoga's GraphiQL (the bundle of @graphql-yoga/render-graphiql, loaded just before this script) from the
 * server's own assets: its editor workers are files of this server, not blobs or a CDN's, so the page runs offline
 * under a Content-Security-Policy that allows only this origin. The page gives the options and the workers' URLs as
 * JSON (`#graphiql-config`), never as inline script.
 */

interface Config {
  /** yoga's GraphiQL options (title, the header editor's initial `Authorization: Bearer <token>`, …). */
  options: Record<string, unknown>;
  /** Monaco's workers by label. */
  workers: Record<string, string>;
  /** The GraphQL endpoint. */
  endpoint: string;
}

interface FetcherParams {
  query: string;
  operationName?: string | null;
  variables?: unknown;
}

interface FetcherOptions {
  headers?: Record<string, unknown>;
  documentAST?: { definitions: readonly { kind: string; operation?: string; name?: { value: string } }[] };
}

type Result = { data?: unknown; errors?: readonly { message: string }[] };

declare global {
  interface Window {
    YogaGraphiQL: { renderYogaGraphiQL(root: Element, options: Record<string, unknown>): void };
    MonacoEnvironment: { globalAPI: boolean; getWorkerUrl(moduleId: string, label: string): string };
  }
}

const config = JSON.parse(document.getElementById("graphiql-config")!.textContent!) as Config;

window.MonacoEnvironment = {
  globalAPI: false,
  getWorkerUrl: (_moduleId, label) => config.workers[label] ?? config.workers.editorWorkerService,
};

/** The header editor's value of a header, whatever its case. */
function header(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  const entry = Object.entries(headers ?? {}).find(([key]) => key.toLowerCase() === name);
  return typeof entry?.[1] === "string" ? entry[1] : undefined;
}

const isSubscription = (params: FetcherParams, options?: FetcherOptions) =>
  options?.documentAST?.definitions.some(
    (d) =>
      d.kind === "OperationDefinition" &&
      d.operation === "subscription" &&
      (!params.operationName || d.name?.value === params.operationName),
  ) ?? /^\s*subscription\b/m.test(params.query);

/**
 * GraphiQL's fetcher: queries and mutations over HTTP, subscriptions over GraphQL over SSE (graphql-sse), the
 * header editor's headers on both. While the Authorization header still holds its `<token>` placeholder nothing is
 * sent: the answer says where the token goes (a request with it would only be refused with a 401).
 */
function fetcher(params: FetcherParams, options?: FetcherOptions): Promise<Result> | AsyncIterable<Result> {
  const headers = Object.fromEntries(Object.entries(options?.headers ?? {}).map(([k, v]) => [k, String(v)]));
  const authorization = header(options?.headers, "authorization");
  if (!authorization || authorization.includes("<token>")) {
    return Promise.resolve({
      errors: [{ message: 'Put your API token in the Headers tab below: { "Authorization": "Bearer <token>" }' }],
    });
  }
  if (isSubscription(params, options)) {
    const client = createClient({ url: config.endpoint, headers, credentials: "omit", retryAttempts: 0 });
    return client.iterate<unknown>({
      query: params.query,
      operationName: params.operationName ?? undefined,
      variables: params.variables as Record<string, unknown> | undefined,
    }) as AsyncIterable<Result>;
  }
  return fetch(config.endpoint, {
    method: "POST",
    credentials: "omit",
    headers: { ...headers, "content-type": "application/json", accept: "application/graphql-response+json, application/json" },
    body: JSON.stringify(params),
  }).then((response) =>
    (response.json() as Promise<Result>).catch(() => ({ errors: [{ message: `HTTP ${response.status} without a GraphQL result` }] })),
  );
}

window.YogaGraphiQL.renderYogaGraphiQL(document.getElementById("root")!, { ...config.options, fetcher });

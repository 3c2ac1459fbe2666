/** The GraphQL endpoint, on the page's own origin: no CORS, and the token goes in a header, never in the URL. */
export const GRAPHQL_PATH = "/graphql";

/** The server refused the token (HTTP 401, WebSocket close 4401): the dashboard asks for another one. */
export class Unauthorized extends Error {}

/** A GraphQL error answer, with its `extensions.code` when it has one. */
export class GraphQLRequestError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

interface GraphQLAnswer<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/**
 * A query over GraphQL over HTTP (POST, JSON). The bearer token is also what gets the request past the server's
 * CSRF prevention (a header a cross-site "simple" request cannot carry); no cookie is ever sent.
 */
export async function query<T>(token: string, document: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(GRAPHQL_PATH, {
    method: "POST",
    credentials: "omit",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json",
    },
    body: JSON.stringify({ query: document, variables }),
  });
  if (response.status === 401) throw new Unauthorized("The server refused this token");
  let answer: GraphQLAnswer<T>;
  try {
    answer = (await response.json()) as GraphQLAnswer<T>;
  } catch {
    throw new GraphQLRequestError(`The server answered HTTP ${response.status} without a GraphQL result`, undefined);
  }
  const error = answer.errors?.[0];
  if (error) throw new GraphQLRequestError(error.message, error.extensions?.code);
  if (!answer.data) throw new GraphQLRequestError(`The server answered HTTP ${response.status} without data`, undefined);
  return answer.data;
}

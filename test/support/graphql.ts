export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

/** One GraphQL request over HTTP, as a client sends it. */
export async function gql<T = any>(
  endpoint: string,
  token: string | null,
  query: string,
  variables?: Record<string, unknown>,
): Promise<GraphQLResponse<T>> {
  const response = await fetch(endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<T>, "status">;
  return { status: response.status, ...body };
}

/** A client bound to one endpoint and token, failing loudly on GraphQL errors. */
export function client(endpoint: string, token: string) {
  return {
    request: <T = any>(query: string, variables?: Record<string, unknown>) => gql<T>(endpoint, token, query, variables),
    async data<T = any>(query: string, variables?: Record<string, unknown>): Promise<T> {
      const result = await gql<T>(endpoint, token, query, variables);
      if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
      return result.data as T;
    },
  };
}

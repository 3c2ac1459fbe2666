import { randomUUID } from "node:crypto";
import type { Plugin } from "graphql-yoga";
import type { Logger } from "./logger.js";

/** A request id per operation: taken from `x-request-id` when sent, echoed in the response, on every log line. */
export function useRequestLogging(logger: Logger): Plugin {
  const ids = new WeakMap<Request, string>();
  return {
    onRequest({ request }) {
      const incoming = request.headers.get("x-request-id");
      ids.set(request, incoming && /^[\w.-]{1,100}$/.test(incoming) ? incoming : randomUUID());
    },
    onResponse({ request, response }) {
      const id = ids.get(request);
      if (id) response.headers.set("x-request-id", id);
    },
    onExecute({ args }) {
      const started = performance.now();
      const request = (args.contextValue as { request?: Request }).request;
      const requestId = (request && ids.get(request)) ?? randomUUID();
      return {
        onExecuteDone({ result }) {
          const errors = "errors" in result && result.errors ? result.errors.length : 0;
          logger.info(
            {
              requestId,
              operationName: args.operationName ?? null,
              durationMs: Math.round((performance.now() - started) * 10) / 10,
              errors,
            },
            "operation",
          );
        },
      };
    },
  };
}

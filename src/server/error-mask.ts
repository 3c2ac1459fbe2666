import { PothosValidationError } from "@pothos/core";
import { GraphQLError } from "graphql";
import { CommitOutcomeUnknown, isConnectionLoss } from "../db/errors.js";
import { DomainError } from "../domain/errors.js";
import { loggableError } from "./error-log.js";
import type { Logger } from "./logger.js";

/**
 * What a caller sees of an error: domain refusals and argument checks with their code, a lost
 * database connection as DATABASE_UNAVAILABLE (nothing applied; or, lost as the change committed,
 * `outcome: "UNKNOWN"`: it may have been applied), anything else as INTERNAL_SERVER_ERROR with nothing
 * of its inside (the log gets its name, message and stack, never SQL or its parameters).
 */
export function errorMask(logger: Logger) {
  return (error: unknown, message: string): Error => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    const located = (code: string, text: string) =>
      new GraphQLError(text, { nodes: (error as GraphQLError).nodes, path: (error as GraphQLError).path, extensions: { code } });
    if (original instanceof DomainError) return located(original.code, original.message);
    // Argument checks of the schema's plugins (e.g. a negative `first`): the caller's mistake.
    if (original instanceof PothosValidationError) return located("VALIDATION_FAILED", original.message);
    if (original instanceof GraphQLError) return original;
    if (error instanceof GraphQLError && !error.originalError) return error;
    if (original instanceof CommitOutcomeUnknown) {
      logger.warn({ err: loggableError(original) }, "database connection lost as a transaction committed");
      return new GraphQLError(
        "The database connection was lost as the change was committed: it may have been applied. Read it back before retrying.",
        {
          nodes: (error as GraphQLError).nodes,
          path: (error as GraphQLError).path,
          extensions: { code: "DATABASE_UNAVAILABLE", outcome: "UNKNOWN" },
        },
      );
    }
    if (isConnectionLoss(original)) {
      logger.warn({ err: loggableError(original) }, "database connection lost");
      return located("DATABASE_UNAVAILABLE", "The database connection was lost; nothing was applied. Retry the request.");
    }
    logger.error({ err: loggableError(original) }, "unexpected error");
    return located("INTERNAL_SERVER_ERROR", message);
  };
}

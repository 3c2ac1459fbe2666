import type { Problem } from "./journey-document.js";

/**
 * Expected failures. Each has a stable `code`; the GraphQL layer maps every subclass to a typed
 * error object (mutations) or to a GraphQL error with `extensions.code` (queries).
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
}

export class NotFoundError extends DomainError {
  readonly code = "NOT_FOUND";
  constructor(what: string, id?: string) {
    super(id === undefined ? `${what} not found` : `No ${what} with id ${JSON.stringify(id)}`);
  }
}

export class ForbiddenError extends DomainError {
  readonly code = "FORBIDDEN";
  constructor(message = "Your role does not allow this") {
    super(message);
  }
}

export class ValidationError extends DomainError {
  readonly code = "VALIDATION_FAILED";
  constructor(
    readonly problems: Problem[],
    message = problems.map((p) => p.message).join("; ") || "Invalid input",
  ) {
    super(message);
  }
}

export class EnvironmentLockedError extends DomainError {
  readonly code = "ENVIRONMENT_LOCKED";
  constructor(environmentName: string) {
    super(`${environmentName} is not editable: it changes only by propagation`);
  }
}

export class InvalidDirectionError extends DomainError {
  readonly code = "INVALID_DIRECTION";
  constructor(fromName: string, toName: string) {
    super(`${fromName} is not below ${toName}: changes move only upward`);
  }
}

export class TargetMissingError extends DomainError {
  readonly code = "TARGET_MISSING";
  constructor(environmentName: string) {
    super(`The application has no client in ${environmentName}: create it first`);
  }
}

export class AlreadyExistsError extends DomainError {
  readonly code = "ALREADY_EXISTS";
}

export class DraftConflictError extends DomainError {
  readonly code = "DRAFT_CONFLICT";
}

export class StaleSelectionError extends DomainError {
  readonly code = "STALE_SELECTION";
  constructor(readonly changeIds: string[]) {
    super(`${changeIds.length} selected change(s) are no longer in the diff: review again`);
  }
}

export class IncompleteSelectionError extends DomainError {
  readonly code = "INCOMPLETE_SELECTION";
  constructor(readonly missingChangeIds: string[]) {
    super(`The selection lacks ${missingChangeIds.length} change(s) it requires`);
  }
}

export class InvalidConfigurationError extends DomainError {
  readonly code = "INVALID_CONFIGURATION";
  constructor(readonly problems: Problem[]) {
    super(`The result would not be a valid configuration: ${problems.map((p) => p.message).join("; ")}`);
  }
}

export class NothingToPropagateError extends DomainError {
  readonly code = "NOTHING_TO_PROPAGATE";
  constructor(fromName: string, toName: string, message = `${toName} already matches ${fromName}`) {
    super(message);
  }
}

export class MissingVariablesError extends DomainError {
  readonly code = "MISSING_VARIABLES";
  constructor(
    readonly variables: string[],
    environmentName: string,
  ) {
    super(
      `${environmentName} has no value for ${variables.map((key) => `&{${key}}`).join(", ")}: set ${variables.length === 1 ? "it" : "them"} there first (setVariableValue)`,
    );
  }
}

/** Where a configuration references a variable. */
export interface VariableUse {
  applicationId: string;
  /** Null for client settings. */
  journeyId: string | null;
  environmentId: string;
  path: string;
  /** In a draft, not a saved configuration. */
  draft: boolean;
}

export class VariableInUseError extends DomainError {
  readonly code = "VARIABLE_IN_USE";
  constructor(
    readonly references: VariableUse[],
    key: string,
  ) {
    super(`&{${key}} is referenced ${references.length === 1 ? "once" : `${references.length} times`}: remove the references first`);
  }
}

/** Something else still depends on what was to be deleted (DESIGN.md §10); `references` says what, in words. */
export class InUseError extends DomainError {
  readonly code = "IN_USE";
  constructor(
    what: string,
    readonly references: string[],
  ) {
    super(
      `${what} is still in use: ${references.slice(0, 5).join("; ")}${references.length > 5 ? `; and ${references.length - 5} more` : ""}`,
    );
  }
}

/** The application is archived (DESIGN.md §10): read-only until unarchived. */
export class ArchivedError extends DomainError {
  readonly code = "ARCHIVED";
  constructor(applicationName: string) {
    super(`${applicationName} is archived: it is read-only until it is unarchived (unarchiveApplication)`);
  }
}

export class TooManyRequestsError extends DomainError {
  readonly code = "TOO_MANY_REQUESTS";
  constructor(
    what: string,
    readonly retryAfter: number,
  ) {
    super(`Too many ${what}; retry in ${retryAfter} s`);
  }
}

export class ApprovalRequiredError extends DomainError {
  readonly code = "APPROVAL_REQUIRED";
  constructor(
    environmentName: string,
    readonly requiredApprovals: number,
  ) {
    super(
      `${environmentName} takes changes only through an approved promotion request (${requiredApprovals} approval${requiredApprovals === 1 ? "" : "s"}): use requestPromotion`,
    );
  }
}

export class PlanStaleError extends DomainError {
  readonly code = "PLAN_STALE";
  constructor(
    readonly changeIds: string[],
    message = `${changeIds.length} planned change(s) are no longer current: the source or the target moved; request again`,
  ) {
    super(message);
  }
}

export class InvalidRequestStateError extends DomainError {
  readonly code = "INVALID_REQUEST_STATE";
  constructor(
    readonly status: string,
    action: string,
  ) {
    super(`The request is ${status}: it cannot be ${action}`);
  }
}

export class SelfApprovalError extends DomainError {
  readonly code = "SELF_APPROVAL";
  constructor() {
    super("You requested this promotion: another reviewer must approve it (the environment's policy does not allow self-approval)");
  }
}

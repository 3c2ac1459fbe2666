import {
  AlreadyExistsError,
  ApprovalRequiredError,
  ArchivedError,
  type DomainError,
  DraftConflictError,
  EnvironmentLockedError,
  ForbiddenError,
  IncompleteSelectionError,
  InUseError,
  InvalidConfigurationError,
  InvalidDirectionError,
  InvalidRequestStateError,
  MissingVariablesError,
  NotFoundError,
  NothingToPropagateError,
  PlanStaleError,
  SelfApprovalError,
  StaleSelectionError,
  TargetMissingError,
  ValidationError,
  VariableInUseError,
} from "../../domain/errors.js";
import type { Problem } from "../../domain/journey-document.js";
import { builder } from "../builder.js";
import { LIST_SIZES, listCost } from "../cost.js";
import { VariableReferenceRef } from "./refs.js";

export const PromotionRequestStatusEnum = builder.enumType("PromotionRequestStatus", {
  description: "Where a promotion request stands.",
  values: {
    PENDING: { description: "Waiting for approvals." },
    APPROVED: { description: "Approved by enough reviewers: executePromotionRequest applies it." },
    REJECTED: { description: "A reviewer rejected it. Final." },
    EXECUTED: { description: "Applied exactly as planned (`propagation`). Final." },
    STALE: { description: "A planned change moved (the source or target changed): request again. Final." },
    CANCELLED: { description: "Withdrawn by its requester or an ADMIN. Final." },
    EXPIRED: { description: "Not executed before `expiresAt`. Final." },
  } as const,
});

export const ErrorInterface = builder.interfaceRef<DomainError>("Error").implement({
  description: "An expected failure. Every typed error implements it; `code` is stable, `message` is for people.",
  fields: (t) => ({
    message: t.exposeString("message", { description: "What went wrong, in a sentence." }),
    code: t.exposeString("code", { description: "Stable machine-readable code, e.g. NOT_FOUND." }),
  }),
});

export const ProblemRef = builder.objectRef<Problem>("Problem").implement({
  description: "One thing wrong with an input or a configuration, at a path.",
  fields: (t) => ({
    path: t.exposeString("path", { description: "Dotted path of the offending value, e.g. `steps.email-otp.settings.codeLength`." }),
    message: t.exposeString("message", { description: "What is wrong, starting with the path." }),
  }),
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
// biome-ignore lint/suspicious/noExplicitAny: any constructor of a domain error, whatever it takes
type ErrorClass<T extends DomainError> = new (...args: any[]) => T;

/** An error type that adds nothing to the `Error` interface. */
function errorType<T extends DomainError>(cls: ErrorClass<T>, name: string, description: string): ErrorClass<T> {
  builder.objectType(cls as ErrorClass<DomainError>, {
    name,
    description,
    interfaces: [ErrorInterface],
    isTypeOf: (value) => value instanceof cls,
    fields: () => ({}),
  });
  return cls;
}

/** Registers an error type with fields of its own; returns the class, as `errors.types` wants it. */
function registered<T extends DomainError>(cls: ErrorClass<T>, define: () => unknown): ErrorClass<T> {
  define();
  return cls;
}

export const Errors = {
  NotFound: errorType(
    NotFoundError,
    "NotFoundError",
    "Code NOT_FOUND: an ID names nothing this organization has (unknown, malformed, of the wrong type or of another organization).",
  ),
  Forbidden: errorType(ForbiddenError, "ForbiddenError", "Code FORBIDDEN: the caller's role does not allow this."),
  Validation: registered(ValidationError, () =>
    builder.objectType(ValidationError, {
      name: "ValidationError",
      description: "Code VALIDATION_FAILED: the input is invalid; nothing was changed.",
      interfaces: [ErrorInterface],
      isTypeOf: (value) => value instanceof ValidationError,
      fields: (t) => ({
        problems: t.field({
          type: [ProblemRef],
          complexity: listCost(LIST_SIZES.problems),
          description: "Every problem found, with its path.",
          resolve: (e) => e.problems,
        }),
      }),
    }),
  ),
  EnvironmentLocked: errorType(
    EnvironmentLockedError,
    "EnvironmentLockedError",
    "Code ENVIRONMENT_LOCKED: the environment is not editable; it changes only by propagation.",
  ),
  InvalidDirection: errorType(
    InvalidDirectionError,
    "InvalidDirectionError",
    "Code INVALID_DIRECTION: the source environment is not ranked below the target.",
  ),
  TargetMissing: errorType(
    TargetMissingError,
    "TargetMissingError",
    "Code TARGET_MISSING: the application has no client in the target environment.",
  ),
  AlreadyExists: errorType(
    AlreadyExistsError,
    "AlreadyExistsError",
    "Code ALREADY_EXISTS: something with this name or key already exists.",
  ),
  DraftConflict: errorType(
    DraftConflictError,
    "DraftConflictError",
    "Code DRAFT_CONFLICT: the draft changed after it was reviewed; review it again.",
  ),
  StaleSelection: registered(StaleSelectionError, () =>
    builder.objectType(StaleSelectionError, {
      name: "StaleSelectionError",
      description: "Code STALE_SELECTION: selected changes are no longer in the current diff; nothing was applied.",
      interfaces: [ErrorInterface],
      isTypeOf: (value) => value instanceof StaleSelectionError,
      fields: (t) => ({
        changeIds: t.field({
          type: ["ID"],
          description: "The selected ids that are not in the current diff.",
          resolve: (e) => e.changeIds,
        }),
      }),
    }),
  ),
  IncompleteSelection: registered(IncompleteSelectionError, () =>
    builder.objectType(IncompleteSelectionError, {
      name: "IncompleteSelectionError",
      description: "Code INCOMPLETE_SELECTION: the selection lacks changes it requires; nothing was applied.",
      interfaces: [ErrorInterface],
      isTypeOf: (value) => value instanceof IncompleteSelectionError,
      fields: (t) => ({
        missingChangeIds: t.field({
          type: ["ID"],
          description: "The required ids the selection lacks.",
          resolve: (e) => e.missingChangeIds,
        }),
      }),
    }),
  ),
  InvalidConfiguration: registered(InvalidConfigurationError, () =>
    builder.objectType(InvalidConfigurationError, {
      name: "InvalidConfigurationError",
      description: "Code INVALID_CONFIGURATION: the result would not be a valid configuration; nothing was applied.",
      interfaces: [ErrorInterface],
      isTypeOf: (value) => value instanceof InvalidConfigurationError,
      fields: (t) => ({
        problems: t.field({
          type: [ProblemRef],
          complexity: listCost(LIST_SIZES.problems),
          description: "What would be wrong, with paths.",
          resolve: (e) => e.problems,
        }),
      }),
    }),
  ),
  MissingVariables: registered(MissingVariablesError, () =>
    builder.objectType(MissingVariablesError, {
      name: "MissingVariablesError",
      description:
        "Code MISSING_VARIABLES: what would be written references variables the target environment has no value for; nothing was applied.",
      interfaces: [ErrorInterface],
      isTypeOf: (value) => value instanceof MissingVariablesError,
      fields: (t) => ({
        variables: t.field({
          type: ["String"],
          complexity: listCost(LIST_SIZES.problems),
          description: "Keys of the variables to set there first, e.g. `webhook.host`.",
          resolve: (e) => e.variables,
        }),
      }),
    }),
  ),
  VariableInUse: registered(VariableInUseError, () =>
    builder.objectType(VariableInUseError, {
      name: "VariableInUseError",
      description: "Code VARIABLE_IN_USE: configurations reference the variable (or its value there); nothing was changed.",
      interfaces: [ErrorInterface],
      isTypeOf: (value) => value instanceof VariableInUseError,
      fields: (t) => ({
        references: t.field({
          type: [VariableReferenceRef],
          complexity: listCost(LIST_SIZES.problems),
          description: "Where it is referenced.",
          resolve: (e) => e.references.slice(0, 100),
        }),
      }),
    }),
  ),
  ApprovalRequired: errorType(
    ApprovalRequiredError,
    "ApprovalRequiredError",
    "Code APPROVAL_REQUIRED: the environment's policy requires approvals; changes enter it only through an approved promotion request (requestPromotion).",
  ),
  SelfApproval: errorType(
    SelfApprovalError,
    "SelfApprovalError",
    "Code SELF_APPROVAL: the requester may not approve their own request under the environment's policy.",
  ),
  PlanStale: registered(PlanStaleError, () =>
    builder.objectType(PlanStaleError, {
      name: "PlanStaleError",
      description:
        "Code PLAN_STALE: the plan approved or executed is not the request's, or planned changes are no longer current; nothing was applied.",
      interfaces: [ErrorInterface],
      isTypeOf: (value) => value instanceof PlanStaleError,
      fields: (t) => ({
        changeIds: t.field({
          type: ["ID"],
          description: "The planned changes that moved (empty when the plan hash given is not the request's).",
          resolve: (e) => e.changeIds,
        }),
      }),
    }),
  ),
  InvalidRequestState: registered(InvalidRequestStateError, () =>
    builder.objectType(InvalidRequestStateError, {
      name: "InvalidRequestStateError",
      description:
        "Code INVALID_REQUEST_STATE: the request's status does not allow this (approving an executed request, executing a pending one…).",
      interfaces: [ErrorInterface],
      isTypeOf: (value) => value instanceof InvalidRequestStateError,
      fields: (t) => ({
        status: t.field({
          type: PromotionRequestStatusEnum,
          description: "The request's current status.",
          resolve: (e) => e.status as never,
        }),
      }),
    }),
  ),
  InUse: registered(InUseError, () =>
    builder.objectType(InUseError, {
      name: "InUseError",
      description: "Code IN_USE: something still depends on what was to be deleted; nothing was changed.",
      interfaces: [ErrorInterface],
      isTypeOf: (value) => value instanceof InUseError,
      fields: (t) => ({
        references: t.field({
          type: ["String"],
          complexity: listCost(LIST_SIZES.problems),
          description: "What still depends on it, in words (at most 100).",
          resolve: (e) => e.references.slice(0, 100),
        }),
      }),
    }),
  ),
  Archived: errorType(
    ArchivedError,
    "ArchivedError",
    "Code ARCHIVED: the application is archived and read-only; unarchiveApplication makes it writable again.",
  ),
  NothingToPropagate: errorType(
    NothingToPropagateError,
    "NothingToPropagateError",
    "Code NOTHING_TO_PROPAGATE: the target already matches the source.",
  ),
};

/** The errors every mutation can meet: its role, its IDs, its input, and an archived application (every write to one is refused). */
export const COMMON_ERRORS = [ForbiddenError, NotFoundError, ValidationError, ArchivedError];

/** The `errors` option of a mutation: its typed errors, and a description for its result union. */
export function mutationErrors(what: string, extra: ErrorClass<DomainError>[] = [], outcome = "a typed error when nothing was changed") {
  return {
    types: [...COMMON_ERRORS, ...extra],
    union: { description: `The outcome of ${what}: the success type, or ${outcome}.` },
  };
}

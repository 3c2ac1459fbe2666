import { describe, expect, it } from "vitest";
import {
  AlreadyExistsError,
  ApprovalRequiredError,
  ArchivedError,
  DomainError,
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
  TooManyRequestsError,
  ValidationError,
  VariableInUseError,
  type VariableUse,
} from "../../../src/domain/errors.js";

const use: VariableUse = { applicationId: "a", journeyId: null, environmentId: "e", path: "settings.url", draft: false };
const problems = [
  { path: "steps.a", message: "steps.a is wrong" },
  { path: "start", message: "start is missing" },
];

/** Each domain error: the code clients branch on, and the message they show. */
const CASES: [DomainError, string, string][] = [
  [new NotFoundError("Journey"), "NOT_FOUND", "Journey not found"],
  [new NotFoundError("journey", "j-1"), "NOT_FOUND", 'No journey with id "j-1"'],
  [new ForbiddenError(), "FORBIDDEN", "Your role does not allow this"],
  [new ForbiddenError("Only admins rotate keys"), "FORBIDDEN", "Only admins rotate keys"],
  [new ValidationError(problems), "VALIDATION_FAILED", "steps.a is wrong; start is missing"],
  [new ValidationError([]), "VALIDATION_FAILED", "Invalid input"],
  [new ValidationError(problems, "Bad step"), "VALIDATION_FAILED", "Bad step"],
  [new EnvironmentLockedError("Production"), "ENVIRONMENT_LOCKED", "Production is not editable: it changes only by propagation"],
  [new InvalidDirectionError("Production", "Staging"), "INVALID_DIRECTION", "Production is not below Staging: changes move only upward"],
  [new TargetMissingError("Staging"), "TARGET_MISSING", "The application has no client in Staging: create it first"],
  [new AlreadyExistsError("A journey named login exists"), "ALREADY_EXISTS", "A journey named login exists"],
  [new DraftConflictError("The draft moved"), "DRAFT_CONFLICT", "The draft moved"],
  [new StaleSelectionError(["chg_a", "chg_b"]), "STALE_SELECTION", "2 selected change(s) are no longer in the diff: review again"],
  [new IncompleteSelectionError(["chg_a"]), "INCOMPLETE_SELECTION", "The selection lacks 1 change(s) it requires"],
  [
    new InvalidConfigurationError(problems),
    "INVALID_CONFIGURATION",
    "The result would not be a valid configuration: steps.a is wrong; start is missing",
  ],
  [new NothingToPropagateError("Staging", "Production"), "NOTHING_TO_PROPAGATE", "Production already matches Staging"],
  [new NothingToPropagateError("Staging", "Production", "Nothing selected"), "NOTHING_TO_PROPAGATE", "Nothing selected"],
  [
    new MissingVariablesError(["otp.length"], "Production"),
    "MISSING_VARIABLES",
    "Production has no value for &{otp.length}: set it there first (setVariableValue)",
  ],
  [
    new MissingVariablesError(["otp.length", "webhook.host"], "Production"),
    "MISSING_VARIABLES",
    "Production has no value for &{otp.length}, &{webhook.host}: set them there first (setVariableValue)",
  ],
  [new VariableInUseError([use], "webhook.host"), "VARIABLE_IN_USE", "&{webhook.host} is referenced once: remove the references first"],
  [
    new VariableInUseError([use, use, use], "webhook.host"),
    "VARIABLE_IN_USE",
    "&{webhook.host} is referenced 3 times: remove the references first",
  ],
  [new TooManyRequestsError("reference scans", 2), "TOO_MANY_REQUESTS", "Too many reference scans; retry in 2 s"],
  [
    new ApprovalRequiredError("Production", 1),
    "APPROVAL_REQUIRED",
    "Production takes changes only through an approved promotion request (1 approval): use requestPromotion",
  ],
  [
    new ApprovalRequiredError("Production", 2),
    "APPROVAL_REQUIRED",
    "Production takes changes only through an approved promotion request (2 approvals): use requestPromotion",
  ],
  [new PlanStaleError(["chg_a"]), "PLAN_STALE", "1 planned change(s) are no longer current: the source or the target moved; request again"],
  [new PlanStaleError([], "The policy changed"), "PLAN_STALE", "The policy changed"],
  [new InvalidRequestStateError("EXECUTED", "approved"), "INVALID_REQUEST_STATE", "The request is EXECUTED: it cannot be approved"],
  [
    new InUseError("Database users", ["client of Portal in Staging"]),
    "IN_USE",
    "Database users is still in use: client of Portal in Staging",
  ],
  [new InUseError("Environment Staging", ["a", "b", "c", "d", "e"]), "IN_USE", "Environment Staging is still in use: a; b; c; d; e"],
  [
    new InUseError("Environment Staging", ["a", "b", "c", "d", "e", "f", "g"]),
    "IN_USE",
    "Environment Staging is still in use: a; b; c; d; e; and 2 more",
  ],
  [
    new ArchivedError("Customer Portal"),
    "ARCHIVED",
    "Customer Portal is archived: it is read-only until it is unarchived (unarchiveApplication)",
  ],
  [
    new SelfApprovalError(),
    "SELF_APPROVAL",
    "You requested this promotion: another reviewer must approve it (the environment's policy does not allow self-approval)",
  ],
];

describe("domain errors", () => {
  it.each(CASES.map(([error, code, message]) => ({ error, code, message })))("$code: $message", ({ error, code, message }) => {
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
  });

  it("carry what clients need besides the message", () => {
    expect(new ValidationError(problems).problems).toBe(problems);
    expect(new StaleSelectionError(["chg_a"]).changeIds).toEqual(["chg_a"]);
    expect(new IncompleteSelectionError(["chg_a"]).missingChangeIds).toEqual(["chg_a"]);
    expect(new InvalidConfigurationError(problems).problems).toBe(problems);
    expect(new MissingVariablesError(["a"], "Production").variables).toEqual(["a"]);
    expect(new VariableInUseError([use], "a").references).toEqual([use]);
    expect(new TooManyRequestsError("diffs", 3).retryAfter).toBe(3);
    expect(new ApprovalRequiredError("Production", 2).requiredApprovals).toBe(2);
    expect(new PlanStaleError(["chg_a"]).changeIds).toEqual(["chg_a"]);
    expect(new InvalidRequestStateError("EXPIRED", "executed").status).toBe("EXPIRED");
    expect(new InUseError("x", ["a", "b"]).references).toEqual(["a", "b"]);
  });
});

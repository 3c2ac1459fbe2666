import { type ResolveCursorConnectionArgs, resolveCursorConnection } from "@pothos/plugin-relay";
import { ValidationError } from "../../domain/errors.js";
import { countedApprovals, statusAt } from "../../domain/promotion-requests.js";
import type {
  EnvironmentRow,
  ExecuteResult,
  PromotionRequestEventRow,
  PromotionRequestRow,
  PromotionReviewRow,
  RequestResult,
  RequestStatus,
} from "../../services/index.js";
import { builder } from "../builder.js";
import type { GraphQLContext } from "../context.js";
import { LIST_SIZES, listCost, pageCost } from "../cost.js";
import { MAX_PAGE_SIZE, pagePositions, propagationCursor } from "../cursors.js";
import { localId } from "../ids.js";
import { ConfigChangeRef } from "./diff.js";
import { Errors, mutationErrors, PromotionRequestStatusEnum } from "./errors.js";
import { PropagationRef } from "./propagations.js";
import { ApplicationRef, EnvironmentRef } from "./refs.js";
import { filterOf } from "./sync.js";

/* Four eyes (DESIGN.md §8): approval policies, promotion requests, their reviews and events. */

const ApprovalPolicyRef = builder.objectRef<EnvironmentRow>("ApprovalPolicy").implement({
  description: "What it takes to change an environment: with 1 or more required approvals, only approved promotion requests enter it.",
  fields: (t) => ({
    requiredApprovals: t.exposeInt("requiredApprovals", {
      description: "Approvals a request needs before it can be executed; 0: direct promotion (promoteNow, propagateChanges) is allowed.",
    }),
    allowSelfApproval: t.exposeBoolean("allowSelfApproval", { description: "Whether the requester may approve their own request." }),
    requireComment: t.exposeBoolean("requireComment", { description: "Whether an approval must carry a comment." }),
    expiresAfterHours: t.exposeInt("expiresAfterHours", { description: "Hours after which an open request expires (EXPIRED)." }),
  }),
});

builder.objectFields(EnvironmentRef, (t) => ({
  approvalPolicy: t.field({
    type: ApprovalPolicyRef,
    description: "The environment's approval policy (default: 0 approvals, no self-approval, no comment, 72 hours).",
    resolve: (e) => e,
  }),
}));

const ReviewDecisionEnum = builder.enumType("ReviewDecision", {
  description: "A reviewer's decision.",
  values: {
    APPROVED: { description: "Approves the plan with the hash reviewed." },
    REJECTED: { description: "Rejects the request (one rejection rejects it)." },
  } as const,
});

const PromotionReviewRef = builder.objectRef<PromotionReviewRow>("PromotionReview").implement({
  description: "A reviewer's decision on a promotion request, for the plan hash they saw.",
  fields: (t) => ({
    reviewer: t.exposeString("reviewer", { description: "Who reviewed (the token's name)." }),
    decision: t.field({ type: ReviewDecisionEnum, description: "Approved or rejected.", resolve: (r) => r.decision }),
    comment: t.exposeString("comment", { nullable: true, description: "Why, in the reviewer's words." }),
    planHash: t.exposeString("planHash", { description: "The plan hash the reviewer approved or rejected." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When." }),
  }),
});

export const PromotionRequestRef = builder.objectRef<PromotionRequestRow>("PromotionRequest");

/** The request's status now: an open request past its expiry is EXPIRED. Answers depending on the time are not cached. */
function currentStatus(request: PromotionRequestRow, context: GraphQLContext): RequestStatus {
  if (request.status === "PENDING" || request.status === "APPROVED") context.timeDependent = true;
  return statusAt(request, context.services.now());
}

builder.node(PromotionRequestRef, {
  description:
    "A request to promote (or revert) a plan of changes into an environment that requires approvals: reviewers approve its plan hash, and executing it applies exactly that plan.",
  id: { resolve: (r) => r.id },
  loadOne: (id, { loaders }) => loaders.promotionRequest.load(id),
  fields: (t) => ({
    application: t.field({
      type: ApplicationRef,
      description: "The application.",
      resolve: async (r, _args, { loaders }) => (await loaders.application.load(r.applicationId))!,
    }),
    from: t.field({
      type: EnvironmentRef,
      description: "The source environment.",
      resolve: async (r, _args, { loaders }) => (await loaders.environment.load(r.fromEnvironmentId))!,
    }),
    to: t.field({
      type: EnvironmentRef,
      description: "The target environment.",
      resolve: async (r, _args, { loaders }) => (await loaders.environment.load(r.toEnvironmentId))!,
    }),
    status: t.field({
      type: PromotionRequestStatusEnum,
      description: "Where it stands now (an open request past `expiresAt` is EXPIRED).",
      resolve: (r, _args, context) => currentStatus(r, context),
    }),
    changes: t.field({
      type: [ConfigChangeRef],
      complexity: listCost(LIST_SIZES.changes),
      description: "The plan: every change it applies, with old and new values, exactly as validated when requested.",
      resolve: (r) => r.changes.map((item) => ({ ...item, oldValue: item.oldValue as never, newValue: item.newValue as never })),
    }),
    planHash: t.exposeString("planHash", {
      description: "SHA-256 over the plan's sorted change ids (content-addressed): what reviewers approve.",
    }),
    revertOf: t.field({
      type: PropagationRef,
      nullable: true,
      description: "The propagation this request reverts; null for a promotion.",
      resolve: (r, _args, { loaders }) => (r.revertOfId ? loaders.propagation.load(r.revertOfId) : null),
    }),
    comment: t.exposeString("comment", { nullable: true, description: "The requester's comment; the propagation records it." }),
    requestedBy: t.exposeString("requestedBy", { description: "Who requested it (the token's name)." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was requested." }),
    expiresAt: t.expose("expiresAt", {
      type: "DateTime",
      description: "When it expires unless executed (the policy's hours after creation).",
    }),
    reviews: t.field({
      type: [PromotionReviewRef],
      complexity: listCost(LIST_SIZES.environments),
      description: "Every review, oldest first.",
      resolve: (r, _args, { loaders }) => loaders.reviewsOfRequest.load(r.id),
    }),
    approvalsNeeded: t.int({
      description: "Approvals still missing (0 once approved).",
      resolve: async (r, _args, { loaders }) => {
        return Math.max(0, r.requiredApprovals - countedApprovals(r, await loaders.reviewsOfRequest.load(r.id)));
      },
    }),
    isStale: t.boolean({
      description:
        "Computed now: whether executing it would refuse (PLAN_STALE) because a planned change is no longer current. True for a STALE request; false for other closed ones.",
      resolve: (r, _args, context) => {
        const status = currentStatus(r, context);
        if (status !== "PENDING" && status !== "APPROVED") return status === "STALE";
        return context.loaders.memo(`requestIsStale:${r.id}`, () => context.services.requestIsStale(context.actor, r));
      },
    }),
    propagation: t.field({
      type: PropagationRef,
      nullable: true,
      description: "The propagation that executed it (mode APPROVED_REQUEST), once EXECUTED.",
      resolve: (r, _args, { loaders }) => (r.status === "EXECUTED" ? loaders.propagationOfRequest.load(r.id) : null),
    }),
  }),
});

builder.objectFields(PropagationRef, (t) => ({
  request: t.field({
    type: PromotionRequestRef,
    nullable: true,
    description: "The approved promotion request this propagation executed (mode APPROVED_REQUEST); its reviews name the reviewers.",
    resolve: (p, _args, { loaders }) => (p.promotionRequestId ? loaders.promotionRequest.load(p.promotionRequestId) : null),
  }),
}));

const PromotionRequestEventRef = builder.objectRef<PromotionRequestEventRow>("PromotionRequestEvent").implement({
  description: "A persisted event: a promotion request changed status. Ordered by cursor.",
  fields: (t) => ({
    cursor: t.string({
      description: "Its number among the organization's request events (1, 2, 3…): pass it as `after` to get everything that followed.",
      resolve: (e) => String(e.seq),
    }),
    request: t.field({
      type: PromotionRequestRef,
      description: "The request, as it is now.",
      resolve: async (e, _args, { loaders }) => (await loaders.promotionRequest.load(e.requestId))!,
    }),
    status: t.field({ type: PromotionRequestStatusEnum, description: "The status it moved to.", resolve: (e) => e.status }),
    actor: t.exposeString("actor", { description: "Who moved it (a token's name; `system` for an expiry)." }),
    occurredAt: t.expose("occurredAt", { type: "DateTime", description: "When." }),
  }),
});

builder.queryField("promotionRequests", (t) =>
  t.connection(
    {
      type: PromotionRequestRef,
      complexity: pageCost(20),
      description: "Promotion requests, newest first: by status, target environment and/or application.",
      args: {
        status: t.arg({ type: PromotionRequestStatusEnum, required: false, description: "Only requests with this status." }),
        environmentId: t.arg.id({ required: false, description: "Only requests into this environment." }),
        applicationId: t.arg.id({ required: false, description: "Only this application's." }),
      },
      resolve: async (_root, args, context) => {
        const positions = pagePositions(propagationCursor, args);
        const filter = await filterOf(context.loaders, args);
        // Requests past their expiry are stored EXPIRED first: the list depends on the time.
        context.timeDependent = true;
        return resolveCursorConnection(
          { args, toCursor: propagationCursor.encode, maxSize: MAX_PAGE_SIZE, defaultSize: 20 },
          ({ limit, inverted }: ResolveCursorConnectionArgs) =>
            context.services.listPromotionRequests(
              context.actor,
              { ...filter, status: args.status ?? undefined },
              { ...positions, limit, inverted },
            ),
        );
      },
    },
    { name: "PromotionRequestConnection", description: "A page of promotion requests." },
    { name: "PromotionRequestEdge", description: "A promotion request and its cursor." },
  ),
);

/** A request event cursor is its number in the organization. */
function eventCursorOf(value: string | null | undefined): number | undefined {
  if (value == null) return undefined;
  if (!/^(?:0|[1-9][0-9]{0,14})$/.test(value))
    throw new ValidationError([{ path: "after", message: "after is not a request event cursor" }]);
  return Number(value);
}

builder.subscriptionField("promotionRequestChanged", (t) =>
  t.field({
    type: PromotionRequestEventRef,
    description:
      "Status changes of the organization's promotion requests as they commit, on any instance. With `after`, first every stored event after that cursor, then live ones: no gap, no duplicate. Ends when the token is revoked, or when the subscriber has over 2,000 events waiting that it has not read (resume with `after` the last cursor it saw).",
    args: {
      environmentId: t.arg.id({ required: false, description: "Only requests into this environment." }),
      applicationId: t.arg.id({ required: false, description: "Only this application's." }),
      after: t.arg.string({ required: false, description: "Resume after this cursor (the last event seen)." }),
    },
    subscribe: async (_root, args, context) => {
      const filter = await filterOf(context.services.loaders(context.actor), args, { live: true });
      return context.services.requestEventStream(context.actor, filter, eventCursorOf(args.after));
    },
    resolve: (event) => event,
  }),
);

const SetApprovalPolicyInput = builder.inputType("SetApprovalPolicyInput", {
  description: "An environment's approval policy.",
  fields: (t) => ({
    environmentId: t.id({ description: "Global ID of the environment." }),
    requiredApprovals: t.int({ description: "0 to 10; with 1 or more, changes enter only through approved requests." }),
    allowSelfApproval: t.boolean({ description: "Whether a requester may approve their own request." }),
    requireComment: t.boolean({ description: "Whether approvals must carry a comment." }),
    expiresAfterHours: t.int({ description: "1 to 8,760: hours after which an open request expires." }),
  }),
});

const SetApprovalPolicySuccess = builder.objectRef<EnvironmentRow>("SetApprovalPolicySuccess").implement({
  description: "The policy was set.",
  fields: (t) => ({
    environment: t.field({ type: EnvironmentRef, description: "The environment, with its policy.", resolve: (e) => e }),
  }),
});

const RequestPromotionInput = builder.inputType("RequestPromotionInput", {
  description: "The plan to request: a selection of the diff (as for propagateChanges), or of a revert (with revertPropagationId).",
  fields: (t) => ({
    applicationId: t.id({ description: "Global ID of the application." }),
    fromEnvironmentId: t.id({ description: "The source environment (ranked below the target)." }),
    toEnvironmentId: t.id({ description: "The target environment." }),
    journeyId: t.id({ required: false, description: "Limit to this journey (client settings are then left out)." }),
    changeIds: t.idList({
      required: false,
      description: "Ids from the diff (or revert preview) that was reviewed (at most 5,000, each once).",
    }),
    selectAll: t.boolean({ required: false, description: "Every current change, instead of changeIds." }),
    includeRequired: t.boolean({
      required: false,
      description: "Add the changes the selection requires instead of failing with INCOMPLETE_SELECTION; reported in addedChangeIds.",
    }),
    revertPropagationId: t.id({
      required: false,
      description: "Request a revert of this propagation (its application and environments) instead of a promotion.",
    }),
    comment: t.string({ required: false, description: "Why, for reviewers and the audit history (at most 10,000 characters)." }),
  }),
});

const RequestPromotionSuccess = builder.objectRef<RequestResult>("RequestPromotionSuccess").implement({
  description: "The plan was validated and stored; nothing was applied.",
  fields: (t) => ({
    request: t.field({ type: PromotionRequestRef, description: "The request.", resolve: (r) => r.request }),
    addedChangeIds: t.field({
      type: ["ID"],
      description: "Changes added because the selection required them (includeRequired).",
      resolve: (r) => r.addedChangeIds,
    }),
  }),
});

const ApprovePromotionRequestInput = builder.inputType("ApprovePromotionRequestInput", {
  description: "An approval of the plan reviewed.",
  fields: (t) => ({
    requestId: t.id({ description: "Global ID of the request." }),
    planHash: t.string({ description: "The plan hash that was reviewed: PLAN_STALE if it is not the request's." }),
    comment: t.string({ required: false, description: "Why (required when the policy says so; at most 10,000 characters)." }),
  }),
});

const RejectPromotionRequestInput = builder.inputType("RejectPromotionRequestInput", {
  description: "A rejection, with its reason.",
  fields: (t) => ({
    requestId: t.id({ description: "Global ID of the request." }),
    comment: t.string({ description: "Why (at most 10,000 characters)." }),
  }),
});

const CancelPromotionRequestInput = builder.inputType("CancelPromotionRequestInput", {
  description: "The request to withdraw.",
  fields: (t) => ({ requestId: t.id({ description: "Global ID of the request." }) }),
});

const ExecutePromotionRequestInput = builder.inputType("ExecutePromotionRequestInput", {
  description: "The approved request to apply.",
  fields: (t) => ({
    requestId: t.id({ description: "Global ID of the request." }),
    idempotencyKey: t.string({
      required: false,
      description: "Retry key (per organization): a retry with it returns the first execution's propagation.",
    }),
  }),
});

const requestOnly = (name: string, description: string) =>
  builder.objectRef<{ request: PromotionRequestRow }>(name).implement({
    description,
    fields: (t) => ({
      request: t.field({ type: PromotionRequestRef, description: "The request, as it now is.", resolve: (r) => r.request }),
    }),
  });

const ApprovePromotionRequestSuccess = requestOnly(
  "ApprovePromotionRequestSuccess",
  "The approval was recorded; the request is APPROVED once enough are in.",
);
const RejectPromotionRequestSuccess = requestOnly("RejectPromotionRequestSuccess", "The request was rejected.");
const CancelPromotionRequestSuccess = requestOnly("CancelPromotionRequestSuccess", "The request was cancelled.");

const ExecutePromotionRequestSuccess = builder.objectRef<ExecuteResult>("ExecutePromotionRequestSuccess").implement({
  description: "The plan was applied exactly.",
  fields: (t) => ({
    request: t.field({ type: PromotionRequestRef, description: "The request, EXECUTED.", resolve: (r) => r.request }),
    propagation: t.field({
      type: PropagationRef,
      description: "The audit record: a propagation of mode APPROVED_REQUEST whose `request` is this one.",
      resolve: (r) => r.propagation,
    }),
    application: t.field({
      type: ApplicationRef,
      description: "The application after the execution, for a normalizing cache in one round trip.",
      resolve: async (r, _args, { loaders }) => (await loaders.application.load(r.propagation.applicationId))!,
    }),
  }),
});

/** Refusals that store a transition, as the result unions say. */
const EXPIRING_REFUSALS =
  "a typed error; only INVALID_REQUEST_STATE for a request found past its expiry stores anything (the request becomes EXPIRED)";
const STORING_REFUSALS =
  "a typed error; only PLAN_STALE naming moved changes (the request becomes STALE) and INVALID_REQUEST_STATE for a request found past its expiry (it becomes EXPIRED) store anything";

const requestId = (input: { requestId: string }) => localId(input.requestId, "PromotionRequest");

builder.mutationFields((t) => ({
  setApprovalPolicy: t.field({
    type: SetApprovalPolicySuccess,
    description:
      "Sets an environment's approval policy (ADMIN). Open requests into it keep the stricter of their policy and the new one: an approved request short of the approvals now required is PENDING again.",
    authScopes: { admin: true },
    errors: mutationErrors("setApprovalPolicy"),
    args: { input: t.arg({ type: SetApprovalPolicyInput, description: "The policy." }) },
    resolve: (_root, { input }, { services, actor }) =>
      services.setApprovalPolicy(actor, { ...input, environmentId: localId(input.environmentId, "Environment") }),
  }),
  requestPromotion: t.field({
    type: RequestPromotionSuccess,
    description:
      "Validates a selection exactly like propagateChanges (or revertPropagation) and stores it as a plan to approve; applies nothing (PROMOTER).",
    authScopes: { promoter: true },
    errors: mutationErrors("requestPromotion", [
      Errors.InvalidDirection,
      Errors.TargetMissing,
      Errors.StaleSelection,
      Errors.IncompleteSelection,
      Errors.InvalidConfiguration,
      Errors.NothingToPropagate,
      Errors.MissingVariables,
    ]),
    args: { input: t.arg({ type: RequestPromotionInput, description: "What to request." }) },
    resolve: (_root, { input }, { services, actor }) =>
      services.requestPromotion(actor, {
        ...input,
        applicationId: localId(input.applicationId, "Application"),
        fromEnvironmentId: localId(input.fromEnvironmentId, "Environment"),
        toEnvironmentId: localId(input.toEnvironmentId, "Environment"),
        journeyId: input.journeyId == null ? null : localId(input.journeyId, "Journey"),
        revertPropagationId: input.revertPropagationId == null ? null : localId(input.revertPropagationId, "Propagation"),
      }),
  }),
  approvePromotionRequest: t.field({
    type: ApprovePromotionRequestSuccess,
    description:
      "Approves a request's plan by its hash (PROMOTER; ADMIN into production; not the requester unless the policy allows; once per reviewer).",
    authScopes: { promoter: true },
    errors: mutationErrors(
      "approvePromotionRequest",
      [Errors.PlanStale, Errors.SelfApproval, Errors.InvalidRequestState, Errors.AlreadyExists, Errors.TargetMissing],
      STORING_REFUSALS,
    ),
    args: { input: t.arg({ type: ApprovePromotionRequestInput, description: "The approval." }) },
    resolve: (_root, { input }, { services, actor }) => services.approvePromotionRequest(actor, { ...input, requestId: requestId(input) }),
  }),
  rejectPromotionRequest: t.field({
    type: RejectPromotionRequestSuccess,
    description: "Rejects a request (PROMOTER; ADMIN into production). One rejection rejects it.",
    authScopes: { promoter: true },
    errors: mutationErrors("rejectPromotionRequest", [Errors.InvalidRequestState, Errors.AlreadyExists], EXPIRING_REFUSALS),
    args: { input: t.arg({ type: RejectPromotionRequestInput, description: "The rejection." }) },
    resolve: (_root, { input }, { services, actor }) => services.rejectPromotionRequest(actor, { ...input, requestId: requestId(input) }),
  }),
  cancelPromotionRequest: t.field({
    type: CancelPromotionRequestSuccess,
    description: "Withdraws an open request (its requester, or an ADMIN).",
    authScopes: { promoter: true },
    errors: mutationErrors("cancelPromotionRequest", [Errors.InvalidRequestState], EXPIRING_REFUSALS),
    args: { input: t.arg({ type: CancelPromotionRequestInput, description: "The request." }) },
    resolve: (_root, { input }, { services, actor }) => services.cancelPromotionRequest(actor, { requestId: requestId(input) }),
  }),
  executePromotionRequest: t.field({
    type: ExecutePromotionRequestSuccess,
    description:
      "Applies an approved request's plan exactly, atomically, as a propagation of mode APPROVED_REQUEST (PROMOTER; ADMIN into production) — or marks it STALE and answers PLAN_STALE naming the planned changes that moved.",
    authScopes: { promoter: true },
    errors: mutationErrors(
      "executePromotionRequest",
      [
        Errors.PlanStale,
        Errors.InvalidRequestState,
        Errors.TargetMissing,
        Errors.InvalidConfiguration,
        Errors.MissingVariables,
        Errors.DraftConflict,
      ],
      STORING_REFUSALS,
    ),
    args: { input: t.arg({ type: ExecutePromotionRequestInput, description: "The request." }) },
    resolve: (_root, { input }, { services, actor }) => services.executePromotionRequest(actor, { ...input, requestId: requestId(input) }),
  }),
}));

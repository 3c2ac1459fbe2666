-- Approvals (DESIGN.md §8): each environment's approval policy; promotion requests, their reviews and their
-- events (numbered per organization like sync notifications); a propagation of mode APPROVED_REQUEST names the
-- request it executed (at most one per request), and may revert a propagation when the request was a revert.
CREATE TABLE "promotion_request_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"organization_id" uuid NOT NULL,
	"seq" bigint NOT NULL,
	"request_id" uuid NOT NULL,
	"application_id" uuid NOT NULL,
	"environment_id" uuid NOT NULL,
	"status" text NOT NULL,
	"actor" text NOT NULL,
	"occurred_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "promotion_request_events_organization_seq_unique" UNIQUE("organization_id","seq")
);
--> statement-breakpoint
CREATE TABLE "promotion_requests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"application_id" uuid NOT NULL,
	"from_environment_id" uuid NOT NULL,
	"to_environment_id" uuid NOT NULL,
	"journey_id" uuid,
	"revert_of_id" uuid,
	"status" text NOT NULL,
	"changes" jsonb NOT NULL,
	"plan_hash" text NOT NULL,
	"added_change_ids" jsonb NOT NULL,
	"comment" text,
	"requested_by" text NOT NULL,
	"requested_by_token_id" uuid NOT NULL,
	"required_approvals" integer NOT NULL,
	"allow_self_approval" boolean NOT NULL,
	"require_comment" boolean NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "promotion_requests_required_approvals_range" CHECK ("promotion_requests"."required_approvals" between 0 and 10)
);
--> statement-breakpoint
CREATE TABLE "promotion_reviews" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"organization_id" uuid NOT NULL,
	"request_id" uuid NOT NULL,
	"reviewer" text NOT NULL,
	"reviewer_token_id" uuid NOT NULL,
	"decision" text NOT NULL,
	"comment" text,
	"plan_hash" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "promotion_reviews_request_reviewer_unique" UNIQUE("request_id","reviewer_token_id")
);
--> statement-breakpoint
ALTER TABLE "propagations" DROP CONSTRAINT "propagations_revert_mode";--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "required_approvals" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "allow_self_approval" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "require_comment" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "expires_after_hours" integer DEFAULT 72 NOT NULL;--> statement-breakpoint
ALTER TABLE "propagations" ADD COLUMN "promotion_request_id" uuid;--> statement-breakpoint
ALTER TABLE "promotion_request_events" ADD CONSTRAINT "promotion_request_events_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "promotion_request_events" ADD CONSTRAINT "promotion_request_events_request_id_promotion_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "public"."promotion_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "promotion_request_events" ADD CONSTRAINT "promotion_request_events_application_id_applications_id_fk" FOREIGN KEY ("application_id") REFERENCES "public"."applications"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "promotion_request_events" ADD CONSTRAINT "promotion_request_events_environment_id_environments_id_fk" FOREIGN KEY ("environment_id") REFERENCES "public"."environments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "promotion_requests" ADD CONSTRAINT "promotion_requests_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "promotion_requests" ADD CONSTRAINT "promotion_requests_application_id_applications_id_fk" FOREIGN KEY ("application_id") REFERENCES "public"."applications"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "promotion_requests" ADD CONSTRAINT "promotion_requests_from_environment_id_environments_id_fk" FOREIGN KEY ("from_environment_id") REFERENCES "public"."environments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "promotion_requests" ADD CONSTRAINT "promotion_requests_to_environment_id_environments_id_fk" FOREIGN KEY ("to_environment_id") REFERENCES "public"."environments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "promotion_requests" ADD CONSTRAINT "promotion_requests_journey_id_journeys_id_fk" FOREIGN KEY ("journey_id") REFERENCES "public"."journeys"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "promotion_requests" ADD CONSTRAINT "promotion_requests_revert_of_id_propagations_id_fk" FOREIGN KEY ("revert_of_id") REFERENCES "public"."propagations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "promotion_requests" ADD CONSTRAINT "promotion_requests_requested_by_token_id_api_tokens_id_fk" FOREIGN KEY ("requested_by_token_id") REFERENCES "public"."api_tokens"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "promotion_reviews" ADD CONSTRAINT "promotion_reviews_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "promotion_reviews" ADD CONSTRAINT "promotion_reviews_request_id_promotion_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "public"."promotion_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "promotion_reviews" ADD CONSTRAINT "promotion_reviews_reviewer_token_id_api_tokens_id_fk" FOREIGN KEY ("reviewer_token_id") REFERENCES "public"."api_tokens"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "promotion_requests_organization_created_idx" ON "promotion_requests" USING btree ("organization_id","created_at");--> statement-breakpoint
CREATE INDEX "promotion_requests_open_expiry_idx" ON "promotion_requests" USING btree ("organization_id","expires_at") WHERE "promotion_requests"."status" in ('PENDING', 'APPROVED');--> statement-breakpoint
ALTER TABLE "propagations" ADD CONSTRAINT "propagations_promotion_request_id_promotion_requests_id_fk" FOREIGN KEY ("promotion_request_id") REFERENCES "public"."promotion_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "propagations_promotion_request_unique" ON "propagations" USING btree ("promotion_request_id");--> statement-breakpoint
ALTER TABLE "environments" ADD CONSTRAINT "environments_required_approvals_range" CHECK ("environments"."required_approvals" between 0 and 10);--> statement-breakpoint
ALTER TABLE "environments" ADD CONSTRAINT "environments_expires_after_hours_range" CHECK ("environments"."expires_after_hours" between 1 and 8760);--> statement-breakpoint
ALTER TABLE "propagations" ADD CONSTRAINT "propagations_request_mode" CHECK (("propagations"."mode" = 'APPROVED_REQUEST') = ("propagations"."promotion_request_id" is not null));--> statement-breakpoint
ALTER TABLE "propagations" ADD CONSTRAINT "propagations_revert_mode" CHECK (("propagations"."mode" <> 'REVERT' or "propagations"."revert_of_id" is not null) and ("propagations"."revert_of_id" is null or "propagations"."mode" in ('REVERT', 'APPROVED_REQUEST')));
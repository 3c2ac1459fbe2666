CREATE TABLE "propagations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"application_id" uuid NOT NULL,
	"from_environment_id" uuid NOT NULL,
	"to_environment_id" uuid NOT NULL,
	"mode" text NOT NULL,
	"items" jsonb NOT NULL,
	"added_change_ids" jsonb NOT NULL,
	"comment" text,
	"actor" text NOT NULL,
	"idempotency_key" text,
	"request_hash" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "propagations_organization_idempotency_key_unique" UNIQUE("organization_id","idempotency_key")
);
--> statement-breakpoint
ALTER TABLE "propagations" ADD CONSTRAINT "propagations_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "propagations" ADD CONSTRAINT "propagations_application_id_applications_id_fk" FOREIGN KEY ("application_id") REFERENCES "public"."applications"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "propagations" ADD CONSTRAINT "propagations_from_environment_id_environments_id_fk" FOREIGN KEY ("from_environment_id") REFERENCES "public"."environments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "propagations" ADD CONSTRAINT "propagations_to_environment_id_environments_id_fk" FOREIGN KEY ("to_environment_id") REFERENCES "public"."environments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "propagations_application_created_idx" ON "propagations" USING btree ("application_id","created_at");--> statement-breakpoint
CREATE INDEX "propagations_organization_created_idx" ON "propagations" USING btree ("organization_id","created_at");
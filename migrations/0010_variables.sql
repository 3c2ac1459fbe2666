-- Variables (DESIGN.md §6): organization-wide keys with a kind, a value per environment (a SECRET sealed:
-- ciphertext, key id and fingerprint, never the plaintext) and the history of every value change.
CREATE TABLE "variable_value_changes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"organization_id" uuid NOT NULL,
	"variable_id" uuid NOT NULL,
	"environment_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"value" jsonb,
	"fingerprint" text,
	"removed" boolean NOT NULL,
	"actor" text NOT NULL,
	"actor_token_id" uuid,
	"occurred_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "variable_value_changes_version_unique" UNIQUE("variable_id","environment_id","version")
);
--> statement-breakpoint
CREATE TABLE "variable_values" (
	"variable_id" uuid NOT NULL,
	"environment_id" uuid NOT NULL,
	"organization_id" uuid NOT NULL,
	"value" jsonb,
	"ciphertext" text,
	"key_id" text,
	"fingerprint" text,
	"version" integer NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_by" text NOT NULL,
	"updated_by_token_id" uuid,
	CONSTRAINT "variable_values_pk" PRIMARY KEY("variable_id","environment_id"),
	CONSTRAINT "variable_values_secret_sealed" CHECK (("variable_values"."ciphertext" is null) = ("variable_values"."key_id" is null) and ("variable_values"."ciphertext" is null) = ("variable_values"."fingerprint" is null))
);
--> statement-breakpoint
CREATE TABLE "variables" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"key" text NOT NULL,
	"kind" text NOT NULL,
	"description" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "variable_value_changes" ADD CONSTRAINT "variable_value_changes_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "variable_value_changes" ADD CONSTRAINT "variable_value_changes_variable_id_variables_id_fk" FOREIGN KEY ("variable_id") REFERENCES "public"."variables"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "variable_value_changes" ADD CONSTRAINT "variable_value_changes_environment_id_environments_id_fk" FOREIGN KEY ("environment_id") REFERENCES "public"."environments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "variable_value_changes" ADD CONSTRAINT "variable_value_changes_actor_token_id_api_tokens_id_fk" FOREIGN KEY ("actor_token_id") REFERENCES "public"."api_tokens"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "variable_values" ADD CONSTRAINT "variable_values_variable_id_variables_id_fk" FOREIGN KEY ("variable_id") REFERENCES "public"."variables"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "variable_values" ADD CONSTRAINT "variable_values_environment_id_environments_id_fk" FOREIGN KEY ("environment_id") REFERENCES "public"."environments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "variable_values" ADD CONSTRAINT "variable_values_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "variable_values" ADD CONSTRAINT "variable_values_updated_by_token_id_api_tokens_id_fk" FOREIGN KEY ("updated_by_token_id") REFERENCES "public"."api_tokens"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "variables" ADD CONSTRAINT "variables_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "variable_value_changes_variable_idx" ON "variable_value_changes" USING btree ("variable_id","id");--> statement-breakpoint
CREATE INDEX "variable_values_organization_idx" ON "variable_values" USING btree ("organization_id");--> statement-breakpoint
CREATE UNIQUE INDEX "variables_organization_active_key_unique" ON "variables" USING btree ("organization_id","key") WHERE "variables"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "variables_organization_idx" ON "variables" USING btree ("organization_id");
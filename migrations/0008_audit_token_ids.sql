-- Audit records keep the token that wrote them beside its name: names are unique only among active
-- tokens, so a revoked token's name may come back on another one. Records written before stay
-- without one (null): their name is all that was kept.
ALTER TABLE "client_settings_versions" ADD COLUMN "saved_by_token_id" uuid;--> statement-breakpoint
ALTER TABLE "journey_drafts" ADD COLUMN "updated_by_token_id" uuid;--> statement-breakpoint
ALTER TABLE "journey_versions" ADD COLUMN "saved_by_token_id" uuid;--> statement-breakpoint
ALTER TABLE "propagations" ADD COLUMN "actor_token_id" uuid;--> statement-breakpoint
ALTER TABLE "client_settings_versions" ADD CONSTRAINT "client_settings_versions_saved_by_token_id_api_tokens_id_fk" FOREIGN KEY ("saved_by_token_id") REFERENCES "public"."api_tokens"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "journey_drafts" ADD CONSTRAINT "journey_drafts_updated_by_token_id_api_tokens_id_fk" FOREIGN KEY ("updated_by_token_id") REFERENCES "public"."api_tokens"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "journey_versions" ADD CONSTRAINT "journey_versions_saved_by_token_id_api_tokens_id_fk" FOREIGN KEY ("saved_by_token_id") REFERENCES "public"."api_tokens"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "propagations" ADD CONSTRAINT "propagations_actor_token_id_api_tokens_id_fk" FOREIGN KEY ("actor_token_id") REFERENCES "public"."api_tokens"("id") ON DELETE no action ON UPDATE no action;
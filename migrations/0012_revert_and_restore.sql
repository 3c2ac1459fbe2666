-- Restore and revert (DESIGN.md §7): a draft remembers the version it was restored from; a propagation of mode
-- REVERT names the propagation it reverts.
ALTER TABLE "journey_drafts" ADD COLUMN "restored_from_version" integer;--> statement-breakpoint
ALTER TABLE "propagations" ADD COLUMN "revert_of_id" uuid;--> statement-breakpoint
ALTER TABLE "propagations" ADD CONSTRAINT "propagations_revert_of_id_propagations_id_fk" FOREIGN KEY ("revert_of_id") REFERENCES "public"."propagations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "propagations_revert_of_idx" ON "propagations" USING btree ("revert_of_id");--> statement-breakpoint
ALTER TABLE "propagations" ADD CONSTRAINT "propagations_revert_mode" CHECK (("propagations"."mode" = 'REVERT') = ("propagations"."revert_of_id" is not null));
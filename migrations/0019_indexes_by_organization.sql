CREATE INDEX "applications_organization_name_id_idx" ON "applications" USING btree ("organization_id","name","id");--> statement-breakpoint
CREATE INDEX "clients_database_idx" ON "clients" USING btree ("database_id");--> statement-breakpoint
CREATE INDEX "journey_drafts_organization_idx" ON "journey_drafts" USING btree ("organization_id");
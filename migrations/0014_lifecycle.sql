-- Lifecycle (DESIGN.md §10): an application can be archived (read-only, hidden from lists), an environment deleted
-- (it leaves the pipeline; its row stays for the history that names it), and a journey version can be a tombstone
-- (the journey was retired with it). The audit log is read per object.
ALTER TABLE "applications" ADD COLUMN "archived_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "journey_versions" ADD COLUMN "retired" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "audit_events_subject_idx" ON "audit_events" USING btree ("organization_id","subject_id","occurred_at");
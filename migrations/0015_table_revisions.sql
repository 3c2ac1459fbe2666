-- Table revisions (issue 17): what each write transaction wrote, per table, so that a cached response
-- stays exact across writes to tables it did not read. A statement-level trigger on every table of the
-- organizations' data notes the table's name in a setting local to the transaction; raising the
-- organization's revision (its last statement, src/db/repositories/organizations.ts) records the
-- tables noted with the new revision in "table_revisions". No write path can leave a table out.
-- Every table but "organizations" itself (whose revision is what a response that reads it compares);
-- a table added later gets the trigger too (test/services/table-revisions.test.ts checks).
ALTER TABLE "organizations" ADD COLUMN "table_revisions" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
CREATE OR REPLACE FUNCTION "note_table_written"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  written text := coalesce(current_setting('journey_promotion.tables_written', true), '');
BEGIN
  IF position(',' || TG_TABLE_NAME || ',' IN written) = 0 THEN
    PERFORM set_config('journey_promotion.tables_written', CASE WHEN written = '' THEN ',' ELSE written END || TG_TABLE_NAME || ',', true);
  END IF;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "note_table_written" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "api_tokens" FOR EACH STATEMENT EXECUTE FUNCTION "note_table_written"();--> statement-breakpoint
CREATE TRIGGER "note_table_written" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "environments" FOR EACH STATEMENT EXECUTE FUNCTION "note_table_written"();--> statement-breakpoint
CREATE TRIGGER "note_table_written" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "databases" FOR EACH STATEMENT EXECUTE FUNCTION "note_table_written"();--> statement-breakpoint
CREATE TRIGGER "note_table_written" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "applications" FOR EACH STATEMENT EXECUTE FUNCTION "note_table_written"();--> statement-breakpoint
CREATE TRIGGER "note_table_written" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "clients" FOR EACH STATEMENT EXECUTE FUNCTION "note_table_written"();--> statement-breakpoint
CREATE TRIGGER "note_table_written" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "client_settings_versions" FOR EACH STATEMENT EXECUTE FUNCTION "note_table_written"();--> statement-breakpoint
CREATE TRIGGER "note_table_written" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "journeys" FOR EACH STATEMENT EXECUTE FUNCTION "note_table_written"();--> statement-breakpoint
CREATE TRIGGER "note_table_written" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "journey_versions" FOR EACH STATEMENT EXECUTE FUNCTION "note_table_written"();--> statement-breakpoint
CREATE TRIGGER "note_table_written" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "journey_heads" FOR EACH STATEMENT EXECUTE FUNCTION "note_table_written"();--> statement-breakpoint
CREATE TRIGGER "note_table_written" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "journey_drafts" FOR EACH STATEMENT EXECUTE FUNCTION "note_table_written"();--> statement-breakpoint
CREATE TRIGGER "note_table_written" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "propagations" FOR EACH STATEMENT EXECUTE FUNCTION "note_table_written"();--> statement-breakpoint
CREATE TRIGGER "note_table_written" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "promotion_requests" FOR EACH STATEMENT EXECUTE FUNCTION "note_table_written"();--> statement-breakpoint
CREATE TRIGGER "note_table_written" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "promotion_reviews" FOR EACH STATEMENT EXECUTE FUNCTION "note_table_written"();--> statement-breakpoint
CREATE TRIGGER "note_table_written" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "promotion_request_events" FOR EACH STATEMENT EXECUTE FUNCTION "note_table_written"();--> statement-breakpoint
CREATE TRIGGER "note_table_written" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "sync_notifications" FOR EACH STATEMENT EXECUTE FUNCTION "note_table_written"();--> statement-breakpoint
CREATE TRIGGER "note_table_written" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "variables" FOR EACH STATEMENT EXECUTE FUNCTION "note_table_written"();--> statement-breakpoint
CREATE TRIGGER "note_table_written" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "variable_values" FOR EACH STATEMENT EXECUTE FUNCTION "note_table_written"();--> statement-breakpoint
CREATE TRIGGER "note_table_written" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "variable_value_changes" FOR EACH STATEMENT EXECUTE FUNCTION "note_table_written"();--> statement-breakpoint
CREATE TRIGGER "note_table_written" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "audit_events" FOR EACH STATEMENT EXECUTE FUNCTION "note_table_written"();

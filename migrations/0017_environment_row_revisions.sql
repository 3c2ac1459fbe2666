-- Revisions of one environment's rows (issue 17): a journey saved in development leaves a dashboard of
-- production's configurations exact. A row-level trigger on the tables read by environment notes, besides
-- the table (migration 0015), "<table>@<environment id>" for the environment of each row written (before
-- and after an update), and "<table>@inserted-or-deleted" when a row comes or goes (which journeys have a
-- head anywhere); raising the organization's revision records them all (migration 0016). A read of some
-- environments' rows only counts as a read of those (src/db/read-tracking.ts, readingPartitions).
-- TRUNCATE notes the table alone: no partitioned read stays exact across one (the application never runs it).
CREATE OR REPLACE FUNCTION "note_environment_rows_written"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  written text := coalesce(current_setting('journey_promotion.tables_written', true), '');
  noted text := written;
  names text[];
  name text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    names := ARRAY[TG_TABLE_NAME || '@' || NEW.environment_id, TG_TABLE_NAME || '@inserted-or-deleted'];
  ELSIF TG_OP = 'DELETE' THEN
    names := ARRAY[TG_TABLE_NAME || '@' || OLD.environment_id, TG_TABLE_NAME || '@inserted-or-deleted'];
  ELSIF OLD.journey_id IS DISTINCT FROM NEW.journey_id OR OLD.environment_id IS DISTINCT FROM NEW.environment_id THEN
    names := ARRAY[TG_TABLE_NAME || '@' || OLD.environment_id, TG_TABLE_NAME || '@' || NEW.environment_id, TG_TABLE_NAME || '@inserted-or-deleted'];
  ELSE
    names := ARRAY[TG_TABLE_NAME || '@' || NEW.environment_id];
  END IF;
  FOREACH name IN ARRAY names LOOP
    IF position(',' || name || ',' IN noted) = 0 THEN
      noted := CASE WHEN noted = '' THEN ',' ELSE noted END || name || ',';
    END IF;
  END LOOP;
  IF noted <> written THEN
    PERFORM set_config('journey_promotion.tables_written', noted, true);
  END IF;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "note_environment_rows_written" AFTER INSERT OR UPDATE OR DELETE ON "journey_heads" FOR EACH ROW EXECUTE FUNCTION "note_environment_rows_written"();--> statement-breakpoint
CREATE TRIGGER "note_environment_rows_written" AFTER INSERT OR UPDATE OR DELETE ON "journey_versions" FOR EACH ROW EXECUTE FUNCTION "note_environment_rows_written"();

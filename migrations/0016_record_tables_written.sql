-- Table revisions recorded by the database itself (issue 17): whatever raises an organization's revision
-- (this version's code, an older instance's during a rolling deploy, SQL by hand) records the new revision
-- for each table its transaction noted (migration 0015), so no raise can leave a written table out.
CREATE OR REPLACE FUNCTION "record_tables_written"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.revision IS DISTINCT FROM OLD.revision THEN
    NEW.table_revisions := OLD.table_revisions || coalesce((
      SELECT jsonb_object_agg(written.name, NEW.revision)
      FROM unnest(string_to_array(current_setting('journey_promotion.tables_written', true), ',')) AS written(name)
      WHERE written.name <> ''), '{}'::jsonb);
  END IF;
  RETURN NEW;
END
$$;--> statement-breakpoint
CREATE TRIGGER "record_tables_written" BEFORE UPDATE OF "revision" ON "organizations" FOR EACH ROW EXECUTE FUNCTION "record_tables_written"();

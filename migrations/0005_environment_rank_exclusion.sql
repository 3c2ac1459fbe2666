-- Two environments of an organization never share a rank, checked at commit, by an exclusion
-- constraint instead of a unique one. Inserting an environment moves the ranks above it up by one;
-- an update of a column of a unique index locks the row as a key update (FOR UPDATE), which blocks
-- every foreign-key check on that environment. A writer that held the organization's notification
-- lock and then recorded a notification referencing a moved environment waited for the insertion,
-- while the insertion waited for that lock: a deadlock. An exclusion constraint's index is not one a
-- foreign key can use, so the rank update takes the weaker FOR NO KEY UPDATE lock.
-- (drizzle's schema cannot express it: src/db/schema.ts only mentions it.)
ALTER TABLE "environments" DROP CONSTRAINT "environments_organization_rank_unique";--> statement-breakpoint
ALTER TABLE "environments" ADD CONSTRAINT "environments_organization_rank_exclusive"
  EXCLUDE USING btree ("organization_id" WITH =, "rank" WITH =) DEFERRABLE INITIALLY DEFERRED;

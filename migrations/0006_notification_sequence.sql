-- Notification cursors per organization: `seq` numbers each organization's notifications 1, 2, 3…
-- without gaps (assigned under the organization's notification lock), so a cursor no longer shows
-- how much every other organization wrote in between, as the shared bigserial `id` did. `id` stays
-- the internal key the event relay reads rows back by. Existing rows are numbered in id order,
-- which within one organization is their commit order.
ALTER TABLE "sync_notifications" ADD COLUMN "seq" bigint;--> statement-breakpoint
UPDATE "sync_notifications" AS "n" SET "seq" = "numbered"."seq"
  FROM (SELECT "id", row_number() OVER (PARTITION BY "organization_id" ORDER BY "id") AS "seq" FROM "sync_notifications") AS "numbered"
  WHERE "n"."id" = "numbered"."id";--> statement-breakpoint
ALTER TABLE "sync_notifications" ALTER COLUMN "seq" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "sync_notifications" ADD CONSTRAINT "sync_notifications_organization_seq_unique" UNIQUE("organization_id","seq");--> statement-breakpoint
DROP INDEX "sync_notifications_organization_id_idx";

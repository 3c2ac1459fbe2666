-- Token names are unique among an organization's active tokens: audit records name their author
-- by it. Existing duplicates keep the oldest token's name; each later one takes the first free
-- " (2)", " (3)"… suffix.
DO $$
DECLARE
  duplicate record;
  n integer;
  candidate text;
BEGIN
  FOR duplicate IN
    SELECT "id", "organization_id", "name" FROM (
      SELECT "id", "organization_id", "name",
        row_number() OVER (PARTITION BY "organization_id", "name" ORDER BY "created_at", "id") AS "rank"
      FROM "api_tokens" WHERE "revoked_at" IS NULL
    ) AS "ranked"
    WHERE "rank" > 1
    ORDER BY "organization_id", "name", "rank"
  LOOP
    n := 2;
    LOOP
      candidate := duplicate."name" || ' (' || n || ')';
      EXIT WHEN NOT EXISTS (
        SELECT 1 FROM "api_tokens"
        WHERE "organization_id" = duplicate."organization_id" AND "revoked_at" IS NULL AND "name" = candidate
      );
      n := n + 1;
    END LOOP;
    UPDATE "api_tokens" SET "name" = candidate WHERE "id" = duplicate."id";
  END LOOP;
END $$;--> statement-breakpoint
CREATE UNIQUE INDEX "api_tokens_organization_active_name_unique" ON "api_tokens" USING btree ("organization_id","name") WHERE "api_tokens"."revoked_at" is null;

import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../client.js";

/**
 * Ids per announcement: `pg_notify` refuses payloads of 8,000 bytes or more, and 300 ids of any
 * bigint (at most 20 characters each with its comma) and the organization's id stay well under.
 */
export const IDS_PER_ANNOUNCEMENT = 300;

/**
 * Runs an insert of rows numbered per organization (sync notifications, request events; its
 * `returning` names `id`) and announces their ids on `channel` as `{"organizationId","ids"}`, in one
 * statement: one announcement per {@link IDS_PER_ANNOUNCEMENT} ids, in id order (a function scan
 * of the payloads' array yields them in order); NOTIFY is delivered only on commit. (`getSQL()`: a
 * query builder embedded whole would be put in parentheses, which a data-modifying WITH does not take.)
 * Sent when called (`.execute()`): the end of a transaction sends it with the statements around it
 * (`inTransaction`).
 */
export async function insertAnnounced(db: Db, channel: string, organizationId: string, insert: { getSQL(): SQL }): Promise<void> {
  await db
    .execute(sql`with inserted as (${insert.getSQL()}),
    batches as (
      select (row_number() over (order by id) - 1) / ${IDS_PER_ANNOUNCEMENT} as batch, id from inserted),
    payloads as (
      select array_agg(payload order by batch) as list from (
        select batch, '{"organizationId":' || to_json(${organizationId}::text)::text || ',"ids":[' || string_agg(id::text, ',' order by id) || ']}' as payload
        from batches group by batch) as grouped)
    select pg_notify(${channel}, announced.payload) from payloads, unnest(payloads.list) as announced(payload)`)
    .execute();
}

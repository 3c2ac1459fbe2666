import { type SQL, sql } from "drizzle-orm";
import { type Db, rowsOf } from "../client.js";

/**
 * Runs an insert of rows numbered per organization (sync notifications, request events; its
 * `returning` names `id`) and announces their ids on `channel` as `{"organizationId", "ids"}`, in one
 * statement; NOTIFY is delivered only on commit. Answers the ids, ascending. (`getSQL()`: a query
 * builder embedded whole would be put in parentheses, which a data-modifying WITH does not take.)
 */
export async function insertAnnounced(db: Db, channel: string, organizationId: string, insert: { getSQL(): SQL }): Promise<number[]> {
  const [row] = rowsOf<{ ids: number[] | null }>(
    await db.execute(sql`with inserted as (${insert.getSQL()})
      select pg_notify(${channel}, json_build_object('organizationId', ${organizationId}::text, 'ids', json_agg(id order by id))::text),
             json_agg(id order by id) as ids
      from inserted`),
  );
  return row?.ids ?? [];
}

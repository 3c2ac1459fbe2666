import { type Column, type SQL, sql } from "drizzle-orm";
import { isUuid } from "../../domain/uuid.js";

/**
 * `(columns) in (select * from unnest(…))`: membership in a list of tuples, the list sent as one
 * array parameter per column (`{a,b,…}`, cast to its type). A list of row constructors
 * (`(a, b) in ((…), (…), …)`) has a parameter per value, and the embedded PostgreSQL (PGlite 0.5)
 * answers no rows at all, without an error, once it holds some 280 tuples of three.
 *
 * Values are written into array literals, so each must be what its type says (a UUID, an integer):
 * anything else is a programming error, thrown before the statement is built.
 */
export function inTuples(columns: SQL[], types: ("uuid" | "int")[], rows: readonly (readonly (string | number)[])[]): SQL {
  for (const row of rows) {
    types.forEach((type, i) => {
      const value = row[i];
      const valid = type === "uuid" ? typeof value === "string" && isUuid(value) : Number.isSafeInteger(value);
      if (!valid) throw new Error(`inTuples: ${JSON.stringify(value)} is not a ${type}`);
    });
  }
  const arrays = types.map((type, i) => {
    const literal = `{${rows.map((row) => String(row[i])).join(",")}}`;
    return type === "uuid" ? sql`${literal}::uuid[]` : sql`${literal}::int[]`;
  });
  return sql`(${sql.join(columns, sql`, `)}) in (select * from unnest(${sql.join(arrays, sql`, `)}))`;
}

/**
 * `column = any($1::type[])`: membership in a list sent as one array parameter, so the statement's
 * text is the same whatever the list's length — prepared once per PostgreSQL connection and run in
 * one round trip (src/db/postgres-session.ts) — where `inArray`'s `in ($1, $2, …)` is a new text for
 * each length, sent unprepared: two round trips. An empty list matches nothing, as with `inArray`.
 */
export function anyOf(column: Column, type: "uuid" | "bigint" | "text", values: readonly (string | number)[]): SQL {
  return sql`${column} = any(${sql.param([...values])}::${sql.raw(type)}[])`;
}

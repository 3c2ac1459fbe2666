import { Writable } from "node:stream";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { loggableError } from "../../../src/server/error-log.js";
import { createLogger } from "../../../src/server/logger.js";
import { testDatabase } from "../../support/database.js";

/** The error of a query that fails on a client's value, thrown by the test database's real driver (PGlite or postgres.js). */
async function failedQuery(...values: string[]): Promise<unknown> {
  const { db } = await testDatabase();
  try {
    await db.execute(
      sql`select ${values[0]}::uuid as id, ${sql.join(
        values.slice(1).map((v) => sql`${v}::text`),
        sql`, `,
      )}`,
    );
  } catch (error) {
    return error;
  }
  throw new Error("the query did not fail");
}

/** Every line a real logger writes for `fields`, as text. */
function logged(fields: Record<string, unknown>): string {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  createLogger("info", sink).error(fields, "unexpected error");
  return lines.join("");
}

const CURSOR = "-".repeat(36);
const SECRET = "customer-secret-name-4711";

describe("loggableError", () => {
  it("keeps a failed query's name, message, SQLSTATE and stack, but neither its SQL nor its parameters", async () => {
    const error = await failedQuery(CURSOR, SECRET);
    // What logging the error as it is writes: the statement and both values.
    expect(logged({ err: error })).toContain(SECRET);

    const loggable = loggableError(error);
    expect(loggable.code).toBe("22P02");
    expect(loggable.message).toMatch(/invalid input syntax for type uuid/);
    expect(loggable.stack).toMatch(/\n\s+at /);
    const line = logged({ err: loggable });
    for (const leak of [CURSOR, SECRET, "select", "::uuid", "params"]) expect(line).not.toContain(leak);
    expect(JSON.parse(line).err).toMatchObject({ type: loggable.name, message: loggable.message, code: "22P02" });
    expect(Object.keys(loggable).sort()).toEqual(["code", "message", "name", "stack"]);
  });

  it("cuts the SQL out of a wrapper's message and keeps its cause's", () => {
    const cause = Object.assign(new Error(`value "${SECRET}" is out of range for type integer`), { code: "22003", parameters: [SECRET] });
    const wrapper = Object.assign(new Error(`Failed query: select * from t where n = $1\nparams: ${SECRET}`), {
      query: "select * from t where n = $1",
      params: [SECRET],
      cause,
    });
    const loggable = loggableError(wrapper);
    expect(loggable.message).toBe(`Failed query: value "[parameter]" is out of range for type integer`);
    expect(loggable.code).toBe("22003");
    expect(loggable.stack?.split("\n")[0]).toBe(`Error: ${loggable.message}`);
    expect(JSON.stringify(loggable)).not.toMatch(/select|\$1|customer-secret/);
  });

  it("keeps an ordinary error as it is", () => {
    const error = new TypeError("Cannot read properties of undefined (reading 'id')");
    expect(loggableError(error)).toEqual({ name: "TypeError", message: error.message, stack: error.stack });
  });

  it("keeps an error's own code when it has no SQLSTATE", () => {
    const error = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    expect(loggableError(error)).toMatchObject({ name: "Error", message: "read ECONNRESET", code: "ECONNRESET" });
  });

  it("follows a circle of causes once", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(loggableError(a).message).toBe("a: b");
  });

  it("names what is thrown that is not an error, without printing it", () => {
    expect(loggableError(SECRET)).toEqual({ name: "NonError", message: "a thrown string" });
    expect(loggableError(null)).toEqual({ name: "NonError", message: "a thrown null" });
    expect(loggableError({ query: "select 1", params: [SECRET] })).toEqual({ name: "NonError", message: "a thrown object" });
  });
});

import { ValidationError } from "../domain/errors.js";
import type { Problem } from "../domain/journey-document.js";
import { isStorableText } from "../domain/storable-text.js";
import { isUuid } from "../domain/uuid.js";

/**
 * The cursors of the connections: how a row's position is written for the client, and read back.
 * A cursor comes back from the client, so anything may arrive; reading one is strict: only the
 * exact text this connection issues for some position is a cursor, and only a position SQL can
 * compare (a real UUID, storable text, a timestamp and an integer in their column's range) is one.
 * Anything else is refused with VALIDATION_FAILED before it reaches SQL.
 */
export interface Cursor<P> {
  encode(position: P): string;
  /** The position a cursor names; null when it is not a cursor this connection issues. */
  decode(cursor: string): P | null;
}

/** Longer than any cursor issued: an application name of MAX_NAME_LENGTH, each character JSON-escaped. */
const MAX_CURSOR_LENGTH = 8_192;
/** Ten times the longest name an application may have: room for the rule to grow without breaking cursors. */
const MAX_NAME_LENGTH = 1_000;
/** The range of an `integer` column. */
const MAX_INT4 = 2 ** 31 - 1;
/**
 * Timestamps a cursor may hold: those whose ISO text (what the repository sends) PostgreSQL reads as
 * a timestamptz. JavaScript writes years before 1 and after 9999 as `-000001-…` and `+010000-…`,
 * which it does not.
 */
const MIN_TIME = Date.parse("0001-01-01T00:00:00.000Z");
const MAX_TIME = Date.parse("9999-12-31T23:59:59.999Z");

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const DECIMAL = /^(?:0|[1-9][0-9]{0,15})$/;

/** A UUID as PostgreSQL writes it: the one spelling of each id that cursors carry. */
const isRowId = (value: unknown): value is string => typeof value === "string" && isUuid(value) && value === value.toLowerCase();

/** A cursor that is base64url of a JSON array: the position's parts, in order. */
function jsonCursor<P>(partsOf: (position: P) => unknown[], positionOf: (parts: unknown[]) => P | null): Cursor<P> {
  const encode = (position: P) => Buffer.from(JSON.stringify(partsOf(position))).toString("base64url");
  return {
    encode,
    decode(cursor) {
      if (cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) return null;
      let parts: unknown;
      try {
        parts = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
      } catch {
        return null;
      }
      const position = Array.isArray(parts) ? positionOf(parts) : null;
      // One spelling per position: other JSON, padding or stray bits would be another cursor.
      return position !== null && encode(position) === cursor ? position : null;
    },
  };
}

/** A cursor that is a non-negative decimal integer, at most `max`, written without sign or leading zeros. */
function integerCursor(max: number): Cursor<number> {
  return {
    encode: String,
    decode(cursor) {
      if (!DECIMAL.test(cursor)) return null;
      const value = Number(cursor);
      return value <= max ? value : null;
    },
  };
}

/** `applications`: (name, id), in that order. */
export const applicationCursor = jsonCursor<{ name: string; id: string }>(
  (a) => [a.name, a.id],
  (parts) => {
    const [name, id] = parts;
    if (parts.length !== 2 || typeof name !== "string" || name.length > MAX_NAME_LENGTH || !isStorableText(name) || !isRowId(id))
      return null;
    return { name, id };
  },
);

/** `propagations`: (createdAt, id), newest first. */
export const propagationCursor = jsonCursor<{ createdAt: Date; id: string }>(
  (p) => [p.createdAt.toISOString(), p.id],
  (parts) => {
    const [at, id] = parts;
    if (parts.length !== 2 || typeof at !== "string" || !isRowId(id)) return null;
    const createdAt = new Date(at);
    const time = createdAt.getTime();
    return Number.isFinite(time) && time >= MIN_TIME && time <= MAX_TIME ? { createdAt, id } : null;
  },
);

/** `auditLog`: (occurredAt, id), newest first — a propagation's cursor under its own field names. */
export const auditEventCursor: Cursor<{ occurredAt: Date; id: string }> = {
  encode: (e) => propagationCursor.encode({ createdAt: e.occurredAt, id: e.id }),
  decode(cursor) {
    const position = propagationCursor.decode(cursor);
    return position && { occurredAt: position.createdAt, id: position.id };
  },
};

/** `Journey.versions`: the version number. */
export const versionCursor = integerCursor(MAX_INT4);

/** `Variable.history`: (occurredAt, environment id, number), newest first. */
export const variableChangeCursor = jsonCursor<{ occurredAt: Date; environmentId: string; version: number }>(
  (c) => [c.occurredAt.toISOString(), c.environmentId, c.version],
  (parts) => {
    const [at, environmentId, version] = parts;
    if (parts.length !== 3 || typeof at !== "string" || !isRowId(environmentId)) return null;
    if (typeof version !== "number" || !Number.isInteger(version) || version < 1 || version > MAX_INT4) return null;
    const occurredAt = new Date(at);
    const time = occurredAt.getTime();
    return Number.isFinite(time) && time >= MIN_TIME && time <= MAX_TIME ? { occurredAt, environmentId, version } : null;
  },
);

/** The most items one page of any connection holds. */
export const MAX_PAGE_SIZE = 100;

interface PageArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}

/**
 * What is wrong with a page's size: `first` and `last` together, or either outside 0…MAX_PAGE_SIZE.
 * A size is refused, never clamped: a client that asks for 500 must learn it gets at most 100.
 */
function pageSizeProblems(args: PageArgs): Problem[] {
  const problems: Problem[] = [];
  if (args.first != null && args.last != null) problems.push({ path: "last", message: "pass first or last, not both" });
  for (const arg of ["first", "last"] as const) {
    const size = args[arg];
    if (size != null && (size < 0 || size > MAX_PAGE_SIZE)) {
      problems.push({ path: arg, message: `${arg} must be between 0 and ${MAX_PAGE_SIZE}` });
    }
  }
  return problems;
}

/** VALIDATION_FAILED when a page's size is not one a connection serves (see pageSizeProblems). */
export function checkPageSize(args: PageArgs): void {
  const problems = pageSizeProblems(args);
  if (problems.length > 0) throw new ValidationError(problems);
}

/**
 * The positions a page's `after` and `before` name; VALIDATION_FAILED with a problem for each of
 * them that is not a cursor of the connection, and for a size that is not served.
 */
export function pagePositions<P>(cursor: Cursor<P>, args: PageArgs): { after?: P; before?: P } {
  const problems: Problem[] = pageSizeProblems(args);
  const read = (arg: "after" | "before"): P | undefined => {
    const text = args[arg];
    if (text == null) return undefined;
    const position = cursor.decode(text);
    if (position === null) problems.push({ path: arg, message: `${arg} is not a cursor of this list` });
    return position ?? undefined;
  };
  const positions = { after: read("after"), before: read("before") };
  if (problems.length > 0) throw new ValidationError(problems);
  return positions;
}

/** What of an unexpected error a log line holds. */
export interface LoggableError {
  /** The error's class, e.g. `PostgresError`, `DrizzleQueryError`, `TypeError`. */
  name: string;
  /** Its message, followed by those of its causes ("…: …"), without SQL or parameter values. */
  message: string;
  /** The SQLSTATE of a database error, else the error's own string code (e.g. `ECONNRESET`). */
  code?: string;
  /** Where it was thrown: the stack frames, under the message above. */
  stack?: string;
}

/** How many causes are followed: a chain is a driver error under a wrapper or two. */
const MAX_CAUSES = 5;
const MAX_MESSAGE = 2_000;
/** PostgreSQL's error codes (postgres.js and PGlite put them on `code`; drizzle wraps that error in `cause`). */
const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * An unexpected error as it may be logged. A failed query carries its SQL and its parameter values
 * — a client's data: names, cursors, token hashes — in several places: drizzle puts both into its
 * message and stack (`Failed query: … params: …`) and onto `query`/`params`, PGlite onto
 * `query`/`params`, postgres.js onto `query`/`parameters`, and PostgreSQL quotes the offending value
 * in its own message (`invalid input syntax for type uuid: "…"`). Logged as it is (`{ err: error }`),
 * the whole of it is written out. This keeps the name, the messages with those parts cut out, the
 * code and the stack frames; nothing else of the error is read.
 */
export function loggableError(error: unknown): LoggableError {
  const chain = causesOf(error);
  if (chain.length === 0) return plain({ name: "NonError", message: `a thrown ${error === null ? "null" : typeof error}` });
  const values = chain.flatMap(parametersOf);
  const message = chain
    .map((e) => withoutParameters(withoutQuery(e), values))
    .filter((m) => m !== "")
    .join(": ")
    .slice(0, MAX_MESSAGE);
  const name = nameOf(chain[0]);
  const frames = typeof chain[0].stack === "string" ? chain[0].stack.split("\n").filter((line) => /^\s+at /.test(line)) : [];
  const codes = chain.map((e) => e.code).filter((c): c is string => typeof c === "string");
  const code = codes.find((c) => SQLSTATE.test(c)) ?? codes[0];
  return plain({
    name,
    message,
    ...(code === undefined ? {} : { code }),
    ...(frames.length === 0 ? {} : { stack: [`${name}: ${message}`, ...frames].join("\n") }),
  });
}

type ErrorLike = { message: string; name?: unknown; stack?: unknown; code?: unknown; cause?: unknown; query?: unknown };

const isErrorLike = (value: unknown): value is ErrorLike =>
  typeof value === "object" && value !== null && typeof (value as { message?: unknown }).message === "string";

/** The error and its causes, outermost first. */
function causesOf(error: unknown): ErrorLike[] {
  const chain: ErrorLike[] = [];
  for (let e: unknown = error; isErrorLike(e) && !chain.includes(e) && chain.length <= MAX_CAUSES; e = e.cause) chain.push(e);
  return chain;
}

/** The class name (pg-protocol's DatabaseError is named "error", drizzle's DrizzleQueryError "Error"). */
function nameOf(error: ErrorLike): string {
  const constructorName = (error as { constructor?: { name?: unknown } }).constructor?.name;
  if (typeof constructorName === "string" && constructorName !== "" && constructorName !== "Object") return constructorName;
  return typeof error.name === "string" && error.name !== "" ? error.name : "Error";
}

/** The message up to the SQL, when it quotes the query it failed on (drizzle: `Failed query: <sql>\nparams: …`). */
function withoutQuery(error: ErrorLike): string {
  const at = typeof error.query === "string" && error.query !== "" ? error.message.indexOf(error.query) : -1;
  return at === -1 ? error.message : error.message.slice(0, at).replace(/[\s:]+$/, "");
}

/** The parameter values a query error carries (drizzle and PGlite: `params`; postgres.js: `parameters`). */
function parametersOf(error: ErrorLike): string[] {
  const lists = [(error as { params?: unknown }).params, (error as { parameters?: unknown }).parameters];
  return lists.flatMap((list) => (Array.isArray(list) ? list.map(String).filter((v) => v !== "") : []));
}

/**
 * A message with every parameter value cut out: wherever PostgreSQL quotes one, and wherever a value
 * long enough not to be an ordinary word appears.
 */
function withoutParameters(message: string, values: string[]): string {
  let result = message;
  for (const value of values) {
    result = result.replaceAll(`"${value}"`, `"[parameter]"`);
    if (value.length >= 8) result = result.replaceAll(value, "[parameter]");
  }
  return result;
}

/**
 * Without a prototype: pino's error serializer names an error-like object by its constructor
 * ("Object" for a plain one) and falls back to `name` only when there is none.
 */
function plain(fields: LoggableError): LoggableError {
  return Object.assign(Object.create(null) as LoggableError, fields);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether a string is a UUID (8-4-4-4-12 hexadecimal digits), the type of every row id. Ids and
 * cursors that reach SQL must pass it: anything else cannot name a row, and PostgreSQL would answer
 * its cast to `uuid` with an error instead of "nothing".
 */
export const isUuid = (id: string): boolean => UUID.test(id);

/** NUL, or half of a surrogate pair: text PostgreSQL cannot store (in text and in jsonb). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what this refuses (PostgreSQL text cannot hold it)
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether PostgreSQL can take the text as a `text` or `jsonb` value: no NUL, no unpaired surrogate. */
export const isStorableText = (value: string): boolean => !UNSTORABLE.test(value);

/**
 * Deepest nesting of arrays and objects accepted in a request's JSON (body, `variables` and
 * `extensions` parameters, WebSocket messages). Journey documents nest about ten levels in a
 * request; parsers, serializers and validators recurse once per level, so deeper input is refused
 * before any of them sees it.
 */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

/**
 * Whether JSON text nests deeper than `max`: one pass over the characters, constant memory, no
 * parsing (strings are skipped, their escapes too). Text that is not JSON is left to the parser.
 */
export function nestsDeeperThan(text: string, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

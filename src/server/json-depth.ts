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
 * Follows the nesting of JSON text given in pieces (a body as it arrives): one pass over the
 * characters, constant memory, no parsing (strings and their escapes are skipped). Text that is not
 * JSON is left to the parser.
 */
export class JsonDepthScanner {
  private depth = 0;
  private inString = false;
  private escaped = false;

  constructor(private readonly max: number = MAX_JSON_DEPTH) {}

  /** Reads the next piece; true once the text nests deeper than the bound. */
  deeperAfter(piece: string): boolean {
    return this.scan(piece.length, (i) => piece.charCodeAt(i));
  }

  /**
   * Reads the next piece as UTF-8 bytes, without decoding them: brackets, quotes and backslashes are
   * single bytes that never occur inside a multi-byte character.
   */
  deeperAfterBytes(piece: Uint8Array): boolean {
    return this.scan(piece.length, (i) => piece[i]);
  }

  private scan(length: number, at: (i: number) => number): boolean {
    for (let i = 0; i < length; i++) {
      const c = at(i);
      if (this.escaped) this.escaped = false;
      else if (this.inString) {
        if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
      } else if (c === QUOTE) this.inString = true;
      else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
        if (++this.depth > this.max) return true;
      } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) this.depth--;
    }
    return false;
  }
}

/** Whether JSON text nests deeper than `max`. */
export function nestsDeeperThan(text: string, max: number = MAX_JSON_DEPTH): boolean {
  return new JsonDepthScanner(max).deeperAfter(text);
}

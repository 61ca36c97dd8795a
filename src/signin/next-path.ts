export const DEFAULT_NEXT_PATH = '/';
// Kept in an attempt cookie: short enough that a few of them stay far from header limits.
export const MAX_NEXT_PATH_LENGTH = 512;

// The path as given (already decoded once from the query string): visible ASCII only, so no
// spaces and no control characters (browsers drop tab and newline from URLs, turning
// `/\t/evil.example` into `//evil.example`), and nothing that cannot go into a Location header.
const VISIBLE_ASCII = /^[\x21-\x7e]*$/;
// Its decoded layers may hold any text (an encoded `é` in a query is fine) but no control characters.
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const CONTROL = /[\x00-\x1f\x7f]/;
// Each round of percent-decoding may reveal another encoded layer; past this many, refuse.
const MAX_DECODE_ROUNDS = 3;
const PROBE_ORIGIN = 'http://next-path.invalid';

/**
 * Where to send the browser after sign-in: `raw` when it is a path on this origin, else `/`.
 * Refused: anything not starting with a single `/` (`//evil`, `/\evil`, `https:`, `javascript:`),
 * backslashes, control characters, spaces and non-ASCII characters, the same tricks
 * percent-encoded once or more (`/%2F%2Fevil`, `/%5Cevil`, `/%09/evil`), malformed escapes, and
 * anything over `maxLength` characters. A path that passes is returned unchanged.
 */
export function safeNextPath(raw: unknown, maxLength: number = MAX_NEXT_PATH_LENGTH): string {
  return isSafeNextPath(raw, maxLength) ? raw : DEFAULT_NEXT_PATH;
}

export function isSafeNextPath(raw: unknown, maxLength: number = MAX_NEXT_PATH_LENGTH): raw is string {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > maxLength || !VISIBLE_ASCII.test(raw)) return false;
  // Something between here and the browser (a proxy, the UI's router) may decode the path again:
  // every decoded layer must still be a local path.
  let text = raw;
  for (let round = 0; ; round++) {
    if (!looksLikeLocalPath(text)) return false;
    let decoded: string;
    try {
      decoded = decodeURIComponent(text);
    } catch {
      return false;
    }
    if (decoded === text) break;
    if (round === MAX_DECODE_ROUNDS) return false;
    text = decoded;
  }
  // Last word to the URL parser a browser uses: the path must stay on this origin.
  return new URL(raw, PROBE_ORIGIN).origin === PROBE_ORIGIN;
}

function looksLikeLocalPath(text: string): boolean {
  return text.startsWith('/') && !text.startsWith('//') && !text.includes('\\') && !CONTROL.test(text);
}

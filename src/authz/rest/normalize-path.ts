/**
 * The one reading of a request path that both the decision and the upstream get: percent-decoded
 * once (as uvicorn does), split into segments, with anything ambiguous refused rather than guessed.
 */
export type NormalizedPath =
  | { readonly ok: true; readonly segments: readonly string[]; readonly trailingSlash: boolean; readonly path: string; readonly query: string }
  | { readonly ok: false; readonly reason: string };

export function normalizePath(rawUrl: string): NormalizedPath {
  const queryAt = rawUrl.indexOf('?');
  const rawPath = queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt);
  const query = queryAt < 0 ? '' : rawUrl.slice(queryAt);
  if (!rawPath.startsWith('/')) return { ok: false, reason: 'the path must start with /' };
  const parts = rawPath.split('/').slice(1);
  const trailingSlash = parts.length > 1 && parts.at(-1) === '';
  if (trailingSlash) parts.pop();
  const segments: string[] = [];
  for (const part of parts) {
    if (part === '' && parts.length === 1) break;
    if (part === '') return { ok: false, reason: 'empty path segment (//)' };
    let segment: string;
    try {
      segment = decodeURIComponent(part);
    } catch {
      return { ok: false, reason: 'malformed percent-encoding' };
    }
    if (segment === '.' || segment === '..') return { ok: false, reason: 'dot segments are not allowed' };
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
    if (/[/\\\x00-\x1f\x7f]/.test(segment)) return { ok: false, reason: 'encoded slash, backslash or control character in the path' };
    if (segment.includes('%')) return { ok: false, reason: 'double percent-encoding is not allowed' };
    segments.push(segment);
  }
  const path = `/${segments.map(encodeSegment).join('/')}${trailingSlash ? '/' : ''}`;
  return { ok: true, segments, trailingSlash, path, query };
}

/** Re-encodes a decoded segment so that the upstream decodes exactly the checked text. */
function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/%3A/gi, ':').replace(/%40/g, '@').replace(/%2C/gi, ',');
}

import type { IncomingHttpHeaders } from 'node:http';
import { HASH_PREFIX } from './hash';

export type CredentialSource = 'bearer' | 'basic' | 'x-prefect-user-id';

export type Credential =
  | { readonly kind: 'none' }
  | { readonly kind: 'key'; readonly key: string; readonly source: CredentialSource }
  | { readonly kind: 'invalid'; readonly reason: string };

const MAX_KEY_LENGTH = 512;
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;
/** Values clients send when they have no key (the Prefect 1 UI in server mode sends "null"). */
const EMPTY_VALUES = new Set(['', 'null', 'undefined']);

/**
 * Reads the caller's API key: `Authorization: Bearer <key>`, `Authorization: Basic base64(<key>)` or
 * `base64(<user>:<key>)`, else the Prefect 1 UI workaround header `X-Prefect-User-ID: <key>`.
 */
export function readCredential(headers: IncomingHttpHeaders): Credential {
  const authorization = headers.authorization?.trim();
  if (authorization) {
    const fromAuthorization = parseAuthorization(authorization);
    if (fromAuthorization.kind !== 'none') return fromAuthorization;
  }
  const userIdHeader = headers['x-prefect-user-id'];
  const userId = (Array.isArray(userIdHeader) ? userIdHeader[0] : userIdHeader)?.trim() ?? '';
  if (EMPTY_VALUES.has(userId)) return { kind: 'none' };
  return checkKey(userId, 'x-prefect-user-id');
}

function parseAuthorization(value: string): Credential {
  const space = value.indexOf(' ');
  const scheme = (space < 0 ? value : value.slice(0, space)).toLowerCase();
  const token = space < 0 ? '' : value.slice(space + 1).trim();
  if (scheme === 'bearer') {
    return EMPTY_VALUES.has(token) ? { kind: 'none' } : checkKey(token, 'bearer');
  }
  if (scheme === 'basic') {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return { kind: 'invalid', reason: 'malformed Basic credentials' };
    const decoded = Buffer.from(token, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return checkKey(colon < 0 ? decoded : decoded.slice(colon + 1), 'basic');
  }
  return { kind: 'invalid', reason: 'unsupported Authorization scheme: use Bearer <key>' };
}

function checkKey(key: string, source: CredentialSource): Credential {
  if (key.length > MAX_KEY_LENGTH || !VISIBLE_ASCII.test(key)) {
    return { kind: 'invalid', reason: 'malformed API key' };
  }
  // A hash copied out of the database must not work as a key.
  if (key.toLowerCase().startsWith(HASH_PREFIX)) return { kind: 'invalid', reason: 'malformed API key' };
  return { kind: 'key', key, source };
}

import type { IncomingHttpHeaders } from 'node:http';
import { HASH_PREFIX } from './hash';

export type CredentialSource = 'bearer' | 'basic' | 'x-prefect-user-id';

export type Credential =
  | { readonly kind: 'none' }
  | { readonly kind: 'key'; readonly key: string; readonly source: CredentialSource }
  /** The proxy's own sign-in cookie (SIGN_IN): read by the pipeline when no key came in a header. */
  | { readonly kind: 'session'; readonly id: string }
  | { readonly kind: 'invalid'; readonly reason: string };

const MAX_KEY_LENGTH = 512;
/** Node reads at most 16 KiB of headers: no token can be longer. */
const MAX_TOKEN_LENGTH = 16 * 1024;
/** Three base64url parts: the shape of a JWS in compact form. Whether it is one is for the verifier. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
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
  // A signed token from a trusted issuer (TRUSTED_ISSUERS_FILE) is longer than any key.
  const limit = JWT_SHAPE.test(key) ? MAX_TOKEN_LENGTH : MAX_KEY_LENGTH;
  if (key.length > limit || !VISIBLE_ASCII.test(key)) {
    return { kind: 'invalid', reason: 'malformed API key' };
  }
  // A hash copied out of the database must not work as a key.
  if (key.toLowerCase().startsWith(HASH_PREFIX)) return { kind: 'invalid', reason: 'malformed API key' };
  return { kind: 'key', key, source };
}

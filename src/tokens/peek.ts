import { isObject } from './parse-fields';

/**
 * Longest credential read as a token. JWTs are 1 to 2 KB in practice (Kubernetes, GitHub
 * Actions); access tokens with many groups reach a few KB. Above this the Bearer value is refused
 * before any decoding.
 */
export const MAX_TOKEN_LENGTH = 16_384;

const PART = /^[A-Za-z0-9_-]+$/;
/** `typ` values of a signed JWT (RFC 7519) or a JWT access token (RFC 9068); absent is allowed (Kubernetes sends none). */
const JWT_TYPES = new Set(['jwt', 'at+jwt']);

function decodeJson(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

export interface PeekedToken {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
}

function splitCompact(credential: string): [string, string, string] | undefined {
  if (credential.length > MAX_TOKEN_LENGTH) return undefined;
  const parts = credential.split('.');
  if (parts.length !== 3) return undefined;
  const [header, payload, signature] = parts as [string, string, string];
  // An empty signature is an unsigned (`alg: none`) token: still a JWT, refused later with its reason.
  if (!PART.test(header) || !PART.test(payload) || (signature !== '' && !PART.test(signature))) return undefined;
  return [header, payload, signature];
}

function readHeader(part: string): Record<string, unknown> | undefined {
  const header = decodeJson(part);
  if (!isObject(header) || typeof header.alg !== 'string') return undefined;
  if (header.typ !== undefined && typeof header.typ !== 'string') return undefined;
  return header;
}

/**
 * Whether a Bearer credential is a compact JWS rather than an API key: three base64url parts,
 * the first a JSON header with a string `alg` (and `typ`, when present, a string). Cheap: only
 * the header is decoded. Says nothing about whether the token is valid.
 */
export function looksLikeJwt(credential: string): boolean {
  const parts = splitCompact(credential);
  return parts !== undefined && readHeader(parts[0]) !== undefined;
}

/** Header and claims, NOT verified: only to choose which configured issuer verifies the token. */
export function peekToken(token: string): PeekedToken | undefined {
  const parts = splitCompact(token);
  const header = parts && readHeader(parts[0]);
  const payload = parts && decodeJson(parts[1]);
  return header && isObject(payload) ? { header, payload } : undefined;
}

/** Whether the header's `typ` (absent, `JWT`, `at+jwt`, with or without `application/`) is a token we verify. */
export function isAcceptedType(typ: unknown): boolean {
  if (typ === undefined) return true;
  return typeof typ === 'string' && JWT_TYPES.has(typ.toLowerCase().replace(/^application\//, ''));
}

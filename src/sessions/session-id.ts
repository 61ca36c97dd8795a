import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../keys';

/** 32 random bytes, base64url without padding: 43 characters. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** A new raw session id: 256 bits from the operating system's CSPRNG, safe in a cookie as it is. */
export function generateSessionId(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * What the table stores and every message names. Plain SHA-256 is enough: the id has 256 bits of
 * entropy, so a leaked table cannot be turned back into cookies, and no secret is needed to check it.
 */
export function hashSessionId(rawId: string): string {
  return sha256Hex(rawId);
}

/** Whether a cookie value can be a session id at all; anything else is refused without a query. */
export function isSessionId(text: string): boolean {
  return SESSION_ID.test(text);
}

/** Whether a value is a session hash (or a key hash): 64 lower-case hex digits. */
export function isSessionHash(text: string): boolean {
  return HEX64.test(text);
}

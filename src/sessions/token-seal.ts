import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const TOKEN_KEY_BYTES = 32;

/**
 * A 256-bit key for sealing tokens, from a configured secret. HKDF with a fixed label, so the same
 * secret used elsewhere (if an operator does that) never yields this key.
 */
export function deriveTokenKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'prefect-auth-proxy', 'session tokens v1', TOKEN_KEY_BYTES));
}

/**
 * AES-256-GCM: `v1.` + base64url(iv | ciphertext | tag). `context` (the session hash and the
 * column) is authenticated, so a sealed value copied into another row or column does not open.
 */
export function sealToken(key: Buffer, plaintext: string, context: string): string {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return VERSION + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

/** The plaintext, or null when the value was sealed with another key, for another context, or altered. */
export function openToken(key: Buffer, sealed: string, context: string): string | null {
  checkKey(key);
  if (!sealed.startsWith(VERSION)) return null;
  const raw = Buffer.from(sealed.slice(VERSION.length), 'base64url');
  if (raw.length < IV_BYTES + TAG_BYTES) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

function checkKey(key: Buffer): void {
  if (key.length !== TOKEN_KEY_BYTES) throw new RangeError(`a token key has ${TOKEN_KEY_BYTES} bytes`);
}

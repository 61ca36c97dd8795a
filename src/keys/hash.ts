import { createHash, hash } from 'node:crypto';

export const HASH_PREFIX = 'sha256:';

// The one-shot form (Node ≥ 20.12) costs a third of a Hash object; this runs on every request.
const oneShot = typeof hash === 'function';

export function sha256Hex(text: string): string {
  return oneShot ? hash('sha256', text, 'hex') : createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The `api_key` column value that stores `key` hashed. */
export function hashedKeyValue(key: string): string {
  return HASH_PREFIX + sha256Hex(key);
}

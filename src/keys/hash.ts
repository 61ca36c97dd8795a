import { createHash } from 'node:crypto';

export const HASH_PREFIX = 'sha256:';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The `api_key` column value that stores `key` hashed. */
export function hashedKeyValue(key: string): string {
  return HASH_PREFIX + sha256Hex(key);
}

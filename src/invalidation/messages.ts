import type { KeyResolver } from '../keys';

/** What another instance must forget. Never a key: a user id, or a key's SHA-256. */
export type Invalidation =
  | { readonly kind: 'user'; readonly userId: string }
  | { readonly kind: 'key'; readonly keyHash: string }
  /** A sign-in session ended (logout, expiry, group removal): by the SHA-256 of its id. */
  | { readonly kind: 'session'; readonly sessionHash: string }
  | { readonly kind: 'all' };

export interface Envelope {
  /** The publishing instance, so it can skip its own messages. */
  readonly origin: string;
  readonly invalidation: Invalidation;
}

const HEX64 = /^[0-9a-f]{64}$/;
/** PostgreSQL NOTIFY payloads must stay under 8000 bytes; user ids are far shorter. */
const MAX_USER_ID = 1000;

export function encodeInvalidation(origin: string, invalidation: Invalidation): string {
  return JSON.stringify({ v: 1, origin, ...invalidation });
}

/** Parses a message from the channel; anything unexpected is undefined (and ignored by the caller). */
export function decodeInvalidation(text: string): Envelope | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object') return undefined;
  const m = value as Record<string, unknown>;
  if (m.v !== 1 || typeof m.origin !== 'string') return undefined;
  if (m.kind === 'all') return { origin: m.origin, invalidation: { kind: 'all' } };
  if (m.kind === 'user' && typeof m.userId === 'string' && m.userId.length > 0 && m.userId.length <= MAX_USER_ID) {
    return { origin: m.origin, invalidation: { kind: 'user', userId: m.userId } };
  }
  if (m.kind === 'key' && typeof m.keyHash === 'string' && HEX64.test(m.keyHash)) {
    return { origin: m.origin, invalidation: { kind: 'key', keyHash: m.keyHash } };
  }
  if (m.kind === 'session' && typeof m.sessionHash === 'string' && HEX64.test(m.sessionHash)) {
    return { origin: m.origin, invalidation: { kind: 'session', sessionHash: m.sessionHash } };
  }
  return undefined;
}

/** The session cache's side of an invalidation (sessions are cached apart from keys). */
export interface SessionCache {
  evict(hash: string): void;
  evictUser(userId: string): void;
  reset(): void;
}

/** What an invalidation clears: the key cache, and the session cache when sign-in is on. */
export type LocalCaches = Pick<KeyResolver, 'evict' | 'evictUser' | 'reset' | 'size'> & { readonly sessions?: SessionCache };

/** Applies an invalidation to this instance's caches; returns how many key entries went. */
export function applyInvalidation(caches: LocalCaches, invalidation: Invalidation): number {
  switch (invalidation.kind) {
    case 'user':
      caches.sessions?.evictUser(invalidation.userId);
      return caches.evictUser(invalidation.userId);
    case 'key':
      // A key session resolves its key through the key cache: evicting the key reaches it too.
      return caches.evict(`sha256:${invalidation.keyHash}`) ? 1 : 0;
    case 'session':
      caches.sessions?.evict(invalidation.sessionHash);
      return 0;
    case 'all': {
      const size = caches.size;
      caches.reset();
      caches.sessions?.reset();
      return size;
    }
  }
}

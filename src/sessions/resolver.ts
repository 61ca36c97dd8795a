import { LRUCache } from 'lru-cache';
import type { RoleTable } from '../authz';
import { compileScopes, expandRoles } from '../authz';
import type { KeyResolver, Principal } from '../keys';
import type { RateLimitSetting } from '../ratelimit';
import { rateLimitFor } from '../ratelimit';
import { isGroupCheckDue } from './liveness';
import { hashSessionId, isSessionId } from './session-id';
import type { SessionRecord, SessionStore } from './types';

/** What a due group check came to: the record as it is now, or the session is over. */
export type GroupCheck = { readonly kept: SessionRecord } | { readonly ended: true };

export interface SessionResolverOptions {
  readonly store: SessionStore;
  /** Key sessions stand for their key: its row decides, so revoking or re-scoping the key applies. */
  readonly keys: KeyResolver;
  readonly roles: RoleTable;
  readonly defaultRateLimit: RateLimitSetting;
  /** How long a session is trusted without reading its row; evictions end it sooner. */
  readonly cacheTtlMs: number;
  readonly groupRefreshMs: number;
  /** Reads the person's groups again at the provider (OIDC sessions). */
  readonly checkGroups?: (record: SessionRecord) => Promise<GroupCheck>;
  readonly onTouchFailed?: (err: unknown) => void;
  /** A session met past its absolute or idle expiry: ended in the store here, once, and reported. */
  readonly onExpired?: (record: SessionRecord, asker: SessionAsker | undefined) => void;
}

/** Who presented the session, for the audit row of its expiry. */
export interface SessionAsker {
  readonly requestId: string;
  readonly client: string;
}

export interface SessionPrincipal {
  readonly principal: Principal;
  readonly record: SessionRecord;
}

export interface SessionResolver {
  /** The principal behind a session cookie's id, or null (unknown, ended, expired, idle). Throws when the store is down. */
  resolve(rawId: string, asker?: SessionAsker): Promise<SessionPrincipal | null>;
  evict(hash: string): void;
  evictUser(userId: string): void;
  /** Sessions started with this key (its SHA-256 hex). */
  evictKey(keyHash: string): void;
  reset(): void;
}

const NEGATIVE_TTL_MS = 10_000;

/** Sessions as principals, cached by the id's hash (never the id), like keys. */
/** Well under any touch interval the store is given (a minute by default). */
const TOUCH_ASK_MS = 5_000;

export function createSessionResolver(options: SessionResolverOptions): SessionResolver {
  const cache = new LRUCache<string, SessionRecord>({ max: 10_000, ttl: options.cacheTtlMs, ttlAutopurge: false });
  const unknown = new LRUCache<string, true>({ max: 10_000, ttl: NEGATIVE_TTL_MS, ttlAutopurge: false });
  const checking = new Map<string, Promise<GroupCheck>>();
  const lastTouch = new LRUCache<string, number>({ max: 10_000 });

  // Compiled once per cached record (a refresh or a group check makes a new record), and for a key
  // session once per cached key principal: the hot path builds nothing.
  const fromRoles = new WeakMap<SessionRecord, Principal>();
  const fromKeys = new WeakMap<Principal, Principal>();
  const principalOf = async (record: SessionRecord): Promise<Principal | null> => {
    const keyId = `session:${record.hash.slice(0, 12)}`;
    if (record.kind === 'key') {
      const key = record.keyHash ? await options.keys.resolveHash(record.keyHash) : null;
      if (!key || key.userId !== record.userId) return null;
      let principal = fromKeys.get(key);
      if (principal?.keyId !== keyId) {
        principal = { ...key, keyId };
        fromKeys.set(key, principal);
      }
      return principal;
    }
    let principal = fromRoles.get(record);
    if (!principal) {
      const scopeList = record.roles.map((role) => `role:${role}`);
      const effectiveScopes = expandRoles(scopeList, options.roles).scopes;
      principal = {
        userId: record.userId, scopeList, effectiveScopes, scopes: compileScopes(effectiveScopes), keyId,
        rateLimit: rateLimitFor(scopeList, effectiveScopes, options.defaultRateLimit),
      };
      fromRoles.set(record, principal);
    }
    return principal;
  };

  // One group check at a time per session, however many requests arrive while it runs.
  const checkGroups = (record: SessionRecord): Promise<GroupCheck> => {
    let pending = checking.get(record.hash);
    if (!pending) {
      pending = (options.checkGroups as NonNullable<typeof options.checkGroups>)(record).finally(() => checking.delete(record.hash));
      checking.set(record.hash, pending);
    }
    return pending;
  };

  return {
    async resolve(rawId, asker) {
      if (!isSessionId(rawId)) return null;
      const hash = hashSessionId(rawId);
      if (unknown.get(hash)) return null;
      let record = cache.get(hash) ?? null;
      // A cached record past its absolute end is not used for the rest of its cache time: ended, reported once.
      if (record && record.expiresAt <= Date.now()) {
        cache.delete(hash);
        unknown.set(hash, true);
        if (await options.store.end(record.hash, 'expired')) options.onExpired?.(record, asker);
        return null;
      }
      if (!record) {
        const found = await options.store.lookup(rawId);
        if (found.state !== 'live') {
          unknown.set(hash, true);
          // Ending it makes the expiry a fact every instance reads alike, and reports it once.
          if ((found.state === 'expired' || found.state === 'idle') && await options.store.end(found.record.hash, 'expired')) {
            options.onExpired?.(found.record, asker);
          }
          return null;
        }
        record = found.record;
        cache.set(hash, record);
      }
      // Where no group check can be made (OIDC off on this instance), an identity-provider session
      // whose groups are due for a check is refused rather than trusted past the bound.
      if (record.kind === 'oidc' && !options.checkGroups && isGroupCheckDue(record, Date.now(), options.groupRefreshMs)) return null;
      if (record.kind === 'oidc' && options.checkGroups && isGroupCheckDue(record, Date.now(), options.groupRefreshMs)) {
        const checked = await checkGroups(record);
        if ('ended' in checked) {
          cache.delete(hash);
          unknown.set(hash, true);
          return null;
        }
        record = checked.kept;
        cache.set(hash, record);
      }
      // The store writes at most once a touch interval; a failed write only makes idleness come sooner.
      // Asking it at most every few seconds keeps a promise per request off the hot path.
      const now = Date.now();
      if (now - (lastTouch.get(hash) ?? 0) >= TOUCH_ASK_MS) {
        lastTouch.set(hash, now);
        options.store.touch(hash).catch((err: unknown) => options.onTouchFailed?.(err));
      }
      const principal = await principalOf(record);
      return principal ? { principal, record } : null;
    },
    evict(hash) {
      cache.delete(hash);
      unknown.delete(hash);
    },
    evictUser(userId) {
      for (const [hash, record] of cache.entries()) if (record.userId === userId) cache.delete(hash);
    },
    evictKey(keyHash) {
      for (const [hash, record] of cache.entries()) if (record.keyHash === keyHash) cache.delete(hash);
    },
    reset() {
      cache.clear();
      unknown.clear();
    },
  };
}

import { LRUCache } from 'lru-cache';
import type { RoleTable } from '../authz';
import { compileScopes, expandRoles, invalidScopes, splitScopes } from '../authz';
import type { RateLimitSetting } from '../ratelimit';
import { rateLimitFor } from '../ratelimit';
import { HASH_PREFIX, sha256Hex } from './hash';
import type { KeyStore, Principal } from './types';

export interface KeyResolverOptions {
  readonly ttlMs: number;
  readonly negativeTtlMs: number;
  readonly max: number;
  /** Most unknown keys remembered; `max` when not given. */
  readonly negativeMax?: number;
  readonly roles: RoleTable;
  /** The limit for keys whose scopes and roles name none. */
  readonly defaultRateLimit: RateLimitSetting;
  /** Called with a message when a row cannot be used as it is (bad scopes, duplicated key). */
  readonly warn: (message: string, meta: Record<string, unknown>) => void;
  /** Told of every cache hit and miss and every key store lookup (metrics). */
  readonly observer?: KeyLookupObserver;
  /** Told of the key row behind every accepted key, cached or not (last-used, batched). Must not block. */
  readonly onUse?: (userId: string) => void;
}

export interface KeyLookupObserver {
  keyCacheHit(): void;
  keyCacheMiss(): void;
  keyLookup(seconds: number, ok: boolean): void;
}

export interface KeyResolver {
  /** The principal for a presented key, or null when no valid row matches. Throws KeyStoreUnavailableError. */
  resolve(key: string): Promise<Principal | null>;
  /**
   * The principal of a key known only by its SHA-256 hex (a session started with it): only a row
   * that stores the key hashed can match. Cached and evicted like the key itself.
   */
  resolveHash(hash: string): Promise<Principal | null>;
  /** Forgets a key given as the key itself or as its `sha256:<hex>` form; true if it was cached. */
  evict(keyOrHash: string): boolean;
  /** Forgets every cached key of a user: their key changed in the store. */
  evictUser(userId: string): number;
  reset(): void;
  readonly size: number;
}

export const KEY_ID_LENGTH = 12;

/** What a scopes column value grants, compiled once and shared by every key with the same value. */
interface Grants {
  readonly jsonPolicy: boolean;
  readonly scopeList: readonly string[];
  readonly effectiveScopes: readonly string[];
  readonly scopes: Principal['scopes'];
  readonly rateLimit: RateLimitSetting;
  readonly unknownRoles: readonly string[];
  readonly malformed: readonly string[];
}

function compileGrants(stored: string, options: KeyResolverOptions): Grants {
  // The REST-era original stored a JSON policy (method → path patterns). Guessing its meaning could
  // open more than intended, so such a key is valid but allowed nothing, and the log says why.
  if (/^\s*[{[]/.test(stored)) {
    return { jsonPolicy: true, scopeList: [], effectiveScopes: [], scopes: compileScopes([]), rateLimit: options.defaultRateLimit, unknownRoles: [], malformed: [] };
  }
  const scopeList = splitScopes(stored);
  const { scopes: effectiveScopes, unknownRoles } = expandRoles(scopeList, options.roles);
  return {
    jsonPolicy: false,
    scopeList,
    effectiveScopes,
    scopes: compileScopes(effectiveScopes),
    rateLimit: rateLimitFor(scopeList, effectiveScopes, options.defaultRateLimit),
    unknownRoles,
    malformed: invalidScopes(effectiveScopes),
  };
}

function createPrincipal(userId: string, grants: Grants, hash: string, options: KeyResolverOptions): Principal {
  if (grants.jsonPolicy) {
    options.warn('scopes are a JSON policy of the original proxy, which is not supported: this key is denied everything; rewrite its scopes (e.g. read/*, role:runner)', { user: userId });
  }
  if (grants.unknownRoles.length > 0) options.warn('ignoring unknown roles', { user: userId, roles: grants.unknownRoles });
  if (grants.malformed.length > 0) options.warn('ignoring malformed scopes', { user: userId, scopes: grants.malformed });
  const { scopeList, effectiveScopes, scopes, rateLimit } = grants;
  return { userId, scopeList, effectiveScopes, scopes, keyId: hash.slice(0, KEY_ID_LENGTH), rateLimit };
}

/** Cached lookups keyed by the key's hash, so the cache never holds a key in clear text. */
export function createKeyResolver(store: KeyStore, options: KeyResolverOptions): KeyResolver {
  const cache = new LRUCache<string, Principal>({ max: options.max, ttlAutopurge: false });
  // Unknown keys live apart: anyone can make up keys, and a flood of them sharing the LRU would
  // push out valid keys, which then get 503 while the key store is down.
  const unknown = new LRUCache<string, true>({ max: options.negativeMax ?? options.max, ttlAutopurge: false });
  const inFlight = new Map<string, Promise<Principal | null>>();
  // Thousands of keys share a handful of scope values (mostly roles): compiling each once keeps a
  // full cache small. Bounded, in case every key has scopes of its own.
  const grantsByValue = new LRUCache<string, Grants>({ max: 1000 });
  const grantsOf = (stored: string): Grants => {
    let grants = grantsByValue.get(stored);
    if (!grants) {
      grants = compileGrants(stored, options);
      grantsByValue.set(stored, grants);
    }
    return grants;
  };
  let generation = 0;

  const load = async (key: string | null, hash: string): Promise<Principal | null> => {
    const started = generation;
    const began = performance.now();
    let rows;
    try {
      rows = await store.findValidKeys(key === null ? [HASH_PREFIX + hash] : [key, HASH_PREFIX + hash]);
      options.observer?.keyLookup((performance.now() - began) / 1000, true);
    } catch (err) {
      options.observer?.keyLookup((performance.now() - began) / 1000, false);
      throw err;
    }
    const users = new Set(rows.map((r) => r.userId));
    let principal: Principal | null = null;
    if (users.size > 1) {
      options.warn('API key matches several users; refusing it', { users: [...users] });
    } else if (rows[0]) {
      const row = rows[0];
      principal = createPrincipal(row.userId, grantsOf(row.scopes), hash, options);
    }
    // An eviction while the lookup ran may be a revocation: don't cache what was read before it.
    if (started === generation) {
      const ttl = principal
        ? Math.min(options.ttlMs, Math.floor((rows[0]?.secondsLeft ?? 0) * 1000))
        : options.negativeTtlMs;
      if (ttl > 0) {
        if (principal) cache.set(hash, principal, { ttl });
        else unknown.set(hash, true, { ttl });
      }
    }
    return principal;
  };

  const lookup = async (key: string | null, hash: string): Promise<Principal | null> => {
    const cached = cache.get(hash);
    if (cached !== undefined || unknown.get(hash)) {
      options.observer?.keyCacheHit();
      return cached ?? null;
    }
    options.observer?.keyCacheMiss();
    // Concurrent requests with the same uncached key share one database lookup.
    let pending = inFlight.get(hash);
    if (!pending) {
      pending = load(key, hash).finally(() => inFlight.delete(hash));
      inFlight.set(hash, pending);
    }
    return pending;
  };

  const used = (principal: Principal | null): Principal | null => {
    if (principal) options.onUse?.(principal.userId);
    return principal;
  };

  return {
    async resolve(key) {
      return used(await lookup(key, sha256Hex(key)));
    },
    async resolveHash(hash) {
      return used(await lookup(null, hash.toLowerCase()));
    },
    evict(keyOrHash) {
      generation++;
      const hash = keyOrHash.toLowerCase().startsWith(HASH_PREFIX)
        ? keyOrHash.slice(HASH_PREFIX.length).toLowerCase()
        : sha256Hex(keyOrHash);
      inFlight.delete(hash);
      const wasUnknown = unknown.delete(hash);
      return cache.delete(hash) || wasUnknown;
    },
    evictUser(userId) {
      generation++;
      let evicted = 0;
      for (const [hash, principal] of cache.entries()) {
        if (principal.userId === userId && cache.delete(hash)) evicted++;
      }
      return evicted;
    },
    reset() {
      generation++;
      inFlight.clear();
      cache.clear();
      unknown.clear();
    },
    get size() {
      return cache.size + unknown.size;
    },
  };
}

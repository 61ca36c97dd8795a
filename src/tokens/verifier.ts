import { createHash } from 'node:crypto';
import { jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import { LRUCache } from 'lru-cache';
import type { RoleTable } from '../authz';
import { deepFreeze } from './freeze';
import type { Grants } from './identity';
import { grantsForRoles, readSubject, summarizeClaims } from './identity';
import type { KeySource } from './key-source';
import { createKeySource, KeysUnavailableError } from './key-source';
import { isAcceptedType, looksLikeJwt, MAX_TOKEN_LENGTH, peekToken } from './peek';
import type { Refusal } from './refusals';
import { classifyVerifyError, REASONS, unauthenticated, unavailable } from './refusals';
import { rolesForClaims } from './role-rules';
import type { TrustedIssuer, VerifyResult } from './types';

export interface TokenVerifierOptions {
  readonly issuers: readonly TrustedIssuer[];
  /** The same role table keys use: a machine's roles expand to the same scopes. */
  readonly roles: RoleTable;
  /** Per request for an issuer's metadata or keys. */
  readonly fetchTimeoutMs: number;
  /** Milliseconds since the epoch; for tests. Default Date.now. */
  readonly now?: () => number;
  /** Verified tokens remembered (by SHA-256). Default 10 000. */
  readonly cacheMax?: number;
  /** After a key fetch, how long before a token with an unknown `kid` may trigger another. Default 30 s. */
  readonly jwksCooldownMs?: number;
  /** How long fetched keys are used before being fetched again. Default 10 minutes. */
  readonly jwksMaxAgeMs?: number;
  /** After a failed discovery, how long new tokens of that issuer get 503 before it is tried again. Default 10 s. */
  readonly discoveryRetryMs?: number;
  /** Operator-facing problems (discovery failing, keys unreachable): at most one per issuer per 10 s. */
  readonly warn?: (message: string, meta: Record<string, unknown>) => void;
}

export interface IssuerCheck {
  readonly issuer: string;
  readonly ok: boolean;
  readonly error?: string;
}

export interface TokenVerifier {
  looksLikeJwt(credential: string): boolean;
  /** Never throws: a verified identity, or a refusal (401 for the token's faults, 503 when keys are unreachable). */
  verify(token: string): Promise<VerifyResult>;
  /**
   * `verify` for a credential that may be a key: undefined when it is not a JWT. A token verified
   * before is answered from the cache without decoding anything (the hot path).
   */
  verifyIfToken(credential: string): Promise<VerifyResult> | undefined;
  /** Discovers and fetches every issuer's keys now: for a start-up log line or readiness. */
  checkIssuers(): Promise<IssuerCheck[]>;
  readonly cacheSize: number;
  reset(): void;
}

interface CachedResult {
  readonly result: VerifyResult;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

const TOKEN_ID_LENGTH = 12;
const WARN_INTERVAL_MS = 10_000;

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const now = options.now ?? Date.now;
  const warnOnce = throttledWarn(options.warn ?? (() => undefined), now);
  const byIssuer = new Map(options.issuers.map((issuer) => [issuer.issuer, issuer]));
  const sources = new Map<string, KeySource>(options.issuers.map((issuer) => [issuer.issuer, createKeySource(issuer, {
    timeoutMs: options.fetchTimeoutMs,
    cooldownMs: options.jwksCooldownMs ?? 30_000,
    maxAgeMs: options.jwksMaxAgeMs ?? 600_000,
    discoveryRetryMs: options.discoveryRetryMs ?? 10_000,
    now,
    warn: (message, meta) => warnOnce(issuer.name, message, meta),
  })]));
  // Keyed by the token's SHA-256, so the cache never holds a token.
  const cache = new LRUCache<string, CachedResult>({ max: options.cacheMax ?? 10_000, ttlAutopurge: false });
  const inFlight = new Map<string, Promise<VerifyResult>>();
  // Machines share a handful of role sets: expand and compile each once.
  const grantsByRoles = new LRUCache<string, Grants>({ max: 1000 });
  const grantsOf = (roles: readonly string[]): Grants => {
    const key = roles.join('\n');
    let grants = grantsByRoles.get(key);
    if (!grants) {
      grants = grantsForRoles(roles, options.roles);
      grantsByRoles.set(key, grants);
    }
    return grants;
  };

  const remember = (hash: string, result: VerifyResult, expiresAt: number): VerifyResult => {
    // Shared by every request that presents the token: nobody may change it.
    deepFreeze(result);
    const ttl = expiresAt - now();
    if (ttl > 0) cache.set(hash, { result, expiresAt }, { ttl });
    return result;
  };

  const verifyUncached = async (token: string, hash: string): Promise<VerifyResult> => {
    const peeked = peekToken(token);
    if (!peeked) return unauthenticated(REASONS.malformed);
    // Unverified, and only to pick whose keys and rules apply: the signature is checked against that issuer's keys.
    const iss = peeked.payload.iss;
    const issuer = typeof iss === 'string' ? byIssuer.get(iss) : undefined;
    if (!issuer) return unauthenticated(REASONS.untrustedIssuer);
    if (!isAcceptedType(peeked.header.typ)) return unauthenticated(REASONS.type);
    // Before any key is fetched: `none`, HS256 and the rest never get that far.
    if (!(issuer.algorithms as readonly unknown[]).includes(peeked.header.alg)) return unauthenticated(REASONS.algorithm);

    let payload: JWTPayload;
    try {
      const keys = await (sources.get(issuer.issuer) as KeySource).keys();
      ({ payload } = await jwtVerify(token, keys, {
        issuer: issuer.issuer,
        audience: [...issuer.audiences],
        algorithms: [...issuer.algorithms],
        clockTolerance: issuer.clockSkewS,
        requiredClaims: ['exp'],
        currentDate: new Date(now()),
      }));
    } catch (err) {
      const refusal = err instanceof KeysUnavailableError ? unavailable() : classifyVerifyError(err);
      if (refusal.code === 'SERVICE_UNAVAILABLE' && !(err instanceof KeysUnavailableError)) {
        warnOnce(issuer.name, 'trusted issuer keys unavailable', { issuer: issuer.name, error: (err as Error)?.message });
      }
      return refusal;
    }
    const refusal = checkLifetime(payload, issuer, now());
    if (refusal) return refusal;
    const subject = readSubject(payload, issuer);
    if (subject === undefined) return unauthenticated(REASONS.noSubject);
    const expiresAt = (payload.exp as number) * 1000;
    const roles = rolesForClaims(payload, issuer.rules);
    // A verified token's claims do not change: remember a refusal for lack of role as long as a grant.
    if (roles.length === 0) return remember(hash, unauthenticated(REASONS.noRole, { issuer: issuer.issuer, subject }), expiresAt);
    const identity = {
      issuer: issuer.issuer,
      issuerName: issuer.name,
      subject,
      roles,
      ...grantsOf(roles),
      expiresAt,
      machineId: createHash('sha256').update(`${issuer.issuer}\n${subject}`).digest('hex').slice(0, TOKEN_ID_LENGTH),
      tokenId: hash.slice(0, TOKEN_ID_LENGTH),
      claimsSummary: summarizeClaims(payload, issuer),
    };
    return remember(hash, { ok: true, identity }, expiresAt);
  };

  const fromCache = (hash: string): VerifyResult | undefined => {
    const cached = cache.get(hash);
    if (!cached) return undefined;
    if (cached.expiresAt > now()) return cached.result;
    cache.delete(hash);
    return undefined;
  };
  const verifyHashed = (token: string, hash: string): Promise<VerifyResult> => {
    // Concurrent requests with the same new token share one verification.
    let pending = inFlight.get(hash);
    if (!pending) {
      pending = verifyUncached(token, hash)
        .catch((err: unknown): VerifyResult => {
          // A bug here must not become an allow, nor a 401 the client would believe.
          options.warn?.('token verification failed unexpectedly', { error: (err as Error)?.message });
          return unavailable();
        })
        .finally(() => inFlight.delete(hash));
      inFlight.set(hash, pending);
    }
    return pending;
  };

  return {
    looksLikeJwt,
    verifyIfToken(credential) {
      // A JSON header (`{`) always encodes to a leading `e`, and a JWT has dots: anything else is a key, unhashed here.
      if (credential.charCodeAt(0) !== 0x65 || !credential.includes('.') || credential.length > MAX_TOKEN_LENGTH) return undefined;
      const hash = createHash('sha256').update(credential).digest('hex');
      const cached = fromCache(hash);
      if (cached) return Promise.resolve(cached);
      return looksLikeJwt(credential) ? verifyHashed(credential, hash) : undefined;
    },
    async verify(token) {
      // Only the length before hashing: the hot path (a cached token) decodes nothing.
      if (token.length > MAX_TOKEN_LENGTH) return unauthenticated(REASONS.malformed);
      const hash = createHash('sha256').update(token).digest('hex');
      return fromCache(hash) ?? verifyHashed(token, hash);
    },

    async checkIssuers() {
      return Promise.all(options.issuers.map(async (issuer): Promise<IssuerCheck> => {
        try {
          await (sources.get(issuer.issuer) as KeySource).load();
          return { issuer: issuer.issuer, ok: true };
        } catch (err) {
          return { issuer: issuer.issuer, ok: false, error: (err as Error).message };
        }
      }));
    },
    get cacheSize() {
      return cache.size;
    },
    reset() {
      cache.clear();
    },
  };
}

/**
 * `exp` − `iat` within the issuer's maximum, and `iat` not in the future. Without `iat` the
 * remaining lifetime (`exp` − now) is what is bounded, so no token is usable longer than allowed.
 */
export function checkLifetime(payload: JWTPayload, issuer: TrustedIssuer, nowMs: number): Refusal | undefined {
  const nowS = nowMs / 1000;
  const exp = payload.exp as number;
  if (typeof payload.iat === 'number') {
    if (payload.iat > nowS + issuer.clockSkewS) return unauthenticated(REASONS.issuedInFuture);
    if (exp - payload.iat > issuer.maxLifetimeS) return unauthenticated(REASONS.tooLong);
  } else if (exp - nowS > issuer.maxLifetimeS + issuer.clockSkewS) {
    return unauthenticated(REASONS.tooLong);
  }
  return undefined;
}

/** During an outage every request fails alike: one line per issuer per interval, with how many were held back. */
function throttledWarn(warn: (message: string, meta: Record<string, unknown>) => void, now: () => number) {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (issuer: string, message: string, meta: Record<string, unknown>) => {
    const seen = last.get(issuer);
    if (seen && now() - seen.at < WARN_INTERVAL_MS) {
      seen.suppressed++;
      return;
    }
    last.set(issuer, { at: now(), suppressed: 0 });
    warn(message, seen?.suppressed ? { ...meta, suppressed: seen.suppressed } : meta);
  };
}

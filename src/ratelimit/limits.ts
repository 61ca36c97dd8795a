/**
 * Rate limits as keys and roles carry them: a `rate:<rps>[/<burst>]` entry among the scopes
 * (`rate:off` for none), so limits need no column of their own in the key table.
 */
export interface RateLimit {
  /** Sustained requests per second. */
  readonly rps: number;
  /** Requests allowed at once after a quiet spell. */
  readonly burst: number;
}

/** `null` means unlimited. */
export type RateLimitSetting = RateLimit | null;

export const RATE_PREFIX = 'rate:';
const NUMBER = /^\d+(\.\d+)?$/;
const MAX_RPS = 1_000_000;

/** Parses `off`, `<rps>` or `<rps>/<burst>`; undefined when malformed. */
export function parseRateSpec(text: string): RateLimitSetting | undefined {
  const value = text.trim().toLowerCase();
  if (value === 'off' || value === 'none') return null;
  const [rateText, burstText, extra] = value.split('/');
  if (extra !== undefined || rateText === undefined || !NUMBER.test(rateText)) return undefined;
  const rps = Number(rateText);
  if (rps <= 0 || rps > MAX_RPS) return undefined;
  if (burstText === undefined) return { rps, burst: Math.max(1, Math.ceil(rps)) };
  if (!/^\d+$/.test(burstText)) return undefined;
  const burst = Number(burstText);
  if (burst < 1 || burst > MAX_RPS * 60) return undefined;
  return { rps, burst };
}

export function isRateScope(scope: string): boolean {
  return scope.toLowerCase().startsWith(RATE_PREFIX);
}

export function formatRateLimit(limit: RateLimitSetting): string {
  return limit === null ? 'off' : `${limit.rps}/${limit.burst}`;
}

/** True when `a` allows at least what `b` allows. */
function atLeast(a: RateLimitSetting, b: RateLimitSetting): boolean {
  if (a === null) return true;
  if (b === null) return false;
  return a.rps >= b.rps && a.burst >= b.burst;
}

function settingsOf(scopes: readonly string[]): RateLimitSetting[] {
  const out: RateLimitSetting[] = [];
  for (const scope of scopes) {
    if (!isRateScope(scope)) continue;
    const parsed = parseRateSpec(scope.slice(RATE_PREFIX.length));
    if (parsed !== undefined) out.push(parsed);
  }
  return out;
}

/**
 * The limit a key gets. Its own entry wins (the tightest, if it has several); else the most
 * generous of its roles' entries, as roles add up; else the deployment's default.
 */
export function rateLimitFor(ownScopes: readonly string[], effectiveScopes: readonly string[], fallback: RateLimitSetting): RateLimitSetting {
  const own = settingsOf(ownScopes);
  if (own.length > 0) return own.reduce((tightest, s) => (atLeast(tightest, s) ? s : tightest));
  const inherited = settingsOf(effectiveScopes);
  if (inherited.length > 0) return inherited.reduce((widest, s) => (atLeast(widest, s) ? widest : s));
  return fallback;
}

/** A key may only hand out limits no looser than its own: a limited key cannot mint unlimited ones. */
export function limitCovers(granter: RateLimitSetting, requested: RateLimitSetting): boolean {
  return atLeast(granter, requested);
}

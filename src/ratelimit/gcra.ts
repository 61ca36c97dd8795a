import type { RateLimit } from './limits';

export interface GcraResult {
  readonly allowed: boolean;
  /** The key's new theoretical arrival time (ms); unchanged when refused. */
  readonly tat: number;
  /** When refused: how long until a request would be allowed. */
  readonly retryAfterMs: number;
}

/**
 * The generic cell rate algorithm: a token bucket of `burst` tokens refilled at `rps`, kept as one
 * number per key (the theoretical arrival time), so it fits a Redis key as well as a Map.
 * The Redis store runs the same arithmetic in Lua; keep the two in step.
 */
export function gcra(tat: number | undefined, now: number, limit: RateLimit): GcraResult {
  const interval = 1000 / limit.rps;
  const tolerance = interval * (limit.burst - 1);
  const base = Math.max(tat ?? now, now);
  const earliest = base - tolerance;
  if (now < earliest) return { allowed: false, tat: base, retryAfterMs: earliest - now };
  return { allowed: true, tat: base + interval, retryAfterMs: 0 };
}

import { isSafeNextPath } from './next-path';

/**
 * One sign-in attempt: what the callback needs to check that the answer belongs to the request this
 * browser started. The caller keeps it until the callback, either server-side or in the attempt's
 * own HttpOnly cookie (`buildAttemptCookie`, with `encodeAttempt`): one per attempt, so several
 * tabs signing in at once all succeed. The values are single-use and useless without the browser's
 * provider session, but are still never logged.
 */
export interface SignInAttempt {
  readonly state: string;
  readonly nonce: string;
  /** PKCE (S256) verifier: only its hash went to the provider. */
  readonly codeVerifier: string;
  /** Same-origin path to return to after sign-in (already checked). */
  readonly next: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

/** How long a person may take at the provider's login page. */
export const DEFAULT_ATTEMPT_MAX_AGE_MS = 10 * 60 * 1000;

const RANDOM = /^[A-Za-z0-9_-]{16,128}$/;
const MAX_ENCODED_LENGTH = 4096;

export function encodeAttempt(attempt: SignInAttempt): string {
  const { state, nonce, codeVerifier, next, createdAt } = attempt;
  return Buffer.from(JSON.stringify({ state, nonce, codeVerifier, next, createdAt })).toString('base64url');
}

/** The attempt back from `encodeAttempt`'s text, or undefined when the text is not one (tampered, truncated). */
export function decodeAttempt(text: string | undefined): SignInAttempt | undefined {
  if (!text || text.length > MAX_ENCODED_LENGTH) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { state, nonce, codeVerifier, next, createdAt } = value as Record<string, unknown>;
  const random = [state, nonce, codeVerifier].every((v) => typeof v === 'string' && RANDOM.test(v));
  if (!random || !isSafeNextPath(next) || typeof createdAt !== 'number' || !Number.isSafeInteger(createdAt)) return undefined;
  return { state: state as string, nonce: nonce as string, codeVerifier: codeVerifier as string, next, createdAt };
}

/** True once the attempt is older than `maxAgeMs`, or dated in the future (a clock jump, or forged). */
export function isAttemptExpired(attempt: SignInAttempt, now: number, maxAgeMs: number = DEFAULT_ATTEMPT_MAX_AGE_MS): boolean {
  return now - attempt.createdAt > maxAgeMs || attempt.createdAt > now + 60_000;
}

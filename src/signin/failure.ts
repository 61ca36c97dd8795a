/**
 * Why a sign-in step failed, in words for the audit trail and the sign-in page:
 * - `insecure_issuer`: a plain-http issuer that is not on a loopback address (refused before any request);
 * - `discovery_failed`: the issuer's metadata could not be fetched or made no sense (start-up / readiness);
 * - `provider_error`: the provider answered the sign-in with an error (`access_denied` when the
 *   person cancelled, `login_required`, ...), carried in `providerError` / `providerDescription`;
 * - `invalid_callback`: the callback does not belong to this attempt (state, issuer, nonce, ID token
 *   checks), or carries no code;
 * - `attempt_expired`: the attempt is older than allowed;
 * - `token_rejected`: the token endpoint refused the code (replayed, tampered, expired, wrong verifier);
 * - `refresh_rejected`: the token endpoint refused the refresh token (revoked, expired, user gone),
 *   or the refreshed identity is another user: the session must end;
 * - `provider_unreachable`: the provider did not answer (network, timeout).
 */
export type SignInErrorCode =
  | 'insecure_issuer'
  | 'discovery_failed'
  | 'provider_error'
  | 'invalid_callback'
  | 'attempt_expired'
  | 'token_rejected'
  | 'refresh_rejected'
  | 'provider_unreachable';

/** A typed sign-in failure. Its message never holds a code, token, secret or claim value. */
export class SignInError extends Error {
  override readonly name = 'SignInError';

  constructor(
    readonly code: SignInErrorCode,
    message: string,
    /** The provider's OAuth error code (`access_denied`, `invalid_grant`, ...), when it sent one. */
    readonly providerError?: string,
    /** The provider's `error_description`, bounded and with control characters escaped. */
    readonly providerDescription?: string,
  ) {
    super(message);
  }
}

export function isSignInError(error: unknown): error is SignInError {
  return error instanceof SignInError;
}

const MAX_PROVIDER_TEXT = 200;
// openid-client's (oauth4webapi's) error codes, matched by value so this file needs no ESM import.
const AUTHORIZATION_RESPONSE_ERROR = 'OAUTH_AUTHORIZATION_RESPONSE_ERROR';
const RESPONSE_BODY_ERROR = 'OAUTH_RESPONSE_BODY_ERROR';
const WWW_AUTHENTICATE_CHALLENGE = 'OAUTH_WWW_AUTHENTICATE_CHALLENGE';
const NETWORK_CAUSES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);

interface LibraryError {
  readonly name?: string;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly error?: unknown;
  readonly error_description?: unknown;
  readonly status?: unknown;
  readonly cause?: unknown;
}

/**
 * Turns whatever openid-client or fetch threw into a SignInError. `rejected` is the code for an
 * OAuth error answer of the token endpoint; `otherwise` for the library's own checks failing.
 * Nothing of the original error travels on but its fixed message text: its `cause` may hold the
 * callback's parameters (the code) or a response.
 */
export function toSignInError(thrown: unknown, rejected: SignInErrorCode, otherwise: SignInErrorCode, doing: string): SignInError {
  if (thrown instanceof SignInError) return thrown;
  const error = (typeof thrown === 'object' && thrown !== null ? thrown : {}) as LibraryError;
  if (error.code === AUTHORIZATION_RESPONSE_ERROR) {
    const code = bounded(error.error);
    const description = bounded(error.error_description);
    return new SignInError('provider_error', `the identity provider refused the sign-in: ${code ?? 'error'}${description ? ` (${description})` : ''}`, code, description);
  }
  if (error.code === RESPONSE_BODY_ERROR || error.code === WWW_AUTHENTICATE_CHALLENGE) {
    // The OAuth error is in the JSON body, or (a 401 from the token endpoint) in WWW-Authenticate.
    const source = error.code === RESPONSE_BODY_ERROR ? error : firstChallenge(error.cause);
    const code = bounded(source.error);
    const description = bounded(source.error_description);
    return new SignInError(rejected, `${doing}: the identity provider answered ${String(error.status)} ${code ?? ''}${description ? ` (${description})` : ''}`.trim(), code, description);
  }
  const network = networkCause(error);
  if (network) return new SignInError('provider_unreachable', `${doing}: the identity provider did not answer (${network})`);
  return new SignInError(otherwise, `${doing}: ${describeCheck(error) ?? 'unexpected failure'}`);
}

/** openid-client wraps the failed check in a general message; the check's own words are in `cause`. */
function describeCheck(error: LibraryError): string | undefined {
  const message = typeof error.message === 'string' ? error.message : undefined;
  const cause = error.cause as LibraryError | undefined;
  const detail = typeof cause === 'object' && cause !== null && typeof cause.message === 'string' ? cause.message : undefined;
  return bounded(message && detail && detail !== message ? `${message}: ${detail}` : message);
}

function firstChallenge(challenges: unknown): LibraryError {
  const first: unknown = Array.isArray(challenges) ? challenges[0] : undefined;
  const parameters = typeof first === 'object' && first !== null ? (first as { parameters?: unknown }).parameters : undefined;
  return typeof parameters === 'object' && parameters !== null ? parameters as LibraryError : {};
}

/** A connection failure or timeout's short name, from fetch's error or its cause. */
function networkCause(error: LibraryError): string | undefined {
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timed out';
  const cause = (typeof error.cause === 'object' && error.cause !== null ? error.cause : {}) as LibraryError;
  for (const code of [cause.code, (cause.cause as LibraryError | undefined)?.code, error.code]) {
    if (typeof code === 'string' && NETWORK_CAUSES.has(code)) return code === 'ECONNREFUSED' ? 'connection refused' : code;
  }
  if (cause.name === 'TimeoutError' || cause.name === 'AbortError') return 'timed out';
  if (error.name === 'TypeError' && error.message === 'fetch failed') return 'network error';
  return undefined;
}

/** Provider-supplied text, made safe for a log line: control characters escaped, length bounded. */
function bounded(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  // eslint-disable-next-line no-control-regex -- control characters are what it escapes
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return clean.length > MAX_PROVIDER_TEXT ? `${clean.slice(0, MAX_PROVIDER_TEXT)}...` : clean;
}

import * as oidc from 'openid-client';
import type { SignInAttempt } from './attempt';
import { DEFAULT_ATTEMPT_MAX_AGE_MS, isAttemptExpired } from './attempt';
import type { Claims } from './claims';
import { SignInError, toSignInError } from './failure';
import { checkIssuerUrl } from './issuer-url';
import { safeNextPath } from './next-path';

export interface RelyingPartyOptions {
  /** The provider's issuer identifier; discovery reads `<issuer>/.well-known/openid-configuration`. */
  readonly issuerUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The proxy's callback, exactly as registered at the provider (`<PUBLIC_URL>/auth/callback`). */
  readonly redirectUri: string;
  /** Default `openid email profile`; `openid` is added when missing. */
  readonly scopes?: readonly string[];
  /** Per request to the provider. Default 10 000. */
  readonly timeoutMs?: number;
  /** How the client authenticates at the token endpoint. Default `client_secret_basic`, the OpenID default. */
  readonly tokenAuthMethod?: 'client_secret_basic' | 'client_secret_post';
  /**
   * Claims the proxy needs; when one is missing from the ID token, userinfo is asked and merged in
   * (ID token values win). Providers put little in the ID token when an access token is issued too.
   * Default `email`, `groups`.
   */
  readonly wantedClaims?: readonly string[];
  /** Extra authorization request parameters, e.g. Google's `access_type=offline` for a refresh token. */
  readonly authorizationParams?: Readonly<Record<string, string>>;
  /** How long a person may take at the provider. Default 10 minutes. */
  readonly attemptMaxAgeMs?: number;
  /** Clock, for tests. */
  readonly now?: () => number;
}

export interface BeganSignIn {
  /** Send the browser here (302/303). */
  readonly authorizationUrl: string;
  /** Keep until the callback (see SignInAttempt). */
  readonly attempt: SignInAttempt;
}

export interface SignInTokens {
  /** The ID token (for `id_token_hint` at logout); on refresh, undefined when the provider sent none. */
  readonly idToken: string | undefined;
  /** Keep server-side only; on refresh, the new one when the provider rotated it, else the one used. */
  readonly refreshToken: string | undefined;
  /** Milliseconds since the epoch, when the provider said. */
  readonly accessTokenExpiresAt: number | undefined;
}

export interface SignInResult {
  /** The provider's `sub`: the stable identity to compare on refresh. */
  readonly subject: string;
  /** Verified ID token claims, completed from userinfo when wanted claims were missing. */
  readonly claims: Claims;
  readonly tokens: SignInTokens;
}

export interface RelyingParty {
  readonly issuer: string;
  /** Starts an attempt: authorization code with PKCE (S256), a fresh state and nonce. `next` is checked with safeNextPath. */
  begin(next?: unknown): Promise<BeganSignIn>;
  /**
   * Checks the provider's answer against the attempt and exchanges the code. Only `callbackUrl`'s
   * query is read (a full URL or the request's path and query); the redirect URI sent to the
   * provider is always the configured one. Throws a SignInError.
   */
  finish(callbackUrl: URL | string, attempt: SignInAttempt): Promise<SignInResult>;
  /**
   * Uses the refresh token to read the user's claims again (group membership), checking that the
   * provider still speaks of the same `subject`. Throws a SignInError (`refresh_rejected`: end the session).
   */
  refresh(refreshToken: string, subject: string): Promise<SignInResult>;
  /** The provider's logout URL (RP-initiated logout), or undefined when it has no end_session_endpoint. */
  endSessionUrl(idTokenHint: string | undefined, postLogoutRedirectUri: string, state?: string): string | undefined;
}

const DEFAULT_SCOPES = ['openid', 'email', 'profile'];
const DEFAULT_WANTED_CLAIMS = ['email', 'groups'];
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Discovers the provider and returns the relying party. Throws a SignInError when the issuer is
 * not acceptable (`insecure_issuer`), cannot be reached or its metadata is wrong
 * (`discovery_failed`, `provider_unreachable`): a start-up error or a failed readiness check for
 * the caller, never a sign-in that skips checks.
 */
export async function createRelyingParty(options: RelyingPartyOptions): Promise<RelyingParty> {
  const issuer = checkIssuerUrl(options.issuerUrl);
  const now = options.now ?? Date.now;
  const scope = [...new Set(['openid', ...(options.scopes ?? DEFAULT_SCOPES)])].join(' ');
  const wanted = options.wantedClaims ?? DEFAULT_WANTED_CLAIMS;
  const clientAuth = options.tokenAuthMethod === 'client_secret_post'
    ? oidc.ClientSecretPost(options.clientSecret)
    : oidc.ClientSecretBasic(options.clientSecret);

  let config: oidc.Configuration;
  try {
    config = await oidc.discovery(issuer.url, options.clientId, { client_secret: options.clientSecret }, clientAuth, {
      timeout: (options.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000,
      execute: issuer.allowHttp ? [oidc.allowInsecureRequests] : [],
    });
  } catch (err) {
    // One code for every discovery failure, unreachable included: the caller's start-up error.
    const failure = toSignInError(err, 'discovery_failed', 'discovery_failed', `discovery of the identity provider at ${issuer.url.href} failed`);
    throw failure.code === 'discovery_failed' ? failure : new SignInError('discovery_failed', failure.message);
  }
  const metadata = config.serverMetadata();

  /** ID token claims, completed from userinfo when a wanted claim is missing and the provider has one. */
  async function completeClaims(idClaims: Claims | undefined, accessToken: string, subject: string): Promise<Claims> {
    const missing = !idClaims || wanted.some((name) => !Object.hasOwn(idClaims, name));
    if (!missing || !metadata.userinfo_endpoint) {
      if (!idClaims) throw new SignInError('refresh_rejected', 'the identity provider sent neither an ID token nor a userinfo endpoint');
      return idClaims;
    }
    const userinfo = await oidc.fetchUserInfo(config, accessToken, subject);
    return { ...userinfo, ...idClaims };
  }

  function tokensOf(response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers, previousRefresh?: string): SignInTokens {
    const expiresIn = response.expiresIn();
    return {
      idToken: response.id_token,
      refreshToken: response.refresh_token ?? previousRefresh,
      accessTokenExpiresAt: expiresIn === undefined ? undefined : now() + expiresIn * 1000,
    };
  }

  return {
    issuer: metadata.issuer,

    async begin(next) {
      const attempt: SignInAttempt = {
        state: oidc.randomState(),
        nonce: oidc.randomNonce(),
        codeVerifier: oidc.randomPKCECodeVerifier(),
        next: safeNextPath(next),
        createdAt: now(),
      };
      const url = oidc.buildAuthorizationUrl(config, {
        ...options.authorizationParams,
        redirect_uri: options.redirectUri,
        response_type: 'code',
        scope,
        state: attempt.state,
        nonce: attempt.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(attempt.codeVerifier),
        code_challenge_method: 'S256',
      });
      return { authorizationUrl: url.href, attempt };
    },

    async finish(callbackUrl, attempt) {
      if (isAttemptExpired(attempt, now(), options.attemptMaxAgeMs ?? DEFAULT_ATTEMPT_MAX_AGE_MS)) {
        throw new SignInError('attempt_expired', 'the sign-in took too long; start again');
      }
      const current = new URL(options.redirectUri);
      current.search = new URL(callbackUrl, options.redirectUri).search;
      try {
        const response = await oidc.authorizationCodeGrant(config, current, {
          expectedState: attempt.state,
          expectedNonce: attempt.nonce,
          pkceCodeVerifier: attempt.codeVerifier,
          idTokenExpected: true,
        });
        const idClaims = response.claims();
        if (!idClaims) throw new SignInError('invalid_callback', 'the identity provider sent no ID token');
        const claims = await completeClaims(idClaims, response.access_token, idClaims.sub);
        return { subject: idClaims.sub, claims, tokens: tokensOf(response) };
      } catch (err) {
        throw toSignInError(err, 'token_rejected', 'invalid_callback', 'sign-in callback refused');
      }
    },

    async refresh(refreshToken, subject) {
      try {
        const response = await oidc.refreshTokenGrant(config, refreshToken);
        const idClaims = response.claims();
        if (idClaims && idClaims.sub !== subject) {
          throw new SignInError('refresh_rejected', 'the refreshed identity is not the one that signed in');
        }
        const claims = await completeClaims(idClaims, response.access_token, subject);
        return { subject, claims, tokens: tokensOf(response, refreshToken) };
      } catch (err) {
        throw toSignInError(err, 'refresh_rejected', 'refresh_rejected', 'refreshing the sign-in failed');
      }
    },

    endSessionUrl(idTokenHint, postLogoutRedirectUri, state) {
      if (!metadata.end_session_endpoint) return undefined;
      const parameters: Record<string, string> = { post_logout_redirect_uri: postLogoutRedirectUri };
      if (idTokenHint) parameters.id_token_hint = idTokenHint;
      if (state) parameters.state = state;
      return oidc.buildEndSessionUrl(config, parameters).href;
    },
  };
}

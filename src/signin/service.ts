import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditSink, AuthFailureRecorder } from '../audit';
import type { Config, SignInConfig } from '../config';
import { readBody, ProxyError, scopeOf, sendJson } from '../http';
import type { ChangeRecorder } from '../invalidation';
import type { KeyResolver } from '../keys';
import { sha256Hex } from '../keys';
import type { Logger } from '../log';
import type { OwnKeyStore } from '../selfservice';
import type { GroupCheck, SessionRecord, SessionResolver, SessionStore } from '../sessions';
import { createSessionResolver, hashSessionId } from '../sessions';
import { createAccessRoutes } from './access';
import { decodeAttempt, encodeAttempt } from './attempt';
import type { ClaimRules } from './claims';
import { decideSignIn } from './claims';
import type { CookieSettings } from './cookies';
import { attemptStates, buildAttemptCookie, buildSessionCookie, clearAttemptCookie, clearSessionCookie, cookieSettingsFor, readAttemptCookie, readSessionId } from './cookies';
import { isSignInError } from './failure';
import { safeNextPath } from './next-path';
import { checkOrigin } from './origin-check';
import { loginPage, logoutPage, messagePage } from './pages';
import type { RelyingParty } from './relying-party';
import { sendPage, sendRedirect } from './respond';
import { createRelyingParty } from './relying-party';

export interface SignInDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly store: SessionStore;
  readonly keys: KeyResolver;
  readonly audit: AuditSink;
  /** Refused sign-ins are counted per source here, so a flood of them cannot fill the audit table. */
  readonly failures?: AuthFailureRecorder;
  readonly recordChange: ChangeRecorder;
  /** Keys people make for themselves ("My access"), and people an administrator disabled. */
  readonly ownKeys?: OwnKeyStore;
}

/** Sign-in as the pipeline and the server see it. */
export interface SignIn {
  readonly cookies: CookieSettings;
  /** PUBLIC_URL's origin: what `Origin` must be on cookie-authenticated writes. */
  readonly publicOrigin: string;
  readonly sessions: SessionResolver;
  /** The session id in a request's cookies, if any. */
  sessionIdOf(req: IncomingMessage): string | undefined;
  /** Cookie-authenticated requests that change something must come from the proxy's own origin. */
  checkSameOrigin(req: IncomingMessage): { allowed: true } | { allowed: false; reason: string };
  /** `/auth/*`. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Provider discovery; failures are reported by `ready` and retried on the next sign-in. */
  start(): Promise<void>;
  /** Undefined when ready, else what is wrong (for /readyz). */
  notReady(): string | undefined;
}

const ATTEMPT_MAX_AGE_S = 600;
/** Sign-in attempts one browser may have under way at once (tabs). */
const MAX_ATTEMPTS = 4;
const FORM_LIMIT = 16 * 1024;
const DISCOVERY_RETRY_MS = 10_000;

export function createSignIn(deps: SignInDeps): SignIn {
  const { config, logger } = deps;
  const settings = config.signIn as SignInConfig;
  const publicUrl = config.publicUrl as URL;
  const cookies = cookieSettingsFor(publicUrl);
  const publicOrigin = publicUrl.origin;
  const base = publicUrl.href.replace(/\/$/, '');
  const oidc = settings.oidc;
  const rules: ClaimRules | undefined = oidc && {
    userClaim: oidc.userClaim, groupsClaim: oidc.groupsClaim, groupRoles: oidc.groupRoles,
    ...(oidc.allowedGroups ? { allowedGroups: oidc.allowedGroups } : {}),
  };
  let rp: RelyingParty | undefined;
  let discoveryError: string | undefined = oidc ? 'the identity provider has not been reached yet' : undefined;
  let lastDiscovery = 0;

  const discover = async (): Promise<RelyingParty | undefined> => {
    if (rp || !oidc) return rp;
    if (Date.now() - lastDiscovery < DISCOVERY_RETRY_MS && lastDiscovery > 0) return undefined;
    lastDiscovery = Date.now();
    try {
      rp = await createRelyingParty({
        issuerUrl: oidc.issuerUrl, clientId: oidc.clientId, clientSecret: oidc.clientSecret, redirectUri: `${base}/auth/callback`,
        scopes: [...oidc.scopes], timeoutMs: oidc.timeoutMs, tokenAuthMethod: oidc.tokenAuthMethod, wantedClaims: ['email', oidc.groupsClaim],
      });
      discoveryError = undefined;
    } catch (err) {
      discoveryError = `the identity provider cannot be used: ${err instanceof Error ? err.message : String(err)}`;
      logger.error('sign-in: identity provider discovery failed', { reason: discoveryError });
    }
    return rp;
  };

  /** A signed-in person's own action: always its own audit row. */
  const audited = (req: IncomingMessage, operationName: string, outcome: 'ALLOWED' | 'BLOCKED', user: string, detail: string, status: number): void => {
    const scope = scopeOf(req);
    deps.audit.record({
      outcome, dialect: 'admin', operationType: 'signin', operationName, fields: [detail], permissions: [], time: new Date(),
      requestId: scope.id, user, keyId: null, client: scope.client, status, latencyMs: performance.now() - scope.startedAt,
    });
  };
  /** Sign-in found the person outside every group that gives access: the keys they made stop too. */
  const stopOwnKeys = async (user: string | undefined, why: string): Promise<void> => {
    if (!user || !deps.ownKeys) return;
    const stopped = await deps.ownKeys.stopAll(user);
    for (const keyUser of stopped) deps.keys.evictUser(keyUser);
    if (stopped.length > 0) logger.notice('sign-in: stopped the keys a person made for themselves', { user, keys: stopped.length, reason: why });
  };
  const record = (req: IncomingMessage, operationName: string, outcome: 'ALLOWED' | 'BLOCKED', user: string | null, detail: string, status: number): void => {
    const scope = scopeOf(req);
    // Anyone can make refused sign-ins: aggregated per source, like refused keys.
    if (outcome === 'BLOCKED' && deps.failures) {
      deps.failures.record({ requestId: scope.id, client: scope.client, dialect: 'admin', reason: `${operationName}: ${detail}`.slice(0, 200), route: '/auth' });
      return;
    }
    deps.audit.record({
      outcome, dialect: 'admin', operationType: 'signin', operationName, fields: [detail], permissions: [], time: new Date(),
      requestId: scope.id, user, keyId: null, client: scope.client, status, latencyMs: performance.now() - scope.startedAt,
    });
  };

  /** A session ended here: every instance forgets it (change table, bus). */
  const ended = async (hash: string): Promise<void> => {
    sessions.evict(hash);
    await deps.recordChange({ kind: 'session', sessionHash: hash });
  };

  // The refresh token reads the person's groups again; a refusal or a lost group ends the session.
  const checkGroups = async (session: SessionRecord): Promise<GroupCheck> => {
    const party = await discover();
    const tokens = await deps.store.readTokens(session.hash);
    if (!party || !rules || !tokens?.refreshToken || !session.subject) {
      await deps.store.end(session.hash, 'expired');
      return { ended: true };
    }
    try {
      const refreshed = await party.refresh(tokens.refreshToken, session.subject);
      const decision = decideSignIn(refreshed.claims, rules);
      if (!decision.allowed) {
        await deps.store.end(session.hash, 'group-removed');
        logger.notice('sign-in: session ended, the person lost the groups that gave access', { user: session.userId, reason: decision.reason });
        await stopOwnKeys(session.userId, decision.reason);
        await ended(session.hash);
        return { ended: true };
      }
      await deps.store.updateGroups(session.hash, { groups: decision.groups, roles: decision.roles, ...(refreshed.tokens.refreshToken ? { refreshToken: refreshed.tokens.refreshToken } : {}) });
      return { kept: { ...session, groups: decision.groups, roles: decision.roles, groupsCheckedAt: Date.now() } };
    } catch (err) {
      const code = isSignInError(err) ? err.code : 'error';
      // The provider could not be asked: refuse rather than trust groups past the bound.
      if (code !== 'provider_unreachable') await deps.store.end(session.hash, 'revoked');
      logger.warn('sign-in: group check failed; the session is refused', { user: session.userId, reason: code });
      await ended(session.hash);
      return { ended: true };
    }
  };

  const sessions = createSessionResolver({
    store: deps.store, keys: deps.keys, roles: config.roles, defaultRateLimit: config.rateLimit,
    cacheTtlMs: 30_000, groupRefreshMs: settings.groupRefreshMs, ...(oidc ? { checkGroups } : {}),
    onTouchFailed: () => undefined,
    onExpired: (session, asker) => deps.audit.record({
      outcome: 'BLOCKED', dialect: 'admin', operationType: 'signin', operationName: 'session expired', fields: [`${session.kind} session`],
      permissions: [], time: new Date(), requestId: asker?.requestId ?? '-', user: session.userId, keyId: `session:${session.hash.slice(0, 12)}`,
      client: asker?.client ?? '-', status: 401, latencyMs: 0,
    }),
  });

  const html = sendPage;
  const redirect = sendRedirect;
  const login = (res: ServerResponse, next: string, status = 200, error?: string): void => html(res, status, loginPage({
    next, withKey: settings.withKey, withProvider: oidc !== undefined, ...(error ? { error } : {}),
  }));
  const startSession = async (res: ServerResponse, next: string, session: Parameters<SessionStore['create']>[0], extra: string[] = []): Promise<void> => {
    const created = await deps.store.create(session);
    redirect(res, next, [buildSessionCookie(cookies, created.id), ...extra]);
  };

  const access = settings.ownKeys && deps.ownKeys ? createAccessRoutes({
    store: deps.ownKeys, roles: config.roles, maxLifetimeS: settings.ownKeys.maxLifetimeS, maxKeys: settings.ownKeys.maxKeys,
    apiUrl: `${base}/api`, bodyTimeoutMs: config.bodyTimeoutMs, current: (req) => current(req), record: audited,
    // This instance forgets at once; the others through the change table and the bus.
    forget: (keyUser) => deps.keys.evictUser(keyUser),
  }) : {};
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>> = {
    ...access,
    'GET /auth/login': async (_req, res, url) => login(res, safeNextPath(url.searchParams.get('next'))),

    // Signing in with a key: the key is checked like any key and only its hash is kept, server-side.
    'POST /auth/login': async (req, res) => {
      if (!settings.withKey) return login(res, '/', 404, 'Signing in with a key is not enabled here.');
      const body = await readBody(req, FORM_LIMIT, config.bodyTimeoutMs);
      if (body instanceof ProxyError) return login(res, '/', body.status, body.message);
      const form = new URLSearchParams(body.toString('utf8'));
      const next = safeNextPath(form.get('next'));
      const key = (form.get('key') ?? '').trim();
      const principal = key ? await deps.keys.resolve(key) : null;
      if (!principal) {
        record(req, 'sign in with a key', 'BLOCKED', null, 'invalid or expired API key', 401);
        return login(res, next, 401, 'That key is not valid, or it has expired.');
      }
      const keyHash = sha256Hex(key);
      // A session stands for the key's row, found by its hash: a key stored in clear cannot be.
      if (!await deps.keys.resolveHash(keyHash)) {
        return login(res, next, 400, 'This key is stored in clear text; rotate it (prefect-auth-proxy keys rotate) to sign in with it.');
      }
      if (await deps.ownKeys?.isDisabled(principal.userId)) {
        record(req, 'sign in with a key', 'BLOCKED', principal.userId, 'disabled by an administrator', 403);
        return login(res, next, 403, 'An administrator has disabled your access.');
      }
      record(req, 'sign in with a key', 'ALLOWED', principal.userId, `key ${principal.keyId}`, 303);
      await startSession(res, next, { kind: 'key', userId: principal.userId, groups: [], roles: [...principal.scopeList], keyHash, lifetimeMs: settings.lifetimeMs });
    },

    'GET /auth/oidc': async (req, res, url) => {
      const party = await discover();
      if (!party) return html(res, 503, messagePage('Sign-in unavailable', 'The identity provider cannot be reached right now; try again shortly.'));
      const began = await party.begin(safeNextPath(url.searchParams.get('next')));
      // Another site can open this page again and again: only the newest attempts are kept, so their
      // cookies never grow past what a browser will send.
      const older = attemptStates(cookies, req.headers.cookie).slice(0, -(MAX_ATTEMPTS - 1));
      redirect(res, began.authorizationUrl, [
        ...older.map((state) => clearAttemptCookie(cookies, state)),
        buildAttemptCookie(cookies, began.attempt.state, encodeAttempt(began.attempt), ATTEMPT_MAX_AGE_S),
      ]);
    },

    'GET /auth/callback': async (req, res, url) => {
      const party = await discover();
      const state = url.searchParams.get('state') ?? '';
      const stored = readAttemptCookie(cookies, req.headers.cookie, state);
      const attempt = stored === undefined ? undefined : decodeAttempt(stored);
      if (!party || !rules || !attempt) {
        record(req, 'sign in with the identity provider', 'BLOCKED', null, 'no sign-in attempt for this callback', 400);
        return html(res, 400, messagePage('Sign-in failed', 'This sign-in link is not for this browser, or it has expired.', { href: '/auth/login', text: 'Sign in again' }));
      }
      const clear = clearAttemptCookie(cookies, state);
      try {
        const result = await party.finish(url, attempt);
        const decision = decideSignIn(result.claims, rules);
        if (!decision.allowed) {
          await stopOwnKeys(decision.user, decision.reason);
          record(req, 'sign in with the identity provider', 'BLOCKED', decision.user ?? null, decision.reason, 403);
          return html(res, 403, messagePage('No access to Prefect', decision.reason), { headers: { 'Set-Cookie': clear } });
        }
        if (await deps.ownKeys?.isDisabled(decision.user)) {
          record(req, 'sign in with the identity provider', 'BLOCKED', decision.user, 'disabled by an administrator', 403);
          return html(res, 403, messagePage('No access to Prefect', 'An administrator has disabled your access.'), { headers: { 'Set-Cookie': clear } });
        }
        record(req, 'sign in with the identity provider', 'ALLOWED', decision.user, `groups: ${decision.groups.join(', ')}`, 303);
        await startSession(res, attempt.next, {
          kind: 'oidc', userId: decision.user, subject: result.subject, issuer: party.issuer,
          email: typeof result.claims.email === 'string' ? result.claims.email : null,
          displayName: typeof result.claims.name === 'string' ? result.claims.name : null,
          groups: decision.groups, roles: decision.roles, lifetimeMs: settings.lifetimeMs,
          refreshToken: result.tokens.refreshToken ?? null, idTokenHint: result.tokens.idToken ?? null,
        }, [clear]);
      } catch (err) {
        if (!isSignInError(err)) throw err;
        const detail = err.providerError ? `${err.providerError}${err.providerDescription ? `: ${err.providerDescription}` : ''}` : err.code;
        record(req, 'sign in with the identity provider', 'BLOCKED', null, detail, 400);
        return html(res, 400, messagePage('Sign-in failed', `The identity provider said: ${detail}`, { href: '/auth/login', text: 'Sign in again' }), { headers: { 'Set-Cookie': clear } });
      }
    },

    'GET /auth/logout': async (req, res) => {
      const found = await current(req);
      if (!found) return redirect(res, '/auth/login');
      // Signing out goes on to the provider's end-session endpoint when it has one.
      const endSession = found.kind === 'oidc' ? (await discover())?.endSessionUrl(undefined, `${base}/auth/login`) : undefined;
      html(res, 200, logoutPage(found.userId), { formTargets: endSession ? [new URL(endSession).origin] : [] });
    },

    // Ends the session on every instance, and at the provider when it has an end-session endpoint.
    'POST /auth/logout': async (req, res) => {
      const id = readSessionId(cookies, req.headers.cookie);
      let location = '/auth/login';
      if (id) {
        const hash = hashSessionId(id);
        const found = await deps.store.find(id);
        const tokens = found?.kind === 'oidc' ? await deps.store.readTokens(hash) : null;
        await deps.store.end(hash, 'logout');
        await ended(hash);
        record(req, 'sign out', 'ALLOWED', found?.userId ?? null, found ? `${found.kind} session` : 'no live session', 303);
        const party = found?.kind === 'oidc' ? await discover() : undefined;
        location = party?.endSessionUrl(tokens?.idTokenHint ?? undefined, `${base}/auth/login`) ?? location;
      }
      redirect(res, location, clearSessionCookie(cookies));
    },

    'GET /auth/me': async (req, res) => {
      const found = await current(req);
      if (!found) return sendJson(res, 401, { detail: 'not signed in' });
      sendJson(res, 200, { user: found.userId, kind: found.kind, groups: found.groups, roles: found.roles, expiresAt: new Date(found.expiresAt).toISOString() });
    },
  };

  const current = async (req: IncomingMessage): Promise<SessionRecord | null> => {
    const id = readSessionId(cookies, req.headers.cookie);
    return id ? (await sessions.resolve(id))?.record ?? null : null;
  };

  return {
    cookies,
    publicOrigin,
    sessions,
    sessionIdOf: (req) => readSessionId(cookies, req.headers.cookie),
    checkSameOrigin: (req) => checkOrigin({ method: req.method ?? 'GET', headers: req.headers }, publicOrigin),
    async handle(req, res) {
      const url = new URL(req.url ?? '/', base);
      const path = url.pathname.replace(/\/+$/, '') || '/';
      const route = routes[`${req.method} ${path.toLowerCase()}`];
      if (!route) return sendJson(res, 404, { detail: 'no such sign-in route' });
      // Every form post on these pages must come from them (login CSRF, forced logout).
      if (req.method === 'POST') {
        const origin = checkOrigin({ method: 'POST', headers: req.headers }, publicOrigin);
        if (!origin.allowed) {
          record(req, `${req.method} ${path}`, 'BLOCKED', null, origin.reason, 403);
          return html(res, 403, messagePage('Refused', `This form must be sent from ${publicOrigin}: ${origin.reason}`));
        }
      }
      await route(req, res, url);
    },
    async start() {
      await discover();
    },
    notReady: () => discoveryError,
  };
}

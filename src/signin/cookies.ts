import { parseCookie, stringifySetCookie } from './cookie-package';

/**
 * How the proxy's cookies are named and flagged for one public URL. Over https: the `__Host-`
 * prefix (the browser then insists on Secure, Path=/ and no Domain, so no sibling subdomain can
 * set or shadow the cookie), HttpOnly, Secure, SameSite=Lax. The one documented exception is a
 * plain-http public URL on localhost or a loopback address (trying the proxy on a laptop):
 * browsers refuse `__Host-` and Secure cookies set over http there, so both are left out.
 */
export interface CookieSettings {
  readonly secure: boolean;
  readonly sessionName: string;
  /** Per-attempt sign-in cookies are named this followed by the attempt's state. */
  readonly attemptPrefix: string;
}

const SESSION = 'pap-session';
const ATTEMPT = 'pap-signin-';
const HOST_PREFIX = '__Host-';
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
// What the proxy generates: random base64url. Anything else in the cookie is not ours to look up.
const TOKEN = /^[A-Za-z0-9_-]{32,128}$/;
const STATE = /^[A-Za-z0-9_-]{16,128}$/;

/** Throws for a plain-http public URL that is not local: a session cookie must not travel in clear. */
export function cookieSettingsFor(publicUrl: URL | string): CookieSettings {
  const url = new URL(publicUrl);
  if (url.protocol === 'https:') return { secure: true, sessionName: HOST_PREFIX + SESSION, attemptPrefix: HOST_PREFIX + ATTEMPT };
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return { secure: false, sessionName: SESSION, attemptPrefix: ATTEMPT };
  throw new Error(`sign-in needs an https PUBLIC_URL (plain http only on localhost, 127.0.0.1 or [::1]); got ${url.origin}`);
}

/** `Set-Cookie` for the session id; without `maxAgeSeconds` it lasts until the browser closes. */
export function buildSessionCookie(settings: CookieSettings, sessionId: string, maxAgeSeconds?: number): string {
  if (!TOKEN.test(sessionId)) throw new Error('a session id must be 32 to 128 base64url characters');
  return build(settings, settings.sessionName, sessionId, maxAgeSeconds);
}

/** `Set-Cookie` that makes the browser forget the session cookie. */
export function clearSessionCookie(settings: CookieSettings): string {
  return build(settings, settings.sessionName, '', 0);
}

/** The session id from a `Cookie` header, when there is one of the expected form. */
export function readSessionId(settings: CookieSettings, cookieHeader: string | undefined): string | undefined {
  const value = cookieHeader ? parseCookie(cookieHeader)[settings.sessionName] : undefined;
  return value !== undefined && TOKEN.test(value) ? value : undefined;
}

/**
 * `Set-Cookie` for one sign-in attempt, named after its state, so that several tabs signing in at
 * once each keep their own and the callback finds the one its `state` names. It also binds the
 * attempt to this browser: a callback URL replayed in another browser finds no cookie.
 */
export function buildAttemptCookie(settings: CookieSettings, state: string, value: string, maxAgeSeconds: number): string {
  return build(settings, attemptName(settings, state), value, maxAgeSeconds);
}

export function clearAttemptCookie(settings: CookieSettings, state: string): string {
  return build(settings, attemptName(settings, state), '', 0);
}

/** States of the attempt cookies the browser sent, in its order (oldest first, as browsers send them). */
export function attemptStates(settings: CookieSettings, cookieHeader: string | undefined): string[] {
  if (!cookieHeader) return [];
  return Object.keys(parseCookie(cookieHeader)).filter((name) => name.startsWith(settings.attemptPrefix))
    .map((name) => name.slice(settings.attemptPrefix.length)).filter((state) => STATE.test(state));
}

/** The attempt cookie's value for this state, if the browser sent it (and the state is well-formed). */
export function readAttemptCookie(settings: CookieSettings, cookieHeader: string | undefined, state: string): string | undefined {
  if (!cookieHeader || !STATE.test(state)) return undefined;
  const value = parseCookie(cookieHeader)[settings.attemptPrefix + state];
  return value === '' ? undefined : value;
}

/**
 * The `Cookie` header to forward to Prefect: every cookie but the proxy's own (session and sign-in
 * attempts, with or without the `__Host-` prefix), the others byte for byte; undefined when nothing
 * is left, so the header is dropped.
 */
export function stripProxyCookies(cookieHeader: string | undefined): string | undefined {
  if (cookieHeader === undefined) return undefined;
  const kept = cookieHeader.split(';').filter((pair) => !isProxyCookie(pair));
  const joined = kept.join(';').replace(/^\s+/, '');
  return joined.trim() === '' ? undefined : joined;
}

function isProxyCookie(pair: string): boolean {
  const eq = pair.indexOf('=');
  let name = (eq === -1 ? pair : pair.slice(0, eq)).trim();
  if (name.startsWith(HOST_PREFIX)) name = name.slice(HOST_PREFIX.length);
  return name === SESSION || name.startsWith(ATTEMPT);
}

function attemptName(settings: CookieSettings, state: string): string {
  if (!STATE.test(state)) throw new Error('a sign-in state must be 16 to 128 base64url characters');
  return settings.attemptPrefix + state;
}

function build(settings: CookieSettings, name: string, value: string, maxAgeSeconds: number | undefined): string {
  return stringifySetCookie({
    name,
    value,
    path: '/',
    httpOnly: true,
    secure: settings.secure,
    sameSite: 'lax',
    ...(maxAgeSeconds === undefined ? {} : { maxAge: Math.max(0, Math.floor(maxAgeSeconds)) }),
  });
}

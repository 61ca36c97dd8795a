import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { join } from 'node:path';

/**
 * A real OpenID Provider for tests: panva's oidc-provider 9 (OpenID Certified) in a child process
 * (it is ESM-only), on 127.0.0.1, an ephemeral port, issuer `http://127.0.0.1:<port>`.
 *
 * Stable interface, shared by the sign-in tests (issue 13) and the machine-token tests (issue 14):
 *
 * ```ts
 * const op = await startOidcProvider({
 *   webClients: [{ clientId: 'proxy', clientSecret: 's3cret', redirectUris: ['http://127.0.0.1:3000/auth/callback'] }],
 *   machineClients: [{ clientId: 'ci-bot', clientSecret: 'bot', accessTokenAlg: 'ES256', extraClaims: { repository: 'acme/etl' } }],
 *   users: { alice: { email: 'alice@example.test', groups: ['prefect-developers'] } },
 * });
 * const token = await op.clientCredentialsToken('ci-bot');             // at+jwt, aud = op.audience
 * const other = await op.clientCredentialsToken('ci-bot', { resource: 'urn:elsewhere' }); // wrong audience
 * await op.setUser('alice', { email: 'alice@example.test', groups: [] }); // seen at the next refresh
 * await op.setJwksAvailable(false);                                    // GET /jwks answers 503
 * await op.stop();
 * ```
 *
 * What it does:
 * - Web clients: authorization code (PKCE required, S256) and refresh tokens, issued whenever the
 *   client may use the refresh_token grant (no `offline_access` needed); RP-initiated logout on
 *   (`end_session_endpoint`); ID tokens signed RS256, or ES256 with `idTokenAlg`.
 * - Users: any login name is accepted by the login form, but only users in `users` have an account;
 *   their claims are released by scope (`email`: email, email_verified; `profile`: preferred_username,
 *   name and any other claim given; `groups`: groups). With `claimsInIdToken: false` (the default, as
 *   the spec says when an access token is issued) the ID token carries only `sub` and the rest comes
 *   from userinfo. Claims are read at every token request, so `setUser` shows at the next refresh.
 * - Machine clients: client_credentials gives a JWT access token (`typ: at+jwt`, RS256 or ES256 by
 *   `accessTokenAlg`), `aud` = the requested `resource` (default: the client's `audience`, else
 *   `op.audience`), claims `iss`, `sub` and `client_id` (the client id), `jti`, `iat`, `exp`, `scope`
 *   (only when the request asked for one of the client's `scope`) plus the client's `extraClaims`. Its keys are at `jwksUri`; `signingKeys` gives the private JWKs,
 *   so a test can also mint tokens the provider would never issue (expired, tampered, ...).
 * - TTLs in seconds, short by default (see `DEFAULT_TTL`).
 */
export interface OidcProviderOptions {
  readonly webClients?: readonly TestWebClient[];
  readonly machineClients?: readonly TestMachineClient[];
  /** Account id (the login name, and `sub`) → claims. */
  readonly users?: Readonly<Record<string, TestUserClaims>>;
  readonly ttl?: Partial<TestProviderTtl>;
  /** Put every claim of the granted scopes into the ID token too (`conformIdTokenClaims: false`). */
  readonly claimsInIdToken?: boolean;
  /** Default audience of machine tokens. Default `urn:prefect-auth-proxy:test`. */
  readonly audience?: string;
  /** RP-initiated logout (`end_session_endpoint` in discovery). Default true. */
  readonly endSession?: boolean;
}

export interface TestWebClient {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris?: readonly string[];
  /** Default `RS256`. */
  readonly idTokenAlg?: 'RS256' | 'ES256';
  /** Default `client_secret_basic`. */
  readonly tokenAuthMethod?: 'client_secret_basic' | 'client_secret_post';
}

export interface TestMachineClient {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Signing algorithm of its access tokens. Default `RS256`. */
  readonly accessTokenAlg?: 'RS256' | 'ES256';
  /** The resource server's scopes (space-separated): a token request may ask for these; others are dropped. Default `prefect`. */
  readonly scope?: string;
  /** Claims added to each of its access tokens. */
  readonly extraClaims?: Readonly<Record<string, unknown>>;
  /** Seconds its access tokens live. Default: `ttl.clientCredentials`. */
  readonly accessTokenTtl?: number;
  /** Default audience of its tokens. Default: the provider's `audience`. */
  readonly audience?: string;
  /** Default `client_secret_basic`. */
  readonly tokenAuthMethod?: 'client_secret_basic' | 'client_secret_post';
}

export interface TestUserClaims {
  readonly email?: string;
  readonly email_verified?: boolean;
  readonly preferred_username?: string;
  readonly name?: string;
  readonly groups?: readonly string[];
  readonly [claim: string]: unknown;
}

/** Seconds. */
export interface TestProviderTtl {
  readonly accessToken: number;
  readonly authorizationCode: number;
  readonly clientCredentials: number;
  readonly idToken: number;
  readonly refreshToken: number;
  /** The provider's login session and grants. */
  readonly session: number;
  readonly interaction: number;
}

export const DEFAULT_TTL: TestProviderTtl = {
  accessToken: 300, authorizationCode: 60, clientCredentials: 300, idToken: 300, refreshToken: 3600, session: 3600, interaction: 300,
};

/** A private JWK of the provider (`kid`, `alg`, `use: 'sig'` set). */
export type TestSigningKey = Readonly<Record<string, string>> & { readonly kid: string; readonly alg: string };

export interface TestOidcProvider {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly issuer: string;
  readonly jwksUri: string;
  readonly tokenEndpoint: string;
  /** Default audience of machine tokens. */
  readonly audience: string;
  readonly signingKeys: { readonly RS256: TestSigningKey; readonly ES256: TestSigningKey };
  /** Adds or replaces a user's claims while the provider runs. */
  setUser(id: string, claims: TestUserClaims): Promise<void>;
  /** Removes a user's account: refreshes and new logins fail for them. */
  removeUser(id: string): Promise<void>;
  /** Takes the key endpoint (`/jwks`) down (503) or brings it back; everything else keeps answering. */
  setJwksAvailable(available: boolean): Promise<void>;
  /** A client_credentials access token (the compact JWT) for a machine client. */
  clientCredentialsToken(clientId: string, request?: { resource?: string; scope?: string }): Promise<string>;
  /** Everything the child wrote to stdout and stderr (the provider's warnings), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

const SCRIPT = join(__dirname, 'oidc-provider-server.mjs');
const START_TIMEOUT_MS = 15_000;
const DEFAULT_AUDIENCE = 'urn:prefect-auth-proxy:test';

interface ReadyMessage { readonly ready: true; readonly issuer: string; readonly keys: TestOidcProvider['signingKeys'] }
interface ReplyMessage { readonly seq: number; readonly error?: string }

export async function startOidcProvider(options: OidcProviderOptions = {}): Promise<TestOidcProvider> {
  const config = {
    webClients: options.webClients ?? [],
    machineClients: options.machineClients ?? [],
    users: options.users ?? {},
    ttl: { ...DEFAULT_TTL, ...options.ttl },
    claimsInIdToken: options.claimsInIdToken ?? false,
    audience: options.audience ?? DEFAULT_AUDIENCE,
    endSession: options.endSession ?? true,
  };
  const child = fork(SCRIPT, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [] });
  let out = '';
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = waitForReady(child, () => out);
  child.send(config);
  const { issuer, keys } = await ready;

  let nextSeq = 1;
  const call = (op: string, args: object) => new Promise<void>((resolve, reject) => {
    const seq = nextSeq++;
    const onMessage = (message: ReplyMessage) => {
      if (message.seq !== seq) return;
      child.off('message', onMessage);
      if (message.error) reject(new Error(message.error));
      else resolve();
    };
    child.on('message', onMessage);
    child.send({ ...args, seq, op });
  });

  const clientsById = new Map(config.machineClients.map((c) => [c.clientId, c]));
  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    tokenEndpoint: `${issuer}/token`,
    audience: config.audience,
    signingKeys: keys,
    setUser: (id, claims) => call('setUser', { id, claims }),
    removeUser: (id) => call('removeUser', { id }),
    setJwksAvailable: (available) => call('setJwksAvailable', { available }),
    async clientCredentialsToken(clientId, request = {}) {
      const client = clientsById.get(clientId);
      if (!client) throw new Error(`no machine client ${clientId} in this provider`);
      const body = new URLSearchParams({ grant_type: 'client_credentials' });
      if (request.resource) body.set('resource', request.resource);
      if (request.scope) body.set('scope', request.scope);
      const basic = Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64');
      const res = await fetch(`${issuer}/token`, { method: 'POST', body, headers: { authorization: `Basic ${basic}` } });
      const json = await res.json() as { access_token?: string; error?: string; error_description?: string };
      if (!res.ok || !json.access_token) throw new Error(`client_credentials for ${clientId} failed: ${res.status} ${json.error ?? ''} ${json.error_description ?? ''}`);
      return json.access_token;
    },
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Resolves with the child's ready message; armed before the configuration is sent. */
function waitForReady(child: ChildProcess, output: () => string): Promise<ReadyMessage> {
  const ready = new Promise<ReadyMessage>((resolve, reject) => {
    let settled = false;
    const settle = (error: Error | undefined, message?: ReadyMessage) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!error) return resolve(message as ReadyMessage);
      child.kill('SIGKILL');
      reject(error);
    };
    const timer = setTimeout(() => settle(new Error(`test OpenID Provider did not start in ${START_TIMEOUT_MS} ms: ${output()}`)), START_TIMEOUT_MS);
    child.on('message', (message: Partial<ReadyMessage> & { failed?: string }) => {
      if (message.failed) settle(new Error(`test OpenID Provider failed to start: ${message.failed}`));
      else if (message.ready) settle(undefined, message as ReadyMessage);
    });
    child.once('exit', (code) => settle(new Error(`test OpenID Provider exited (${code}) before it was ready: ${output()}`)));
  });
  // An early failure must not count as unhandled before the caller awaits it.
  ready.catch(() => undefined);
  return ready;
}

/** A browser's cookies for one origin, enough for the provider's interaction cookies. */
export interface CookieJar {
  /** The `Cookie` header a browser would send to this URL. */
  header(url: string): string;
  store(url: string, setCookies: readonly string[]): void;
}

export function createCookieJar(): CookieJar {
  const cookies = new Map<string, { name: string; value: string; path: string }>();
  return {
    header(url) {
      const path = new URL(url).pathname;
      return [...cookies.values()].filter((c) => path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
        .map((c) => `${c.name}=${c.value}`).join('; ');
    },
    store(url, setCookies) {
      for (const line of setCookies) {
        const [pair = '', ...attributes] = line.split(';');
        const name = pair.slice(0, pair.indexOf('=')).trim();
        const value = pair.slice(pair.indexOf('=') + 1).trim();
        const attribute = (key: string) => attributes.map((a) => a.trim().split('=')).find(([k]) => k?.toLowerCase() === key)?.[1];
        const path = attribute('path') ?? new URL(url).pathname.replace(/\/[^/]*$/, '/');
        const expires = attribute('expires');
        const maxAge = attribute('max-age');
        const gone = value === '' || (maxAge !== undefined && Number(maxAge) <= 0) || (expires !== undefined && Date.parse(expires) <= Date.now());
        if (gone) cookies.delete(`${name} ${path}`);
        else cookies.set(`${name} ${path}`, { name, value, path });
      }
    },
  };
}

export interface LoginOptions {
  /** Share one browser between logins (the provider's session cookie: a second login needs no form). */
  readonly jar?: CookieJar;
  /** Press "Cancel" at this prompt instead of going on: the provider answers `error=access_denied`. */
  readonly cancelAt?: 'login' | 'consent';
  readonly password?: string;
}

const MAX_LOGIN_STEPS = 20;

/**
 * Drives the provider's development login and consent pages like a browser would, without one, and
 * returns the URL the provider finally sends the browser to: the relying party's callback with
 * `code` and `state` (or `error`). That URL is not requested.
 */
export async function loginWithProvider(authorizationUrl: string, user: string, options: LoginOptions = {}): Promise<string> {
  const jar = options.jar ?? createCookieJar();
  const redirectUri = new URL(authorizationUrl).searchParams.get('redirect_uri');
  const issuerOrigin = new URL(authorizationUrl).origin;
  const isCallback = (location: URL) => redirectUri ? `${location.origin}${location.pathname}` === redirectUri : location.origin !== issuerOrigin;
  let url = authorizationUrl;
  let form: URLSearchParams | undefined;
  for (let step = 0; step < MAX_LOGIN_STEPS; step++) {
    const res = await fetch(url, { method: form ? 'POST' : 'GET', body: form, headers: { cookie: jar.header(url) }, redirect: 'manual' });
    jar.store(url, res.headers.getSetCookie());
    form = undefined;
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      const next = new URL(location, url);
      if (isCallback(next)) return next.href;
      url = next.href;
      continue;
    }
    const page = await res.text();
    if (res.status !== 200) throw new Error(`the provider answered ${res.status} at ${url}: ${page.slice(0, 500)}`);
    const prompt = /name="login"/.test(page) ? 'login' : /value="consent"/.test(page) ? 'consent' : undefined;
    if (!prompt) throw new Error(`unexpected provider page at ${url}: ${page.slice(0, 500)}`);
    if (options.cancelAt === prompt) {
      url = `${url.replace(/\/$/, '')}/abort`;
      continue;
    }
    form = prompt === 'login'
      ? new URLSearchParams({ prompt, login: user, password: options.password ?? 'any' })
      : new URLSearchParams({ prompt });
  }
  throw new Error(`login at the provider did not finish in ${MAX_LOGIN_STEPS} steps (last URL ${url})`);
}

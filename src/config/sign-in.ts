import type { RoleTable } from '../authz';
import { checkIssuerUrl, parseGroupRoles } from '../signin';
import type { EnvReader } from './env-reader';

/** OpenID Connect sign-in, when `SIGN_IN` names `oidc`. */
export interface OidcConfig {
  /** As written: an issuer identifier is compared exactly (`https://accounts.google.com` has no trailing slash). */
  readonly issuerUrl: string;
  readonly clientId: string;
  /** A secret: never log it. */
  readonly clientSecret: string;
  readonly tokenAuthMethod: 'client_secret_basic' | 'client_secret_post';
  readonly scopes: readonly string[];
  readonly userClaim: string;
  readonly groupsClaim: string;
  readonly groupRoles: Readonly<Record<string, readonly string[]>>;
  /** undefined: anyone whose groups give a role. */
  readonly allowedGroups: readonly string[] | undefined;
  readonly timeoutMs: number;
}

/** Sessions for people (issue 13): a sign-in page with a key, OpenID Connect, or both. */
export interface SignInConfig {
  readonly withKey: boolean;
  readonly oidc: OidcConfig | undefined;
  readonly lifetimeMs: number;
  readonly idleTimeoutMs: number;
  readonly groupRefreshMs: number;
  /** SESSION_SECRET: seals the provider's tokens in the session table. A secret. */
  readonly secret: string | undefined;
  /** Keys people make for themselves on "My access" (identity-provider sessions only); undefined when off. */
  readonly ownKeys: { readonly maxLifetimeS: number; readonly maxKeys: number } | undefined;
}

const HOUR = 3600;
const MIN_SECRET_LENGTH = 32;

/** SIGN_IN and the OIDC_* / SESSION_* variables; undefined when sign-in is off. Problems go to `r.errors`. */
export function readSignIn(r: EnvReader, roles: RoleTable, publicUrl: URL | undefined): SignInConfig | undefined {
  const modes = (r.string('SIGN_IN') ?? 'off').toLowerCase().split(/[\s,+]+/).filter(Boolean);
  const unknown = modes.filter((m) => !['off', 'key', 'oidc'].includes(m));
  if (unknown.length > 0 || (modes.includes('off') && modes.length > 1)) {
    r.errors.push(`SIGN_IN must be off, key, oidc or key,oidc (got "${modes.join(',')}")`);
    return undefined;
  }
  const secret = r.string('SESSION_SECRET');
  const oidcSet = ['OIDC_ISSUER_URL', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET'].filter((name) => r.raw(name) !== undefined);
  if (modes.includes('off')) {
    if (oidcSet.length > 0) r.errors.push(`${oidcSet[0]} is set but SIGN_IN is off: set SIGN_IN=oidc (or key,oidc)`);
    return undefined;
  }
  if (!publicUrl) r.errors.push('SIGN_IN needs PUBLIC_URL: the redirect URI and the Origin checks are built from it');
  else if (publicUrl.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(publicUrl.hostname)) {
    r.errors.push('SIGN_IN needs an https PUBLIC_URL (plain http only on localhost): browsers send the session cookie only over https');
  }
  const lifetimeS = r.int('SESSION_LIFETIME', 60, 30 * 24 * HOUR);
  const idleS = r.int('SESSION_IDLE_TIMEOUT', 120, 30 * 24 * HOUR);
  const ownKeys = r.bool('SELF_SERVICE_KEYS') && modes.includes('oidc')
    ? { maxLifetimeS: r.int('SELF_SERVICE_KEY_MAX_LIFETIME', HOUR, 366 * 24 * HOUR), maxKeys: r.int('SELF_SERVICE_MAX_KEYS', 1, 100) }
    : undefined;
  return {
    withKey: modes.includes('key'),
    oidc: modes.includes('oidc') ? readOidc(r, roles, secret) : undefined,
    lifetimeMs: lifetimeS * 1000,
    idleTimeoutMs: idleS * 1000,
    groupRefreshMs: r.int('SESSION_GROUP_REFRESH_INTERVAL', 30, 24 * HOUR) * 1000,
    secret,
    ownKeys,
  };
}

function readOidc(r: EnvReader, roles: RoleTable, secret: string | undefined): OidcConfig | undefined {
  const issuer = r.string('OIDC_ISSUER_URL');
  const clientId = r.string('OIDC_CLIENT_ID');
  const clientSecret = r.string('OIDC_CLIENT_SECRET');
  for (const [name, value] of [['OIDC_ISSUER_URL', issuer], ['OIDC_CLIENT_ID', clientId], ['OIDC_CLIENT_SECRET', clientSecret]] as const) {
    if (value === undefined) r.errors.push(`${name} is required when SIGN_IN includes oidc`);
  }
  if (issuer) {
    const problem = issuerProblem(issuer);
    if (problem) r.errors.push(`OIDC_ISSUER_URL ${problem}`);
  }
  // The refresh token that keeps group membership current is stored sealed with it.
  if (secret === undefined) r.errors.push('SESSION_SECRET is required when SIGN_IN includes oidc (32 or more random characters)');
  else if (secret.length < MIN_SECRET_LENGTH) r.errors.push(`SESSION_SECRET must be at least ${MIN_SECRET_LENGTH} characters`);
  const groupRoles = readGroupRoles(r, roles);
  const allowed = r.string('OIDC_ALLOWED_GROUPS');
  if (!issuer || !clientId || !clientSecret) return undefined;
  return {
    issuerUrl: issuer,
    clientId,
    clientSecret,
    tokenAuthMethod: r.oneOf('OIDC_TOKEN_AUTH_METHOD', ['client_secret_basic', 'client_secret_post'] as const) ?? 'client_secret_basic',
    scopes: (r.string('OIDC_SCOPES') ?? 'openid email profile').split(/\s+/).filter(Boolean),
    userClaim: r.string('OIDC_USER_CLAIM') ?? 'email',
    groupsClaim: r.string('OIDC_GROUPS_CLAIM') ?? 'groups',
    groupRoles,
    allowedGroups: allowed === undefined ? undefined : parseGroupList(allowed),
    timeoutMs: r.int('OIDC_TIMEOUT', 1, 120) * 1000,
  };
}

function issuerProblem(issuer: string): string | undefined {
  try {
    checkIssuerUrl(issuer);
    return undefined;
  } catch (err) {
    return `is not usable: ${(err as Error).message}`;
  }
}

function readGroupRoles(r: EnvReader, roles: RoleTable): Record<string, readonly string[]> {
  const text = r.string('OIDC_GROUP_ROLES');
  if (text === undefined) {
    r.errors.push('OIDC_GROUP_ROLES is required when SIGN_IN includes oidc: without it no group gives a role, so nobody could sign in');
    return {};
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    r.errors.push('OIDC_GROUP_ROLES must be JSON: {"group": "role"} or {"group": ["role", ...]}');
    return {};
  }
  const parsed = parseGroupRoles(value, new Set(roles.keys()));
  for (const problem of parsed.problems) r.errors.push(`OIDC_GROUP_ROLES: ${problem}`);
  return { ...parsed.groupRoles };
}

/** A JSON array, or a comma-separated list when no group name holds a comma. */
function parseGroupList(text: string): readonly string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      const list = JSON.parse(trimmed) as unknown;
      if (Array.isArray(list) && list.every((g) => typeof g === 'string')) return list as string[];
    } catch {
      // fall through to the list form
    }
  }
  return trimmed.split(',').map((g) => g.trim()).filter(Boolean);
}

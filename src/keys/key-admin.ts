import { randomBytes } from 'node:crypto';
import type { RoleTable } from '../authz';
import { expandRoles, formatScopeProblems, invalidObjectScopes, splitScopes } from '../authz';

export interface KeyInfo {
  readonly user: string;
  readonly scopes: string;
  readonly issued: string;
  readonly expires: string;
  readonly active: boolean;
  readonly storage: 'hashed' | 'plaintext';
  /** Start of the key's SHA-256 for hashed keys (matches audit records); null for plaintext keys. */
  readonly keyId: string | null;
  readonly createdBy: string;
  readonly updatedBy: string;
  /** When a request last used the key, exact to KEY_USAGE_FLUSH_INTERVAL; null when never (or not recorded by this store). */
  readonly lastUsed: string | null;
  /** A key a person made on "My access"; who made it is `createdBy` "self" and the user id's first part. */
  readonly selfService: boolean;
}

export type Expiry = { readonly in: number } | { readonly at: string };

export class KeyAdminError extends Error {
  constructor(readonly code: 'NOT_FOUND' | 'CONFLICT' | 'INVALID', message: string) {
    super(message);
  }
}

export const KEY_PREFIX = 'pap_';
export const DEFAULT_EXPIRY: Expiry = { in: 90 * 86400 };
const BY_MAX = 11;
const USER_MAX = 128;
const SCOPES_MAX = 2000;
const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };

/** A strong random key with a recognizable prefix (240 bits of randomness). */
export function generateKey(): string {
  return KEY_PREFIX + randomBytes(30).toString('base64url');
}

/** `90d`, `12h`, `now`, `2027-01-31` or `2027-01-31T12:00:00` (the database's local time). */
export function parseExpiry(text: string): Expiry {
  const value = text.trim();
  if (value === 'now') return { in: 0 };
  const relative = /^(\d+)\s*([smhdwy])$/i.exec(value);
  if (relative) return { in: Number(relative[1]) * (UNITS[(relative[2] as string).toLowerCase()] as number) };
  const absolute = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?))?$/.exec(value);
  if (absolute && !Number.isNaN(Date.parse(`${absolute[1]}T${absolute[2] ?? '00:00'}`))) {
    const time = absolute[2] ?? '00:00:00';
    return { at: `${absolute[1]} ${time.length === 5 ? `${time}:00` : time}` };
  }
  throw new KeyAdminError('INVALID', `cannot read expiry "${text}": use 90d, 12h, now or a date like 2027-01-31`);
}

/**
 * `recorded`: the change table (`db migrate`) holds the change, so every running proxy that polls
 * it forgets what the change made stale. False only while that table does not exist.
 */
export interface Recorded { readonly recorded: boolean }

export interface KeyAdmin {
  list(): Promise<KeyInfo[]>;
  /** Live keys not used for `days` days: last used before then, or never used and created before then. */
  listUnused(days: number): Promise<KeyInfo[]>;
  /** Expires every key `listUnused(days)` lists, in one transaction; with `dryRun`, only lists them. */
  expireUnused(days: number, input: { dryRun: boolean; by: string }): Promise<{ users: string[] } & Recorded>;
  show(user: string): Promise<KeyInfo>;
  create(input: { user: string; scopes: string; expires?: Expiry; by: string }): Promise<{ info: KeyInfo; key: string } & Recorded>;
  rotate(user: string, input: { expires?: Expiry; by: string }): Promise<{ info: KeyInfo; key: string; previous: string } & Recorded>;
  revoke(user: string, by: string): Promise<{ info: KeyInfo; previous: string } & Recorded>;
  setScopes(user: string, scopes: string, by: string): Promise<{ info: KeyInfo; previous: string } & Recorded>;
  expire(user: string, at: Expiry, by: string): Promise<{ info: KeyInfo; previous: string } & Recorded>;
  hashExisting(input: { dryRun: boolean; by: string }): Promise<{ users: string[] } & Recorded>;
}

/** Checks who makes a change: it is stored in the 11-character `creatd_by` column. */
export function checkBy(by: string): void {
  if (!by || by.length > BY_MAX) throw new KeyAdminError('INVALID', `"by" must be 1 to ${BY_MAX} characters (column creatd_by)`);
}

/** A new key's user id, the key table's primary key. */
export function checkUser(user: string): void {
  if (!user || user.length > USER_MAX) throw new KeyAdminError('INVALID', `user must be 1 to ${USER_MAX} characters`);
}

/** Validates scopes (and the roles they name) and stores them comma-separated. */
export function normalizeScopes(text: string, roles: RoleTable): string {
  const scopes = splitScopes(text);
  if (scopes.length === 0) throw new KeyAdminError('INVALID', 'give at least one scope or role');
  // Selectors included: a malformed one is refused with its reason, never stored to grant nothing.
  const bad = invalidObjectScopes(scopes);
  if (bad.length > 0) throw new KeyAdminError('INVALID', `malformed scopes: ${formatScopeProblems(bad)}`);
  const { unknownRoles } = expandRoles(scopes, roles);
  if (unknownRoles.length > 0) throw new KeyAdminError('INVALID', `unknown roles: ${unknownRoles.join(', ')}`);
  const stored = scopes.join(', ');
  if (stored.length > SCOPES_MAX) throw new KeyAdminError('INVALID', `scopes are longer than ${SCOPES_MAX} characters`);
  return stored;
}

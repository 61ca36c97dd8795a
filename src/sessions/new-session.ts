import { isSessionHash } from './session-id';
import type { GroupUpdate, NewSession } from './types';
import { SESSION_KINDS, SessionInputError } from './types';

/** Column sizes (sessions-schema.ts). Identities that do not fit are refused: cutting one could name someone else. */
export const SESSION_LIMITS = {
  userId: 255,
  subject: 255,
  issuer: 1000,
  /** Display fields are cut to fit instead: they identify nobody. */
  displayName: 255,
  email: 255,
  /** Characters of the groups or roles JSON; Entra ID stops listing groups in tokens well below this. */
  listJson: 262_144,
  token: 262_144,
} as const;

/** The row values a new session gets, checked; throws SessionInputError naming the field, never the value. */
export interface CheckedSession {
  readonly kind: NewSession['kind'];
  readonly userId: string;
  readonly displayName: string | null;
  readonly email: string | null;
  readonly subject: string | null;
  readonly issuer: string | null;
  readonly groupsJson: string;
  readonly rolesJson: string;
  readonly keyHash: string | null;
  readonly lifetimeMs: number;
  readonly refreshToken: string | null;
  readonly idTokenHint: string | null;
}

export function checkNewSession(s: NewSession): CheckedSession {
  if (!SESSION_KINDS.includes(s.kind)) throw new SessionInputError('unknown session kind');
  const keyHash = s.keyHash ?? null;
  if (s.kind === 'key' && (keyHash === null || !isSessionHash(keyHash))) throw new SessionInputError('a key session needs the key\'s SHA-256 as 64 lower-case hex digits');
  if (s.kind === 'oidc' && keyHash !== null) throw new SessionInputError('an oidc session has no key');
  if (!Number.isSafeInteger(s.lifetimeMs) || s.lifetimeMs <= 0) throw new SessionInputError('lifetimeMs must be a positive integer');
  return {
    kind: s.kind,
    userId: checkIdentity('userId', s.userId, SESSION_LIMITS.userId),
    displayName: cut(s.displayName, SESSION_LIMITS.displayName),
    email: cut(s.email, SESSION_LIMITS.email),
    subject: s.subject == null ? null : checkIdentity('subject', s.subject, SESSION_LIMITS.subject),
    issuer: s.issuer == null ? null : checkIdentity('issuer', s.issuer, SESSION_LIMITS.issuer),
    ...checkLists(s),
    keyHash,
    lifetimeMs: s.lifetimeMs,
    refreshToken: checkToken('refreshToken', s.refreshToken),
    idTokenHint: checkToken('idTokenHint', s.idTokenHint),
  };
}

/** Groups and roles as the JSON text stored. */
export function checkLists(update: Pick<GroupUpdate, 'groups' | 'roles'>): { groupsJson: string; rolesJson: string } {
  return { groupsJson: listJson('groups', update.groups), rolesJson: listJson('roles', update.roles) };
}

export function checkToken(field: string, token: string | null | undefined): string | null {
  if (token == null) return null;
  if (typeof token !== 'string' || token.length === 0 || token.length > SESSION_LIMITS.token) throw new SessionInputError(`${field} is empty or too long`);
  return token;
}

/** A stored list read back; null when it is not an array of strings (a damaged row). */
export function parseList(json: string): string[] | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : null;
}

function listJson(field: string, list: readonly string[]): string {
  if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) throw new SessionInputError(`${field} must be a list of strings`);
  const json = JSON.stringify(list);
  if (json.length > SESSION_LIMITS.listJson) throw new SessionInputError(`${field} is too long to store`);
  return json;
}

function checkIdentity(field: string, value: string, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) throw new SessionInputError(`${field} must have 1 to ${max} characters`);
  return value;
}

function cut(value: string | null | undefined, max: number): string | null {
  if (value == null || value === '') return null;
  return value.length > max ? value.slice(0, max) : value;
}

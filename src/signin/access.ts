import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RoleTable } from '../authz';
import { expandRoles, objectScopesCover } from '../authz';
import { ProxyError, readBody } from '../http';
import type { OwnKeyStore } from '../selfservice';
import { OwnKeyError } from '../selfservice';
import type { SessionRecord } from '../sessions';
import type { AccessView } from './access-page';
import { accessPage } from './access-page';
import { sendPage, sendRedirect } from './respond';

export interface AccessDeps {
  readonly store: OwnKeyStore;
  readonly roles: RoleTable;
  readonly maxLifetimeS: number;
  readonly maxKeys: number;
  readonly apiUrl: string;
  readonly bodyTimeoutMs: number;
  /** The live session of the request, or null. */
  current(req: IncomingMessage): Promise<SessionRecord | null>;
  /** Forgets a key user's cached keys here. */
  forget(keyUser: string): void;
  record(req: IncomingMessage, operationName: string, outcome: 'ALLOWED' | 'BLOCKED', user: string, detail: string, status: number): void;
}

type Route = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

const FORM_LIMIT = 4 * 1024;
const DAY_S = 86400;
const LIFETIME_CHOICES_DAYS = [1, 7, 30, 90, 180, 365];

/**
 * The scopes of a key carrying `chosen` (a role name, or all the person's roles when undefined), or
 * undefined when that would grant more than the person's roles. The person's denials ride along
 * when needed: a developer's viewer key also carries `!admin`, so it covers nothing the developer lacks.
 */
export function ownKeyScopes(personRoles: readonly string[], chosen: string | undefined, roles: RoleTable): string[] | undefined {
  if (chosen !== undefined && !roles.has(chosen)) return undefined;
  const held = expandRoles(personRoles.map((r) => `role:${r}`), roles).scopes;
  const wanted = (chosen === undefined ? personRoles : [chosen]).map((r) => `role:${r}`);
  if (wanted.length === 0) return undefined;
  for (const candidate of [wanted, [...wanted, ...held.filter((s) => s.startsWith('!'))]]) {
    if (objectScopesCover(held, expandRoles(candidate, roles).scopes).ok) return candidate;
  }
  return undefined;
}

/**
 * Roles offered for a new key: those `ownKeyScopes` accepts, less any that under the person's
 * denials would be the same as all their roles (a developer is not offered "owner").
 */
export function rolesWithin(personRoles: readonly string[], roles: RoleTable): string[] {
  const held = expandRoles(personRoles.map((r) => `role:${r}`), roles).scopes;
  return [...roles.keys()].filter((name) => {
    const scopes = ownKeyScopes(personRoles, name, roles);
    if (!scopes) return false;
    return personRoles.includes(name) || !objectScopesCover(expandRoles(scopes, roles).scopes, held).ok;
  });
}

/** Lifetimes offered: the usual choices up to the maximum, and the maximum itself. */
export function lifetimeChoices(maxLifetimeS: number): number[] {
  const maxDays = Math.max(1, Math.floor(maxLifetimeS / DAY_S));
  return [...new Set([...LIFETIME_CHOICES_DAYS.filter((d) => d < maxDays), maxDays])];
}

/**
 * "My access" (issue 14): `/auth/access`. Only people signed in through the identity provider:
 * a key made from a key session would let one key mint others. Every POST here has passed the
 * sign-in service's Origin check.
 */
export function createAccessRoutes(deps: AccessDeps): Record<string, Route> {
  const person = async (req: IncomingMessage, res: ServerResponse): Promise<SessionRecord | null> => {
    const session = await deps.current(req);
    if (!session) {
      sendRedirect(res, '/auth/login?next=%2Fauth%2Faccess');
      return null;
    }
    if (session.kind !== 'oidc') {
      sendPage(res, 403, accessPage({ ...await view(session, false), error: 'Keys can be made here only after signing in with the identity provider, not with a key.' }));
      return null;
    }
    return session;
  };
  const view = async (session: SessionRecord, canCreate = true): Promise<Omit<AccessView, 'nonce'> & { nonce: string }> => ({
    user: session.userId, groups: session.groups, roles: session.roles,
    keys: session.kind === 'oidc' ? await deps.store.list(session.userId) : [],
    offeredRoles: rolesWithin(session.roles, deps.roles), lifetimesDays: lifetimeChoices(deps.maxLifetimeS),
    canCreate, apiUrl: deps.apiUrl, nonce: randomBytes(16).toString('base64'),
  });
  const show = async (res: ServerResponse, session: SessionRecord, status: number, extra: Partial<AccessView> = {}) => {
    const v = { ...await view(session), ...extra };
    sendPage(res, status, accessPage(v), { scriptNonce: v.nonce });
  };
  const form = async (req: IncomingMessage): Promise<URLSearchParams | ProxyError> => {
    const body = await readBody(req, FORM_LIMIT, deps.bodyTimeoutMs);
    return body instanceof ProxyError ? body : new URLSearchParams(body.toString('utf8'));
  };

  return {
    'GET /auth/access': async (req, res) => {
      const session = await person(req, res);
      if (session) await show(res, session, 200);
    },

    'POST /auth/access/keys': async (req, res) => {
      const session = await person(req, res);
      if (!session) return;
      const fields = await form(req);
      if (fields instanceof ProxyError) return show(res, session, fields.status, { error: fields.message });
      const name = (fields.get('name') ?? '').trim();
      const role = (fields.get('role') ?? '').trim();
      const days = Number(fields.get('lifetime') ?? '');
      const refuse = (status: number, message: string) => {
        deps.record(req, 'make own key', 'BLOCKED', session.userId, message, status);
        return show(res, session, status, { error: message });
      };
      const granted = ownKeyScopes(session.roles, role === '' ? undefined : role, deps.roles);
      if (!granted) return refuse(403, role === '' ? 'you have no roles to give a key' : `a key cannot carry the role "${role}": it is not within your roles`);
      if (!Number.isInteger(days) || days < 1 || days * DAY_S > Math.max(deps.maxLifetimeS, DAY_S)) return refuse(400, 'choose one of the lifetimes offered');
      const scopes = granted.join(',');
      if (await deps.store.isDisabled(session.userId)) return refuse(403, 'an administrator has disabled your access: you cannot make keys');
      try {
        const lifetimeS = Math.min(days * DAY_S, deps.maxLifetimeS);
        const made = await deps.store.create({ owner: session.userId, name, scopes, lifetimeS, maxKeys: deps.maxKeys });
        deps.record(req, 'make own key', 'ALLOWED', session.userId, `${made.info.user} (${scopes}, ${made.info.keyId})`, 200);
        return show(res, session, 200, { created: { name, key: made.key } });
      } catch (err) {
        if (!(err instanceof OwnKeyError)) throw err;
        return refuse(err.code === 'CONFLICT' ? 409 : err.code === 'LIMIT' ? 403 : 400, err.message);
      }
    },

    'POST /auth/access/revoke': async (req, res) => {
      const session = await person(req, res);
      if (!session) return;
      const fields = await form(req);
      if (fields instanceof ProxyError) return show(res, session, fields.status, { error: fields.message });
      const name = (fields.get('name') ?? '').trim();
      try {
        const revoked = await deps.store.revoke(session.userId, name);
        deps.forget(revoked.user);
        deps.record(req, 'revoke own key', 'ALLOWED', session.userId, `${revoked.user} (${revoked.keyId})`, 200);
        return show(res, session, 200, { notice: `Key "${name}" revoked: it stops working on every proxy within seconds.` });
      } catch (err) {
        if (!(err instanceof OwnKeyError)) throw err;
        deps.record(req, 'revoke own key', 'BLOCKED', session.userId, err.message, 404);
        return show(res, session, 404, { error: err.message });
      }
    },
  };
}

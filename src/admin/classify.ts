import type { Permission } from '../authz';

/** What one of the proxy's own routes needs, decided before Express routes it. */
export type AdminRequirement =
  /** Health, readiness, and whatever Express answers 404 or 405 to. */
  | { readonly kind: 'public' }
  | { readonly kind: 'permission'; readonly permission: Permission; readonly label: string };

const PUBLIC: AdminRequirement = { kind: 'public' };
const KEY_ACTIONS = new Set(['rotate', 'revoke', 'scopes', 'expiry']);
const PEOPLE_ACTIONS = new Set(['disable', 'enable', 'end-sessions']);

/**
 * The proxy's own routes and the permission each needs. Matched as Express matches them (without
 * regard to case, a trailing slash ignored), and Express checks again that the permission it
 * serves under is the one decided here (`requireDecided`), so a mismatch refuses, never opens.
 */
export function classifyAdmin(method: string, path: string, metricsOnOwnPort: boolean): AdminRequirement {
  const segments = path.toLowerCase().split('/').filter(Boolean);
  const [first, second] = segments;
  const guarded = (permission: Permission, template: string): AdminRequirement => ({ kind: 'permission', permission, label: `${method} ${template}` });
  const reading = method === 'GET' || method === 'HEAD';
  switch (first) {
    case 'metrics':
      return segments.length === 1 && reading && !metricsOnOwnPort ? guarded(['admin', 'metrics'], '/metrics') : PUBLIC;
    case 'logs':
      return segments.length === 2 && method === 'POST' ? guarded(['admin', 'logs'], '/logs/:level') : PUBLIC;
    case 'cache':
      if (segments.length === 2 && method === 'POST' && second === 'reset') return guarded(['admin', 'cache'], '/cache/reset');
      return segments.length === 2 && method === 'DELETE' ? guarded(['admin', 'cache'], '/cache/:key') : PUBLIC;
    case 'admin':
      if (second === 'keys') return guarded(['admin', 'keys'], keysTemplate(segments.slice(2)));
      if (second === 'people') {
        const action = segments.length === 4 && PEOPLE_ACTIONS.has(segments[3] as string) ? segments[3] : '*';
        return guarded(['admin', 'people'], `/admin/people/:user/${action}`);
      }
      return second === 'audit' && segments.length === 2 && reading ? guarded(['admin', 'audit'], '/admin/audit') : PUBLIC;
    default:
      return PUBLIC;
  }
}

/** A label without the user name a path carries, so labels stay few (metrics) and say what was done. */
function keysTemplate(rest: readonly string[]): string {
  if (rest.length === 0) return '/admin/keys';
  if (rest.length === 1) return rest[0] === 'expire-unused' ? '/admin/keys/expire-unused' : '/admin/keys/:user';
  const action = rest[1] as string;
  return rest.length === 2 && KEY_ACTIONS.has(action) ? `/admin/keys/:user/${action}` : '/admin/keys/:user/*';
}

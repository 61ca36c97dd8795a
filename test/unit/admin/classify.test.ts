import { classifyAdmin } from '../../../src/admin';
import { formatPermission } from '../../../src/authz';

/** What the admin chain needs for a request: `public`, or the permission and the audited label. */
function need(method: string, path: string, metricsOnOwnPort = false): string {
  const r = classifyAdmin(method, path, metricsOnOwnPort);
  return r.kind === 'public' ? 'public' : `${formatPermission(r.permission)} ${r.label}`;
}

describe('the proxy\'s own routes and what each needs', () => {
  it.each([
    ['GET', '/healthcheck', 'public'],
    ['GET', '/readyz', 'public'],
    ['GET', '/metrics', 'admin/metrics GET /metrics'],
    ['POST', '/logs/debug', 'admin/logs POST /logs/:level'],
    ['GET', '/logs/debug', 'public'],
    ['POST', '/cache/reset', 'admin/cache POST /cache/reset'],
    ['DELETE', '/cache/pap_secret', 'admin/cache DELETE /cache/:key'],
    ['GET', '/admin/keys', 'admin/keys GET /admin/keys'],
    ['POST', '/admin/keys/alice/rotate', 'admin/keys POST /admin/keys/:user/rotate'],
    ['PUT', '/admin/keys/alice/scopes', 'admin/keys PUT /admin/keys/:user/scopes'],
    ['DELETE', '/admin/keys/alice/what/ever', 'admin/keys DELETE /admin/keys/:user/*'],
    ['POST', '/admin/keys/expire-unused', 'admin/keys POST /admin/keys/expire-unused'],
    ['POST', '/admin/people/vera@example.com/disable', 'admin/people POST /admin/people/:user/disable'],
    ['POST', '/Admin/People/vera@example.com/END-SESSIONS', 'admin/people POST /admin/people/:user/end-sessions'],
    ['POST', '/admin/people/vera@example.com/whatever', 'admin/people POST /admin/people/:user/*'],
    ['GET', '/admin/people', 'admin/people GET /admin/people/:user/*'],
    ['GET', '/admin/audit', 'admin/audit GET /admin/audit'],
    ['GET', '/admin/audit/', 'admin/audit GET /admin/audit'],
    // Express matches without regard to case: so must the table, or a route would be served unchecked.
    ['GET', '/ADMIN/Keys', 'admin/keys GET /admin/keys'],
    ['POST', '/Cache/RESET', 'admin/cache POST /cache/reset'],
    ['GET', '/METRICS', 'admin/metrics GET /metrics'],
    ['GET', '/admin/other', 'public'],
  ])('%s %s → %s', (method, path, expected) => {
    expect(need(method, path)).toBe(expected);
  });

  it('leaves /metrics to its 404 when metrics have a port of their own', () => {
    expect(need('GET', '/metrics', true)).toBe('public');
  });

  it('never puts a key from the path into the label', () => {
    expect(need('DELETE', '/cache/pap_secret')).not.toContain('pap_secret');
  });
});

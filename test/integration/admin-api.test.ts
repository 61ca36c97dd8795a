import request from 'supertest';
import type { DbKind } from '../support/databases';
import { waitFor } from '../support/proxy';
import { useProxyStack } from '../support/stack';

describe.each(['mysql', 'sqlite'] as DbKind[])('admin API on %s', (kind) => {
  const stack = useProxyStack({
    kind,
    name: `admin_api_${kind}`,
    migrate: true,
    env: { AUDIT_FLUSH_INTERVAL: '50' },
    keys: [
      { userId: 'root', scopes: '*', key: 'root-key-0001', hashed: true },
      { userId: 'keyadmin', scopes: 'admin/keys, role:runner', key: 'keyadmin-key-02', hashed: true },
      { userId: 'auditor', scopes: 'admin/audit', key: 'auditor-key-003', hashed: true },
      { userId: 'slowadmin', scopes: 'admin/keys, role:runner, rate:50/50', key: 'slowadmin-key-4', hashed: true },
      { userId: 'readadmin', scopes: 'admin/keys, read/*', key: 'readadmin-key-05', hashed: true },
      { userId: 'boss', scopes: 'role:owner', key: 'boss-key-00006', hashed: true },
      { userId: 'weak', scopes: 'read/flows', key: 'weak-key-00007', hashed: true },
      { userId: 'unlimited', scopes: 'role:viewer', key: 'unlimited-key-8', hashed: true },
    ],
  });
  const as = (key: string) => ({ authorization: `Bearer ${key}` });
  const gql = (key: string) =>
    request(stack.proxy.url).post('/').set({ 'content-type': 'application/json', ...as(key) }).send('{"query":"mutation { create_flow_run(input: {}) { id } }"}');

  it('needs admin/keys', async () => {
    expect((await request(stack.proxy.url).get('/admin/keys')).status).toBe(401);
    expect((await request(stack.proxy.url).get('/admin/keys').set(as('auditor-key-003'))).status).toBe(403);
    expect((await request(stack.proxy.url).get('/admin/keys').set(as('keyadmin-key-02'))).status).toBe(200);
  });

  // Express routes without regard to case or a trailing slash; the admin chain must guard what it routes.
  it.each([
    ['GET', '/ADMIN/KEYS'], ['GET', '/Admin/Keys/'], ['POST', '/admin/KEYS'], ['GET', '/admin/keys/root'], ['GET', '/ADMIN/AUDIT'],
    ['POST', '/CACHE/reset'], ['DELETE', '/cache/root-key-0001'], ['POST', '/LOGS/debug'],
  ])('needs a key for %s %s, whatever its case', async (method, path) => {
    const send = request(stack.proxy.url)[method.toLowerCase() as 'get' | 'post' | 'delete'](path);
    const answer = await send;
    expect(answer.status).toBe(401);
    expect(answer.body.detail).toContain('API key');
  });

  it('creates a key the creator may grant, and refuses one it may not', async () => {
    const created = await request(stack.proxy.url).post('/admin/keys').set(as('keyadmin-key-02')).send({ user: 'carol', role: 'viewer', expires: '7d' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ user: 'carol', scopes: 'role:viewer', storage: 'hashed', key: expect.stringMatching(/^pap_/) });
    const escalate = await request(stack.proxy.url).post('/admin/keys').set(as('keyadmin-key-02')).send({ user: 'mallory', scopes: 'mutation/*' });
    expect(escalate.status).toBe(403);
    expect(escalate.body.detail).toContain('mutation/*');
    const selfPromote = await request(stack.proxy.url).put('/admin/keys/keyadmin/scopes').set(as('keyadmin-key-02')).send({ role: 'owner' });
    expect(selfPromote.status).toBe(403);
    const takeOver = await request(stack.proxy.url).post('/admin/keys/root/rotate').set(as('keyadmin-key-02'));
    expect(takeOver.status).toBe(403);
    expect((await gql('root-key-0001')).status).toBe(200);
    expect((await request(stack.proxy.url).post('/admin/keys').set(as('keyadmin-key-02')).send({ user: 'carol', role: 'viewer' })).status).toBe(409);
    expect((await request(stack.proxy.url).post('/admin/keys').set(as('keyadmin-key-02')).send({ user: 'dave', scopes: 42 })).status).toBe(400);
    expect((await request(stack.proxy.url).get('/admin/keys/nobody').set(as('keyadmin-key-02'))).status).toBe(404);
  });

  describe('changes to a key need a key that covers what that key holds now', () => {
    const row = async (user: string) => stack.db.knex('prefect_api_keys').where({ user_id: user }).first('scopes', 'api_key', 'key_expr_dt', 'last_updatd_by');
    // `scopes` (for set-scopes) are always ones the caller may grant: only the target's current ones are in question.
    const changes: ReadonlyArray<[string, (target: string, key: string, scopes: string) => request.Test]> = [
      ['revoke', (target, key) => request(stack.proxy.url).post(`/admin/keys/${target}/revoke`).set(as(key))],
      ['expire', (target, key) => request(stack.proxy.url).put(`/admin/keys/${target}/expiry`).set(as(key)).send({ at: '1d' })],
      ['set-scopes', (target, key, scopes) => request(stack.proxy.url).put(`/admin/keys/${target}/scopes`).set(as(key)).send({ scopes })],
      ['rotate', (target, key) => request(stack.proxy.url).post(`/admin/keys/${target}/rotate`).set(as(key))],
    ];

    it.each(changes)('refuses to %s an owner key for an admin/keys + read/* key, and leaves its row alone', async (_change, send) => {
      const before = await row('boss');
      const res = await send('boss', 'readadmin-key-05', 'read/flows');
      expect(res.status).toBe(403);
      expect(res.body.detail).toMatch(/cannot change the key of "boss"/);
      expect(await row('boss')).toEqual(before);
      expect((await gql('boss-key-00006')).status).toBe(200);
    });

    it.each(changes)('refuses to %s a key whose rate limit is looser than the caller\'s', async (_change, send) => {
      const before = await row('unlimited');
      const res = await send('unlimited', 'slowadmin-key-4', 'role:viewer, rate:10');
      expect(res.status).toBe(403);
      expect(res.body.detail).toMatch(/cannot change the key of "unlimited": it is limited to 50\/50/);
      expect(await row('unlimited')).toEqual(before);
    });

    it.each(changes)('lets the same key %s a weaker key', async (_change, send) => {
      const res = await send('weak', 'readadmin-key-05', 'read/flows');
      expect(res.status).toBe(200);
      expect((await row('weak'))?.last_updatd_by).toBe('readadmin');
    });
  });

  it('lets a rate-limited key grant only limits as tight as its own', async () => {
    const unlimited = await request(stack.proxy.url).post('/admin/keys').set(as('slowadmin-key-4')).send({ user: 'fay', role: 'viewer' });
    expect(unlimited.status).toBe(403);
    expect(unlimited.body.detail).toContain('limited to 50/50');
    const looser = await request(stack.proxy.url).post('/admin/keys').set(as('slowadmin-key-4')).send({ user: 'fay', scopes: 'role:viewer, rate:100' });
    expect(looser.status).toBe(403);
    const tighter = await request(stack.proxy.url).post('/admin/keys').set(as('slowadmin-key-4')).send({ user: 'fay', scopes: 'role:viewer, rate:10/20' });
    expect(tighter.status).toBe(201);
    expect(tighter.body.scopes).toBe('role:viewer, rate:10/20');
    expect((await request(stack.proxy.url).post('/admin/keys').set(as('root-key-0001')).send({ user: 'gus', scopes: 'read/*, rate:fast' })).status).toBe(400);
  });

  it('revokes at once on this instance, even for a cached key', async () => {
    const { body } = await request(stack.proxy.url).post('/admin/keys').set(as('root-key-0001')).send({ user: 'erin', role: 'runner' });
    expect((await gql(body.key)).status).toBe(200);
    const revoked = await request(stack.proxy.url).post('/admin/keys/erin/revoke').set(as('root-key-0001'));
    expect(revoked.body).toMatchObject({ user: 'erin', active: false });
    expect((await gql(body.key)).status).toBe(401);
    const rotated = await request(stack.proxy.url).post('/admin/keys/erin/rotate').set(as('root-key-0001')).send({ expires: '1d' });
    expect((await gql(rotated.body.key)).status).toBe(200);
    expect(stack.proxy.rawLogs()).not.toContain(body.key);
    expect(stack.proxy.rawLogs()).not.toContain(rotated.body.key);
  });

  it('serves the audit trail as JSON and CSV to admin/audit only', async () => {
    await gql('keyadmin-key-02');
    // The batch is removed from the queue only once its insert has returned.
    await waitFor(() => stack.proxy.runtime.audit.stats?.().written !== undefined && stack.proxy.runtime.audit.stats!().queued === 0, 5000);
    expect((await request(stack.proxy.url).get('/admin/audit').set(as('keyadmin-key-02'))).status).toBe(403);
    const json = await request(stack.proxy.url).get('/admin/audit?user=keyadmin&outcome=ALLOWED&since=1h&limit=5').set(as('auditor-key-003'));
    expect(json.status).toBe(200);
    expect(json.body.length).toBeGreaterThan(0);
    expect(json.body.every((r: { user: string; outcome: string }) => r.user === 'keyadmin' && r.outcome === 'ALLOWED')).toBe(true);
    const csv = await request(stack.proxy.url).get('/admin/audit?format=csv&outcome=BLOCKED').set(as('auditor-key-003'));
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.text.split('\r\n')[0]).toBe('time,requestId,user,outcome,dialect,operation,operationName,permission,status,client,keyId,latencyMs');
    expect(csv.text).toContain('admin/keys');
    expect((await request(stack.proxy.url).get('/admin/audit?since=yesterday').set(as('auditor-key-003'))).status).toBe(400);
    expect((await request(stack.proxy.url).get('/admin/audit?limit=0').set(as('auditor-key-003'))).status).toBe(400);
  });
});

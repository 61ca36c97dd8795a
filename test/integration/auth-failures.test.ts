import request from 'supertest';
import { useProxyStack } from '../support/stack';

const GOOD = 'auth-fail-good-1';
const BAD = 'tEsT-Secret-4711';

describe('failed authentications (REST dialect, admin routes)', () => {
  const stack = useProxyStack({
    name: 'auth_failures',
    migrate: true,
    keys: [{ userId: 'good', scopes: 'role:viewer', key: GOOD, hashed: true }],
    env: { API_KIND: 'rest', UPSTREAM_AUTH_STRING: 'server-secret', LOG_LEVEL: 'warn', AUDIT_FLUSH_INTERVAL: '50' },
  });

  const rows = async () => stack.db.knex('prefect_audit_log').where({ operation_name: 'authentication failed' }).select('*');

  it('records a flood of bad keys from one source as one audit row, never with the key, and forwards nothing', async () => {
    for (let i = 0; i < 50; i++) {
      await request(stack.proxy.url).get('/api/flows/0f0e4a1c-3b5d-4e6f-8a9b-0c1d2e3f4a5b').set('authorization', `Bearer ${BAD}${i}`).expect(401);
    }
    await request(stack.proxy.url).get('/api/flows/0f0e4a1c-3b5d-4e6f-8a9b-0c1d2e3f4a5b').expect(401);
    await request(stack.proxy.url).delete(`/cache/${BAD}`).set('authorization', `Bearer ${BAD}`).expect(401);
    let written: Array<Record<string, unknown>> = [];
    for (let tries = 0; written.length === 0 && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      written = await rows();
    }
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({
      outcome: 'BLOCKED', status: 401, user_id: null, key_id: null, client: expect.stringMatching(/127\.0\.0\.1/),
      operation: 'AUTH /flows/{id:uuid},invalid or expired API key',
    });
    expect(stack.upstream.received).toHaveLength(0);
    // At the default log level the audit line is there, and neither it nor the table holds the key.
    expect(stack.proxy.auditLines().filter((l) => l.operationName === 'authentication failed')).toHaveLength(1);
    expect(stack.proxy.rawLogs()).not.toContain(BAD);
    const all = await stack.db.knex('prefect_audit_log').select('*');
    expect(JSON.stringify(all)).not.toContain(BAD);
  });

  it('still serves good keys', async () => {
    await request(stack.proxy.url).get('/api/flows/0f0e4a1c-3b5d-4e6f-8a9b-0c1d2e3f4a5b').set('authorization', `Bearer ${GOOD}`).expect(200);
  });
});

import request from 'supertest';
import { useProxyStack } from '../support/stack';

const KEY = 'tenant-warn-key-1';

describe('an unset TENANT_ID (Prefect 1)', () => {
  // Empty means unset: the default "Default" is no UUID, and Prefect >= 1.0 logins reject it.
  const stack = useProxyStack({ name: 'tenant_warning', keys: [{ userId: 'alice', scopes: 'role:viewer', key: KEY }], env: { TENANT_ID: '' } });
  const warnings = () => stack.proxy.logs.filter((l) => l.level === 'warn' && String(l.message).includes('TENANT_ID'));

  it('says nothing at start, then warns once when a login is answered with it', async () => {
    expect(warnings()).toEqual([]);
    for (let i = 0; i < 3; i++) {
      await request(stack.proxy.url).post('/').set('authorization', `Bearer ${KEY}`).type('json').send({ query: '{ auth_info { tenant_id } }' }).expect(200);
    }
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]?.message).toContain('set TENANT_ID to the id of the server\'s tenant');
  });
});

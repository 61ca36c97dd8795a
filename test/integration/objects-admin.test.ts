import request from 'supertest';
import { useProxyStack } from '../support/stack';

/** The key API with selectors: a key never hands out more than it holds, objects counted. */
describe('/admin/keys with scopes narrowed to named things', () => {
  const stack = useProxyStack({
    name: 'objects_admin',
    migrate: true,
    env: { API_KIND: 'rest' },
    keys: [
      { userId: 'lead-a', scopes: 'admin/keys, role:runner@deployment:team-a/*, !write/deployments@tag:prod', key: 'lead-a-key-00001', hashed: true },
      { userId: 'root', scopes: '*', key: 'root-key-000001', hashed: true },
    ],
  });
  const as = (key: string) => ({ authorization: `Bearer ${key}` });
  const create = (key: string, user: string, scopes: string) => request(stack.proxy.url).post('/admin/keys').set(as(key)).send({ user, scopes });

  it.each([
    // [scopes asked for, status, detail]
    ['role:runner@deployment:team-a/*, !write/deployments@tag:prod', 201, undefined],
    ['role:runner@deployment:team-a/nightly, !write/deployments@tag:prod', 201, undefined],
    ['write/deployments/create_flow_run@deployment:team-a/*+tag:etl, role:viewer, !write/deployments@tag:prod', 201, undefined],
    ['role:runner, !write/deployments@tag:prod', 403, 'your key cannot grant "mutation/create_flow_run": it does not hold it'],
    ['role:runner@deployment:team-b/*, !write/deployments@tag:prod', 403, 'your key cannot grant "write/deployments/create_flow_run@deployment:team-b/*": it does not hold it'],
    ['write/deployments/create_flow_run@tag:team-a, !write/deployments@tag:prod', 403, 'your key cannot grant "write/deployments/create_flow_run@tag:team-a": it does not hold it'],
    // Its narrowed deny is carried over, as every deny.
    ['role:runner@deployment:team-a/*', 403, 'your key carries "!write/deployments@tag:prod", so every key it grants must carry it too'],
  ])('a key holding role:runner@deployment:team-a/* asked for %s: %s', async (scopes, status, detail) => {
    const user = `u${Math.random().toString(36).slice(2, 10)}`;
    const res = await create('lead-a-key-00001', user, scopes);
    expect(res.status).toBe(status);
    if (detail) expect(res.body.detail).toBe(detail);
  });

  it('refuses a malformed selector with its reason, and stores nothing', async () => {
    const res = await create('root-key-000001', 'bad', 'role:runner@team-a/*');
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/malformed scopes: role:runner@team-a\/\* \(.*key:pattern/);
    expect(await stack.db.knex('prefect_api_keys').where({ user_id: 'bad' }).first()).toBeUndefined();
  });
});

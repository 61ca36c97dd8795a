import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { insertKey } from '../support/databases';
import { waitFor } from '../support/proxy';
import { useProxyStack } from '../support/stack';
import { echoGraphQL } from '../support/upstream';

const READER = 'reader-key-0001';
const OPERATOR = 'operator-key-0002';
const DEVOPS = 'devops-key-0003';
const EXPIRED = 'expired-key-0004';
const ADMIN = 'admin-key-0005';
const MUTATOR = 'mutator-key-0007';
const ROLE_KEYS = { viewer: 'viewer-key-0008', runner: 'runner-key-0009', worker: 'worker-key-0010', developer: 'developer-key-0011' };

const stack = useProxyStack({
  name: 'graphql_proxy',
  upstreamPath: '/base',
  env: { BODY_LIMIT: '1mb' },
  keys: [
    { userId: 'reader', scopes: 'query/*', key: READER, hashed: true },
    { userId: 'operator', scopes: 'query/*, mutation/create_flow_run, mutation/cancel_flow_run, mutation/set_flow_run_states', key: OPERATOR },
    { userId: 'devops', scopes: 'query/* mutation/*', key: DEVOPS, hashed: true },
    { userId: 'expired', scopes: '*', key: EXPIRED, expiresInSeconds: -60 },
    { userId: 'admin', scopes: 'admin/*', key: ADMIN, hashed: true },
    { userId: 'mutator', scopes: 'mutation/create_flow_run', key: MUTATOR, hashed: true },
    ...Object.entries(ROLE_KEYS).map(([role, key]) => ({ userId: role, scopes: `role:${role}`, key, hashed: true })),
  ],
});

beforeEach(() => {
  stack.upstream.received.length = 0;
  stack.upstream.respondWith(echoGraphQL);
});

const post = (path: string, key: string | null, body: unknown) => {
  const r = request(stack.proxy.url).post(path).set('content-type', 'application/json');
  if (key) r.set('authorization', `Bearer ${key}`);
  return r.send(JSON.stringify(body));
};

describe('authentication', () => {
  it.each([
    ['no key', {}],
    ['an unknown key', { authorization: 'Bearer nope-nope-nope' }],
    ['an expired key', { authorization: `Bearer ${EXPIRED}` }],
    ['the stored hash of a valid key', { authorization: `Bearer sha256:${createHash('sha256').update(READER).digest('hex')}` }],
    ['the UI without a key', { 'x-prefect-user-id': 'null' }],
    ['an unsupported scheme', { authorization: `Token ${READER}` }],
  ])('%s gets 401 and nothing is forwarded', async (_name, headers) => {
    const res = await request(stack.proxy.url).post('/').set({ 'content-type': 'application/json', ...headers }).send('{"query":"{ flow { id } }"}');
    expect(res.status).toBe(401);
    expect(res.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(stack.upstream.received).toHaveLength(0);
  });

  it.each([
    ['a hashed key as Bearer', { authorization: `Bearer ${READER}` }],
    ['a plaintext key as Bearer', { authorization: `bearer ${OPERATOR}` }],
    ['X-Prefect-User-ID', { 'x-prefect-user-id': READER }],
    ['Basic', { authorization: `Basic ${Buffer.from(`me:${READER}`).toString('base64')}` }],
  ])('%s is accepted and never forwarded', async (_name, headers) => {
    const res = await request(stack.proxy.url).post('/').set({ 'content-type': 'application/json', ...headers }).send('{"query":"{ flow { id } }"}');
    expect(res.status).toBe(200);
    expect(stack.upstream.received).toHaveLength(1);
    const sent = stack.upstream.received[0]!;
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.headers['x-prefect-user-id']).toBeUndefined();
    expect(JSON.stringify(sent.headers)).not.toContain(READER);
    expect(JSON.stringify(sent.headers)).not.toContain(OPERATOR);
  });
});

describe('forwarding', () => {
  it('forwards the re-serialized body to the same path under the upstream base path, without the query string', async () => {
    const raw = '{"query":"query { flow { id } }","variables":"null","query2":1,"extensions":{"x":1}}';
    const res = await request(stack.proxy.url).post('/graphql?query=mutation%7Bdelete_tenant%7D').set({ 'content-type': 'application/json', authorization: `Bearer ${READER}`, 'x-prefect-core-version': '1.4.1' }).send(raw);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { echo: 'single' } });
    expect(res.headers['x-upstream']).toBe('yes');
    const sent = stack.upstream.received[0]!;
    expect(sent.method).toBe('POST');
    expect(sent.url).toBe('/base/graphql');
    expect(JSON.parse(sent.body)).toEqual({ query: 'query { flow { id } }', variables: 'null' });
    expect(sent.headers['x-prefect-core-version']).toBe('1.4.1');
    expect(sent.headers['x-request-id']).toBe(res.headers['x-request-id']);
  });

  it('forwards a body with duplicate keys as the one it checked', async () => {
    const raw = '{"query":"mutation { delete_tenant(input: {}) { success } }","query":"{ flow { id } }"}';
    const res = await request(stack.proxy.url).post('/').set({ 'content-type': 'application/json', authorization: `Bearer ${READER}` }).send(raw);
    expect(res.status).toBe(200);
    expect(JSON.parse(stack.upstream.received[0]!.body)).toEqual({ query: '{ flow { id } }' });
  });

  it('passes upstream errors through', async () => {
    stack.upstream.respondWith((_req, res) => {
      res.statusCode = 400;
      res.setHeader('content-type', 'application/json');
      res.end('{"errors":[{"message":"upstream says no"}]}');
    });
    const res = await post('/', READER, { query: '{ flow { id } }' });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].message).toBe('upstream says no');
  });
});

describe('authorization of single requests', () => {
  it.each([
    ['a read-only key running a flow', READER, 'mutation { create_flow_run(input: {}) { id } }', ['mutation/create_flow_run']],
    ['an allowed field smuggling another', OPERATOR, 'mutation { create_flow_run(input: {}) { id } delete_tenant(input: {}) { success } }', ['mutation/delete_tenant']],
    ['operationName pointing at a permitted query', OPERATOR, 'query Ok { flow { id } } mutation Bad { delete_project(input: {}) { success } }', ['mutation/delete_project']],
    ['a fragment named like an allowed field', OPERATOR, 'mutation { ...create_flow_run } fragment create_flow_run on Mutation { delete_project(input: {}) { success } }', ['mutation/delete_project']],
    ['an alias named like an allowed field', OPERATOR, 'mutation { create_flow_run: delete_project(input: {}) { success } }', ['mutation/delete_project']],
    ['an inline fragment', OPERATOR, 'mutation { ... on Mutation { delete_tenant(input: {}) { success } } }', ['mutation/delete_tenant']],
    ['a Hasura CRUD mutation', OPERATOR, 'mutation { update_flow_run(where: {}, _set: {}) { affected_rows } }', ['mutation/update_flow_run']],
    ['introspection without its scope', DEVOPS, '{ __schema { types { name } } }', ['query/__schema']],
    ['a subscription', DEVOPS, 'subscription { flow_run { id } }', ['subscription/flow_run']],
  ])('%s is 403 and not forwarded', async (_name, key, query, missing) => {
    const res = await post('/', key, { query, operationName: 'Ok' });
    expect(res.status).toBe(403);
    expect(res.body.errors[0].extensions.code).toBe('FORBIDDEN');
    for (const m of missing) expect(res.body.errors[0].message).toContain(m);
    expect(stack.upstream.received).toHaveLength(0);
  });

  it.each([
    ['an operator running a flow', OPERATOR, 'mutation CreateFlowRun { create_flow_run(input: {}) { id __typename } }'],
    ['DevOps deleting a project', DEVOPS, 'mutation { delete_project(input: {}) { success } }'],
    ['the UI dashboard with 17 aliases', READER, `query FlowRuns { ${Array.from({ length: 17 }, (_, i) => `a${i}: flow_run_aggregate { aggregate { count } }`).join(' ')} }`],
    ['thousands of aliases', READER, `{ ${Array.from({ length: 3000 }, (_, i) => `a${i}: flow { id }`).join(' ')} }`],
  ])('%s is forwarded', async (_name, key, query) => {
    const res = await post('/', key, { query });
    expect(res.status).toBe(200);
    expect(JSON.parse(stack.upstream.received[0]!.body).query).toBe(query);
  });
});

describe('batches', () => {
  it('forwards allowed items together and answers denied ones in place', async () => {
    const batch = [
      { operationName: 'Flows', query: 'query Flows { flow { id } }', variables: {} },
      { operationName: 'Delete', query: 'mutation Delete { delete_project(input: {}) { success } }', variables: {} },
      { operationName: 'Projects', query: 'query Projects { project { id } }', variables: {} },
      { operationName: 'Run', query: 'mutation Run { create_flow_run(input: {}) { id } }', variables: {} },
    ];
    const res = await post('/', OPERATOR, batch);
    expect(res.status).toBe(200);
    expect(stack.upstream.received).toHaveLength(1);
    expect(JSON.parse(stack.upstream.received[0]!.body).map((i: { operationName: string }) => i.operationName)).toEqual(['Flows', 'Projects', 'Run']);
    expect(res.body).toHaveLength(4);
    expect(res.body[0]).toEqual({ data: { echo: 'Flows' } });
    expect(res.body[1].errors[0].extensions.code).toBe('FORBIDDEN');
    expect(res.body[1].errors[0].message).toContain('mutation/delete_project');
    expect(res.body[2]).toEqual({ data: { echo: 'Projects' } });
    expect(res.body[3]).toEqual({ data: { echo: 'Run' } });
  });

  it('refuses a batch with nothing allowed with 403 and forwards nothing', async () => {
    const res = await post('/', READER, [{ query: 'mutation { delete_tenant(input: {}) { success } }' }, { query: 'mutation { create_flow_run(input: {}) { id } }' }]);
    expect(res.status).toBe(403);
    expect(res.body).toHaveLength(2);
    expect(res.body.every((r: { errors: Array<{ extensions: { code: string } }> }) => r.errors[0]!.extensions.code === 'FORBIDDEN')).toBe(true);
    expect(stack.upstream.received).toHaveLength(0);
  });

  it('streams a fully allowed batch unchanged', async () => {
    const res = await post('/', READER, [{ query: '{ a: flow { id } }', operationName: 'A' }, { query: '{ project { id } }', operationName: 'B' }]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([{ data: { echo: 'A' } }, { data: { echo: 'B' } }]);
  });

  it('answers a malformed item at its position, naming it, and forwards the valid allowed items', async () => {
    const batch = [
      { operationName: 'Flows', query: 'query Flows { flow { id } }' },
      { operationName: 'Broken', query: '{ flow { id }' },
      null,
      { operationName: 'Delete', query: 'mutation Delete { delete_project(input: {}) { success } }' },
      { operationName: 'Projects', query: 'query Projects { project { id } }', variables: '{nope' },
      { operationName: 'Run', query: 'mutation Run { create_flow_run(input: {}) { id } }' },
      { query: 'mutation { ...Missing }' },
    ];
    const res = await post('/', OPERATOR, batch);
    expect(res.status).toBe(200);
    expect(stack.upstream.received).toHaveLength(1);
    expect(JSON.parse(stack.upstream.received[0]!.body)).toEqual([
      { operationName: 'Flows', query: 'query Flows { flow { id } }' },
      { operationName: 'Run', query: 'mutation Run { create_flow_run(input: {}) { id } }' },
    ]);
    expect(res.body).toHaveLength(7);
    expect(res.body[0]).toEqual({ data: { echo: 'Flows' } });
    expect(res.body[5]).toEqual({ data: { echo: 'Run' } });
    expect(res.body[3].errors[0].extensions.code).toBe('FORBIDDEN');
    for (const [position, reason] of [[1, 'Syntax Error'], [2, 'JSON object'], [4, '"variables"'], [6, 'unknown fragment']] as const) {
      expect(res.body[position].errors[0].extensions.code).toBe('BAD_REQUEST');
      expect(res.body[position].errors[0].message).toMatch(new RegExp(`^batch item ${position}: .*${reason}`));
    }
  });

  it.each([
    ['entirely malformed', [{ query: '{ ' }, { query: 42 }], ['BAD_REQUEST', 'BAD_REQUEST']],
    ['malformed and denied, nothing allowed', [{ query: 'mutation { delete_tenant(input: {}) { success } }' }, { query: '{ ' }], ['FORBIDDEN', 'BAD_REQUEST']],
  ])('refuses a batch %s with 400 and an error per item, and forwards nothing', async (_name, batch, codes) => {
    const res = await post('/', READER, batch);
    expect(res.status).toBe(400);
    expect(res.body.map((r: { errors: Array<{ extensions: { code: string } }> }) => r.errors[0]!.extensions.code)).toEqual(codes);
    expect(res.body[1].errors[0].message).toMatch(/^batch item 1: /);
    expect(stack.upstream.received).toHaveLength(0);
  });
});

describe('requests that are not GraphQL over JSON POST', () => {
  it.each([
    ['GET with a query string', () => request(stack.proxy.url).get('/?query=%7Bflow%7Bid%7D%7D').set('authorization', `Bearer ${DEVOPS}`), 405],
    ['PUT', () => request(stack.proxy.url).put('/').set({ authorization: `Bearer ${DEVOPS}`, 'content-type': 'application/json' }).send('{"query":"{ x }"}'), 405],
    ['form-encoded POST', () => request(stack.proxy.url).post('/').set({ authorization: `Bearer ${DEVOPS}`, 'content-type': 'application/x-www-form-urlencoded' }).send('query=%7Bx%7D'), 415],
    ['application/graphql', () => request(stack.proxy.url).post('/').set({ authorization: `Bearer ${DEVOPS}`, 'content-type': 'application/graphql' }).send('{ x }'), 415],
    ['multipart', () => request(stack.proxy.url).post('/').set('authorization', `Bearer ${DEVOPS}`).field('operations', '{"query":"{ x }"}'), 415],
    ['a gzip body', () => request(stack.proxy.url).post('/').set({ authorization: `Bearer ${DEVOPS}`, 'content-type': 'application/json', 'content-encoding': 'gzip' }).send(gzipSync('{"query":"{ x }"}')), 415],
    ['a hash-only persisted query', () => post('/', DEVOPS, { extensions: { persistedQuery: { version: 1, sha256Hash: 'ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38' } } }), 400],
    ['malformed JSON', () => request(stack.proxy.url).post('/').set({ authorization: `Bearer ${DEVOPS}`, 'content-type': 'application/json' }).send('{"query":'), 400],
    ['null', () => post('/', DEVOPS, null), 400],
    ['a string', () => post('/', DEVOPS, 'query { flow { id } }'), 400],
    ['a number', () => post('/', DEVOPS, 42), 400],
    ['a non-string query', () => post('/', DEVOPS, { query: ['{ flow { id } }'] }), 400],
    ['a syntax error', () => post('/', DEVOPS, { query: '{ flow { id }' }), 400],
    ['a deeply nested document', () => post('/', DEVOPS, { query: `{ ${'a { '.repeat(30000)}b${' }'.repeat(30000)} }` }), 400],
    ['deeply nested JSON', () => request(stack.proxy.url).post('/').set({ authorization: `Bearer ${DEVOPS}`, 'content-type': 'application/json' }).send(`{"query":"{ x }","variables":${'['.repeat(100000)}${']'.repeat(100000)}}`), 400],
    ['a body over the limit', () => post('/', DEVOPS, { query: `{ flow { id } } # ${'x'.repeat(1_100_000)}` }), 413],
  ])('%s is refused and not forwarded', async (_name, send, status) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.body.errors[0].message).toEqual(expect.any(String));
    expect(res.text).not.toMatch(/at .*\.(js|ts):\d+/);
    expect(stack.upstream.received).toHaveLength(0);
  });

  it('answers CORS preflights without a key', async () => {
    const res = await request(stack.proxy.url).options('/graphql').set({ origin: 'http://ui.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-prefect-user-id,content-type' });
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(stack.upstream.received).toHaveLength(0);
  });

  it('is still healthy after all of that', async () => {
    expect((await request(stack.proxy.url).get('/healthcheck')).text).toBe('All OK');
  });
});

describe('Prefect 1 Cloud login emulation', () => {
  it('answers auth_info with the tenant and the key\'s user, without the upstream', async () => {
    const res = await post('/', OPERATOR, { query: 'query {\n auth_info {\n tenant_id user_id \n}\n}', variables: 'null' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { auth_info: { tenant_id: '2b9d0c55-0f49-4ac2-9a5f-6a1f0e5c1d11', user_id: 'operator' } } });
    expect(stack.upstream.received).toHaveLength(0);
  });

  it.each([
    ['with where', 'query { tenant(where: { id: { _eq: "2b9d0c55-0f49-4ac2-9a5f-6a1f0e5c1d11" } }) { name slug id } }'],
    ['without where', 'query { tenant { id slug name } }'],
  ])('answers tenant %s', async (_name, query) => {
    const res = await post('/', READER, { query, variables: 'null' });
    expect(res.body.data.tenant).toEqual([{ id: '2b9d0c55-0f49-4ac2-9a5f-6a1f0e5c1d11', name: 'Default', slug: 'default' }]);
    expect(stack.upstream.received).toHaveLength(0);
  });

  it('needs a valid key', async () => {
    expect((await post('/', null, { query: '{ auth_info { tenant_id } }' })).status).toBe(401);
  });

  it.each(Object.entries(ROLE_KEYS))('answers a %s key, as `prefect auth login -k` needs', async (role, key) => {
    const res = await post('/', key, { query: '{ auth_info { tenant_id user_id } tenant { slug } }' });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ auth_info: { tenant_id: '2b9d0c55-0f49-4ac2-9a5f-6a1f0e5c1d11', user_id: role }, tenant: [{ slug: 'default' }] });
  });

  it.each([
    ['auth_info', '{ auth_info { tenant_id } }', 'query/auth_info'],
    ['tenant', '{ tenant { id name slug } }', 'query/tenant'],
  ])('does not tell %s to a key without the query scope it asks for', async (_name, query, missing) => {
    const res = await post('/', MUTATOR, { query });
    expect(res.status).toBe(403);
    expect(res.body.errors[0].message).toContain(missing);
    expect(res.text).not.toContain('2b9d0c55');
    expect(stack.upstream.received).toHaveLength(0);
  });

  it('is not fooled by the words in a comment', async () => {
    const res = await post('/', READER, { query: '# auth_info tenant(where\nmutation { delete_tenant(input: {}) { success } }' });
    expect(res.status).toBe(403);
    expect(stack.upstream.received).toHaveLength(0);
  });
});

describe('audit trail', () => {
  it('records allowed mutations and blocked operations, never the key', async () => {
    stack.proxy.logs.length = 0;
    await post('/', OPERATOR, { query: 'mutation CreateFlowRun($input: X) { create_flow_run(input: $input) { id } }', variables: { input: { secret: 'p4ss' } } });
    await post('/', READER, { query: 'mutation { delete_project(input: {}) { success } }' });
    await post('/', READER, { query: '{ flow { id } }' });
    await waitFor(() => stack.proxy.auditLines().length >= 2);
    const audit = stack.proxy.auditLines();
    expect(audit).toHaveLength(2);
    expect(audit[0]).toMatchObject({ outcome: 'ALLOWED', user: 'operator', operationType: 'mutation', operationName: 'CreateFlowRun', fields: ['create_flow_run'], permissions: ['mutation/create_flow_run'], status: 200, client: expect.any(String), requestId: expect.any(String), keyId: expect.stringMatching(/^[0-9a-f]{12}$/) });
    expect(String(audit[0]!.message)).toMatch(/^PREFECT_AUDIT_TRAIL: ALLOWED mutation create_flow_run for operator/);
    expect(audit[1]).toMatchObject({ outcome: 'BLOCKED', user: 'reader', fields: ['delete_project'], permissions: ['mutation/delete_project'], status: 403 });
    const raw = stack.proxy.rawLogs();
    for (const secret of [OPERATOR, READER, 'p4ss']) expect(raw).not.toContain(secret);
  });
});

describe('admin routes', () => {
  it('keeps /healthcheck public', async () => {
    const res = await request(stack.proxy.url).get('/healthcheck');
    expect(res.status).toBe(200);
  });

  it.each([
    ['POST', '/logs/debug'],
    ['POST', '/cache/reset'],
    ['DELETE', `/cache/${READER}`],
  ])('%s %s needs a key (401) with an admin scope (403), and is never forwarded', async (method, path) => {
    const call = (key?: string) => {
      const r = method === 'POST' ? request(stack.proxy.url).post(path) : request(stack.proxy.url).delete(path);
      return key ? r.set('authorization', `Bearer ${key}`) : r;
    };
    expect((await call()).status).toBe(401);
    const denied = await call(DEVOPS);
    expect(denied.status).toBe(403);
    expect(denied.body.detail).toContain('admin/');
    expect((await call(ADMIN)).status).toBe(200);
    expect(stack.upstream.received).toHaveLength(0);
  });

  it('refuses an unknown log level', async () => {
    const res = await request(stack.proxy.url).post('/logs/loud').set('authorization', `Bearer ${ADMIN}`);
    expect(res.status).toBe(400);
  });

  it('evicts a key from the cache at once', async () => {
    const key = 'short-lived-key-0006';
    await insertKey(stack.db, { userId: 'temp', scopes: 'query/*', key, hashed: true });
    expect((await post('/', key, { query: '{ flow { id } }' })).status).toBe(200);
    await stack.db.knex('prefect_api_keys').where({ user_id: 'temp' }).delete();
    // Still cached: the original's behaviour, and why eviction exists.
    expect((await post('/', key, { query: '{ flow { id } }' })).status).toBe(200);
    const res = await request(stack.proxy.url).delete(`/cache/${key}`).set('authorization', `Bearer ${ADMIN}`);
    expect(res.body.evicted).toBe(true);
    expect((await post('/', key, { query: '{ flow { id } }' })).status).toBe(401);
    expect(stack.proxy.rawLogs()).not.toContain(key);
  });
});

import type { ServerResponse } from 'node:http';
import request from 'supertest';
import { LOOKUP_USER_AGENT } from '../../src/lookup';
import { migrateLatest } from '../../src/storage';
import type { TestDatabase } from '../support/databases';
import { createTestDatabase, insertKey } from '../support/databases';
import type { TestProxy } from '../support/proxy';
import { startTestProxy, waitFor } from '../support/proxy';
import type { RecordedRequest, RecordingUpstream } from '../support/upstream';
import { startRecordingUpstream } from '../support/upstream';

/**
 * Permissions on named things through the real app: the recording upstream plays a Prefect server
 * that answers the proxy's lookups from a small state, applies the changes that reach it, and
 * records everything, so that a refusal can be shown to have forwarded nothing.
 */
const SERVER_AUTH = 'upstream-secret-objects';
const SERVER_BASIC = `Basic ${Buffer.from(SERVER_AUTH).toString('base64')}`;

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const FLOW_A = uuid(1);
const FLOW_B = uuid(2);
const DEP_A = uuid(11);
const DEP_B = uuid(12);
const DEP_PROD = uuid(13);
const DEP_FAILS = uuid(14);
const DEP_HANGS = uuid(15);
const DEP_CACHED = uuid(16);
const RUN_A = uuid(21);
const RUN_B = uuid(22);
const RUN_ADHOC = uuid(23);
const BLOCK_A = uuid(31);
const BLOCK_B = uuid(32);
const VAR_A = uuid(41);
const VAR_B = uuid(42);
const QUEUE_A = uuid(51);
const UNKNOWN = uuid(99);

const KEYS = {
  runner: 'runner-a-key-0001',
  tagRunner: 'tag-runner-key-01',
  editor: 'editor-a-key-0001',
  worker: 'worker-a-key-0001',
  secrets: 'secrets-a-key-001',
  vars: 'vars-a-key-000001',
  dev: 'developer-key-001',
  noProd: 'no-prod-key-00001',
};

interface State {
  flows: Record<string, { id: string; name: string }>;
  deployments: Record<string, { id: string; name: string; flow_id: string; tags: string[]; work_pool_name: string | null }>;
  flow_runs: Record<string, { id: string; name: string; deployment_id: string | null; work_pool_name: string | null }>;
  block_documents: Record<string, { id: string; name: string }>;
  variables: Record<string, { id: string; name: string; tags: string[]; value: string }>;
  work_queues: Record<string, { id: string; name: string; work_pool_name: string }>;
}

function initialState(): State {
  return {
    flows: { [FLOW_A]: { id: FLOW_A, name: 'team-a' }, [FLOW_B]: { id: FLOW_B, name: 'team-b' } },
    deployments: {
      [DEP_A]: { id: DEP_A, name: 'nightly', flow_id: FLOW_A, tags: ['team-a'], work_pool_name: 'pool-a' },
      [DEP_B]: { id: DEP_B, name: 'nightly', flow_id: FLOW_B, tags: ['team-b'], work_pool_name: 'pool-b' },
      [DEP_PROD]: { id: DEP_PROD, name: 'release', flow_id: FLOW_A, tags: ['team-a', 'prod'], work_pool_name: 'pool-a' },
      [DEP_CACHED]: { id: DEP_CACHED, name: 'cached', flow_id: FLOW_A, tags: ['team-a'], work_pool_name: 'pool-a' },
    },
    flow_runs: {
      [RUN_A]: { id: RUN_A, name: 'amber-fox', deployment_id: DEP_A, work_pool_name: 'pool-a' },
      [RUN_B]: { id: RUN_B, name: 'crimson-fox', deployment_id: DEP_B, work_pool_name: 'pool-b' },
      [RUN_ADHOC]: { id: RUN_ADHOC, name: 'lone-fox', deployment_id: null, work_pool_name: null },
    },
    block_documents: { [BLOCK_A]: { id: BLOCK_A, name: 'team-a-creds' }, [BLOCK_B]: { id: BLOCK_B, name: 'team-b-creds' } },
    variables: {
      [VAR_A]: { id: VAR_A, name: 'team_a_region', tags: [], value: 'eu' },
      [VAR_B]: { id: VAR_B, name: 'team_b_region', tags: [], value: 'us' },
    },
    work_queues: { [QUEUE_A]: { id: QUEUE_A, name: 'default', work_pool_name: 'pool-a' } },
  };
}

let state: State;
let upstream: RecordingUpstream;
let db: TestDatabase;
let proxy: TestProxy;

/** What a Prefect server would answer, for the routes these tests use. */
function prefect(req: RecordedRequest, res: ServerResponse): void {
  const path = req.url.split('?')[0] ?? '';
  const [, api, resource, id, action, ...rest] = path.split('/');
  const send = (status: number, body: unknown) => {
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  };
  if (api !== 'api' || resource === undefined) return send(404, { detail: 'Not Found' });
  if (req.method === 'GET' && resource === 'deployments' && id === DEP_FAILS) return send(500, { detail: 'boom' });
  if (req.method === 'GET' && resource === 'deployments' && id === DEP_HANGS) return; // never answers
  const table = (state as unknown as Record<string, Record<string, Record<string, unknown>>>)[resource];
  if (req.method === 'GET' && resource === 'deployments' && id === 'name') {
    const [flowName, name] = [decodeURIComponent(action ?? ''), decodeURIComponent(rest[0] ?? '')];
    const flow = Object.values(state.flows).find((f) => f.name === flowName);
    const found = Object.values(state.deployments).find((d) => d.flow_id === flow?.id && d.name === name);
    return found ? send(200, found) : send(404, { detail: 'Deployment not found' });
  }
  if (req.method === 'GET' && resource === 'variables' && id === 'name') {
    const found = Object.values(state.variables).find((v) => v.name === decodeURIComponent(action ?? ''));
    return found ? send(200, found) : send(404, { detail: 'Variable not found' });
  }
  if (req.method === 'GET' && table && id !== undefined && action === undefined) {
    return table[id] ? send(200, table[id]) : send(404, { detail: 'Not found' });
  }
  const target = resource === 'variables' && id === 'name'
    ? Object.values(state.variables).find((v) => v.name === decodeURIComponent(action ?? '')) as Record<string, unknown> | undefined
    : action === undefined && id !== undefined ? table?.[id] : undefined;
  if (req.method === 'PATCH' && target) {
    Object.assign(target, JSON.parse(req.body || '{}'));
    return void res.writeHead(204).end();
  }
  send(200, { ok: true, url: req.url });
}

/** The proxy's own lookups, and everything else that reached the upstream (what was forwarded). */
const isLookup = (r: RecordedRequest) => r.headers['user-agent'] === LOOKUP_USER_AGENT;
const lookups = () => upstream.received.filter(isLookup);
const forwarded = () => upstream.received.filter((r) => !isLookup(r));

beforeAll(async () => {
  state = initialState();
  upstream = await startRecordingUpstream();
  upstream.respondWith(prefect);
  db = await createTestDatabase('sqlite', 'objects');
  await migrateLatest(db.knex, 'sqlite');
  const scopes: Record<keyof typeof KEYS, string> = {
    runner: 'role:runner@deployment:team-a/*',
    tagRunner: 'read/*, write/deployments/create_flow_run@tag:team-a',
    editor: 'role:viewer, write/deployments@tag:team-a+pool:pool-a',
    worker: 'role:worker@pool:pool-a, write/work_queues/get_runs@pool:pool-a',
    secrets: 'read/*, secret/block_documents@block:team-a-*',
    vars: 'read/*, write/variables@variable:team_a_*',
    dev: 'role:developer',
    noProd: 'role:developer, !write/deployments@tag:prod',
  };
  for (const [user, key] of Object.entries(KEYS)) await insertKey(db, { userId: user, scopes: scopes[user as keyof typeof KEYS], key, hashed: true });
  proxy = await startTestProxy({
    ...db.env, API_KIND: 'rest', API_SERVICE_URL: upstream.url, UPSTREAM_AUTH_STRING: SERVER_AUTH, LOG_LEVEL: 'info',
    OBJECT_CACHE_TTL: '60', OBJECT_LOOKUP_TIMEOUT: '1',
  });
});

afterAll(async () => {
  await proxy.stop();
  await upstream.close();
  await db.drop();
});

beforeEach(() => {
  upstream.received.length = 0;
});

const call = (key: string, method: 'get' | 'post' | 'patch' | 'delete', path: string, body?: unknown) => {
  const r = request(proxy.url)[method](`/api${path}`).set({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });
  return body === undefined ? r : r.send(JSON.stringify(body));
};
const denial = (user: string, what: string) => `API key of user ${user} lacks permission: ${what}`;

describe('a team-a runner key (role:runner@deployment:team-a/*)', () => {
  it('runs team-a deployments and is refused on team-b\'s, naming the deployment; nothing of the refusal is forwarded', async () => {
    const ok = await call(KEYS.runner, 'post', `/deployments/${DEP_A}/create_flow_run`, {});
    expect(ok.status).toBe(200);
    upstream.received.length = 0;
    const refused = await call(KEYS.runner, 'post', `/deployments/${DEP_B}/create_flow_run`, {});
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toBe(denial('runner', 'write/deployments/create_flow_run on deployment team-b/nightly'));
    // Looked up (the deployment, then its flow for the flow name), with the server's credential; not forwarded.
    expect(upstream.received.map((r) => `${r.method} ${r.url}`)).toEqual([`GET /api/deployments/${DEP_B}`, `GET /api/flows/${FLOW_B}`]);
    expect(lookups()).toHaveLength(2);
    for (const lookup of lookups()) expect(lookup.headers.authorization).toBe(SERVER_BASIC);
    expect(JSON.stringify(upstream.received.map((r) => r.headers))).not.toContain(KEYS.runner);
  });

  it('records the object\'s id and name in the audit rows', async () => {
    await call(KEYS.runner, 'post', `/deployments/${DEP_B}/create_flow_run`, {});
    await call(KEYS.runner, 'post', `/deployments/${DEP_A}/create_flow_run`, {});
    await waitFor(() => proxy.auditLines().filter((l) => l.user === 'runner').length >= 3);
    const rows = proxy.auditLines().filter((l) => l.user === 'runner');
    expect(rows).toEqual(expect.arrayContaining([
      expect.objectContaining({ outcome: 'BLOCKED', permissions: ['write/deployments/create_flow_run'], fields: [`/api/deployments/${DEP_B}/create_flow_run`, `deployment:${DEP_B} team-b/nightly`] }),
      expect.objectContaining({ outcome: 'ALLOWED', fields: [`/api/deployments/${DEP_A}/create_flow_run`, `deployment:${DEP_A} team-a/nightly`] }),
    ]));
  });

  it.each([
    [RUN_A, 'cancelling', 200, ''],
    [RUN_B, 'cancelling', 403, `write/flow_runs/set_state/cancelling on flow run crimson-fox of deployment team-b/nightly`],
    [RUN_ADHOC, 'cancelling', 403, `write/flow_runs/set_state/cancelling on flow run lone-fox (no deployment)`],
    [RUN_A, 'completed', 403, `write/flow_runs/set_state/completed`],
  ])('acts on flow run %s (set_state %s) as its deployment allows: %s', async (run, target, status, missing) => {
    const res = await call(KEYS.runner, 'post', `/flow_runs/${run}/set_state`, { state: { type: target.toUpperCase() } });
    expect(res.status).toBe(status);
    if (status === 403) {
      expect(res.body.detail).toBe(denial('runner', missing));
      expect(forwarded().filter((r) => r.method === 'POST')).toEqual([]);
    }
  });

  it('is refused on a deployment the server does not know (403, not found); an unnarrowed key is forwarded to get Prefect\'s 404', async () => {
    const refused = await call(KEYS.runner, 'post', `/deployments/${UNKNOWN}/create_flow_run`, {});
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toBe(denial('runner', `write/deployments/create_flow_run on deployment ${UNKNOWN} (not found)`));
    expect(forwarded().filter((r) => r.method === 'POST')).toEqual([]);
    expect((await call(KEYS.dev, 'post', `/deployments/${UNKNOWN}/create_flow_run`, {})).status).toBe(200);
  });

  it('cannot act on a request not tied to one object, and reads stay as they are', async () => {
    const bulk = await call(KEYS.runner, 'post', '/flow_runs/bulk_set_state', { flow_runs: {}, state: { type: 'CANCELLING' } });
    expect(bulk.status).toBe(403);
    expect(bulk.body.detail).toBe(denial('runner', 'write/flow_runs/bulk_set_state'));
    const bulkDelete = await call(KEYS.editor, 'post', '/deployments/bulk_delete', { deployments: {} });
    expect(bulkDelete.body.detail).toBe(denial('editor', 'write/deployments/delete (this request is not tied to one named object, so only a grant without @ covers it)'));
    expect(forwarded().filter((r) => r.method === 'POST')).toEqual([]);
    expect((await call(KEYS.runner, 'get', `/deployments/${DEP_B}`)).status).toBe(200);
    expect((await call(KEYS.runner, 'post', '/deployments/filter', {})).status).toBe(200);
    expect(lookups().filter((r) => r.url !== `/api/deployments/${DEP_B}`)).toEqual([]);
  });
});

describe('keys without selectors', () => {
  it('never cause a lookup, and decide exactly as before', async () => {
    expect((await call(KEYS.dev, 'post', `/deployments/${DEP_B}/create_flow_run`, {})).status).toBe(200);
    expect((await call(KEYS.dev, 'patch', `/deployments/${DEP_B}`, { description: 'x' })).status).toBe(204);
    expect((await call(KEYS.dev, 'post', `/flow_runs/${RUN_B}/set_state`, { state: { type: 'CANCELLED' } })).status).toBe(200);
    expect(lookups()).toEqual([]);
  });
});

describe('a team-a editor (write/deployments@tag:team-a+pool:pool-a): the move rule', () => {
  it.each([
    [{ work_pool_name: 'pool-b' }, 'write/deployments/update on deployment team-a/nightly after this change (work pool pool-b; tags team-a)'],
    [{ tags: ['team-b'] }, 'write/deployments/update on deployment team-a/nightly after this change (work pool pool-a; tags team-b)'],
    [{ work_queue_name: 'somewhere' }, 'write/deployments/update on deployment team-a/nightly after this change (work pool unknown; tags team-a)'],
  ])('cannot PATCH a team-a deployment with %j: 403 and the server\'s state is unchanged', async (body, missing) => {
    const before = JSON.stringify(state.deployments[DEP_A]);
    const res = await call(KEYS.editor, 'patch', `/deployments/${DEP_A}`, body);
    expect(res.status).toBe(403);
    expect(res.body.detail).toBe(denial('editor', missing));
    expect(forwarded().filter((r) => r.method === 'PATCH')).toEqual([]);
    expect(JSON.stringify(state.deployments[DEP_A])).toBe(before);
  });

  it('edits a team-a deployment within pool-a, and cannot touch team-b\'s', async () => {
    expect((await call(KEYS.editor, 'patch', `/deployments/${DEP_A}`, { description: 'nightly run', tags: ['team-a', 'etl'] })).status).toBe(204);
    expect(state.deployments[DEP_A]!.tags).toEqual(['team-a', 'etl']);
    const res = await call(KEYS.editor, 'patch', `/deployments/${DEP_B}`, { tags: ['team-a'], work_pool_name: 'pool-a' });
    expect(res.status).toBe(403);
    expect(res.body.detail).toBe(denial('editor', 'write/deployments/update on deployment team-b/nightly'));
  });

  it('creates a deployment only as one it may use, and cannot take one over by re-creating it (POST /deployments/ is an upsert)', async () => {
    const created = await call(KEYS.editor, 'post', '/deployments/', { flow_id: FLOW_A, name: 'hourly', tags: ['team-a'], work_pool_name: 'pool-a' });
    expect(created.status).toBe(200);
    const elsewhere = await call(KEYS.editor, 'post', '/deployments/', { flow_id: FLOW_A, name: 'hourly', tags: ['team-a'], work_pool_name: 'pool-b' });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body.detail).toBe(denial('editor', 'write/deployments/create on deployment team-a/hourly after this change (work pool pool-b; tags team-a)'));
    const takeover = await call(KEYS.editor, 'post', '/deployments/', { flow_id: FLOW_B, name: 'nightly', tags: ['team-a'], work_pool_name: 'pool-a' });
    expect(takeover.status).toBe(403);
    expect(takeover.body.detail).toBe(denial('editor', 'write/deployments/create on deployment team-b/nightly'));
    expect(forwarded().filter((r) => r.method === 'POST' && r.url === '/api/deployments/')).toHaveLength(1);
  });
});

describe('a narrowed deny (role:developer, !write/deployments@tag:prod)', () => {
  it('refuses prod deployments and requests not tied to objects, and allows the rest', async () => {
    expect((await call(KEYS.noProd, 'post', `/deployments/${DEP_B}/create_flow_run`, {})).status).toBe(200);
    const prod = await call(KEYS.noProd, 'post', `/deployments/${DEP_PROD}/create_flow_run`, {});
    expect(prod.status).toBe(403);
    expect(prod.body.detail).toBe(denial('noProd', 'write/deployments/create_flow_run on deployment team-a/release'));
    expect((await call(KEYS.noProd, 'post', '/deployments/bulk_delete', { deployments: {} })).status).toBe(403);
    expect((await call(KEYS.noProd, 'post', '/logs/', [])).status).toBe(200);
  });
});

describe('a pool-a worker key (role:worker@pool:pool-a)', () => {
  it('polls, heartbeats and sets run states in pool-a, and gets 403 for pool-b, without a lookup', async () => {
    expect((await call(KEYS.worker, 'post', '/work_pools/pool-a/get_scheduled_flow_runs', {})).status).toBe(200);
    expect((await call(KEYS.worker, 'post', '/work_pools/pool-a/workers/heartbeat', { name: 'w' })).status).toBe(200);
    const other = await call(KEYS.worker, 'post', '/work_pools/pool-b/get_scheduled_flow_runs', {});
    expect(other.status).toBe(403);
    expect(other.body.detail).toBe(denial('worker', 'write/work_pools/get_scheduled_flow_runs on work pool pool-b'));
    expect(lookups()).toEqual([]);
    expect((await call(KEYS.worker, 'post', `/flow_runs/${RUN_A}/set_state`, { state: { type: 'RUNNING' } })).status).toBe(200);
    expect((await call(KEYS.worker, 'post', `/flow_runs/${RUN_B}/set_state`, { state: { type: 'RUNNING' } })).status).toBe(403);
    // A legacy queue by id is judged by the pool that holds it.
    expect((await call(KEYS.worker, 'post', `/work_queues/${QUEUE_A}/get_runs`, {})).status).toBe(200);
    expect(forwarded().filter((r) => r.url.includes('pool-b') || r.url.includes(RUN_B))).toEqual([]);
  });
});

describe('secrets and variables by name', () => {
  it('reads the secrets of team-a-* block documents only; reading a block without secrets stays open', async () => {
    expect((await call(KEYS.secrets, 'get', `/block_documents/${BLOCK_A}?include_secrets=true`)).status).toBe(200);
    const other = await call(KEYS.secrets, 'get', `/block_documents/${BLOCK_B}?include_secrets=true`);
    expect(other.status).toBe(403);
    expect(other.body.detail).toBe(denial('secrets', 'secret/block_documents on block document team-b-creds'));
    expect((await call(KEYS.secrets, 'get', `/block_documents/${BLOCK_B}`)).status).toBe(200);
    expect((await call(KEYS.secrets, 'get', '/block_types/slug/secret/block_documents/name/team-a-creds?include_secrets=true')).status).toBe(200);
    expect((await call(KEYS.secrets, 'get', '/block_types/slug/secret/block_documents/name/team-b-creds?include_secrets=true')).status).toBe(403);
    expect(forwarded().filter((r) => r.url.includes('include_secrets=true') && r.url.includes('team-b'))).toEqual([]);
  });

  it('writes team_a_* variables only, by name, by id and when creating', async () => {
    expect((await call(KEYS.vars, 'patch', '/variables/name/team_a_region', { value: 'eu-west' })).status).toBe(204);
    expect(state.variables[VAR_A]!.value).toBe('eu-west');
    expect((await call(KEYS.vars, 'patch', '/variables/name/team_b_region', { value: 'x' })).status).toBe(403);
    expect((await call(KEYS.vars, 'post', '/variables/', { name: 'team_a_zone', value: '1' })).status).toBe(200);
    const created = await call(KEYS.vars, 'post', '/variables/', { name: 'team_b_zone', value: '1' });
    expect(created.body.detail).toBe(denial('vars', 'write/variables/create on variable team_b_zone after this change (no tags)'));
    // A rename is a move too.
    const renamed = await call(KEYS.vars, 'patch', `/variables/${VAR_A}`, { name: 'team_b_region2' });
    expect(renamed.status).toBe(403);
    expect(state.variables[VAR_A]!.name).toBe('team_a_region');
    expect(state.variables[VAR_B]!.value).toBe('us');
  });
});

describe('the lookup cache', () => {
  it('asks once, then answers from the cache', async () => {
    expect((await call(KEYS.tagRunner, 'post', `/deployments/${DEP_CACHED}/create_flow_run`, {})).status).toBe(200);
    const asked = lookups().map((r) => r.url);
    expect(asked).toContain(`/api/deployments/${DEP_CACHED}`);
    expect((await call(KEYS.tagRunner, 'post', `/deployments/${DEP_CACHED}/create_flow_run`, {})).status).toBe(200);
    expect((await call(KEYS.runner, 'post', `/deployments/${DEP_CACHED}/create_flow_run`, {})).status).toBe(200);
    expect(lookups().map((r) => r.url)).toEqual(asked);
  });

  it('sees at once a deployment retagged through the proxy', async () => {
    expect((await call(KEYS.tagRunner, 'post', `/deployments/${DEP_A}/create_flow_run`, {})).status).toBe(200);
    expect((await call(KEYS.dev, 'patch', `/deployments/${DEP_A}`, { tags: ['team-b'] })).status).toBe(204);
    const refused = await call(KEYS.tagRunner, 'post', `/deployments/${DEP_A}/create_flow_run`, {});
    expect(refused.status).toBe(403);
    expect((await call(KEYS.dev, 'patch', `/deployments/${DEP_A}`, { tags: ['team-a'] })).status).toBe(204);
    expect((await call(KEYS.tagRunner, 'post', `/deployments/${DEP_A}/create_flow_run`, {})).status).toBe(200);
  });

  it('sees at once a variable renamed through the proxy', async () => {
    expect((await call(KEYS.vars, 'patch', `/variables/${VAR_B}`, { value: 'x' })).status).toBe(403);
    expect((await call(KEYS.dev, 'patch', `/variables/${VAR_B}`, { name: 'team_a_moved' })).status).toBe(204);
    expect((await call(KEYS.vars, 'patch', `/variables/${VAR_B}`, { value: 'x' })).status).toBe(204);
    expect(state.variables[VAR_B]).toMatchObject({ name: 'team_a_moved', value: 'x' });
  });

  it('keeps a change made past the proxy until the entry expires (that is what it caches)', async () => {
    expect((await call(KEYS.tagRunner, 'post', `/deployments/${DEP_A}/create_flow_run`, {})).status).toBe(200);
    state.deployments[DEP_A]!.tags = ['team-b'];
    try {
      expect((await call(KEYS.tagRunner, 'post', `/deployments/${DEP_A}/create_flow_run`, {})).status).toBe(200);
    } finally {
      state.deployments[DEP_A]!.tags = ['team-a'];
    }
  });
});

describe('a lookup that fails', () => {
  it.each([
    ['answers 500', DEP_FAILS, /the Prefect API answered 500/],
    ['does not answer within OBJECT_LOOKUP_TIMEOUT', DEP_HANGS, /did not answer in time/],
  ])('refuses the request when the server %s: 503, nothing forwarded', async (_name, id, reason) => {
    const res = await call(KEYS.runner, 'post', `/deployments/${id}/create_flow_run`, {});
    expect(res.status).toBe(503);
    expect(res.body.detail).toMatch(reason);
    expect(res.body.detail).toContain(`could not look up deployment ${id}`);
    expect(forwarded().filter((r) => r.method === 'POST')).toEqual([]);
  });
});

import type { ServerResponse } from 'node:http';
import type { Lookup, ObjectFacts } from '../../../src/authz/objects';
import type { ObjectLookup } from '../../../src/lookup';
import { createObjectLookup, createPrefectReader, LookupFailedError } from '../../../src/lookup';
import type { RecordedRequest, RecordingUpstream } from '../../support/upstream';
import { startRecordingUpstream } from '../../support/upstream';

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const FLOW = uuid(1);
const DEP = uuid(2);
const RUN = uuid(3);
const ADHOC = uuid(4);
const QUEUE = uuid(5);
const BLOCK = uuid(6);
const VAR = uuid(7);
const ODD = uuid(8);
const FAILS = uuid(9);
const SLOW = uuid(10);
const MISSING = uuid(11);
const AUTH = 'Basic c2VydmVyOnNlY3JldA==';

/** What the server holds, by path below /base/api. */
const answers: Record<string, unknown> = {
  [`/flows/${FLOW}`]: { id: FLOW, name: 'etl' },
  [`/deployments/${DEP}`]: { id: DEP, name: 'nightly', flow_id: FLOW, tags: ['team-a'], work_pool_name: 'pool-a' },
  '/deployments/name/etl/nightly': { id: DEP, name: 'nightly', flow_id: FLOW, tags: ['team-a'], work_pool_name: 'pool-a' },
  [`/flow_runs/${RUN}`]: { id: RUN, name: 'amber-fox', deployment_id: DEP, work_pool_name: 'pool-a' },
  [`/flow_runs/${ADHOC}`]: { id: ADHOC, name: 'lone-fox', deployment_id: null, work_pool_name: null },
  [`/work_queues/${QUEUE}`]: { id: QUEUE, name: 'default', work_pool_name: 'pool-a' },
  [`/block_documents/${BLOCK}`]: { id: BLOCK, name: 'team-a-creds', data: { password: '********' } },
  [`/variables/${VAR}`]: { id: VAR, name: 'team_a_region', tags: ['team-a'], value: 'eu' },
  '/variables/name/team_a_region': { id: VAR, name: 'team_a_region', tags: ['team-a'], value: 'eu' },
  // Fields of types Prefect never sends are left unknown, never guessed.
  [`/deployments/${ODD}`]: { id: ODD, name: 7, flow_id: FLOW, tags: 'team-a', work_pool_name: ['pool-a'] },
};

let upstream: RecordingUpstream;
let release: (() => void)[] = [];

function prefect(req: RecordedRequest, res: ServerResponse): void {
  const path = req.url.replace(/^\/base\/api/, '');
  if (path === `/deployments/${FAILS}`) return void res.writeHead(500).end('{}');
  if (path === `/deployments/${SLOW}`) return void release.push(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  if (path === '/deployments/name/etl/broken') return void res.writeHead(200).end('not json');
  const found = answers[path];
  res.writeHead(found === undefined ? 404 : 200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(found ?? { detail: 'Not found' }));
}

/** Waits until the server holds back an answer (the slow deployment). */
const heldAnswer = () => new Promise<void>((resolve) => {
  const wait = () => (release.length > 0 ? resolve() : setTimeout(wait, 5));
  wait();
});
const releaseAll = () => {
  release.forEach((r) => r());
  release = [];
};

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  upstream.respondWith(prefect);
});

afterAll(async () => {
  releaseAll();
  await upstream.close();
});

beforeEach(() => {
  upstream.received.length = 0;
});

const lookupWith = (ttlMs: number, timeoutMs = 2000): ObjectLookup => createObjectLookup({
  reader: createPrefectReader({ target: new URL(`${upstream.url}/base`), apiPrefix: '/api', authorization: AUTH, timeoutMs }),
  ttlMs,
});
const asked = () => upstream.received.map((r) => r.url.replace(/^\/base\/api/, ''));

const NIGHTLY: ObjectFacts = { kind: 'deployment', id: DEP, name: 'etl/nightly', tags: ['team-a'], workPool: 'pool-a' };

describe('each lookup, answered by the server', () => {
  let lookup: ObjectLookup;
  beforeAll(() => {
    lookup = lookupWith(0);
  });
  afterAll(() => lookup.close());

  it.each<[string, Lookup, ObjectFacts]>([
    ['a deployment by id: `<flow>/<name>`, tags, pool', { type: 'deployment-by-id', id: DEP }, NIGHTLY],
    ['a deployment by flow and name (an upsert\'s target)', { type: 'deployment-by-flow-and-name', flowId: FLOW, name: 'nightly' }, NIGHTLY],
    ['an upsert\'s target that does not exist yet', { type: 'deployment-by-flow-and-name', flowId: FLOW, name: 'hourly' }, { kind: 'deployment', name: 'etl/hourly', missing: true }],
    ['an upsert\'s target in a flow that does not exist', { type: 'deployment-by-flow-and-name', flowId: MISSING, name: 'x' }, { kind: 'deployment', missing: true }],
    ['a flow run, with its deployment', { type: 'flow-run-by-id', id: RUN }, { kind: 'flow_run', id: RUN, name: 'amber-fox', workPool: 'pool-a', deployment: NIGHTLY }],
    ['a flow run without a deployment', { type: 'flow-run-by-id', id: ADHOC }, { kind: 'flow_run', id: ADHOC, name: 'lone-fox', workPool: null, deployment: null }],
    ['a work queue: the pool that holds it', { type: 'work-queue-by-id', id: QUEUE }, { kind: 'work_pool', name: 'pool-a' }],
    ['a block document', { type: 'block-document-by-id', id: BLOCK }, { kind: 'block_document', id: BLOCK, name: 'team-a-creds' }],
    ['a variable by id', { type: 'variable-by-id', id: VAR }, { kind: 'variable', id: VAR, name: 'team_a_region', tags: ['team-a'] }],
    ['a variable by name', { type: 'variable-by-name', name: 'team_a_region' }, { kind: 'variable', id: VAR, name: 'team_a_region', tags: ['team-a'] }],
    ['a variable the server does not know', { type: 'variable-by-name', name: 'nope' }, { kind: 'variable', name: 'nope', missing: true }],
    ['a deployment the server does not know', { type: 'deployment-by-id', id: MISSING }, { kind: 'deployment', id: MISSING, missing: true }],
    ['fields of unexpected types: unknown', { type: 'deployment-by-id', id: ODD }, { kind: 'deployment', id: ODD }],
  ])('%s', async (_name, request, facts) => {
    expect(await lookup.resolve([request])).toEqual([facts]);
  });

  it('asks with the server\'s credential, the caller\'s request id, and never include_secrets', async () => {
    await lookup.resolve([{ type: 'block-document-by-id', id: BLOCK }], 'req-1');
    const sent = upstream.received[0]!;
    expect(sent).toMatchObject({ method: 'GET', url: `/base/api/block_documents/${BLOCK}` });
    expect(sent.headers).toMatchObject({ authorization: AUTH, 'x-request-id': 'req-1', accept: 'application/json' });
  });

  it.each([
    ['answers 500', FAILS, /could not look up deployment .*: the Prefect API answered 500/],
  ])('fails when the server %s', async (_name, id, message) => {
    await expect(lookup.resolve([{ type: 'deployment-by-id', id }])).rejects.toThrow(message);
  });

  it('fails on an answer that is not JSON', async () => {
    await expect(lookup.resolve([{ type: 'deployment-by-flow-and-name', flowId: FLOW, name: 'broken' }])).rejects.toBeInstanceOf(LookupFailedError);
  });
});

describe('failures', () => {
  it('fails when the server does not answer in time', async () => {
    const lookup = lookupWith(0, 200);
    const started = Date.now();
    await expect(lookup.resolve([{ type: 'deployment-by-id', id: SLOW }])).rejects.toThrow(/did not answer in time/);
    expect(Date.now() - started).toBeLessThan(2000);
    releaseAll();
    await lookup.close();
  });

  it('fails when the server is unreachable', async () => {
    const lookup = createObjectLookup({
      reader: createPrefectReader({ target: new URL('http://127.0.0.1:1'), apiPrefix: '/api', authorization: undefined, timeoutMs: 2000 }),
      ttlMs: 1000,
    });
    await expect(lookup.resolve([{ type: 'deployment-by-id', id: DEP }])).rejects.toThrow(/unreachable/);
    await lookup.close();
  });
});

describe('the cache', () => {
  it('answers again from the cache, and runs read their deployment through its own entry', async () => {
    const lookup = lookupWith(60_000);
    await lookup.resolve([{ type: 'deployment-by-id', id: DEP }]);
    expect(asked()).toEqual([`/deployments/${DEP}`, `/flows/${FLOW}`]);
    await lookup.resolve([{ type: 'deployment-by-id', id: DEP.toUpperCase() }, { type: 'flow-run-by-id', id: RUN }]);
    expect(asked()).toEqual([`/deployments/${DEP}`, `/flows/${FLOW}`, `/flow_runs/${RUN}`]);
    expect(lookup.counts).toEqual({ hits: 4, calls: 3 });
    await lookup.close();
  });

  it('shares one call among concurrent lookups of one object', async () => {
    const lookup = lookupWith(60_000);
    await Promise.all(Array.from({ length: 20 }, () => lookup.resolve([{ type: 'variable-by-id', id: VAR }])));
    expect(asked()).toEqual([`/variables/${VAR}`]);
    await lookup.close();
  });

  it.each([
    ['that object', [{ kind: 'deployment' as const, id: DEP }]],
    ['every object of its kind', [{ kind: 'deployment' as const }]],
  ])('forgets %s when a change passes, and asks again', async (_name, evictions) => {
    const lookup = lookupWith(60_000);
    await lookup.resolve([{ type: 'deployment-by-id', id: DEP }, { type: 'variable-by-id', id: VAR }]);
    upstream.received.length = 0;
    lookup.forget(evictions);
    await lookup.resolve([{ type: 'deployment-by-id', id: DEP }, { type: 'variable-by-id', id: VAR }]);
    // The flow's name never changes, the variable was not touched.
    expect(asked()).toEqual([`/deployments/${DEP}`]);
    await lookup.close();
  });

  it('does not keep an answer read while a change passed: it may predate the change', async () => {
    const lookup = lookupWith(60_000, 5000);
    const pending = lookup.resolve([{ type: 'deployment-by-id', id: SLOW }]);
    await heldAnswer();
    lookup.forget([{ kind: 'deployment', id: SLOW }]);
    releaseAll();
    await pending;
    upstream.received.length = 0;
    const again = lookup.resolve([{ type: 'deployment-by-id', id: SLOW }]);
    await heldAnswer();
    releaseAll();
    await again;
    expect(asked()).toEqual([`/deployments/${SLOW}`]);
    await lookup.close();
  });

  it('asks every time with OBJECT_CACHE_TTL=0, and never caches what was not found', async () => {
    const off = lookupWith(0);
    await off.resolve([{ type: 'variable-by-id', id: VAR }]);
    await off.resolve([{ type: 'variable-by-id', id: VAR }]);
    expect(asked()).toEqual([`/variables/${VAR}`, `/variables/${VAR}`]);
    await off.close();
    upstream.received.length = 0;
    const on = lookupWith(60_000);
    await on.resolve([{ type: 'variable-by-id', id: MISSING }]);
    await on.resolve([{ type: 'variable-by-id', id: MISSING }]);
    expect(asked()).toEqual([`/variables/${MISSING}`, `/variables/${MISSING}`]);
    await on.close();
  });
});

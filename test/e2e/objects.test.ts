import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { buildRoleTable } from '../../src/authz';
import { createKeyAdmin } from '../../src/storage';
import type { TestDatabase } from '../support/databases';
import { createTestDatabase } from '../support/databases';
import type { PrefectServer } from '../support/prefect3-server';
import { startPrefectServer } from '../support/prefect3-server';
import type { Run } from '../support/prefect-client';
import { eventually, runPrefect } from '../support/prefect-client';
import type { TestProxy } from '../support/proxy';
import { startTestProxy } from '../support/proxy';
import { ensureVenv } from '../support/python-venv';

jest.setTimeout(600_000);

const SERVER_AUTH = 'server-only-secret-objects';

/** Two teams' flows; team-a's reads its secret and writes its variable with the worker's key, as flows do. */
const TEAMS_PY = `
from prefect import flow
from prefect.blocks.system import Secret
from prefect.variables import Variable

@flow(name="team-a")
def team_a():
    assert Secret.load("team-a-db").get() == "team-a-secret"
    Variable.set("team_a_last_run", "ok", overwrite=True)
    return "a"

@flow(name="team-b")
def team_b():
    return "b"
`;

/** Pools, flows, deployments and secrets of both teams, made through the proxy with a developer key. */
const SETUP_PY = `
import asyncio, json, sys
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.blocks.system import Secret

async def main(directory):
    ids = {}
    async with get_client() as client:
        for team in ("a", "b"):
            await client.create_work_pool(WorkPoolCreate(name=f"pool-{team}", type="process"), overwrite=True)
            flow_id = await client.create_flow_from_name(f"team-{team}")
            ids[team] = str(await client.create_deployment(
                flow_id=flow_id, name="nightly", work_pool_name=f"pool-{team}", tags=[f"team-{team}"],
                entrypoint=f"teams.py:team_{team}", path=directory,
            ))
    for team in ("a", "b"):
        await Secret(value=f"team-{team}-secret").save(f"team-{team}-db", overwrite=True)
    print("IDS", json.dumps(ids))

asyncio.run(main(sys.argv[1]))
`;

/** The recipe of docs/permissions-on-named-things.md, in a roles file. */
const ROLES = {
  'team-a-worker': ['role:worker@pool:pool-a', 'secret/block_documents@block:team-a-*', 'write/variables@variable:team_a_*'],
};

/** The real Prefect 3.8.8 server, CLI and worker, with keys narrowed to one team's named things. */
describe('Prefect 3: permissions on named things', () => {
  let bin: string;
  let server: PrefectServer;
  let db: TestDatabase;
  let proxy: TestProxy;
  let dir: string;
  let ids: { a: string; b: string };
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    bin = ensureVenv('prefect3');
    dir = mkdtempSync(join(tmpdir(), 'objects-e2e-'));
    writeFileSync(join(dir, 'teams.py'), TEAMS_PY);
    writeFileSync(join(dir, 'setup.py'), SETUP_PY);
    const rolesFile = join(dir, 'roles.json');
    writeFileSync(rolesFile, JSON.stringify(ROLES));
    server = await startPrefectServer(bin, SERVER_AUTH);
    db = await createTestDatabase('sqlite', 'objects_e2e');
    const admin = createKeyAdmin(db.knex, 'sqlite', buildRoleTable(ROLES));
    const scopes: Record<string, string> = {
      dev: 'role:developer',
      'runner-a': 'role:runner@deployment:team-a/*',
      'editor-a': 'role:viewer, write/deployments@tag:team-a+pool:pool-a',
      'tagged-a': 'role:viewer, write/deployments/create_flow_run@tag:team-a',
      'worker-a': 'role:team-a-worker',
    };
    for (const [user, scope] of Object.entries(scopes)) keys[user] = (await admin.create({ user, scopes: scope, by: 'test' })).key;
    proxy = await startTestProxy({
      ...db.env, API_KIND: 'rest', API_SERVICE_URL: server.url, UPSTREAM_AUTH_STRING: SERVER_AUTH, LOG_LEVEL: 'info', ROLES_FILE: rolesFile,
      // Long enough that only an eviction explains a change seen at once.
      OBJECT_CACHE_TTL: '300',
    });
    const setup = await run('python', ['setup.py', dir], 'dev');
    const found = /IDS (\{.*\})/.exec(setup.stdout)?.[1];
    if (!found) throw new Error(`setup failed: ${setup.stdout.slice(-2000)} ${setup.stderr.slice(-3000)}`);
    ids = JSON.parse(found) as { a: string; b: string };
  });

  afterAll(async () => {
    await proxy?.stop();
    await server?.stop();
    await db?.drop();
  });

  const run = (command: string, args: string[], user: string): Promise<Run> =>
    runPrefect(bin, `${proxy.url}/api`, command, args, { PREFECT_API_AUTH_STRING: keys[user] as string }, dir);
  const api = async (user: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${proxy.url}/api${path}`, {
      method,
      headers: { authorization: `Bearer ${keys[user]}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) as unknown : null };
  };
  /** The server's own view, asked past the proxy with its credential. */
  const server$ = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${server.url}/api${path}`, {
      method,
      headers: { authorization: `Basic ${Buffer.from(SERVER_AUTH).toString('base64')}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return res.json() as Promise<unknown>;
  };
  const runsOf = async (deploymentId: string) =>
    await server$('POST', '/flow_runs/filter', { deployments: { id: { any_: [deploymentId] } } }) as Array<{ id: string; state: { type: string } }>;
  const output = (r: Run) => r.stdout + r.stderr;
  const runId = (r: Run) => /UUID:\s*(\S+)/.exec(r.stdout)?.[1] ?? /([0-9a-f]{8}-[0-9a-f-]{27})/.exec(r.stdout)?.[1] ?? '';

  let runA = '';

  it('a team-a runner key runs team-a deployments and is refused on team-b\'s; nothing is created for team-b', async () => {
    const started = await run('prefect', ['deployment', 'run', 'team-a/nightly'], 'runner-a');
    expect(started.code).toBe(0);
    runA = runId(started);
    expect((await runsOf(ids.a)).map((r) => r.id)).toContain(runA);

    const refused = await run('prefect', ['deployment', 'run', 'team-b/nightly'], 'runner-a');
    expect(refused.code).not.toBe(0);
    expect(output(refused)).toContain('API key of user runner-a lacks permission: write/deployments/create_flow_run on deployment team-b/nightly');
    expect(await runsOf(ids.b)).toEqual([]);
    const rows = proxy.auditLines().filter((l) => l.user === 'runner-a' && l.outcome === 'BLOCKED');
    expect(rows).toEqual([expect.objectContaining({ fields: [`/api/deployments/${ids.b}/create_flow_run`, `deployment:${ids.b} team-b/nightly`] })]);
  });

  it('flow-run actions follow the deployment: the runner cancels team-a\'s run, not team-b\'s', async () => {
    const other = await run('prefect', ['deployment', 'run', 'team-b/nightly'], 'dev');
    expect(other.code).toBe(0);
    const runB = runId(other);
    const refused = await run('prefect', ['flow-run', 'cancel', runB], 'runner-a');
    expect(refused.code).not.toBe(0);
    expect(output(refused)).toContain('write/flow_runs/set_state/cancelling on flow run');
    expect(output(refused)).toContain('of deployment team-b/nightly');
    expect((await server$('GET', `/flow_runs/${runB}`) as { state: { type: string } }).state.type).toBe('SCHEDULED');
    expect((await api('dev', 'DELETE', `/flow_runs/${runB}`)).status).toBe(204);

    const own = await api('runner-a', 'POST', `/deployments/${ids.a}/create_flow_run`, {});
    expect(own.status).toBe(201);
    const ownId = (own.body as { id: string }).id;
    const cancel = await run('prefect', ['flow-run', 'cancel', ownId], 'runner-a');
    expect(cancel.code).toBe(0);
    const state = await eventually(async () => (await server$('GET', `/flow_runs/${ownId}`) as { state: { type: string } }).state.type, (s) => s === 'CANCELLED', 30_000);
    expect(state).toBe('CANCELLED');
  });

  it('cannot PATCH a team-a deployment into pool-b or tag it team-b; the server\'s deployment is unchanged', async () => {
    const before = await server$('GET', `/deployments/${ids.a}`) as { work_pool_name: string; tags: string[] };
    const runner = await api('runner-a', 'PATCH', `/deployments/${ids.a}`, { work_pool_name: 'pool-b' });
    expect(runner).toEqual({ status: 403, body: { detail: 'API key of user runner-a lacks permission: write/deployments/update' } });
    const move = await api('editor-a', 'PATCH', `/deployments/${ids.a}`, { work_pool_name: 'pool-b' });
    expect(move.status).toBe(403);
    expect((move.body as { detail: string }).detail).toBe('API key of user editor-a lacks permission: write/deployments/update on deployment team-a/nightly after this change (work pool pool-b; tags team-a)');
    const retag = await api('editor-a', 'PATCH', `/deployments/${ids.a}`, { tags: ['team-b'] });
    expect(retag.status).toBe(403);
    const takeover = await api('editor-a', 'PATCH', `/deployments/${ids.b}`, { work_pool_name: 'pool-a', tags: ['team-a'] });
    expect(takeover.status).toBe(403);
    expect(await server$('GET', `/deployments/${ids.a}`)).toMatchObject({ work_pool_name: before.work_pool_name, tags: before.tags });
    expect(await server$('GET', `/deployments/${ids.b}`)).toMatchObject({ work_pool_name: 'pool-b', tags: ['team-b'] });
    // What stays within team-a and pool-a is allowed.
    expect((await api('editor-a', 'PATCH', `/deployments/${ids.a}`, { description: 'edited by team a' })).status).toBe(204);
    expect(await server$('GET', `/deployments/${ids.a}`)).toMatchObject({ description: 'edited by team a', work_pool_name: 'pool-a' });
  });

  it('a pool-a worker key runs the team-a flow (its secret and variable by name included) and gets 403 polling pool-b', async () => {
    const worker = await run('prefect', ['worker', 'start', '--pool', 'pool-a', '--type', 'process', '--run-once'], 'worker-a');
    const state = await eventually(async () => (await server$('GET', `/flow_runs/${runA}`) as { state: { type: string } }).state.type, (s) => s === 'COMPLETED' || s === 'FAILED' || s === 'CRASHED', 120_000);
    if (state !== 'COMPLETED') console.log(worker.stdout.slice(-4000), worker.stderr.slice(-4000));
    expect(state).toBe('COMPLETED');
    expect(await server$('GET', '/variables/name/team_a_last_run')).toMatchObject({ value: 'ok' });
    expect(proxy.auditLines().filter((l) => l.user === 'worker-a' && l.outcome === 'BLOCKED')).toEqual([]);

    const poll = await api('worker-a', 'POST', '/work_pools/pool-b/get_scheduled_flow_runs', {});
    expect(poll).toEqual({ status: 403, body: { detail: 'API key of user worker-a lacks permission: write/work_pools/get_scheduled_flow_runs on work pool pool-b' } });
    const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
      // As Prefect's clients do: the key in the first message.
      const socket = new WebSocket(`${proxy.url.replace('http', 'ws')}/api/work_pools/pool-b/workers/connect`, ['prefect']);
      socket.on('open', () => socket.send(JSON.stringify({ type: 'auth', token: keys['worker-a'] })));
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
      socket.on('error', () => undefined);
    });
    expect(closed.code).toBe(1008);
    expect(closed.reason).toContain('write/work_pools/connect on work pool pool-b');
  });

  it('reads secrets of team-a-* block documents only, by name', async () => {
    const own = await api('worker-a', 'GET', '/block_types/slug/secret/block_documents/name/team-a-db?include_secrets=true');
    expect(own.status).toBe(200);
    expect(JSON.stringify(own.body)).toContain('team-a-secret');
    const other = await api('worker-a', 'GET', '/block_types/slug/secret/block_documents/name/team-b-db?include_secrets=true');
    expect(other).toEqual({ status: 403, body: { detail: 'API key of user worker-a lacks permission: secret/block_documents on block document team-b-db' } });
    // Reads stay as they are: the block without its secret.
    const plain = await api('worker-a', 'GET', '/block_types/slug/secret/block_documents/name/team-b-db');
    expect(plain.status).toBe(200);
    expect(JSON.stringify(plain.body)).not.toContain('team-b-secret');
  });

  it('writes team_a_* variables only, by name', async () => {
    expect((await run('prefect', ['variable', 'set', 'team_a_region', 'eu'], 'worker-a')).code).toBe(0);
    const refused = await run('prefect', ['variable', 'set', 'team_b_region', 'eu'], 'worker-a');
    expect(refused.code).not.toBe(0);
    expect(output(refused)).toContain('lacks permission: write/variables/create on variable team_b_region');
    const names = (await server$('POST', '/variables/filter', {}) as Array<{ name: string }>).map((v) => v.name).sort();
    expect(names).toEqual(['team_a_last_run', 'team_a_region']);
  });

  it('sees at once a deployment retagged through the proxy, whatever the cache holds', async () => {
    expect((await api('tagged-a', 'POST', `/deployments/${ids.a}/create_flow_run`, {})).status).toBe(201);
    expect((await api('dev', 'PATCH', `/deployments/${ids.a}`, { tags: ['team-x'] })).status).toBe(204);
    const refused = await api('tagged-a', 'POST', `/deployments/${ids.a}/create_flow_run`, {});
    expect(refused.status).toBe(403);
    expect((await api('dev', 'PATCH', `/deployments/${ids.a}`, { tags: ['team-a'] })).status).toBe(204);
    expect((await api('tagged-a', 'POST', `/deployments/${ids.a}/create_flow_run`, {})).status).toBe(201);
  });
});

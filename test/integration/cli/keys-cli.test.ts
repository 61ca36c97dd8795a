import request from 'supertest';
import { createDbAuditSink } from '../../../src/storage';
import { hashedKeyValue } from '../../../src/keys';
import { createLogger } from '../../../src/log';
import type { CliResult } from '../../support/cli';
import { runCli } from '../../support/cli';
import type { DbKind, TestDatabase } from '../../support/databases';
import { createTestDatabase, DB_KINDS, insertKey } from '../../support/databases';
import type { TestProxy } from '../../support/proxy';
import { startTestProxy } from '../../support/proxy';
import type { RecordingUpstream } from '../../support/upstream';
import { startRecordingUpstream } from '../../support/upstream';

jest.setTimeout(60_000);

const json = (r: CliResult) => JSON.parse(r.stdout) as Record<string, unknown> & Array<Record<string, unknown>>;

describe.each(DB_KINDS)('key management CLI on %s', (kind: DbKind) => {
  let db: TestDatabase;
  let upstream: RecordingUpstream;
  let proxy: TestProxy;
  const cli = (...args: string[]) => runCli(args, db.env);
  const call = (key: string, query: string) =>
    request(proxy.url).post('/').set({ 'content-type': 'application/json', authorization: `Bearer ${key}` }).send(JSON.stringify({ query }));

  beforeAll(async () => {
    db = await createTestDatabase(kind, `cli_${kind}`);
    await insertKey(db, { userId: 'legacy1', scopes: 'query/*', key: 'legacy-plain-1' });
    await insertKey(db, { userId: 'legacy2', scopes: 'query/*', key: 'legacy-plain-2' });
    upstream = await startRecordingUpstream();
    // Keep the cache out of the way: the CLI changes the store behind the proxy's back.
    proxy = await startTestProxy({ ...db.env, API_SERVICE_URL: upstream.url, KEY_CACHE_TTL: '0', KEY_CACHE_NEGATIVE_TTL: '0' });
  });

  afterAll(async () => {
    await proxy.stop();
    await upstream.close();
    await db.drop();
  });

  it('db init / migrate / status: creates the audit table beside the existing key table, idempotently', async () => {
    const first = await cli('db', 'migrate', '--json');
    expect(first.code).toBe(0);
    const again = await cli('db', 'init');
    expect(again).toMatchObject({ code: 0, stdout: 'schema is up to date\n' });
    const status = json(await cli('db', 'status', '--json'));
    expect(status).toEqual({ applied: ['001_prefect_api_keys', '002_prefect_audit_log', '003_prefect_auth_proxy_changes', '004_prefect_auth_proxy_sessions', '006_people_and_own_keys', '007_key_last_used'], pending: [] });
    expect(await db.knex.schema.hasTable('prefect_audit_log')).toBe(true);
    expect(await db.knex('prefect_api_keys').count({ n: '*' }).first()).toMatchObject({ n: expect.anything() });
    expect((await db.knex('prefect_api_keys').select('user_id')).length).toBe(2);
  });

  it('creates a key, prints it once, stores only its hash, and the key works on a running proxy', async () => {
    const created = await cli('keys', 'create', '--user', 'alice', '--role', 'runner', '--expires', '30d', '--by', 'ops');
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^pap_[A-Za-z0-9_-]{40}$/);
    expect(created.stderr).toContain('shown only now');
    const row = await db.knex('prefect_api_keys').where({ user_id: 'alice' }).first();
    expect(row.api_key).toBe(hashedKeyValue(key));
    expect(row.scopes).toBe('role:runner');
    expect(row.creatd_by).toBe('ops');
    expect((await call(key, 'mutation { create_flow_run(input: {}) { id } }')).status).toBe(200);
    expect((await call(key, 'mutation { delete_project(input: {}) { success } }')).status).toBe(403);
  });

  it('creates a key narrowed to named things with --only, as easily as any other', async () => {
    const created = await cli('keys', 'create', '--user', 'ci-team-a', '--role', 'runner', '--only', 'deployment:team-a/*', '--only', 'pool:pool-a');
    // With stderr, so that a failure says why (it failed once under full-suite load, and passed alone).
    expect({ code: created.code, stderr: created.code === 0 ? '' : created.stderr }).toEqual({ code: 0, stderr: '' });
    expect(created.stderr).toContain('scopes role:runner@deployment:team-a/*+pool:pool-a');
    expect((await db.knex('prefect_api_keys').where({ user_id: 'ci-team-a' }).first()).scopes).toBe('role:runner@deployment:team-a/*+pool:pool-a');
    // Prefect 1 objects are not narrowed: a narrowed role keeps its reads and drops its Prefect 1 mutations.
    const key = created.stdout.trim();
    expect((await call(key, '{ flow { id } }')).status).toBe(200);
    expect((await call(key, 'mutation { create_flow_run(input: {}) { id } }')).status).toBe(403);
    expect((await cli('keys', 'set-scopes', '--user', 'ci-team-a', '--role', 'runner', '--only', 'tag:team-a')).code).toBe(0);
    expect((await db.knex('prefect_api_keys').where({ user_id: 'ci-team-a' }).first()).scopes).toBe('role:runner@tag:team-a');
    await db.knex('prefect_api_keys').where({ user_id: 'ci-team-a' }).delete();
  });

  it('lists and shows keys without ever printing one', async () => {
    const list = await cli('keys', 'list', '--json');
    expect(list.code).toBe(0);
    const rows = json(list);
    expect(rows.map((r) => r.user)).toEqual(['alice', 'legacy1', 'legacy2']);
    expect(rows[0]).toMatchObject({ storage: 'hashed', active: true, keyId: expect.stringMatching(/^[0-9a-f]{12}$/) });
    expect(rows[1]).toMatchObject({ storage: 'plaintext', keyId: null });
    expect(list.stdout).not.toContain('legacy-plain');
    const table = await cli('keys', 'list');
    expect(table.stdout).toMatch(/^USER\s+SCOPES/);
    expect(table.stdout).not.toContain('legacy-plain');
    expect(json(await cli('keys', 'show', '--user', 'alice', '--json'))).toMatchObject({ user: 'alice', scopes: 'role:runner' });
  });

  it('refuses what it cannot do with one line and a non-zero exit', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['keys', 'create', '--user', 'alice', '--scopes', 'query/*'], 1, /already has a key/],
      [['keys', 'show', '--user', 'nobody'], 1, /no key for user "nobody"/],
      [['keys', 'create', '--user', 'bob', '--role', 'nope'], 1, /unknown roles: role:nope/],
      [['keys', 'create', '--user', 'bob', '--scopes', 'query/*', '--by', 'a-very-long-admin-name'], 1, /1 to 11 characters/],
      [['keys', 'create', '--user', 'bob', '--scopes', 'query/*', '--expires', 'soon'], 1, /cannot read expiry/],
      [['keys', 'create', '--user', 'bob'], 2, /--scopes/],
      [['keys', 'create', '--user', 'bob', '--scopes', 'read/*', '--only', 'tag:a'], 2, /--only narrows the role/],
      [['keys', 'create', '--user', 'bob', '--role', 'runner', '--only', 'team-a/*'], 1, /malformed scopes: role:runner@team-a\/\* \(.*key:pattern/],
      [['keys', 'create', '--user', 'bob', '--scopes', 'read/deployments@tag:a'], 1, /reads are not narrowed/],
      [['keys', 'create'], 2, /--user/],
      [['keys', 'frobnicate'], 2, /unknown command/],
    ];
    for (const [args, code, message] of cases) {
      const result = await cli(...args);
      expect({ args, code: result.code }).toEqual({ args, code });
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('sets scopes, rotates, expires and revokes', async () => {
    expect((await cli('keys', 'set-scopes', '--user', 'alice', '--scopes', 'query/*, mutation/delete_project')).code).toBe(0);
    const oldKey = (await cli('keys', 'rotate', '--user', 'legacy1')).stdout.trim();
    expect(oldKey).toMatch(/^pap_/);
    expect((await call('legacy-plain-1', '{ flow { id } }')).status).toBe(401);
    expect((await call(oldKey, '{ flow { id } }')).status).toBe(200);

    const rotated = json(await cli('keys', 'rotate', '--user', 'legacy1', '--json'));
    expect((await call(oldKey, '{ flow { id } }')).status).toBe(401);
    expect((await call(String(rotated.key), '{ flow { id } }')).status).toBe(200);

    expect(json(await cli('keys', 'expire', '--user', 'legacy1', '--at', '2099-12-31', '--json'))).toMatchObject({ expires: '2099-12-31 00:00:00', active: true });
    expect(json(await cli('keys', 'revoke', '--user', 'legacy1', '--json'))).toMatchObject({ active: false });
    expect((await call(String(rotated.key), '{ flow { id } }')).status).toBe(401);
  });

  it('hashes plaintext keys in place, with a dry run, idempotently', async () => {
    const dry = json(await cli('keys', 'hash-existing', '--dry-run', '--json'));
    expect(dry).toEqual({ dryRun: true, users: ['legacy2'] });
    expect((await db.knex('prefect_api_keys').where({ user_id: 'legacy2' }).first()).api_key).toBe('legacy-plain-2');
    expect((await cli('keys', 'hash-existing')).stdout).toBe('hashed 1 plaintext key(s): legacy2\n');
    expect((await db.knex('prefect_api_keys').where({ user_id: 'legacy2' }).first()).api_key).toBe(hashedKeyValue('legacy-plain-2'));
    expect(json(await cli('keys', 'hash-existing', '--json'))).toEqual({ dryRun: false, users: [] });
    expect((await call('legacy-plain-2', '{ flow { id } }')).status).toBe(200);
  });
});

describe.each(DB_KINDS)('audit CLI on %s', (kind: DbKind) => {
  it('filters the trail by user, outcome and time, as a table, JSON and CSV', async () => {
    const db = await createTestDatabase(kind, `cli_audit_${kind}`);
    expect((await runCli(['db', 'migrate'], db.env)).code).toBe(0);
    const sink = createDbAuditSink({ db: db.knex, type: kind, queueMax: 100, flushIntervalMs: 60_000, retentionDays: 0, logger: createLogger({ level: 'error', format: 'json', env: 'test' }) });
    const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000);
    const base = { dialect: 'graphql' as const, operationType: 'mutation', operationName: null, fields: ['create_flow_run'], permissions: ['mutation/create_flow_run'], keyId: 'abc', client: '10.0.0.1', latencyMs: 2 };
    sink.record({ ...base, outcome: 'ALLOWED', user: 'alice', requestId: 'r1', status: 200, time: at(120) });
    sink.record({ ...base, outcome: 'BLOCKED', user: 'alice', requestId: 'r2', status: 403, time: at(30) });
    sink.record({ ...base, outcome: 'ALLOWED', user: 'bob', requestId: 'r3', status: 200, time: at(10) });
    await sink.flush(5000);
    sink.stop();
    const cli = (...args: string[]) => runCli(args, db.env);

    const json = await cli('audit', '--user', 'alice', '--since', '1h', '--json');
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as Array<{ requestId: string }>).map((r) => r.requestId)).toEqual(['r2']);
    const all = JSON.parse((await cli('audit', '--format', 'json')).stdout) as Array<{ requestId: string }>;
    expect(all.map((r) => r.requestId)).toEqual(['r3', 'r2', 'r1']);
    const csv = await cli('audit', '--outcome', 'allowed', '--format', 'csv');
    expect(csv.stdout.split('\r\n').filter(Boolean)).toHaveLength(3);
    expect(csv.stdout).toMatch(/^time,requestId,user,outcome/);
    const table = await cli('audit', '--limit', '1');
    expect(table.stdout).toMatch(/^TIME\s+OUTCOME\s+USER/);
    expect(table.stdout.trim().split('\n')).toHaveLength(2);
    const bad = await cli('audit', '--since', 'yesterday');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('since must be like');
    await db.drop();
  });
});

describe('db migrate on a table it does not recognize', () => {
  it('refuses with a clear message and changes nothing', async () => {
    const db = await createTestDatabase('postgres', 'cli_bad_shape');
    await db.knex.raw('DROP TABLE prefect_api_keys');
    await db.knex.raw('CREATE TABLE prefect_api_keys (user_id varchar(10) PRIMARY KEY, token text)');
    const result = await runCli(['db', 'migrate'], db.env);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(/^prefect-auth-proxy: table prefect_api_keys exists but lacks columns scopes, api_key/);
    expect(await db.knex.schema.hasTable('prefect_audit_log')).toBe(false);
    await db.drop();
  });

  it('refuses an api_key column too short for hashed keys', async () => {
    const db = await createTestDatabase('mysql', 'cli_short_key');
    await db.knex.raw('ALTER TABLE prefect_api_keys MODIFY api_key varchar(40) NOT NULL');
    const result = await runCli(['db', 'migrate'], db.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('hashed keys need 71');
    await db.drop();
  });
});

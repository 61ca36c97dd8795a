import { dbNowPlus } from '../../src/storage';
import type { CliResult } from '../support/cli';
import { runCli } from '../support/cli';
import type { DbKind, TestDatabase } from '../support/databases';
import { createTestDatabase, insertKey } from '../support/databases';
import type { TestProxy } from '../support/proxy';
import { startTestProxy, waitFor } from '../support/proxy';
import type { ServerProcess } from '../support/server-process';
import { startServerProcess } from '../support/server-process';
import type { RecordingUpstream } from '../support/upstream';
import { startRecordingUpstream } from '../support/upstream';
import type { TcpRelay } from '../support/tcp-relay';
import { startTcpRelay } from '../support/tcp-relay';

jest.setTimeout(120_000);

/** Long enough that only the change table, never expiry, can explain a proxy forgetting a key. */
const LONG_CACHE = { KEY_CACHE_TTL: '3600', KEY_CACHE_NEGATIVE_TTL: '3600' };
/** What the CLI promises with the default KEY_CHANGE_POLL_INTERVAL; the test allows a margin. */
const PROMISE = 'Running proxies forget it within 2 s.';
const WITHIN_MS = 10_000;

/** One request with an operation name the recording upstream can be searched for. */
async function ask(url: string, key: string, operation: string): Promise<number> {
  const res = await fetch(`${url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: `query ${operation} { flow { id } }` }),
  });
  await res.arrayBuffer();
  return res.status;
}

/**
 * Asks until the proxy refuses, then checks the refusal holds: nothing with this operation
 * reached the upstream from the first refusal on.
 */
async function expectRefusalFrom(url: string, upstream: RecordingUpstream, key: string, operation: string, status: number): Promise<void> {
  const forwarded = () => upstream.received.filter((r) => r.body.includes(operation)).length;
  let refusedAt: number | undefined;
  const deadline = Date.now() + WITHIN_MS;
  while (refusedAt === undefined && Date.now() < deadline) {
    const before = forwarded();
    if ((await ask(url, key, operation)) === status) refusedAt = before;
    else await new Promise((r) => setTimeout(r, 100));
  }
  expect({ refused: refusedAt !== undefined, url }).toEqual({ refused: true, url });
  for (let i = 0; i < 5; i++) expect(await ask(url, key, operation)).toBe(status);
  expect(forwarded()).toBe(refusedAt);
}

const cases: Array<[string, DbKind, Record<string, string>]> = [
  ['SQLite, proxies and CLI sharing one file', 'sqlite', {}],
  ['PostgreSQL with CACHE_INVALIDATION=off', 'postgres', { CACHE_INVALIDATION: 'off' }],
  ['MariaDB without Redis', 'mysql', {}],
];

describe.each(cases)('key changes reach every running proxy through the key store: %s', (_name, kind, extraEnv) => {
  let db: TestDatabase;
  let upstream: RecordingUpstream;
  let proxies: ServerProcess[];
  let env: Record<string, string>;
  const cli = (...args: string[]): Promise<CliResult> => runCli(args, env);
  /** Uses the key on every proxy, so each caches it for an hour. */
  const warm = async (key: string, operation: string) => {
    for (const [i, p] of proxies.entries()) expect(await ask(p.url, key, `${operation}${i}`)).toBe(200);
    for (const [i, p] of proxies.entries()) expect(await ask(p.url, key, `${operation}${i}`)).toBe(200);
  };
  const expectEveryProxyRefuses = async (key: string, operation: string, status: number) => {
    await Promise.all(proxies.map((p, i) => expectRefusalFrom(p.url, upstream, key, `${operation}${i}`, status)));
  };

  beforeAll(async () => {
    db = await createTestDatabase(kind, `poll_${kind}`);
    upstream = await startRecordingUpstream();
    env = { ...db.env, ...extraEnv, ...LONG_CACHE, API_SERVICE_URL: upstream.url };
    // A shared database is prepared by the operator; the embedded one prepares itself.
    if (kind !== 'sqlite') expect((await cli('db', 'migrate')).code).toBe(0);
    proxies = [];
    // One after the other: two processes migrating one SQLite file at once would race for its lock.
    for (let i = 0; i < 2; i++) proxies.push(await startServerProcess(env));
  });

  afterAll(async () => {
    await Promise.all((proxies ?? []).map((p) => p.terminate()));
    await upstream?.close();
    await db?.drop();
  });

  it('`keys revoke` from the CLI: every proxy refuses the cached key within seconds', async () => {
    await insertKey(db, { userId: 'bob', scopes: 'query/*', key: 'bob-key-poll-0001', hashed: true });
    await warm('bob-key-poll-0001', 'BobBefore');
    const revoke = await cli('keys', 'revoke', '--user', 'bob');
    expect(revoke).toMatchObject({ code: 0 });
    expect(revoke.stderr).toContain(PROMISE);
    await expectEveryProxyRefuses('bob-key-poll-0001', 'BobBefore', 401);
  });

  it('`keys set-scopes` narrowing: every proxy applies the narrower scopes within seconds', async () => {
    await insertKey(db, { userId: 'carol', scopes: 'query/*', key: 'carol-key-poll-001', hashed: true });
    await warm('carol-key-poll-001', 'CarolBefore');
    const narrowed = await cli('keys', 'set-scopes', '--user', 'carol', '--scopes', 'query/task');
    expect(narrowed).toMatchObject({ code: 0 });
    expect(narrowed.stderr).toContain(PROMISE);
    await expectEveryProxyRefuses('carol-key-poll-001', 'CarolBefore', 403);
  });

  it('`cache reset`: every proxy forgets a key changed behind its back, and the CLI says so', async () => {
    await insertKey(db, { userId: 'dave', scopes: 'query/*', key: 'dave-key-poll-0001', hashed: true });
    await warm('dave-key-poll-0001', 'DaveBefore');
    await db.knex('prefect_api_keys').where({ user_id: 'dave' }).update({ scopes: 'query/task' });
    const reset = await cli('cache', 'reset');
    expect(reset).toEqual({ code: 0, stdout: '', stderr: `${PROMISE}\n` });
    await expectEveryProxyRefuses('dave-key-poll-0001', 'DaveBefore', 403);
  });

  it('the admin routes of one proxy reach the other: a revocation and POST /cache/reset', async () => {
    await insertKey(db, { userId: 'root', scopes: '*', key: 'root-key-poll-0001', hashed: true });
    const admin = { authorization: 'Bearer root-key-poll-0001' };
    await insertKey(db, { userId: 'gina', scopes: 'query/*', key: 'gina-key-poll-001', hashed: true });
    await warm('gina-key-poll-001', 'GinaBefore');
    expect((await fetch(`${proxies[0]?.url}/admin/keys/gina/revoke`, { method: 'POST', headers: admin })).status).toBe(200);
    await expectEveryProxyRefuses('gina-key-poll-001', 'GinaBefore', 401);

    await insertKey(db, { userId: 'hank', scopes: 'query/*', key: 'hank-key-poll-001', hashed: true });
    await warm('hank-key-poll-001', 'HankBefore');
    await db.knex('prefect_api_keys').where({ user_id: 'hank' }).update({ scopes: 'query/task' });
    const reset = await fetch(`${proxies[0]?.url}/cache/reset`, { method: 'POST', headers: admin });
    expect(await reset.json()).toMatchObject({ detail: 'key cache cleared', recorded: true });
    await expectEveryProxyRefuses('hank-key-poll-001', 'HankBefore', 403);
  });

  it('`cache forget-user` is recorded like any change, and rows older than an hour are pruned on write', async () => {
    await db.knex('prefect_auth_proxy_changes').insert({ kind: 'user', subject: 'long-ago', changed_at: dbNowPlus(db.knex, kind, -7200) });
    const forget = await cli('cache', 'forget-user', '--user', 'nobody');
    expect(forget).toEqual({ code: 0, stdout: '', stderr: `${PROMISE}\n` });
    const subjects = (await db.knex('prefect_auth_proxy_changes').select('subject')).map((r: { subject: string }) => r.subject);
    expect(subjects).toContain('nobody');
    expect(subjects).not.toContain('long-ago');
  });

  it('`keys create` says nothing about caches: a new key has nothing to forget', async () => {
    const created = await cli('keys', 'create', '--user', 'erin', '--role', 'viewer');
    expect({ code: created.code, stderr: created.code === 0 ? '' : created.stderr }).toEqual({ code: 0, stderr: '' });
    expect(created.stderr).not.toMatch(/cache|proxies/i);
  });
});

describe('a shared key store without the change table', () => {
  let db: TestDatabase;
  let upstream: RecordingUpstream;
  let proxy: TestProxy;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase('postgres', 'poll_unmigrated');
    upstream = await startRecordingUpstream();
    env = { ...db.env, CACHE_INVALIDATION: 'off', ...LONG_CACHE, API_SERVICE_URL: upstream.url };
    proxy = await startTestProxy(env);
  });

  afterAll(async () => {
    await proxy?.stop();
    await upstream?.close();
    await db?.drop();
  });

  it('keeps serving, warns once how to fix it, and follows the table once `db migrate` created it', async () => {
    await insertKey(db, { userId: 'frank', scopes: 'query/*', key: 'frank-key-poll-001', hashed: true });
    expect(await ask(proxy.url, 'frank-key-poll-001', 'FrankBefore')).toBe(200);
    const warnings = proxy.logs.filter((l) => l.level === 'warn' && String(l.message).includes('prefect_auth_proxy_changes'));
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]?.message)).toContain('run `prefect-auth-proxy db migrate`');

    // Before the migration the CLI cannot reach the proxy, and says what to do.
    const early = await runCli(['keys', 'set-scopes', '--user', 'frank', '--scopes', 'query/*, mutation/x'], env);
    expect(early.code).toBe(0);
    expect(early.stderr).toMatch(/^Warning: running proxies were not told; .*run `prefect-auth-proxy db migrate`/);
    const reset = await runCli(['cache', 'reset'], env);
    expect(reset.code).toBe(1);
    expect(reset.stderr).toContain('db migrate');

    expect((await runCli(['db', 'migrate'], env)).code).toBe(0);
    expect((await runCli(['keys', 'revoke', '--user', 'frank'], env)).stderr).toContain(PROMISE);
    await expectRefusalFrom(proxy.url, upstream, 'frank-key-poll-001', 'FrankBefore', 401);
    expect(proxy.logs.filter((l) => l.level === 'warn' && String(l.message).includes('prefect_auth_proxy_changes'))).toHaveLength(1);
  });
});

describe('a proxy cut off from the key store', () => {
  let relay: TcpRelay;
  let db: TestDatabase;
  let upstream: RecordingUpstream;
  let proxy: TestProxy;

  beforeAll(async () => {
    relay = await startTcpRelay(5432);
    db = await createTestDatabase('postgres', 'poll_outage', relay.port);
    expect((await runCli(['db', 'migrate'], db.env)).code).toBe(0);
    upstream = await startRecordingUpstream();
    proxy = await startTestProxy({ ...db.env, CACHE_INVALIDATION: 'off', ...LONG_CACHE, API_SERVICE_URL: upstream.url });
  });

  afterAll(async () => {
    await proxy?.stop();
    await upstream?.close();
    await db?.drop();
    await relay?.close();
  });

  it('keeps serving cached keys, then applies the revocation it missed once the key store is back', async () => {
    await insertKey(db, { userId: 'ivan', scopes: 'query/*', key: 'ivan-key-poll-0001', hashed: true });
    expect(await ask(proxy.url, 'ivan-key-poll-0001', 'IvanBefore')).toBe(200);
    relay.cut();
    // The CLI reaches the database directly: the change is made while this proxy cannot see it.
    const direct = { ...db.env, DATABASE_URL: db.env.DATABASE_URL?.replace(`:${relay.port}/`, ':5432/') ?? '' };
    expect((await runCli(['keys', 'revoke', '--user', 'ivan'], direct)).code).toBe(0);
    const polled = () => proxy.logs.some((l) => String(l.message).startsWith('cannot read key changes'));
    await waitFor(polled, WITHIN_MS);
    expect(await ask(proxy.url, 'ivan-key-poll-0001', 'IvanBefore')).toBe(200);
    relay.restore();
    await expectRefusalFrom(proxy.url, upstream, 'ivan-key-poll-0001', 'IvanBefore', 401);
    expect(proxy.logs.some((l) => String(l.message).includes('clearing the key cache'))).toBe(false);
    expect(proxy.rawLogs()).not.toContain('ivan-key-poll-0001');
  });
});

import Redis from 'ioredis';
import type { DbKind, TestDatabase } from '../support/databases';
import { createTestDatabase, insertKey } from '../support/databases';
import { runCli } from '../support/cli';
import type { ServerProcess } from '../support/server-process';
import { startServerProcess } from '../support/server-process';
import type { RecordingUpstream } from '../support/upstream';
import { startRecordingUpstream } from '../support/upstream';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
/** Long enough that only an invalidation, never expiry, can explain a proxy forgetting a key. */
const LONG_CACHE = { KEY_CACHE_TTL: '3600', KEY_CACHE_NEGATIVE_TTL: '3600' };
const QUERY = '{"query":"{ flow { id } }"}';

async function ask(proxy: ServerProcess, key: string): Promise<number> {
  const res = await fetch(`${proxy.url}/`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: QUERY });
  await res.arrayBuffer();
  return res.status;
}

/** Polls until the proxy answers `status`, returning how long it took; fails after 5 s. */
async function until(proxy: ServerProcess, key: string, status: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < 5000) {
    if ((await ask(proxy, key)) === status) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${proxy.url} never answered ${status} for the key`);
}

const cases: Array<[string, DbKind, Record<string, string>]> = [
  ['PostgreSQL LISTEN/NOTIFY', 'postgres', { CACHE_INVALIDATION: 'postgres' }],
  ['Redis pub/sub (MariaDB key store)', 'mysql', { REDIS_URL, CACHE_INVALIDATION: 'redis' }],
];

describe.each(cases)('cache invalidation across two proxy processes: %s', (_name, kind, channelEnv) => {
  let db: TestDatabase;
  let upstream: RecordingUpstream;
  let a: ServerProcess;
  let b: ServerProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase(kind, `invalidation_${kind}`);
    await insertKey(db, { userId: 'root', scopes: '*', key: 'root-key-inval-1', hashed: true });
    upstream = await startRecordingUpstream();
    env = { ...db.env, ...channelEnv, ...LONG_CACHE, API_SERVICE_URL: upstream.url };
    [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    // The listeners connect in the background; give them a moment before the first eviction.
    await new Promise((r) => setTimeout(r, 500));
  });

  afterAll(async () => {
    await Promise.all([a?.terminate(), b?.terminate()]);
    await upstream.close();
    await db.drop();
  });

  it('a revocation through the admin API of one instance reaches the other', async () => {
    await insertKey(db, { userId: 'alice', scopes: 'query/*', key: 'alice-key-inval', hashed: true });
    expect(await ask(a, 'alice-key-inval')).toBe(200);
    expect(await ask(b, 'alice-key-inval')).toBe(200);
    const revoked = await fetch(`${a.url}/admin/keys/alice/revoke`, { method: 'POST', headers: { authorization: 'Bearer root-key-inval-1' } });
    expect(revoked.status).toBe(200);
    expect(await ask(a, 'alice-key-inval')).toBe(401);
    expect(await until(b, 'alice-key-inval', 401)).toBeLessThan(3000);
  });

  it('the CLI tells every instance: revoke, rotate, and a key created after it was tried', async () => {
    await insertKey(db, { userId: 'bob', scopes: 'query/*', key: 'bob-key-inval-1', hashed: true });
    expect(await ask(a, 'bob-key-inval-1')).toBe(200);
    expect(await ask(b, 'bob-key-inval-1')).toBe(200);
    const revoke = await runCli(['keys', 'revoke', '--user', 'bob'], env);
    expect(revoke.code).toBe(0);
    expect(revoke.stderr).toContain('Running proxies were told');
    expect(await until(a, 'bob-key-inval-1', 401)).toBeLessThan(3000);
    expect(await until(b, 'bob-key-inval-1', 401)).toBeLessThan(3000);

    // Unknown keys are remembered as unknown for an hour here; creation must clear that everywhere.
    const created = await runCli(['keys', 'create', '--user', 'carol', '--role', 'viewer', '--json'], env);
    expect(created.code).toBe(0);
    const key = (JSON.parse(created.stdout) as { key: string }).key;
    await db.knex('prefect_api_keys').where({ user_id: 'carol' }).delete();
    expect(await ask(a, key)).toBe(401);
    expect(await ask(b, key)).toBe(401);
    const again = await runCli(['keys', 'create', '--user', 'carol', '--role', 'viewer', '--json'], env);
    const newKey = (JSON.parse(again.stdout) as { key: string }).key;
    expect(await ask(a, newKey)).toBe(200);
    const rotated = await runCli(['keys', 'rotate', '--user', 'carol', '--json'], env);
    expect(rotated.code).toBe(0);
    expect(await until(a, newKey, 401)).toBeLessThan(3000);
    expect(await until(b, newKey, 401)).toBeLessThan(3000);
  });

  it('`cache reset` empties every instance; a listener that lost its connection clears its cache when back', async () => {
    await insertKey(db, { userId: 'dave', scopes: 'query/*', key: 'dave-key-inval-1', hashed: true });
    expect(await ask(a, 'dave-key-inval-1')).toBe(200);
    expect(await ask(b, 'dave-key-inval-1')).toBe(200);
    // Changed behind the proxies' backs: only a reset can make them see it.
    await db.knex('prefect_api_keys').where({ user_id: 'dave' }).update({ scopes: 'read/*' });
    expect(await ask(b, 'dave-key-inval-1')).toBe(200);
    const reset = await runCli(['cache', 'reset'], env);
    expect(reset.code).toBe(0);
    expect(await until(a, 'dave-key-inval-1', 403)).toBeLessThan(3000);
    expect(await until(b, 'dave-key-inval-1', 403)).toBeLessThan(3000);

    // Cut the listeners' connections, change a key with nobody told: the reconnect must forget it.
    await insertKey(db, { userId: 'erin', scopes: 'query/*', key: 'erin-key-inval-1', hashed: true });
    expect(await ask(b, 'erin-key-inval-1')).toBe(200);
    await db.knex('prefect_api_keys').where({ user_id: 'erin' }).update({ scopes: 'read/*' });
    await cutListeners(kind);
    expect(await until(b, 'erin-key-inval-1', 403)).toBeLessThan(5000);
  });
});

async function cutListeners(kind: DbKind): Promise<void> {
  if (kind === 'postgres') {
    const { default: knex } = await import('knex');
    const admin = knex({ client: 'pg', connection: { host: '127.0.0.1', user: 'postgres', database: 'postgres' } });
    await admin.raw(`select pg_terminate_backend(pid) from pg_stat_activity where query = 'LISTEN prefect_auth_proxy_cache' and pid <> pg_backend_pid()`);
    await admin.destroy();
    return;
  }
  const redis = new Redis(REDIS_URL);
  await redis.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
  redis.disconnect();
}

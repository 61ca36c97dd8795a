import { buildRoleTable } from '../../../src/authz';
import { createKeyAdmin, createKeyUsageRecorder, dbNowPlus, migrateLatest } from '../../../src/storage';
import { runCli } from '../../support/cli';
import type { TestDatabase } from '../../support/databases';
import { createTestDatabase, DB_KINDS, insertKey } from '../../support/databases';
import { useStarted } from '../../support/lifecycle';
import type { TestProxy } from '../../support/proxy';
import { startTestProxy } from '../../support/proxy';
import type { RecordingUpstream } from '../../support/upstream';
import { startRecordingUpstream } from '../../support/upstream';

const DAY = 86400;

describe.each(DB_KINDS)('when keys were last used, on %s', (kind) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(kind, 'key_usage');
    await migrateLatest(db.knex, kind);
    for (const [userId, key] of [['fresh', 'k-fresh-0001'], ['idle', 'k-idle-00002'], ['never', 'k-never-0003'], ['new', 'k-new-000004']] as const) {
      await insertKey(db, { userId, scopes: 'role:viewer', key, hashed: true });
    }
    // Made 40 days ago; `idle` last used 35 days ago, `never` never used; `new` made today and unused.
    const ago = (days: number) => dbNowPlus(db.knex, kind, -days * DAY);
    await db.knex('prefect_api_keys').whereIn('user_id', ['fresh', 'idle', 'never']).update({ creatd_dt: ago(40) });
    await db.knex('prefect_api_keys').where({ user_id: 'idle' }).update({ last_used_dt: ago(35) });
  });
  afterAll(async () => db?.drop());

  it('stamps used keys in one batch, with the database\'s time, and never touches the others', async () => {
    const recorder = createKeyUsageRecorder(db.knex, kind, { intervalMs: 3_600_000 });
    recorder.used('fresh');
    recorder.used('fresh');
    recorder.used('no-such-user');
    await recorder.close();
    const rows = await db.knex('prefect_api_keys').select('user_id', 'last_used_dt').orderBy('user_id');
    const byUser = Object.fromEntries(rows.map((r) => [r.user_id, r.last_used_dt]));
    expect(byUser.fresh).not.toBeNull();
    expect(byUser.never).toBeNull();
    expect(byUser.new).toBeNull();
    expect(byUser.idle).not.toBeNull();
  });

  it('lists live keys unused for N days (never used counts from creation), and expires them in one go', async () => {
    const admin = createKeyAdmin(db.knex, kind, buildRoleTable());
    expect((await admin.listUnused(30)).map((k) => k.user).sort()).toEqual(['idle', 'never']);
    expect((await admin.listUnused(38)).map((k) => k.user)).toEqual(['never']);
    expect((await admin.list()).find((k) => k.user === 'fresh')?.lastUsed).toMatch(/^\d{4}-\d{2}-\d{2}/);
    await expect(admin.listUnused(0)).rejects.toThrow('days');
    expect(await admin.expireUnused(30, { dryRun: true, by: 'test' })).toMatchObject({ users: ['idle', 'never'] });
    expect((await admin.listUnused(30)).length).toBe(2);
    expect(await admin.expireUnused(30, { dryRun: false, by: 'test' })).toMatchObject({ users: ['idle', 'never'] });
    expect(await admin.listUnused(30)).toEqual([]);
    const active = (await admin.list()).filter((k) => k.active).map((k) => k.user).sort();
    expect(active).toEqual(['fresh', 'new']);
    // Every proxy is told to forget them.
    const changes = await db.knex('prefect_auth_proxy_changes').where({ kind: 'user' }).pluck('subject');
    expect(changes).toEqual(expect.arrayContaining(['idle', 'never']));
  });
});

describe('last used through a running proxy, the CLI and the admin API', () => {
  const stack = useStarted<{ db: TestDatabase; upstream: RecordingUpstream; proxy: TestProxy }>(async () => {
    const db = await createTestDatabase('sqlite', 'key_usage_proxy');
    await insertKey(db, { userId: 'boss', scopes: 'role:owner', key: 'boss-key-usage-1', hashed: true });
    await insertKey(db, { userId: 'worker', scopes: 'role:worker', key: 'worker-key-usage', hashed: true });
    await insertKey(db, { userId: 'old', scopes: 'role:viewer', key: 'old-key-usage-01', hashed: true });
    await db.knex('prefect_api_keys').where({ user_id: 'old' }).update({ creatd_dt: dbNowPlus(db.knex, 'sqlite', -100 * DAY) });
    const upstream = await startRecordingUpstream();
    const proxy = await startTestProxy({ ...db.env, API_KIND: 'rest', API_SERVICE_URL: upstream.url, KEY_USAGE_FLUSH_INTERVAL: '1' });
    return { db, upstream, proxy };
  }, async ({ db, upstream, proxy }) => {
    await proxy.stop();
    await upstream.close();
    await db.drop();
  });

  const as = (key: string, path: string, init: RequestInit = {}) =>
    fetch(`${stack.proxy.url}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } });

  it('records a use within the flush interval, cached or not, and shows it', async () => {
    for (let i = 0; i < 5; i++) expect((await as('worker-key-usage', '/api/flows/filter', { method: 'POST', body: '{}' })).status).toBe(200);
    const deadline = Date.now() + 5000;
    let row: { last_used_dt: unknown } | undefined;
    while (Date.now() < deadline && !(row = await stack.db.knex('prefect_api_keys').where({ user_id: 'worker' }).first('last_used_dt'))?.last_used_dt) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(row?.last_used_dt).toBeTruthy();
    const listed = await runCli(['keys', 'list', '--json'], stack.db.env);
    expect(JSON.parse(listed.stdout).find((k: { user: string }) => k.user === 'worker').lastUsed).toMatch(/^\d{4}-/);
  });

  it('lists and expires unused keys from the CLI and the admin API; an expired key is refused', async () => {
    const cli = await runCli(['keys', 'list', '--unused-days', '90', '--json'], stack.db.env);
    expect(JSON.parse(cli.stdout).map((k: { user: string }) => k.user)).toEqual(['old']);
    const listed = await as('boss-key-usage-1', '/admin/keys?unused_days=90');
    expect((await listed.json() as Array<{ user: string }>).map((k) => k.user)).toEqual(['old']);
    const bad = await as('boss-key-usage-1', '/admin/keys/expire-unused', { method: 'POST', body: '{"days": "soon"}' });
    expect([bad.status, (await bad.json() as { detail: string }).detail]).toEqual([400, expect.stringContaining('days')]);
    const dry = await as('boss-key-usage-1', '/admin/keys/expire-unused', { method: 'POST', body: '{"days": 90, "dry_run": true}' });
    expect(await dry.json()).toEqual({ users: ['old'], dry_run: true });
    expect((await as('old-key-usage-01', '/api/flows/filter', { method: 'POST', body: '{}' })).status).toBe(200);
    const done = await as('boss-key-usage-1', '/admin/keys/expire-unused', { method: 'POST', body: '{"days": 90}' });
    expect(await done.json()).toEqual({ users: ['old'], dry_run: false });
    expect((await as('old-key-usage-01', '/api/flows/filter', { method: 'POST', body: '{}' })).status).toBe(401);
    const refused = await as('worker-key-usage', '/admin/keys/expire-unused', { method: 'POST', body: '{"days": 90}' });
    expect(refused.status).toBe(403);
  });
});

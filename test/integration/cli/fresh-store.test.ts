import { existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { runCli } from '../../support/cli';
import type { TestProxy } from '../../support/proxy';
import { startTestProxy } from '../../support/proxy';
import type { RecordingUpstream } from '../../support/upstream';
import { startRecordingUpstream } from '../../support/upstream';

jest.setTimeout(60_000);

/** An operator's first command, before the server has ever started: the embedded store does not exist yet. */
describe('key CLI on a fresh embedded store', () => {
  let upstream: RecordingUpstream;
  let proxy: TestProxy | undefined;

  beforeAll(async () => {
    upstream = await startRecordingUpstream();
  });

  afterAll(async () => {
    await proxy?.stop();
    await upstream.close();
  });

  it('keys create prepares the store as the server does, and the key works on a proxy started afterwards', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pap-fresh-'));
    const env = { DB_FILENAME: join(dir, 'data', 'keys.sqlite3') };

    const created = await runCli(['keys', 'create', '--user', 'alice', '--role', 'viewer'], env);
    expect(created.stderr).not.toContain('no such table');
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^pap_/);

    const status = await runCli(['db', 'status', '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ pending: [] });

    proxy = await startTestProxy({ ...env, API_SERVICE_URL: upstream.url });
    const res = await request(proxy.url).post('/').set({ 'content-type': 'application/json', authorization: `Bearer ${key}` })
      .send(JSON.stringify({ query: '{ flow { id } }' }));
    expect(res.status).toBe(200);
    expect(upstream.received).toHaveLength(1);
  });

  it('a read-only first command (keys list) works on a fresh store too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pap-fresh-'));
    const listed = await runCli(['keys', 'list', '--json'], { DB_FILENAME: join(dir, 'keys.sqlite3') });
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(listed.stdout)).toEqual([]);
  });

  it('when the store cannot be prepared, says why in one line and leaves no file behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pap-fresh-'));
    // SQLite cannot create its rollback journal where a directory of that name stands, so the
    // first CREATE TABLE fails after the database file itself was created.
    mkdirSync(join(dir, 'keys.sqlite3-journal'));
    const created = await runCli(['keys', 'create', '--user', 'alice', '--role', 'viewer'], { DB_FILENAME: join(dir, 'keys.sqlite3') });
    expect(created.code).toBe(1);
    expect(created.stdout).toBe('');
    expect(created.stderr).toMatch(/^prefect-auth-proxy: cannot prepare the key store in .*keys\.sqlite3 \(DB_FILENAME\): SQLITE_CANTOPEN/);
    expect(created.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(dir, 'keys.sqlite3'))).toBe(false);
    expect(readdirSync(dir)).toEqual(['keys.sqlite3-journal']);
  });
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { migrateLatest } from '../../src/storage';
import type { DbKind, TestDatabase } from '../support/databases';
import { createTestDatabase, DB_KINDS, insertKey } from '../support/databases';
import { startServerProcess } from '../support/server-process';

jest.setTimeout(60_000);

const N = 150;

/** N concurrent allowed mutations through a keep-alive agent. */
async function sendMutations(url: string, key: string, n: number): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
  const body = JSON.stringify({ query: 'mutation Run { create_flow_run(input: {}) { id } }' });
  const one = () => new Promise<number>((resolve, reject) => {
    const req = http.request(`${url}/`, { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
  const statuses = await Promise.all(Array.from({ length: n }, one));
  agent.destroy();
  return statuses;
}

describe.each(DB_KINDS)('durable audit trail on %s', (kind: DbKind) => {
  let db: TestDatabase;
  let upstream: http.Server;
  let upstreamUrl: string;

  beforeAll(async () => {
    db = await createTestDatabase(kind, `audit_durable_${kind}`);
    await migrateLatest(db.knex, kind);
    await insertKey(db, { userId: 'runner', scopes: 'query/* mutation/*', key: 'runner-key-0001', hashed: true });
    upstream = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('{"data":{"create_flow_run":{"id":"x"}}}'));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    upstream.closeAllConnections();
    upstream.close();
    await db.drop();
  });

  it('writes one row per audited request, none lost across SIGTERM and restart', async () => {
    // A long flush interval: everything still queued at SIGTERM must be written by the shutdown.
    const env = { ...db.env, API_SERVICE_URL: upstreamUrl, AUDIT_FLUSH_INTERVAL: '60000' };
    for (let round = 1; round <= 2; round++) {
      const server = await startServerProcess(env);
      const statuses = await sendMutations(server.url, 'runner-key-0001', N);
      expect(statuses.every((s) => s === 200)).toBe(true);
      expect(await server.terminate()).toBe(0);
      const rows = await db.knex('prefect_audit_log').select('user_id', 'outcome', 'status', 'operation', 'permission', 'key_id', 'dialect');
      expect(rows).toHaveLength(N * round);
      expect(rows[0]).toMatchObject({ user_id: 'runner', outcome: 'ALLOWED', status: 200, dialect: 'graphql', operation: 'mutation create_flow_run', permission: 'mutation/create_flow_run', key_id: expect.stringMatching(/^[0-9a-f]{12}$/) });
      expect(server.output()).not.toContain('runner-key-0001');
    }
  });
});

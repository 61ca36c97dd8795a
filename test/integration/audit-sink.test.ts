import { PassThrough } from 'node:stream';
import type { AuditEvent } from '../../src/audit';
import { createDatabase, createDbAuditSink, migrateLatest, queryAudit } from '../../src/storage';
import { parseConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { createTestDatabase } from '../support/databases';
import { startTcpRelay } from '../support/tcp-relay';

const event = (i: number): AuditEvent => ({
  outcome: i % 2 ? 'BLOCKED' : 'ALLOWED', dialect: 'graphql', operationType: 'mutation', operationName: `Op${i}`,
  fields: ['create_flow_run'], permissions: ['mutation/create_flow_run'], time: new Date(Date.UTC(2026, 10, 1, 0, 0, i)),
  requestId: `req-${i}`, user: i % 2 ? 'bob' : 'alice', keyId: 'abcdef012345', client: '127.0.0.1', status: i % 2 ? 403 : 200, latencyMs: 1.5,
});

function captureLogger() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return { logger: createLogger({ level: 'warn', format: 'json', env: 'test', stream }), text: () => text };
}

describe('database audit sink', () => {
  it('drops what exceeds the queue, counts it and says so', async () => {
    const db = await createTestDatabase('sqlite', 'audit_overflow');
    const { logger, text } = captureLogger();
    const sink = createDbAuditSink({ db: db.knex, type: 'sqlite', queueMax: 5, flushIntervalMs: 60_000, retentionDays: 0, logger });
    for (let i = 0; i < 8; i++) sink.record(event(i));
    expect(sink.stats()).toEqual({ queued: 5, written: 0, dropped: 3 });
    await sink.flush(2000);
    sink.stop();
    expect(sink.stats()).toEqual({ queued: 0, written: 5, dropped: 3 });
    expect(text()).toContain('audit queue full: events dropped');
    expect(await db.knex('prefect_audit_log').count({ n: '*' }).first()).toEqual({ n: 5 });
    await db.drop();
  });

  it('deletes rows older than the retention', async () => {
    const db = await createTestDatabase('mysql', 'audit_retention');
    await migrateLatest(db.knex, 'mysql');
    const { logger } = captureLogger();
    const writer = createDbAuditSink({ db: db.knex, type: 'mysql', queueMax: 10, flushIntervalMs: 60_000, retentionDays: 0, logger });
    writer.record({ ...event(0), time: new Date(Date.now() - 10 * 86_400_000), requestId: 'old' });
    writer.record({ ...event(1), time: new Date(Date.now() - 3_600_000), requestId: 'recent' });
    await writer.flush(2000);
    writer.stop();
    // A sink with a retention purges once when it starts.
    const purger = createDbAuditSink({ db: db.knex, type: 'mysql', queueMax: 10, flushIntervalMs: 60_000, retentionDays: 7, logger });
    const ids = async () => (await db.knex('prefect_audit_log').select('request_id')).map((r: { request_id: string }) => r.request_id);
    for (let tries = 0; tries < 100 && (await ids()).length > 1; tries++) await new Promise((r) => setTimeout(r, 20));
    purger.stop();
    expect(await ids()).toEqual(['recent']);
    await db.drop();
  });

  it('keeps events while PostgreSQL is away and writes them when it is back', async () => {
    const relay = await startTcpRelay(5432);
    const test = await createTestDatabase('postgres', 'audit_outage', relay.port);
    await migrateLatest(test.knex, 'postgres');
    const { config } = parseConfig({ ...test.env, DB_TIMEOUT: '1' });
    const db = createDatabase(config.db);
    const { logger, text } = captureLogger();
    const sink = createDbAuditSink({ db, type: 'postgres', queueMax: 100, flushIntervalMs: 60_000, retentionDays: 0, logger });
    relay.cut();
    for (let i = 0; i < 10; i++) sink.record(event(i));
    await sink.flush(1500);
    expect(sink.stats()).toMatchObject({ queued: 10, written: 0 });
    expect(text()).toContain('audit events cannot be written');
    relay.restore();
    await sink.flush(5000);
    sink.stop();
    expect(sink.stats()).toMatchObject({ queued: 0, written: 10, dropped: 0 });
    const rows = await queryAudit(test.knex, 'postgres', { limit: 100, user: 'bob', outcome: 'BLOCKED', since: new Date(Date.UTC(2026, 10, 1, 0, 0, 3)) });
    expect(rows.map((r) => r.requestId)).toEqual(['req-9', 'req-7', 'req-5', 'req-3']);
    expect(rows[0]).toMatchObject({ time: '2026-11-01T00:00:09.000Z', status: 403, keyId: 'abcdef012345', latencyMs: 1.5 });
    await db.destroy();
    await test.drop();
    await relay.close();
  });
});

import { PassThrough } from 'node:stream';
import type { AuditEvent } from '../../../src/audit';
import { createLogAuditSink } from '../../../src/audit';
import { createLogger } from '../../../src/log';

const event = (user: string | null): AuditEvent => ({
  outcome: 'ALLOWED', dialect: 'graphql', operationType: 'mutation', operationName: null, fields: ['create_flow_run'],
  permissions: ['mutation/create_flow_run'], time: new Date(), requestId: 'r1', user, keyId: user ? '3f9a0c1d2e4b' : null,
  client: '127.0.0.1', status: 200, latencyMs: 1,
});

describe('createLogAuditSink', () => {
  it.each([
    ['alice', 'PREFECT_AUDIT_TRAIL: ALLOWED mutation create_flow_run for alice'],
    // Keyless requests (ALLOW_PUBLIC_ACCESS) say what happened, not "for public".
    [null, 'PREFECT_AUDIT_TRAIL: ALLOWED mutation create_flow_run without a key'],
  ])('user %j: %s', (user, message) => {
    const stream = new PassThrough();
    let out = '';
    stream.on('data', (c: Buffer) => (out += c.toString()));
    createLogAuditSink(createLogger({ level: 'error', format: 'json', env: 'test', stream })).record(event(user));
    expect(JSON.parse(out.trim())).toMatchObject({ message, audit: true, user });
  });
});

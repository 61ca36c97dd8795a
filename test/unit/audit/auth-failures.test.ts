import type { AuthFailure } from '../../../src/audit';
import { createAuthFailureRecorder } from '../../../src/audit';
import type { AuditEvent } from '../../../src/audit';

const failure = (client: string, n = 0): AuthFailure => ({
  requestId: `req-${n}`, client, dialect: 'rest', reason: 'invalid or expired API key', route: '/flows/{id:uuid}',
});

describe('failed authentications in the audit trail', () => {
  let events: AuditEvent[];
  const sink = { record: (e: AuditEvent) => events.push(e) };
  beforeEach(() => {
    events = [];
    jest.useFakeTimers();
  });
  afterEach(() => jest.useRealTimers());

  it('writes the first failure of a source at once, and counts the rest into one summary per window', () => {
    const recorder = createAuthFailureRecorder(sink, { windowMs: 60_000 });
    for (let i = 0; i < 1000; i++) recorder.record(failure('10.0.0.1', i));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      outcome: 'BLOCKED', operationType: 'AUTH', operationName: 'authentication failed', client: '10.0.0.1', status: 401,
      user: null, keyId: null, fields: ['/flows/{id:uuid}', 'invalid or expired API key'], requestId: 'req-0',
    });
    jest.advanceTimersByTime(61_000);
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ operationName: 'authentication failed (repeated)', client: '10.0.0.1' });
    expect(events[1]?.fields[0]).toMatch(/^999 more failed authentications in \d+ s$/);
    recorder.stop();
  });

  it('keeps sources apart, and writes nothing more for a source that failed once', () => {
    const recorder = createAuthFailureRecorder(sink, { windowMs: 1000 });
    recorder.record(failure('10.0.0.1'));
    recorder.record(failure('10.0.0.2'));
    jest.advanceTimersByTime(5000);
    expect(events.map((e) => [e.client, e.operationName])).toEqual([
      ['10.0.0.1', 'authentication failed'], ['10.0.0.2', 'authentication failed'],
    ]);
    recorder.stop();
  });

  it('bounds the sources it tracks: a flood from many addresses shares one entry', () => {
    const recorder = createAuthFailureRecorder(sink, { windowMs: 60_000, maxSources: 10 });
    for (let i = 0; i < 10_000; i++) recorder.record(failure(`10.0.${Math.floor(i / 256)}.${i % 256}`, i));
    expect(events).toHaveLength(11);
    expect(events[10]?.client).toBe('(many sources)');
    recorder.stop();
    expect(events).toHaveLength(12);
    expect(events[11]?.fields[0]).toMatch(/^9989 more failed authentications/);
  });

  it('writes what is still counted when stopped', () => {
    const recorder = createAuthFailureRecorder(sink);
    recorder.record(failure('10.0.0.1'));
    recorder.record(failure('10.0.0.1'));
    recorder.stop();
    expect(events.map((e) => e.operationName)).toEqual(['authentication failed', 'authentication failed (repeated)']);
  });
});

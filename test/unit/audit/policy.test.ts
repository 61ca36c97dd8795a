import type { DecidedOperation } from '../../../src/audit';
import { auditPolicy } from '../../../src/audit';

const op = (allowed: boolean, changesState: boolean, operationType = 'POST'): DecidedOperation => ({
  dialect: 'rest', operationType, operationName: '/x', fields: ['/api/x'], allowed, permissions: ['write/x'], changesState,
});

describe('one audit policy for every way in', () => {
  it.each([
    // [case, method, decided, early, expected records (outcome), failure reason]
    ['an allowed read is not recorded', 'GET', [op(true, false, 'GET')], undefined, [], undefined],
    ['an allowed read-only POST is not recorded', 'POST', [op(true, false)], undefined, [], undefined],
    ['an allowed write is recorded', 'POST', [op(true, true)], undefined, ['ALLOWED'], undefined],
    ['a refused read is recorded', 'GET', [op(false, false, 'GET')], undefined, ['BLOCKED'], undefined],
    ['a refused write is recorded', 'DELETE', [op(false, true, 'DELETE')], undefined, ['BLOCKED'], undefined],
    ['a batch records each operation it must', 'POST', [op(true, false), op(true, true), op(false, true)], undefined, ['ALLOWED', 'BLOCKED'], undefined],
    ['a failed authentication goes to the aggregation, never a row', 'POST', [], { kind: 'unauthenticated', reason: 'invalid or expired API key' }, [], 'invalid or expired API key'],
    ['a rate-limited read is only counted', 'GET', [], { kind: 'rate-limited', limit: 'rate:1/1' }, [], undefined],
    ['a rate-limited write is a blocked mutation', 'PATCH', [], { kind: 'rate-limited', limit: 'rate:1/1' }, ['BLOCKED'], undefined],
    ['a rate-limited websocket session is recorded', 'WEBSOCKET', [op(true, true, 'WEBSOCKET')], { kind: 'rate-limited', limit: 'rate:1/1' }, ['BLOCKED'], undefined],
  ] as const)('%s', (_case, method, decided, early, outcomes, failure) => {
    const plan = auditPolicy({ dialect: 'rest', method, target: '/api/x', decided: [...decided], ...(early ? { early } : {}) });
    expect(plan.records.map((r) => r.outcome)).toEqual(outcomes);
    expect(plan.authFailure).toBe(failure);
  });

  it('names the limit that refused a write', () => {
    const [record] = auditPolicy({ dialect: 'admin', method: 'POST', target: '/cache', decided: [], early: { kind: 'rate-limited', limit: 'rate:2/4' } }).records;
    expect(record).toMatchObject({ outcome: 'BLOCKED', dialect: 'admin', operationName: 'rate limit', fields: ['/cache'], permissions: ['rate:2/4'] });
  });
});

import { AuditFilterError, parseAuditFilters } from '../../../src/audit';

describe('parseAuditFilters', () => {
  it.each([
    [{}, { limit: 100 }],
    [{ limit: '5', user: 'alice' }, { limit: 5, user: 'alice' }],
    [{ outcome: 'blocked' }, { limit: 100, outcome: 'BLOCKED' }],
    [{ outcome: 'error' }, { limit: 100, outcome: 'ERROR' }],
    [{ since: '2026-11-01T00:00:00Z' }, { limit: 100, since: new Date('2026-11-01T00:00:00Z') }],
    [{ user: '', outcome: '' }, { limit: 100 }],
  ])('reads %j', (input, expected) => {
    expect(parseAuditFilters(input)).toEqual(expected);
  });

  it.each([
    [{ user: ['a', 'b'] }, '"user" must be given once'],
    [{ outcome: 'maybe' }, 'outcome must be ALLOWED, BLOCKED or ERROR'],
    [{ since: 'yesterday' }, 'since must be like 24h, 7d or 2026-11-01T00:00:00Z'],
    [{ limit: '0' }, 'limit must be 1 to 10000'],
    [{ limit: '10001' }, 'limit must be 1 to 10000'],
    [{ limit: '1e3' }, 'limit must be 1 to 10000'],
  ])('refuses %j', (input, message) => {
    expect(() => parseAuditFilters(input)).toThrow(new AuditFilterError(message));
  });
});

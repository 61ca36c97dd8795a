import { buildRoleTable } from '../../../src/authz';
import { generateKey, KeyAdminError, normalizeScopes, parseExpiry } from '../../../src/keys';

describe('parseExpiry', () => {
  it.each([
    ['90d', { in: 90 * 86400 }],
    ['12h', { in: 12 * 3600 }],
    ['30m', { in: 1800 }],
    ['1y', { in: 31536000 }],
    ['now', { in: 0 }],
    ['2027-01-31', { at: '2027-01-31 00:00:00' }],
    ['2027-01-31T12:30', { at: '2027-01-31 12:30:00' }],
    ['2027-01-31 12:30:15', { at: '2027-01-31 12:30:15' }],
  ])('%s', (text, expected) => {
    expect(parseExpiry(text)).toEqual(expected);
  });

  it.each(['soon', '90', '-5d', '2027-13-45', '2027-01-31; DROP TABLE x'])('refuses %s', (text) => {
    expect(() => parseExpiry(text)).toThrow(KeyAdminError);
  });
});

describe('normalizeScopes', () => {
  const roles = buildRoleTable();
  it.each([
    ['query/*,mutation/create_flow_run', 'query/*, mutation/create_flow_run'],
    ['role:runner  query/x', 'role:runner, query/x'],
  ])('%j → %j', (input, stored) => {
    expect(normalizeScopes(input, roles)).toBe(stored);
  });

  it.each(['', 'role:nope', 'query/(.*)'])('refuses %j', (input) => {
    expect(() => normalizeScopes(input, roles)).toThrow(KeyAdminError);
  });

  it.each([
    ['role:runner@deployment:team-a/*', 'role:runner@deployment:team-a/*'],
    ['role:viewer write/deployments@tag:team-a+pool:pool-a,!write/deployments@tag:prod', 'role:viewer, write/deployments@tag:team-a+pool:pool-a, !write/deployments@tag:prod'],
  ])('accepts selectors: %j', (input, stored) => {
    expect(normalizeScopes(input, roles)).toBe(stored);
  });

  it.each([
    ['write/deployments@team-a/*', /malformed scopes: write\/deployments@team-a\/\* \(.*key:pattern/],
    ['role:runner@name:team-a/*', /unknown selector key "name"/],
    ['read/deployments@tag:team-a', /reads are not narrowed/],
    ['role:nope@tag:a', /unknown roles: role:nope@tag:a/],
  ])('refuses a malformed or unknown selector with the reason: %j', (input, message) => {
    expect(() => normalizeScopes(input, roles)).toThrow(message);
  });
});

describe('generateKey', () => {
  it('is prefixed, long, URL-safe and different every time', () => {
    const keys = new Set(Array.from({ length: 100 }, generateKey));
    expect(keys.size).toBe(100);
    for (const key of keys) expect(key).toMatch(/^pap_[A-Za-z0-9_-]{40}$/);
  });
});

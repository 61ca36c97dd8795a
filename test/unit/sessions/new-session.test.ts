import type { NewSession } from '../../../src/sessions';
import { checkNewSession, parseList, SessionInputError } from '../../../src/sessions';

const KEY_HASH = 'c'.repeat(64);
const base: NewSession = { kind: 'oidc', userId: 'alice@example.com', issuer: 'https://idp.example', subject: 'sub-1', groups: ['eng'], roles: ['viewer'], lifetimeMs: 3_600_000 };

describe('checkNewSession', () => {
  it('keeps a valid oidc session and stores the lists as JSON', () => {
    expect(checkNewSession(base)).toMatchObject({ kind: 'oidc', userId: 'alice@example.com', groupsJson: '["eng"]', rolesJson: '["viewer"]', keyHash: null, refreshToken: null });
  });

  it.each([
    ['a display name over 255 characters', { displayName: 'n'.repeat(300) }, { displayName: 'n'.repeat(255) }],
    ['an empty display name', { displayName: '' }, { displayName: null }],
    ['an email over 255 characters', { email: `${'e'.repeat(300)}@x` }, { email: 'e'.repeat(255) }],
    ['a key session', { kind: 'key', keyHash: KEY_HASH, issuer: null }, { kind: 'key', keyHash: KEY_HASH }],
    ['a user id of 255 characters', { userId: 'u'.repeat(255) }, { userId: 'u'.repeat(255) }],
  ] as const)('accepts %s', (_name, change, expected) => {
    expect(checkNewSession({ ...base, ...change })).toMatchObject(expected);
  });

  const SECRET = 'do-not-echo-me';
  it.each([
    ['an unknown kind', { kind: 'password' as never }],
    ['a key session without a key', { kind: 'key' as const }],
    ['a key session with a key in clear', { kind: 'key' as const, keyHash: SECRET }],
    ['a key session with an upper-case hash', { kind: 'key' as const, keyHash: 'C'.repeat(64) }],
    ['an oidc session with a key', { keyHash: KEY_HASH }],
    ['an empty user id', { userId: '' }],
    ['a user id over 255 characters (cutting it could name someone else)', { userId: `${SECRET}${'u'.repeat(255)}` }],
    ['a subject over 255 characters', { subject: 's'.repeat(256) }],
    ['an issuer over 1000 characters', { issuer: `https://${'i'.repeat(1000)}` }],
    ['groups that are not strings', { groups: [1] as never }],
    ['roles that are not a list', { roles: SECRET as never }],
    ['groups too long to store', { groups: Array.from({ length: 20_000 }, (_v, i) => `group-number-${i}`) }],
    ['a zero lifetime', { lifetimeMs: 0 }],
    ['a negative lifetime', { lifetimeMs: -1 }],
    ['a fractional lifetime', { lifetimeMs: 1.5 }],
    ['an infinite lifetime', { lifetimeMs: Number.POSITIVE_INFINITY }],
    ['an empty refresh token', { refreshToken: '' }],
    ['a huge ID token', { idTokenHint: 'x'.repeat(300_000) }],
  ])('refuses %s, without quoting the value', (_name, change) => {
    let failure: unknown;
    try {
      checkNewSession({ ...base, ...change });
    } catch (err) {
      failure = err;
    }
    expect(failure).toBeInstanceOf(SessionInputError);
    expect(String((failure as Error).message)).not.toContain(SECRET);
  });
});

describe('parseList', () => {
  it.each([
    ['a list of strings', '["a","b"]', ['a', 'b']],
    ['an empty list', '[]', []],
    ['a list with a number', '["a",1]', null],
    ['an object', '{"a":1}', null],
    ['a string', '"a"', null],
    ['not JSON', '[a', null],
    ['empty', '', null],
  ])('%s', (_name, json, expected) => {
    expect(parseList(json)).toEqual(expected);
  });
});

import { describePrincipal } from '../../../src/keys';

describe('describePrincipal', () => {
  it.each([
    ['a key', { userId: 'alice', keyId: 'a1b2c3d4e5f6' }, 'API key of user alice'],
    ['a session', { userId: 'vera@example.test', keyId: 'session:0123456789ab' }, 'the session of vera@example.test'],
    ['a machine token', { userId: 'ci:etl', keyId: 'machine:0123456789ab' }, 'the token of ci:etl'],
  ])('names %s by its credential', (_case, principal, text) => {
    expect(describePrincipal(principal)).toBe(text);
  });
});

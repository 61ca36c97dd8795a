import type { SignInAttempt } from '../../../src/signin';
import { decodeAttempt, encodeAttempt, isAttemptExpired } from '../../../src/signin';

const attempt: SignInAttempt = {
  state: 's'.repeat(43), nonce: 'n'.repeat(43), codeVerifier: 'v'.repeat(43), next: '/flows?x=1', createdAt: 1_700_000_000_000,
};
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('encodeAttempt / decodeAttempt', () => {
  it('round-trips', () => {
    expect(decodeAttempt(encodeAttempt(attempt))).toEqual(attempt);
  });

  it.each<[string, string | undefined]>([
    ['nothing', undefined],
    ['empty', ''],
    ['not base64url JSON', 'not-json'],
    ['JSON that is not an object', encode('x')],
    ['a missing field', encode({ ...attempt, nonce: undefined })],
    ['a short state', encode({ ...attempt, state: 'abc' })],
    ['a state with separators', encode({ ...attempt, state: `${'s'.repeat(40)};a=b` })],
    ['an unsafe next', encode({ ...attempt, next: '//evil.example' })],
    ['a non-integer time', encode({ ...attempt, createdAt: 'yesterday' })],
    ['overlong', 'a'.repeat(5000)],
  ])('refuses %s', (_case, text) => {
    expect(decodeAttempt(text)).toBeUndefined();
  });
});

describe('isAttemptExpired', () => {
  const at = attempt.createdAt;
  it.each<[string, number, number | undefined, boolean]>([
    ['just started', at, undefined, false],
    ['at ten minutes', at + 600_000, undefined, false],
    ['past ten minutes', at + 600_001, undefined, true],
    ['past a shorter limit', at + 5_001, 5_000, true],
    ['dated slightly ahead (clock skew)', at - 30_000, undefined, false],
    ['dated far in the future', at - 120_000, undefined, true],
  ])('%s', (_case, now, maxAge, expected) => {
    expect(isAttemptExpired(attempt, now, maxAge)).toBe(expected);
  });
});

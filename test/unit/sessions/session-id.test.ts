import { createHash } from 'node:crypto';
import { generateSessionId, hashSessionId, isSessionHash, isSessionId } from '../../../src/sessions';

describe('generateSessionId', () => {
  it('gives 43 base64url characters carrying 32 fresh random bytes each time', () => {
    const ids = Array.from({ length: 200 }, generateSessionId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(32);
    }
  });

  it('passes its own format check', () => {
    expect(isSessionId(generateSessionId())).toBe(true);
  });
});

describe('hashSessionId', () => {
  it.each([
    ['a generated id', generateSessionId()],
    ['a fixed id', 'A'.repeat(43)],
  ])('is the lower-case SHA-256 hex of %s', (_name, id) => {
    expect(hashSessionId(id)).toBe(createHash('sha256').update(id).digest('hex'));
    expect(isSessionHash(hashSessionId(id))).toBe(true);
  });

  it('differs for ids that differ only in case (the id is compared exactly)', () => {
    expect(hashSessionId('a'.repeat(43))).not.toBe(hashSessionId('A'.repeat(43)));
  });
});

describe('isSessionId', () => {
  it.each([
    ['43 base64url characters', 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN-_0', true],
    ['42 characters', 'a'.repeat(42), false],
    ['44 characters', 'a'.repeat(44), false],
    ['standard base64 characters', `${'a'.repeat(41)}+/`, false],
    ['padding', `${'a'.repeat(42)}=`, false],
    ['a space', `${'a'.repeat(42)} `, false],
    ['empty', '', false],
  ])('%s: %s', (_name, text, expected) => {
    expect(isSessionId(text)).toBe(expected);
  });
});

describe('isSessionHash', () => {
  it.each([
    ['64 lower-case hex digits', 'a'.repeat(64), true],
    ['upper-case hex', 'A'.repeat(64), false],
    ['the sha256: form', `sha256:${'a'.repeat(64)}`, false],
    ['63 digits', 'a'.repeat(63), false],
    ['not hex', 'g'.repeat(64), false],
  ])('%s', (_name, text, expected) => {
    expect(isSessionHash(text)).toBe(expected);
  });
});

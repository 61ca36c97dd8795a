import type { Invalidation } from '../../../src/invalidation';
import { applyInvalidation, decodeInvalidation, encodeInvalidation } from '../../../src/invalidation';

const HASH = 'a'.repeat(64);

describe('invalidation messages', () => {
  it.each<Invalidation>([
    { kind: 'all' },
    { kind: 'user', userId: 'alice' },
    { kind: 'key', keyHash: HASH },
  ])('round-trips %j', (invalidation) => {
    expect(decodeInvalidation(encodeInvalidation('me', invalidation))).toEqual({ origin: 'me', invalidation });
  });

  it.each([
    ['not JSON', 'evict alice'],
    ['no version', JSON.stringify({ origin: 'x', kind: 'all' })],
    ['another version', JSON.stringify({ v: 2, origin: 'x', kind: 'all' })],
    ['no origin', JSON.stringify({ v: 1, kind: 'all' })],
    ['unknown kind', JSON.stringify({ v: 1, origin: 'x', kind: 'drop-table' })],
    ['user without id', JSON.stringify({ v: 1, origin: 'x', kind: 'user' })],
    ['empty user id', JSON.stringify({ v: 1, origin: 'x', kind: 'user', userId: '' })],
    ['key that is not a hash', JSON.stringify({ v: 1, origin: 'x', kind: 'key', keyHash: 'pap_secret' })],
    ['null', 'null'],
  ])('ignores a message with %s', (_name, text) => {
    expect(decodeInvalidation(text)).toBeUndefined();
  });

  it('applies each kind to the resolver', () => {
    const calls: string[] = [];
    const resolver = {
      size: 7,
      evict: (k: string) => (calls.push(`evict ${k}`), true),
      evictUser: (u: string) => (calls.push(`user ${u}`), 2),
      reset: () => void calls.push('reset'),
    };
    expect(applyInvalidation(resolver, { kind: 'user', userId: 'bob' })).toBe(2);
    expect(applyInvalidation(resolver, { kind: 'key', keyHash: HASH })).toBe(1);
    expect(applyInvalidation(resolver, { kind: 'all' })).toBe(7);
    expect(calls).toEqual(['user bob', `evict sha256:${HASH}`, 'reset']);
  });
});

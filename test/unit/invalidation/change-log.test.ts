import type { Invalidation } from '../../../src/invalidation';
import { keyInvalidation, rowToInvalidation } from '../../../src/invalidation';
import { sha256Hex } from '../../../src/keys';

const HASH = 'b'.repeat(64);

describe('change rows', () => {
  it.each<[string, string | null, Invalidation]>([
    ['user', 'alice', { kind: 'user', userId: 'alice' }],
    ['key', HASH, { kind: 'key', keyHash: HASH }],
    ['all', null, { kind: 'all' }],
    // What this version cannot read must not be ignored: forgetting everything is always safe.
    ['key', 'pap_not-a-hash', { kind: 'all' }],
    ['user', null, { kind: 'all' }],
    ['user', '', { kind: 'all' }],
    ['group', 'admins', { kind: 'all' }],
  ])('%s %j → %j', (kind, subject, expected) => {
    expect(rowToInvalidation({ kind, subject })).toEqual(expected);
  });

  it.each<[string, Invalidation | undefined]>([
    ['pap_some-key', { kind: 'key', keyHash: sha256Hex('pap_some-key') }],
    [`sha256:${HASH.toUpperCase()}`, { kind: 'key', keyHash: HASH }],
    ['sha256:short', undefined],
  ])('key %s → %j', (keyOrHash, expected) => {
    expect(keyInvalidation(keyOrHash)).toEqual(expected);
  });
});

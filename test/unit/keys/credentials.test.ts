import { readCredential } from '../../../src/keys';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('readCredential', () => {
  it.each([
    ['Bearer', { authorization: 'Bearer key-123' }, { kind: 'key', key: 'key-123', source: 'bearer' }],
    ['bearer, any case', { authorization: 'bEaReR   key-123 ' }, { kind: 'key', key: 'key-123', source: 'bearer' }],
    ['Basic with the key alone', { authorization: `Basic ${b64('key-123')}` }, { kind: 'key', key: 'key-123', source: 'basic' }],
    ['Basic user:key', { authorization: `Basic ${b64('alice:key-123')}` }, { kind: 'key', key: 'key-123', source: 'basic' }],
    ['X-Prefect-User-ID', { 'x-prefect-user-id': 'key-123' }, { kind: 'key', key: 'key-123', source: 'x-prefect-user-id' }],
    ['Authorization wins over X-Prefect-User-ID', { authorization: 'Bearer a', 'x-prefect-user-id': 'b' }, { kind: 'key', key: 'a', source: 'bearer' }],
    ['"Bearer null" falls back to X-Prefect-User-ID', { authorization: 'Bearer null', 'x-prefect-user-id': 'b' }, { kind: 'key', key: 'b', source: 'x-prefect-user-id' }],
    ['nothing', {}, { kind: 'none' }],
    ['the UI without a key sends "null"', { 'x-prefect-user-id': 'null' }, { kind: 'none' }],
    ['"Bearer undefined"', { authorization: 'Bearer undefined' }, { kind: 'none' }],
    ['empty Bearer', { authorization: 'Bearer' }, { kind: 'none' }],
  ])('%s', (_name, headers, expected) => {
    expect(readCredential(headers)).toEqual(expected);
  });

  it.each([
    ['a stored hash presented as a key', { authorization: 'Bearer sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' }],
    ['a stored hash in X-Prefect-User-ID', { 'x-prefect-user-id': 'SHA256:abc' }],
    ['another scheme', { authorization: 'Digest abc' }],
    ['malformed Basic', { authorization: 'Basic !!!' }],
    ['control characters', { authorization: 'Bearer a\u0001b' }],
    ['a huge key', { authorization: `Bearer ${'k'.repeat(600)}` }],
  ])('refuses %s', (_name, headers) => {
    expect(readCredential(headers).kind).toBe('invalid');
  });
});

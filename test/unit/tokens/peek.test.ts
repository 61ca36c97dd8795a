import { looksLikeJwt, MAX_TOKEN_LENGTH } from '../../../src/tokens';
import { isAcceptedType, peekToken } from '../../../src/tokens/peek';

const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = (header: unknown, payload: unknown = { iss: 'https://i.example' }, signature = 'c2ln') => `${part(header)}.${part(payload)}.${signature}`;

describe('looksLikeJwt', () => {
  it.each<[string, string, boolean]>([
    ['a signed JWT', jwt({ alg: 'RS256', typ: 'JWT', kid: 'k' }), true],
    ['no typ (Kubernetes)', jwt({ alg: 'RS256', kid: 'k' }), true],
    ['an access token (at+jwt)', jwt({ alg: 'ES256', typ: 'at+jwt' }), true],
    ['unsigned (alg none, empty signature): a JWT, refused later', jwt({ alg: 'none' }, {}, ''), true],
    ['a proxy API key', 'pap_3kT9x0QmVb7cN2pLr8sWq4yZ1dFh6jGa', false],
    ['a UUID key of the original proxy', '5f0c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f', false],
    ['a key with dots that are not base64url JSON', 'abc.def.ghi', false],
    ['two parts', `${part({ alg: 'RS256' })}.${part({})}`, false],
    ['four parts', `${jwt({ alg: 'RS256' })}.x`, false],
    ['five parts (an encrypted JWE)', `${part({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.a.b.c.d`, false],
    ['a header without alg', jwt({ typ: 'JWT' }), false],
    ['alg not a string', jwt({ alg: 1 }), false],
    ['typ not a string', jwt({ alg: 'RS256', typ: 1 }), false],
    ['a header that is an array', jwt(['RS256']), false],
    ['padding characters', `${jwt({ alg: 'RS256' })}==`, false],
    ['standard base64 characters', jwt({ alg: 'RS256' }, {}, 'a+b/'), false],
    ['an empty payload part', `${part({ alg: 'RS256' })}..sig`, false],
    ['longer than the limit', jwt({ alg: 'RS256' }, { pad: 'x'.repeat(MAX_TOKEN_LENGTH) }), false],
  ])('%s', (_case, credential, expected) => {
    expect(looksLikeJwt(credential)).toBe(expected);
  });
});

describe('peekToken', () => {
  it('reads header and claims without verifying', () => {
    expect(peekToken(jwt({ alg: 'RS256' }, { iss: 'https://i.example', sub: 'm' }))).toEqual({ header: { alg: 'RS256' }, payload: { iss: 'https://i.example', sub: 'm' } });
  });

  it.each<[string, string]>([
    ['claims that are not JSON', `${part({ alg: 'RS256' })}.bm90IGpzb24.sig`],
    ['claims that are an array', jwt({ alg: 'RS256' }, ['iss'])],
    ['claims that are a string', jwt({ alg: 'RS256' }, 'iss')],
  ])('nothing for %s', (_case, token) => {
    expect(peekToken(token)).toBeUndefined();
  });
});

describe('isAcceptedType', () => {
  it.each<[unknown, boolean]>([
    [undefined, true],
    ['JWT', true],
    ['jwt', true],
    ['at+jwt', true],
    ['application/at+jwt', true],
    ['application/jwt', true],
    ['dpop+jwt', false],
    ['logout+jwt', false],
    ['secevent+jwt', false],
    ['JOSE', false],
    ['', false],
  ])('%p: %p', (typ, expected) => {
    expect(isAcceptedType(typ)).toBe(expected);
  });
});

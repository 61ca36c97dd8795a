import { deriveTokenKey, openToken, sealToken, TOKEN_KEY_BYTES } from '../../../src/sessions';

const KEY = deriveTokenKey('a long configured secret for the tests');
const OTHER = deriveTokenKey('another configured secret');
const TOKEN = 'refresh-token-secret-value';
const CONTEXT = `${'a'.repeat(64)}:refresh_token`;

describe('sealToken and openToken', () => {
  it('round-trips, without the token in the sealed text, differently every time', () => {
    const sealed = sealToken(KEY, TOKEN, CONTEXT);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(TOKEN);
    expect(Buffer.from(sealed.slice(3), 'base64url').toString('latin1')).not.toContain(TOKEN);
    expect(sealToken(KEY, TOKEN, CONTEXT)).not.toBe(sealed);
    expect(openToken(KEY, sealed, CONTEXT)).toBe(TOKEN);
  });

  it('keeps text that is not ASCII', () => {
    expect(openToken(KEY, sealToken(KEY, 'jeton-é-山', CONTEXT), CONTEXT)).toBe('jeton-é-山');
  });

  const sealed = sealToken(KEY, TOKEN, CONTEXT);
  const flip = (text: string, at: number) => {
    const raw = Buffer.from(text.slice(3), 'base64url');
    raw[at] = raw[at]! ^ 1;
    return `v1.${raw.toString('base64url')}`;
  };
  it.each([
    ['another key', OTHER, sealed, CONTEXT],
    ['another row', KEY, sealed, `${'b'.repeat(64)}:refresh_token`],
    ['another column', KEY, sealed, `${'a'.repeat(64)}:id_token_hint`],
    ['a changed ciphertext byte', KEY, flip(sealed, 14), CONTEXT],
    ['a changed tag byte', KEY, flip(sealed, Buffer.from(sealed.slice(3), 'base64url').length - 1), CONTEXT],
    ['a changed nonce byte', KEY, flip(sealed, 0), CONTEXT],
    ['a cut value', KEY, sealed.slice(0, 20), CONTEXT],
    ['another version', KEY, `v2.${sealed.slice(3)}`, CONTEXT],
    ['the token in clear', KEY, TOKEN, CONTEXT],
    ['empty', KEY, '', CONTEXT],
  ])('does not open with %s', (_name, key, value, context) => {
    expect(openToken(key, value, context)).toBeNull();
  });

  it.each([0, 16, 31, 33])('refuses a key of %i bytes', (bytes) => {
    expect(() => sealToken(Buffer.alloc(bytes), TOKEN, CONTEXT)).toThrow(RangeError);
    expect(() => openToken(Buffer.alloc(bytes), sealed, CONTEXT)).toThrow(RangeError);
  });
});

describe('deriveTokenKey', () => {
  it('gives 32 bytes, the same for the same secret, different for another', () => {
    expect(KEY).toHaveLength(TOKEN_KEY_BYTES);
    expect(deriveTokenKey('a long configured secret for the tests').equals(KEY)).toBe(true);
    expect(OTHER.equals(KEY)).toBe(false);
  });
});

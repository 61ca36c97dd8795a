import {
  buildAttemptCookie, buildSessionCookie, clearAttemptCookie, clearSessionCookie, cookieSettingsFor, readAttemptCookie, readSessionId, stripProxyCookies,
} from '../../../src/signin';

const ID = 'A'.repeat(20) + 'b_-9'.repeat(6);
const STATE = 'st4te-' + 'x'.repeat(37);
const secure = cookieSettingsFor('https://prefect.example.com/base');
const local = cookieSettingsFor('http://localhost:3000');

describe('cookieSettingsFor', () => {
  it.each<[string, boolean, string]>([
    ['https://prefect.example.com', true, '__Host-pap-session'],
    ['https://localhost:3000', true, '__Host-pap-session'],
    ['http://localhost:3000', false, 'pap-session'],
    ['http://127.0.0.1:3000/', false, 'pap-session'],
    ['http://[::1]:3000', false, 'pap-session'],
  ])('%s', (url, isSecure, name) => {
    expect(cookieSettingsFor(url)).toMatchObject({ secure: isSecure, sessionName: name });
  });

  it.each([
    'http://prefect.example.com',
    'http://10.0.0.5:3000',
    'http://localhost.evil.example',
    'http://127.0.0.1.nip.io',
    'ftp://localhost',
  ])('refuses %s: a session cookie must not travel in clear', (url) => {
    expect(() => cookieSettingsFor(url)).toThrow(/https PUBLIC_URL/);
  });
});

describe('session cookie', () => {
  it.each<[string, string, number | undefined]>([
    ['https, until the browser closes', `__Host-pap-session=${ID}; Path=/; HttpOnly; Secure; SameSite=Lax`, undefined],
    ['https, with a lifetime', `__Host-pap-session=${ID}; Max-Age=3600; Path=/; HttpOnly; Secure; SameSite=Lax`, 3600],
  ])('%s', (_case, expected, maxAge) => {
    expect(buildSessionCookie(secure, ID, maxAge)).toBe(expected);
  });

  it('on plain-http localhost: no __Host- prefix and no Secure', () => {
    expect(buildSessionCookie(local, ID)).toBe(`pap-session=${ID}; Path=/; HttpOnly; SameSite=Lax`);
  });

  it('clears', () => {
    expect(clearSessionCookie(secure)).toBe('__Host-pap-session=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax');
  });

  it.each(['short', `${ID};x=1`, `${ID} `, 'é'.repeat(40)])('refuses to write a malformed id %j', (id) => {
    expect(() => buildSessionCookie(secure, id)).toThrow(/session id/);
  });

  it.each<[string, string | undefined, string | undefined]>([
    ['the only cookie', `__Host-pap-session=${ID}`, ID],
    ['among others', `a=1; __Host-pap-session=${ID}; b=2`, ID],
    ['absent', 'a=1', undefined],
    ['no header', undefined, undefined],
    ['the unprefixed name over https', `pap-session=${ID}`, undefined],
    ['malformed value', '__Host-pap-session=abc', undefined],
    ['the first of two', `__Host-pap-session=${ID}; __Host-pap-session=${'Z'.repeat(40)}`, ID],
  ])('reads the id: %s', (_case, header, expected) => {
    expect(readSessionId(secure, header)).toBe(expected);
  });

  it('reads the unprefixed name on plain-http localhost', () => {
    expect(readSessionId(local, `pap-session=${ID}`)).toBe(ID);
  });
});

describe('attempt cookies', () => {
  it('one per attempt, named after its state', () => {
    expect(buildAttemptCookie(secure, STATE, 'v1', 600)).toBe(`__Host-pap-signin-${STATE}=v1; Max-Age=600; Path=/; HttpOnly; Secure; SameSite=Lax`);
    expect(clearAttemptCookie(local, STATE)).toBe(`pap-signin-${STATE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax`);
  });

  it('two tabs keep their own', () => {
    const other = 'other-' + 'y'.repeat(37);
    const header = `__Host-pap-signin-${STATE}=first; __Host-pap-signin-${other}=second`;
    expect(readAttemptCookie(secure, header, STATE)).toBe('first');
    expect(readAttemptCookie(secure, header, other)).toBe('second');
  });

  it.each<[string, string | undefined, string]>([
    ['no header', undefined, STATE],
    ['another attempt only', `__Host-pap-signin-${'z'.repeat(43)}=v`, STATE],
    ['an emptied cookie', `__Host-pap-signin-${STATE}=`, STATE],
    ['a malformed state', `__Host-pap-signin-a;b=v`, 'a;b'],
  ])('finds none: %s', (_case, header, state) => {
    expect(readAttemptCookie(secure, header, state)).toBeUndefined();
  });

  it('refuses to name a cookie after a malformed state', () => {
    expect(() => buildAttemptCookie(secure, 'x=y; Domain=evil', 'v', 600)).toThrow(/state/);
  });
});

describe('stripProxyCookies', () => {
  it.each<[string, string | undefined, string | undefined]>([
    ['no header', undefined, undefined],
    ['only the session', `__Host-pap-session=${ID}`, undefined],
    ['the session among others, others byte for byte', `a=1; __Host-pap-session=${ID}; b="x y"`, 'a=1; b="x y"'],
    ['the session first', `__Host-pap-session=${ID}; a=1`, 'a=1'],
    ['the session last', `a=1;__Host-pap-session=${ID}`, 'a=1'],
    ['odd spacing kept', `a=1;  b=2 ;pap-session=${ID}`, 'a=1;  b=2 '],
    ['the unprefixed name too', `pap-session=${ID}; a=1`, 'a=1'],
    ['attempt cookies', `__Host-pap-signin-${STATE}=v; x=1; pap-signin-abc=w`, 'x=1'],
    ['look-alikes stay', 'pap-session2=1; my-pap-session=2; pap-signin=3', 'pap-session2=1; my-pap-session=2; pap-signin=3'],
    ['a nameless pair stays', 'novalue; a=1', 'novalue; a=1'],
    ['nothing to strip: unchanged', 'prefect-ui=abc; theme=dark', 'prefect-ui=abc; theme=dark'],
  ])('%s', (_case, header, expected) => {
    expect(stripProxyCookies(header)).toBe(expected);
  });
});

import { safeNextPath } from '../../../src/signin';

describe('safeNextPath', () => {
  it.each<[string, unknown]>([
    ['the root', '/'],
    ['a UI page', '/flows'],
    ['a path with a query and fragment', '/runs/flow-run/1b2c?tab=Logs#top'],
    ['an encoded query value', '/flows?name=caf%C3%A9%20bar'],
    ['an encoded slash inside the path', '/deployments/a%2Fb'],
    ['a path that looks like a URL after its first segment', '/http://evil.example'],
    ['dots', '/a/../b'],
  ])('keeps %s', (_case, raw) => {
    expect(safeNextPath(raw)).toBe(raw);
  });

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['a number', 42],
    ['an array (repeated parameter)', ['/a', '/b']],
    ['empty', ''],
    ['scheme-relative', '//evil.example'],
    ['scheme-relative with more slashes', '///evil.example'],
    ['slash backslash', '/\\evil.example'],
    ['backslash later', '/a\\b'],
    ['an absolute URL', 'https://evil.example/'],
    ['http:', 'http:evil.example'],
    ['javascript:', 'javascript:alert(1)'],
    ['relative', 'flows'],
    ['a tab that browsers drop', '/\t/evil.example'],
    ['a newline', '/a\nSet-Cookie: x=1'],
    ['a space', '/a b'],
    ['non-ASCII', '/café'],
    ['encoded scheme-relative', '/%2F%2Fevil.example'],
    ['encoded slash after the first', '/%2Fevil.example'],
    ['encoded backslash', '/%5Cevil.example'],
    ['double-encoded scheme-relative', '/%252F%252Fevil.example'],
    ['encoded tab', '/%09/evil.example'],
    ['encoded newline', '/a%0d%0aSet-Cookie:x'],
    ['a malformed escape', '/a%zz'],
    ['a lone percent', '/100%'],
    ['too many encoding layers', '/%25252525252F'],
    ['overly long', `/${'a'.repeat(2048)}`],
  ])('refuses %s', (_case, raw) => {
    expect(safeNextPath(raw)).toBe('/');
  });

  it('honours a smaller length limit', () => {
    expect(safeNextPath('/abcdef', 4)).toBe('/');
    expect(safeNextPath('/abc', 4)).toBe('/abc');
  });
});

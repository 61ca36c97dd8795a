import { formatSelector, parseSelector } from '../../../../src/authz/objects';
import { compileGlob, globCovers, selectorImplies } from '../../../../src/authz/objects/selector';

const parse = (text: string) => {
  const r = parseSelector(text);
  if (!r.ok) throw new Error(r.reason);
  return r.selector;
};

describe('parseSelector', () => {
  it.each([
    ['deployment:team-a/*', 'deployment:team-a/*'],
    ['tag:team-a', 'tag:team-a'],
    ['pool:pool-a', 'pool:pool-a'],
    ['block:team-a-*', 'block:team-a-*'],
    ['variable:team_a_*', 'variable:team_a_*'],
    ['deployment:team-a/*+pool:pool-a', 'deployment:team-a/*+pool:pool-a'],
    ['tag:team-a+tag:prod', 'tag:team-a+tag:prod'],
    // `:` and `=` may be part of a pattern (tags like env:prod or env=prod).
    ['tag:env:prod', 'tag:env:prod'],
    ['tag:env=prod', 'tag:env=prod'],
    ['deployment:*', 'deployment:*'],
  ])('%s parses to %s', (text, formatted) => {
    expect(formatSelector(parse(text))).toBe(formatted);
  });

  it.each([
    ['', 'nothing after @'],
    ['team-a/*', 'is not key:pattern'],
    ['name:team-a', 'unknown selector key "name"'],
    ['Tag:team-a', 'unknown selector key "Tag"'],
    ['tag:', 'empty pattern after tag:'],
    ['tag:a+', 'empty condition'],
    ['+tag:a', 'empty condition'],
    ['tag:a++tag:b', 'empty condition'],
    // No regex, no second @, no spaces, commas or other characters: one reading only.
    ['deployment:team-a/.?', 'may hold only'],
    ['deployment:team-a/.+', 'empty condition'],
    ['deployment:team-(a|b)/x', 'may hold only'],
    ['deployment:team-a@pool:x', 'may hold only'],
    ['deployment:team a', 'may hold only'],
    ['deployment:a?b', 'may hold only'],
    ['deployment:[ab]', 'may hold only'],
    ['deployment:é', 'may hold only'],
    [`deployment:${'a'.repeat(201)}`, 'longer than 200'],
    [Array.from({ length: 9 }, () => 'tag:a').join('+'), 'more than 8 conditions'],
  ])('%j is refused: %s', (text, reason) => {
    const r = parseSelector(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });
});

describe('compileGlob: anchored, * only, case-sensitive', () => {
  it.each([
    ['team-a/*', 'team-a/nightly', true],
    ['team-a/*', 'team-a/', true],
    ['team-a/*', 'team-ab/nightly', false],
    ['team-a/*', 'x/team-a/nightly', false],
    ['team-a/*', 'Team-A/nightly', false],
    ['*/nightly', 'etl/nightly', true],
    ['*/nightly', 'etl/nightly-2', false],
    // `*` crosses `/` (a deployment's own name may hold one) and any other character.
    ['team-a/*', 'team-a/sub/x', true],
    ['a*b', 'a\nb', true],
    ['a*b', 'a b', true],
    ['team-a-*', 'team-a-', true],
    ['pool-a', 'pool-a', true],
    ['pool-a', 'pool-ab', false],
    ['pool-a', 'xpool-a', false],
    // `.` is literal.
    ['a.b', 'axb', false],
    ['a.b', 'a.b', true],
  ])('%s matches %j: %s', (pattern, name, expected) => {
    expect(compileGlob(pattern).test(name)).toBe(expected);
  });
});

describe('selectorImplies: every object the requested selector lets through, the held one lets through', () => {
  it.each([
    ['deployment:team-a/*', 'deployment:team-a/*', true],
    ['deployment:team-a/nightly', 'deployment:team-a/*', true],
    ['deployment:team-a/*', 'deployment:team-a/nightly', false],
    ['deployment:*', 'deployment:team-a/*', false],
    ['deployment:team-a/*+pool:pool-a', 'deployment:team-a/*', true],
    ['deployment:team-a/*', 'deployment:team-a/*+pool:pool-a', false],
    ['tag:team-a', 'deployment:team-a/*', false],
    ['tag:team-a+tag:x', 'tag:team-a', true],
    ['pool:pool-a*', 'pool:pool-*', true],
    ['pool:pool-*', 'pool:pool-a*', false],
  ])('%s implies %s: %s', (requested, held, expected) => {
    expect(selectorImplies(parse(requested), parse(held))).toBe(expected);
  });

  it('compares only conditions of the same key', () => {
    const [held] = parse('tag:*');
    const [requested] = parse('pool:x');
    expect(globCovers(held!, requested!)).toBe(false);
  });
});

import type { ObjectFacts } from '../../../../src/authz/objects';
import { denyApplies, evaluateCondition, grantHolds, parseSelector } from '../../../../src/authz/objects';
import { A_NIGHTLY, A_SERVED, B_NIGHTLY, block, deployment, pool, run, variable } from './fixtures';

const selector = (text: string) => {
  const r = parseSelector(text);
  if (!r.ok) throw new Error(r.reason);
  return r.selector;
};

describe('evaluateCondition: what each condition looks at, per kind of object', () => {
  it.each<[string, ObjectFacts, string]>([
    // Deployments: full name `<flow>/<deployment>`, their tags, their pool.
    ['deployment:team-a/*', A_NIGHTLY, 'yes'],
    ['deployment:team-a/*', B_NIGHTLY, 'no'],
    ['tag:team-a', A_NIGHTLY, 'yes'],
    ['tag:team-*', B_NIGHTLY, 'yes'],
    ['tag:team-a', B_NIGHTLY, 'no'],
    ['pool:pool-a', A_NIGHTLY, 'yes'],
    ['pool:pool-a', B_NIGHTLY, 'no'],
    // A deployment in no pool (served) matches no pool pattern, not even `*`.
    ['pool:*', A_SERVED, 'no'],
    // Unknown facts are unknown, not a match and not a miss.
    ['pool:pool-a', { kind: 'deployment', name: 'team-a/x', tags: ['team-a'] }, 'unknown'],
    ['tag:team-a', { kind: 'deployment', name: 'team-a/x', workPool: 'pool-a' }, 'unknown'],
    ['deployment:team-a/*', { kind: 'deployment', id: 'x', missing: true }, 'unknown'],
    // Flow runs follow their deployment for name and tags; `pool:` is the pool the run is queued in.
    ['deployment:team-a/*', run('crimson-fox', A_NIGHTLY), 'yes'],
    ['deployment:team-a/*', run('crimson-fox', B_NIGHTLY), 'no'],
    ['tag:team-a', run('crimson-fox', A_NIGHTLY), 'yes'],
    ['pool:pool-a', run('crimson-fox', A_NIGHTLY), 'yes'],
    ['pool:pool-a', run('crimson-fox', A_NIGHTLY, 'pool-b'), 'no'],
    ['deployment:*', run('adhoc', null), 'no'],
    ['tag:*', run('adhoc', null), 'no'],
    ['deployment:team-a/*', run('lost', undefined), 'unknown'],
    // The run's own name never counts.
    ['deployment:team-a/*', run('team-a/nightly', B_NIGHTLY), 'no'],
    // Work pools: their name.
    ['pool:pool-a', pool('pool-a'), 'yes'],
    ['pool:pool-a', pool('pool-b'), 'no'],
    ['pool:pool-a', { kind: 'work_pool', missing: true }, 'unknown'],
    // Block documents and variables: their names; variables their tags too.
    ['block:team-a-*', block('team-a-aws'), 'yes'],
    ['block:team-a-*', block('team-b-aws'), 'no'],
    ['variable:team_a_*', variable('team_a_bucket'), 'yes'],
    ['variable:team_a_*', variable('team_b_bucket'), 'no'],
    ['tag:team-a', variable('x', ['team-a']), 'yes'],
    // A condition about something the object does not have is a plain no.
    ['block:*', A_NIGHTLY, 'no'],
    ['variable:*', A_NIGHTLY, 'no'],
    ['deployment:*', pool('pool-a'), 'no'],
    ['tag:*', pool('pool-a'), 'no'],
    ['tag:*', block('x'), 'no'],
    ['pool:*', variable('x'), 'no'],
  ])('%s on %j → %s', (text, object, expected) => {
    expect(evaluateCondition(selector(text)[0]!, object)).toBe(expected);
  });
});

describe('several conditions on one scope: all must hold (AND)', () => {
  // Its pool after the change is not known (a queue name alone).
  const moved: ObjectFacts = { kind: 'deployment', name: 'team-a/nightly', tags: ['team-a'], after: true };
  it.each<[string, ObjectFacts, boolean, boolean]>([
    // [selector, object, grant holds, deny applies]
    ['deployment:team-a/*+pool:pool-a', A_NIGHTLY, true, true],
    ['deployment:team-a/*+pool:pool-a', deployment('team-a/nightly', ['team-a'], 'pool-b'), false, false],
    ['tag:team-a+tag:prod', A_NIGHTLY, false, false],
    ['tag:team-a+tag:prod', deployment('team-a/x', ['team-a', 'prod'], 'pool-a'), true, true],
    // Unknown: a grant does not hold, a deny applies (unless another condition is a known miss).
    ['deployment:team-a/*+pool:pool-a', moved, false, true],
    ['deployment:team-b/*+pool:pool-a', moved, false, false],
  ])('%s on %j: grant %s, deny %s', (text, object, grant, deny) => {
    expect(grantHolds(selector(text), object)).toBe(grant);
    expect(denyApplies(selector(text), object)).toBe(deny);
  });
});

import { splitScopes } from '../../../../src/authz';
import { objectScopesCover } from '../../../../src/authz/objects';

describe('objectScopesCover: no key hands out more than it holds', () => {
  it.each([
    // [held, requested, verdict]
    ['write/deployments', 'write/deployments/update@tag:team-a', 'ok'],
    ['*', 'write/deployments@tag:team-a', 'ok'],
    ['write/deployments@tag:team-a', 'write/deployments/update@tag:team-a', 'ok'],
    ['write/deployments@tag:team-a', 'write/deployments/update@tag:team-a+pool:pool-a', 'ok'],
    ['write/deployments@deployment:team-a/*', 'write/deployments/update@deployment:team-a/nightly', 'ok'],
    ['*@tag:team-a', 'write/deployments@tag:team-a', 'ok'],
    // A narrowed grant never covers a wider one.
    ['write/deployments@tag:team-a', 'write/deployments/update', 'not-held:write/deployments/update'],
    ['write/deployments@tag:team-a', 'write/deployments@tag:team-*', 'not-held:write/deployments@tag:team-*'],
    ['write/deployments@tag:team-a+pool:pool-a', 'write/deployments@tag:team-a', 'not-held:write/deployments@tag:team-a'],
    ['write/deployments@deployment:team-a/*', 'write/deployments@deployment:*', 'not-held:write/deployments@deployment:*'],
    ['write/deployments@tag:team-a', 'write/deployments@pool:pool-a', 'not-held:write/deployments@pool:pool-a'],
    ['write/deployments/update@tag:team-a', 'write/deployments@tag:team-a', 'not-held:write/deployments@tag:team-a'],
    ['*@tag:team-a', 'read/*', 'not-held:read/*'],
    // Malformed requested scopes are never covered.
    ['*', 'write/deployments@', 'not-held:write/deployments@'],
    // Every deny the holder has must be carried over as written, narrowed ones too.
    ['write/deployments, !write/deployments@tag:prod', 'write/deployments/update@tag:team-a', 'deny-missing:!write/deployments@tag:prod'],
    ['write/deployments, !write/deployments@tag:prod', 'write/deployments/update@tag:team-a, !write/deployments@tag:prod', 'ok'],
    // Rate limits are not compared here.
    ['write/deployments@tag:a', 'rate:1/1, write/deployments@tag:a', 'ok'],
  ])('%j hands out %j: %s', (held, requested, expected) => {
    const verdict = objectScopesCover(splitScopes(held), splitScopes(requested));
    expect(verdict.ok ? 'ok' : `${verdict.reason}:${verdict.scope}`).toBe(expected);
  });
});

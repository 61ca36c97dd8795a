import { invalidObjectScopes, parseObjectScope } from '../../../../src/authz/objects';

const describeScope = (text: string): string => {
  const r = parseObjectScope(text);
  if (!r.ok) return `error: ${r.reason}`;
  const s = r.scope;
  if (s.type === 'plain') return 'plain';
  if (s.type === 'narrowed-role') return `role ${s.role} narrowed`;
  return `${s.deny ? 'deny' : 'grant'} ${s.permission} narrowed`;
};

describe('parseObjectScope: what the issue asks to express', () => {
  it.each([
    // Run and edit deployments named team-a/*, or tagged team-a.
    ['write/deployments/create_flow_run@deployment:team-a/*', 'grant write/deployments/create_flow_run narrowed'],
    ['write/deployments/update@deployment:team-a/*', 'grant write/deployments/update narrowed'],
    ['write/deployments@tag:team-a', 'grant write/deployments narrowed'],
    // A worker that polls, heartbeats and connects only for pool-a.
    ['write/work_pools@pool:pool-a', 'grant write/work_pools narrowed'],
    ['write/work_pools/get_scheduled_flow_runs@pool:pool-a', 'grant write/work_pools/get_scheduled_flow_runs narrowed'],
    ['write/work_pools/connect@pool:pool-a', 'grant write/work_pools/connect narrowed'],
    // Secrets of block documents named team-a-*.
    ['secret/block_documents@block:team-a-*', 'grant secret/block_documents narrowed'],
    // Variables named team_a_*.
    ['write/variables@variable:team_a_*', 'grant write/variables narrowed'],
    // Flow-run actions only on runs of deployments the key may run.
    ['write/flow_runs/set_state/cancelling@deployment:team-a/*', 'grant write/flow_runs/set_state/cancelling narrowed'],
    ['write/flow_runs/delete@tag:team-a', 'grant write/flow_runs/delete narrowed'],
    // A role narrowed as a whole.
    ['role:runner@deployment:team-a/*', 'role runner narrowed'],
    ['role:worker@pool:pool-a', 'role worker narrowed'],
    // Denies may be narrowed.
    ['!write/deployments@tag:prod', 'deny write/deployments narrowed'],
    // Wide patterns that still reach named objects.
    ['write@tag:team-a', 'grant write narrowed'],
    ['write/*@tag:team-a', 'grant write/* narrowed'],
    ['*@tag:team-a', 'grant * narrowed'],
    // Scopes without @ read exactly as before.
    ['write/deployments/create_flow_run', 'plain'],
    ['role:runner', 'plain'],
    ['!read/admin', 'plain'],
    ['rate:10/20', 'plain'],
    ['*', 'plain'],
  ])('%s → %s', (text, expected) => {
    expect(describeScope(text)).toBe(expected);
  });
});

describe('parseObjectScope: a malformed selector is an error, never a wider grant', () => {
  it.each([
    ['write/deployments@', 'nothing after @'],
    ['write/deployments@team-a/*', 'is not key:pattern'],
    ['write/deployments@name:team-a/*', 'unknown selector key'],
    ['write/deployments@deployment:team-a/(.*)', 'may hold only'],
    ['write/deployments@deployment:a@pool:b', 'may hold only'],
    ['@tag:a', 'malformed permission before @'],
    ['!@tag:a', 'malformed permission before @'],
    ['!!write/deployments@tag:a', 'malformed permission before @'],
    ['write//deployments@tag:a', 'malformed permission before @'],
    ['write/deploy ments@tag:a', 'malformed permission before @'],
    ['rate:10/20@tag:a', 'malformed permission before @'],
    ['write/deployments+x@pool:a', 'malformed permission before @'],
    ['!role:runner@tag:a', 'a role cannot be denied'],
    ['role:Runner@tag:a', 'malformed role name'],
    ['role:@tag:a', 'malformed role name'],
    // Reads are not narrowed: a narrowed read would suggest a hiding that does not happen.
    ['read/deployments@tag:team-a', 'reads are not narrowed'],
    ['read@tag:team-a', 'reads are not narrowed'],
    ['query/flow@tag:team-a', 'reads are not narrowed'],
    // Nothing named to narrow to.
    ['write/logs@tag:team-a', 'acts on no named object'],
    ['write/automations@tag:team-a', 'acts on no named object'],
    ['write/flows@deployment:team-a/*', 'acts on no named object'],
    ['mutation/create_flow_run@deployment:a/*', 'acts on no named object'],
    ['admin@tag:a', 'acts on no named object'],
    // A condition the permission's objects cannot have.
    ['write/variables@pool:pool-a', 'can match pool:'],
    ['write/work_pools@tag:team-a', 'can match tag:'],
    ['secret/block_documents@deployment:a/*', 'can match deployment:'],
    ['write/deployments@block:x', 'can match block:'],
    // Some kind must take every condition at once.
    ['write@block:x+tag:y', 'can match block: and tag:'],
    ['write/deployments@deployment:a/*+variable:x', 'can match deployment: and variable:'],
  ])('%s: %s', (text, reason) => {
    const r = parseObjectScope(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });

  it('invalidObjectScopes reports each malformed scope with its reason, and accepts the rest', () => {
    expect(invalidObjectScopes(['read/*', 'write/deployments@tag:team-a', 'write/deployments@', 'query/(.*)'])).toEqual([
      { scope: 'write/deployments@', reason: 'nothing after @' },
      { scope: 'query/(.*)', reason: 'malformed scope' },
    ]);
  });
});

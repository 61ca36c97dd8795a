import type { LookupPlan, ObjectFacts } from '../../../../src/authz/objects';
import { objectsToCheck, requiredLookups } from '../../../../src/authz/objects';
import { classifyRest, UNREADABLE } from '../../../../src/authz/rest';
import { A_NIGHTLY, block, deployment, pool, variable, UUID_1, UUID_2 } from './fixtures';

type ObjectsPlan = Extract<LookupPlan, { type: 'objects' }>;

const planFor = (method: string, path: string, body: unknown): ObjectsPlan => {
  const segments = path.split('/').filter(Boolean);
  const r = classifyRest(method, segments, false);
  const plan = requiredLookups({ method, segments, permissions: r.kind === 'permissions' ? r.permissions : [], body });
  if (plan.type !== 'objects') throw new Error(`no objects plan: ${JSON.stringify(plan)}`);
  return plan;
};

/** An object written short: `deployment team-a/nightly [team-a] pool-a`, `?` for what is unknown, `after` for the new state. */
const show = (o: ObjectFacts): string => {
  const parts = [o.kind, o.name ?? '?'];
  if (o.kind === 'deployment' || o.kind === 'variable') parts.push(o.tags ? `[${o.tags.join(',')}]` : '[?]');
  if (o.kind === 'deployment' || o.kind === 'flow_run') parts.push(o.workPool === undefined ? 'pool?' : o.workPool === null ? 'no-pool' : o.workPool);
  if (o.kind === 'flow_run') parts.push(o.deployment === undefined ? 'of ?' : o.deployment === null ? 'of none' : `of ${o.deployment.name}`);
  if (o.after) parts.push('after');
  if (o.missing) parts.push('missing');
  return parts.join(' ');
};

const check = (method: string, path: string, body: unknown, resolved: ObjectFacts[]): string[] =>
  objectsToCheck(planFor(method, path, body), resolved, body).map(show);

describe('PATCH /deployments/{id}: as it is and as it will be', () => {
  const path = `/deployments/${UUID_1}`;
  it.each<[string, unknown, string[]]>([
    ['nothing that matters changes', { description: 'x', paused: true }, ['deployment team-a/nightly [team-a] pool-a']],
    ['an empty body', undefined, ['deployment team-a/nightly [team-a] pool-a']],
    ['the same pool and tags again', { work_pool_name: 'pool-a', tags: ['team-a'] }, ['deployment team-a/nightly [team-a] pool-a']],
    ['moved into another pool (#17113)', { work_pool_name: 'pool-b' }, ['deployment team-a/nightly [team-a] pool-a', 'deployment team-a/nightly [team-a] pool-b after']],
    ['moved with a queue in the pool', { work_pool_name: 'pool-b', work_queue_name: 'q' }, ['deployment team-a/nightly [team-a] pool-a', 'deployment team-a/nightly [team-a] pool-b after']],
    ['taken out of any pool', { work_pool_name: null }, ['deployment team-a/nightly [team-a] pool-a', 'deployment team-a/nightly [team-a] no-pool after']],
    // Prefect looks a queue name alone up in its default agent pool, or anywhere: not knowable.
    ['a queue name alone', { work_queue_name: 'q' }, ['deployment team-a/nightly [team-a] pool-a', 'deployment team-a/nightly [team-a] pool? after']],
    ['a queue name of null', { work_queue_name: null }, ['deployment team-a/nightly [team-a] pool-a']],
    ['an empty pool name', { work_pool_name: '' }, ['deployment team-a/nightly [team-a] pool-a', 'deployment team-a/nightly [team-a] pool? after']],
    ['a pool name of the wrong type', { work_pool_name: 7 }, ['deployment team-a/nightly [team-a] pool-a', 'deployment team-a/nightly [team-a] pool? after']],
    ['retagged', { tags: ['team-b'] }, ['deployment team-a/nightly [team-a] pool-a', 'deployment team-a/nightly [team-b] pool-a after']],
    ['tags removed', { tags: [] }, ['deployment team-a/nightly [team-a] pool-a', 'deployment team-a/nightly [] pool-a after']],
    ['tags of the wrong type', { tags: 'team-b' }, ['deployment team-a/nightly [team-a] pool-a', 'deployment team-a/nightly [?] pool-a after']],
    // Prefect refuses a name in the body today; were it to take one, the flow part stays.
    ['renamed', { name: 'other' }, ['deployment team-a/nightly [team-a] pool-a', 'deployment team-a/other [team-a] pool-a after']],
    ['a body that is not an object', ['x'], ['deployment team-a/nightly [team-a] pool-a', 'deployment ? [?] pool? after']],
  ])('%s', (_case, body, expected) => {
    expect(check('PATCH', path, body, [A_NIGHTLY])).toEqual(expected);
  });

  it('a deployment that was not found stays unknown', () => {
    const lost: ObjectFacts = { kind: 'deployment', id: UUID_1, missing: true };
    expect(check('PATCH', path, { tags: ['team-a'] }, [lost])).toEqual(['deployment ? [?] pool? missing', 'deployment ? [team-a] pool? after missing']);
  });
});

describe('POST /deployments/: an upsert by (flow_id, name)', () => {
  const body = (extra: object) => ({ flow_id: UUID_2, name: 'nightly', ...extra });
  const absent: ObjectFacts = { kind: 'deployment', name: 'team-a/nightly', missing: true };
  it.each<[string, object, ObjectFacts, string[]]>([
    // New: only the state it will have.
    ['a new deployment in a pool', { work_pool_name: 'pool-a', tags: ['team-a'] }, absent, ['deployment team-a/nightly [team-a] pool-a after']],
    ['a new deployment without pool or tags', {}, absent, ['deployment team-a/nightly [] no-pool after']],
    ['a new deployment, null pool', { work_pool_name: null, work_queue_name: null }, absent, ['deployment team-a/nightly [] no-pool after']],
    ['a new deployment, queue name alone', { work_queue_name: 'q' }, absent, ['deployment team-a/nightly [] pool? after']],
    // Existing: as it is, and as it will be; what the body leaves out stays.
    ['the same again', { work_pool_name: 'pool-a', tags: ['team-a'] }, A_NIGHTLY, ['deployment team-a/nightly [team-a] pool-a']],
    ['pool and tags left out', {}, A_NIGHTLY, ['deployment team-a/nightly [team-a] pool-a']],
    ['a null pool is not given, on POST', { work_pool_name: null }, A_NIGHTLY, ['deployment team-a/nightly [team-a] pool-a']],
    ['taken over into pool-b', { work_pool_name: 'pool-b' }, A_NIGHTLY, ['deployment team-a/nightly [team-a] pool-a', 'deployment team-a/nightly [team-a] pool-b after']],
    ['retagged', { tags: ['team-b'] }, A_NIGHTLY, ['deployment team-a/nightly [team-a] pool-a', 'deployment team-a/nightly [team-b] pool-a after']],
    // Someone else's deployment of the same name: its current state is checked too.
    ['overwriting team-b\'s', { work_pool_name: 'pool-a', tags: ['team-a'] }, deployment('team-a/nightly', ['team-b'], 'pool-b'),
      ['deployment team-a/nightly [team-b] pool-b', 'deployment team-a/nightly [team-a] pool-a after']],
    // The flow does not exist: no name.
    ['an unknown flow', { work_pool_name: 'pool-a' }, { kind: 'deployment', missing: true }, ['deployment ? [] pool-a after']],
  ])('%s', (_case, extra, found, expected) => {
    expect(check('POST', '/deployments/', body(extra), [found])).toEqual(expected);
  });
});

describe('creates: the object as the body makes it', () => {
  it.each<[string, string, unknown, ObjectFacts[], string[]]>([
    ['a run of a deployment, queued in a pool', '/flow_runs/', { flow_id: UUID_2, deployment_id: UUID_1, work_pool_name: 'pool-b' }, [A_NIGHTLY], ['flow_run ? pool-b of team-a/nightly after']],
    ['a named run of a deployment, in no pool', '/flow_runs/', { flow_id: UUID_2, deployment_id: UUID_1, name: 'r1' }, [A_NIGHTLY], ['flow_run r1 no-pool of team-a/nightly after']],
    ['a run without a deployment', '/flow_runs/', { flow_id: UUID_2, work_pool_name: 'pool-a' }, [], ['flow_run ? pool-a of none after']],
    ['a work pool', '/work_pools/', { name: 'pool-a' }, [], ['work_pool pool-a after']],
    ['a work pool without a name', '/work_pools/', {}, [], ['work_pool ? after']],
    ['a block document', '/block_documents/', { name: 'team-a-db' }, [], ['block_document team-a-db after']],
    ['an anonymous block document', '/block_documents/', { is_anonymous: true }, [], ['block_document ? after']],
    ['a variable with tags', '/variables/', { name: 'team_a_x', value: 1, tags: ['team-a'] }, [], ['variable team_a_x [team-a] after']],
    ['a variable without tags', '/variables/', { name: 'team_a_x', value: 1 }, [], ['variable team_a_x [] after']],
    ['a variable, tags of the wrong type', '/variables/', { name: 'team_a_x', tags: [1] }, [], ['variable team_a_x [?] after']],
  ])('%s', (_case, path, body, resolved, expected) => {
    expect(check('POST', path, body, resolved)).toEqual(expected);
  });

  it('an unreadable body leaves everything it could set unknown (requiredLookups does not even plan one)', () => {
    expect(objectsToCheck(planFor('POST', '/variables/', {}), [], UNREADABLE).map(show)).toEqual(['variable ? [?] after']);
    expect(objectsToCheck(planFor('POST', '/flow_runs/', {}), [], UNREADABLE).map(show)).toEqual(['flow_run ? pool? of ? after']);
    expect(objectsToCheck(planFor('PATCH', `/deployments/${UUID_1}`, {}), [A_NIGHTLY], UNREADABLE).map(show))
      .toEqual(['deployment team-a/nightly [team-a] pool-a', 'deployment ? [?] pool? after']);
  });
});

describe('variables: renamed and retagged by id or by name', () => {
  const before = variable('team_a_x', ['team-a']);
  it.each<[string, string, unknown, string[]]>([
    ['the value only', `/variables/${UUID_1}`, { value: 2 }, ['variable team_a_x [team-a]']],
    ['renamed out of the team', `/variables/${UUID_1}`, { name: 'team_b_x' }, ['variable team_a_x [team-a]', 'variable team_b_x [team-a] after']],
    ['renamed by name', '/variables/name/team_a_x', { name: 'team_b_x' }, ['variable team_a_x [team-a]', 'variable team_b_x [team-a] after']],
    ['retagged', '/variables/name/team_a_x', { tags: ['team-b'] }, ['variable team_a_x [team-a]', 'variable team_a_x [team-b] after']],
    ['a null name', `/variables/${UUID_1}`, { name: null }, ['variable team_a_x [team-a]', 'variable ? [team-a] after']],
  ])('%s', (_case, path, body, expected) => {
    expect(check('PATCH', path, body, [before])).toEqual(expected);
  });
});

describe('routes that change no name, tag or pool: the objects as they are', () => {
  it.each<[string, string, unknown, ObjectFacts[], string[]]>([
    ['POST', `/deployments/${UUID_1}/create_flow_run`, { work_queue_name: 'other' }, [A_NIGHTLY], ['deployment team-a/nightly [team-a] pool-a']],
    ['POST', '/deployments/get_scheduled_flow_runs', { deployment_ids: [UUID_1, UUID_2] }, [A_NIGHTLY, deployment('team-b/x', [], 'pool-b')],
      ['deployment team-a/nightly [team-a] pool-a', 'deployment team-b/x [] pool-b']],
    ['POST', '/work_pools/pool-a/workers/heartbeat', {}, [], ['work_pool pool-a']],
    ['PATCH', '/work_pools/pool-a', { description: 'x' }, [], ['work_pool pool-a']],
    ['POST', `/work_queues/${UUID_1}/get_runs`, {}, [pool('pool-b')], ['work_pool pool-b']],
    ['POST', '/work_queues/', { name: 'q' }, [], ['work_pool default-agent-pool']],
    ['PATCH', `/block_documents/${UUID_1}`, { data: {} }, [block('team-a-db')], ['block_document team-a-db']],
  ])('%s %s', (method, path, body, resolved, expected) => {
    expect(check(method, path, body, resolved)).toEqual(expected);
  });

  it('refuses to guess when the results do not match the lookups', () => {
    expect(() => objectsToCheck(planFor('PATCH', `/deployments/${UUID_1}`, {}), [], {})).toThrow(/1 lookups, 0 results/);
  });
});

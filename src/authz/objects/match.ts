import type { Condition, ObjectFacts, Selector } from './types';

/** A condition on one object: it holds, it does not, or the fact it asks about is not known. */
export type Truth = 'yes' | 'no' | 'unknown';

/**
 * What each condition looks at. A flow run is judged by its deployment (name and tags), except for
 * `pool:`, which is the pool the run is queued in: that is where it will be executed. A condition
 * about something an object does not have (`block:` on a deployment, `tag:` on a work pool) is `no`.
 */
export function evaluateCondition(condition: Condition, object: ObjectFacts): Truth {
  const name = (value: string | null | undefined): Truth => (value === undefined ? 'unknown' : value !== null && condition.regex.test(value) ? 'yes' : 'no');
  const tags = (values: readonly string[] | undefined): Truth => (values === undefined ? 'unknown' : values.some((t) => condition.regex.test(t)) ? 'yes' : 'no');
  const deployment = object.deployment;
  switch (condition.key) {
    case 'deployment':
      if (object.kind === 'deployment') return name(object.name);
      if (object.kind === 'flow_run') return deployment === undefined ? 'unknown' : deployment === null ? 'no' : name(deployment.name);
      return 'no';
    case 'tag':
      if (object.kind === 'deployment' || object.kind === 'variable') return tags(object.tags);
      if (object.kind === 'flow_run') return deployment === undefined ? 'unknown' : deployment === null ? 'no' : tags(deployment.tags);
      return 'no';
    case 'pool':
      if (object.kind === 'deployment' || object.kind === 'flow_run') return name(object.workPool);
      if (object.kind === 'work_pool') return name(object.name);
      return 'no';
    case 'block':
      return object.kind === 'block_document' ? name(object.name) : 'no';
    case 'variable':
      return object.kind === 'variable' ? name(object.name) : 'no';
  }
}

/** A narrowed grant covers the object only when every condition is known to hold. */
export function grantHolds(selector: Selector, object: ObjectFacts): boolean {
  return selector.every((c) => evaluateCondition(c, object) === 'yes');
}

/** A narrowed deny applies unless some condition is known not to hold: a deny errs on the wide side. */
export function denyApplies(selector: Selector, object: ObjectFacts): boolean {
  return selector.every((c) => evaluateCondition(c, object) !== 'no');
}

/** The named things a permission can be narrowed to. */
export type ObjectKind = 'deployment' | 'flow_run' | 'work_pool' | 'block_document' | 'variable';

export const OBJECT_KINDS: readonly ObjectKind[] = ['deployment', 'flow_run', 'work_pool', 'block_document', 'variable'];

/**
 * What the proxy knows of one named object, from a lookup, the request path or the request body.
 * A field left `undefined` is not known (the lookup found nothing, or the change makes it
 * unknowable): a grant that asks about it does not hold, a deny that asks about it applies.
 */
export interface ObjectFacts {
  readonly kind: ObjectKind;
  readonly id?: string;
  /** Deployment: `<flow name>/<deployment name>`. Flow run: the run's own name, shown but never matched. */
  readonly name?: string;
  /** Deployments and variables. A flow run is matched on its deployment's tags, not its own. */
  readonly tags?: readonly string[];
  /** Deployment: its work pool. Flow run: the pool it is queued in. `null`: none. */
  readonly workPool?: string | null;
  /** Flow run: its deployment; `null`: a run without one. */
  readonly deployment?: ObjectFacts | null;
  /** The lookup found no such object. */
  readonly missing?: boolean;
  /** This is the object as the request would leave it (create, update, upsert), not as it is. */
  readonly after?: boolean;
}

/** The words a selector condition starts with. */
export type ConditionKey = 'deployment' | 'pool' | 'tag' | 'block' | 'variable';

export interface Condition {
  readonly key: ConditionKey;
  /** As written: letters, digits, `_ . - / : =` and `*`, anchored, case-sensitive. */
  readonly pattern: string;
  readonly regex: RegExp;
}

/** Conditions joined by `+`: all must hold. */
export type Selector = readonly Condition[];

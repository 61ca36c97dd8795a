import type { AuditDecision } from './types';

/** One operation as an entry point decided it: what it needed, and whether it changes anything. */
export interface DecidedOperation {
  readonly dialect: AuditDecision['dialect'];
  /** GraphQL operation type, HTTP method, `WEBSOCKET` or `admin`. */
  readonly operationType: string;
  readonly operationName: string | null;
  readonly fields: readonly string[];
  readonly allowed: boolean;
  /** Permissions used when allowed, lacking when refused. */
  readonly permissions: readonly string[];
  /** Writes, mutations, websocket sessions and admin calls: recorded even when allowed. */
  readonly changesState: boolean;
  readonly variables?: unknown;
}

/** How a request was turned away before any operation was decided, as far as the audit trail cares. */
export type EarlyRefusal =
  /** No, or no valid, credential: counted per source by the failure recorder, with this short fixed reason. */
  | { readonly kind: 'unauthenticated'; readonly reason: string }
  /** The caller's rate limit (`rate:<rps>/<burst>`). */
  | { readonly kind: 'rate-limited'; readonly limit: string }
  /** A request made with the session cookie from another origin (cross-site request forgery). */
  | { readonly kind: 'cross-site'; readonly reason: string };

export interface AuditInput {
  readonly dialect: AuditDecision['dialect'];
  /** The HTTP method, or `WEBSOCKET`. */
  readonly method: string;
  /** The route or path a record names when no operation was decided. */
  readonly target: string;
  readonly decided: readonly DecidedOperation[];
  readonly early?: EarlyRefusal;
}

export interface AuditPlan {
  readonly records: AuditDecision[];
  /** Recorded through the failure recorder (aggregated per source), never as rows of their own. */
  readonly authFailure?: string;
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * What the audit trail keeps, for every way in: refusals and what changes state, never plain reads
 * that were allowed. Failed authentications go to the per-source aggregation, so a flood of bad
 * keys cannot fill the table; rate-limited reads are only counted (metrics), rate-limited writes
 * are blocked mutations like any other.
 */
export function auditPolicy(input: AuditInput): AuditPlan {
  if (input.early?.kind === 'unauthenticated') return { records: [], authFailure: input.early.reason };
  if (input.early?.kind === 'rate-limited') {
    if (READS.has(input.method)) return { records: [] };
    return {
      records: [{
        outcome: 'BLOCKED', dialect: input.dialect, operationType: input.method, operationName: 'rate limit',
        fields: [input.target], permissions: [input.early.limit],
      }],
    };
  }
  if (input.early?.kind === 'cross-site') {
    return {
      records: [{
        outcome: 'BLOCKED', dialect: input.dialect, operationType: input.method, operationName: 'cross-site request',
        fields: [input.target, input.early.reason], permissions: ['same-origin'],
      }],
    };
  }
  const records: AuditDecision[] = [];
  for (const op of input.decided) {
    if (op.allowed && !op.changesState) continue;
    records.push({
      outcome: op.allowed ? 'ALLOWED' : 'BLOCKED',
      dialect: op.dialect,
      operationType: op.operationType,
      operationName: op.operationName,
      fields: op.fields,
      permissions: op.permissions,
      ...(op.variables !== undefined ? { variables: op.variables } : {}),
    });
  }
  return { records };
}

import type { AuditOutcome } from './outcome';

export type { AuditOutcome };

/** What a handler knows when it decides; the rest is filled in when the response ends. */
export interface AuditDecision {
  readonly outcome: AuditOutcome;
  readonly dialect: 'graphql' | 'rest' | 'admin';
  /** GraphQL operation type (`mutation`, ...), `admin`, or an HTTP method. */
  readonly operationType: string;
  readonly operationName: string | null;
  /** GraphQL root fields, or the route. */
  readonly fields: readonly string[];
  /** Permissions the request used (allowed) or lacked (blocked). */
  readonly permissions: readonly string[];
  /** GraphQL variables, only when AUDIT_LOG_VARIABLES is on. */
  readonly variables?: unknown;
}

/** One audited decision. Holds no key, no Authorization value and no body. */
export interface AuditEvent extends AuditDecision {
  readonly time: Date;
  readonly requestId: string;
  readonly user: string | null;
  readonly keyId: string | null;
  readonly client: string;
  /** HTTP status the client got (0 when it went away first). */
  readonly status: number;
  readonly latencyMs: number;
}

export interface AuditSink {
  record(event: AuditEvent): void;
  /** Writes what is queued, giving up after `deadlineMs`. */
  flush?(deadlineMs: number): Promise<void>;
  stats?(): AuditStats;
}

export interface AuditStats {
  readonly queued: number;
  readonly written: number;
  readonly dropped: number;
}

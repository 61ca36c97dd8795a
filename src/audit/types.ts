export type AuditOutcome = 'ALLOWED' | 'BLOCKED';

/** One audited decision. Holds no key, no Authorization value and no body. */
export interface AuditEvent {
  readonly outcome: AuditOutcome;
  readonly dialect: 'graphql' | 'admin';
  readonly requestId: string;
  readonly user: string;
  readonly client: string;
  /** GraphQL operation type (`mutation`, ...) or the admin action. */
  readonly operationType: string;
  readonly operationName: string | null;
  readonly fields: readonly string[];
  /** Permissions that were missing, for BLOCKED events. */
  readonly missing?: readonly string[];
  /** GraphQL variables, only when AUDIT_LOG_VARIABLES is on. */
  readonly variables?: unknown;
}

export interface AuditSink {
  record(event: AuditEvent): void;
}

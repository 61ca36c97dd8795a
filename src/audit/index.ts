export { AUDIT_MARKER, combineAuditSinks, createLogAuditSink } from './log-sink';
export { AUDIT_COLUMNS, MAX_AUDIT_LIMIT, parseTime } from './query';
export type { AuditQuery, AuditReader, AuditRecord } from './query';
export { AuditFilterError, parseAuditFilters } from './filters';
export type { AuditDecision, AuditEvent, AuditOutcome, AuditSink, AuditStats } from './types';
export { formatCsv } from './csv';
export { createAuthFailureRecorder } from './auth-failures';
export type { AuthFailure, AuthFailureOptions, AuthFailureRecorder } from './auth-failures';

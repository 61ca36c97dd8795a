export { AUDIT_MARKER, combineAuditSinks, createLogAuditSink } from './log-sink';
export { createDbAuditSink, toDbTimestamp } from './db-sink';
export type { DbAuditSink, DbAuditSinkOptions } from './db-sink';
export { AUDIT_COLUMNS, MAX_AUDIT_LIMIT, parseTime, queryAudit } from './query';
export type { AuditQuery, AuditRecord } from './query';
export { auditFinishedRequest, recordDecision } from './request-audit';
export type { AuditDecision, AuditEvent, AuditOutcome, AuditSink, AuditStats } from './types';
export { formatCsv } from './csv';

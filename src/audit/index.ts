export { createLogAuditSink, AUDIT_MARKER } from './log-sink';
export type { AuditEvent, AuditOutcome, AuditSink } from './types';

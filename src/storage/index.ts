export { openStorage } from './storage';
export type { ChangeLog, Storage, StorageOptions } from './storage';
export { AUDIT_TABLE, CHANGES_TABLE, KEYS_TABLE, MIGRATIONS_TABLE } from './tables';
export { describeDbError, isDbError } from './db-error';
export { SchemaError } from './migration';
export type { DbAuditSink, DbAuditSinkOptions } from './audit-sink';
// The parts, for tests that drive one of them against a database they set up themselves.
export { createDatabase } from './database';
export { dbNowPlus, formatDbTime, SECONDS_LEFT_SQL } from './dialect';
export { migrateLatest, migrationStatus } from './migrations';
export { createKnexKeyStore } from './key-store';
export { createKnexSessionStore } from './session-store';
export type { SessionStoreOptions } from './session-store';
export { SESSIONS_TABLE } from './sessions-schema';
export { createKeyAdmin } from './key-admin';
export { createDbAuditSink, toDbTimestamp } from './audit-sink';
export { queryAudit } from './audit-query';
export { createChangeSource, hasChangeLog, pruneChanges, recordChange, recordChanges } from './change-log';

import type { AuditReader } from '../audit';
import type { RoleTable } from '../authz';
import type { DbConfig, DbType } from '../config';
import type { ChangeRecorder, ChangeSource, Invalidation, Notify } from '../invalidation';
import type { KeyAdmin, KeyStore } from '../keys';
import type { Logger } from '../log';
import type { OwnKeyStore } from '../selfservice';
import type { SessionStore } from '../sessions';
import { DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_TOUCH_INTERVAL_MS } from '../sessions';
import { queryAudit } from './audit-query';
import type { DbAuditSink, DbAuditSinkOptions } from './audit-sink';
import { createDbAuditSink } from './audit-sink';
import { createChangeSource, hasChangeLog, pruneChanges, recordChange, recordChanges } from './change-log';
import { createDatabase } from './database';
import { createKeyAdmin } from './key-admin';
import type { KeyUsageRecorder } from './key-usage';
import { createKeyUsageRecorder } from './key-usage';
import { createKnexKeyStore } from './key-store';
import { migrateLatest, migrationStatus } from './migrations';
import type { SessionStoreOptions } from './session-store';
import { createOwnKeyStore } from './own-keys';
import { createKnexSessionStore } from './session-store';
import { AUDIT_TABLE } from './tables';

/** The change table, for writers outside a key change (the CLI's `cache` commands). */
export interface ChangeLog {
  /** Whether `db migrate` has created it. */
  exists(): Promise<boolean>;
  record(changes: readonly Invalidation[]): Promise<void>;
  /** Deletes rows past their retention. */
  prune(): Promise<void>;
}

/**
 * The key store database seen through what its users need: nobody outside this folder holds the
 * Knex instance, writes SQL or knows the dialect.
 */
export interface Storage {
  readonly type: DbType;
  readonly keyStore: KeyStore;
  readonly keyAdmin: KeyAdmin;
  /** Sign-in sessions, shared by every instance through this database. */
  readonly sessions: SessionStore;
  /** Keys people make for themselves, and people an administrator disabled. */
  readonly ownKeys: OwnKeyStore;
  readonly queryAudit: AuditReader;
  readonly changeSource: ChangeSource;
  readonly changeLog: ChangeLog;
  /** Records a cache change for the other instances; never throws (false when it could not). */
  readonly recordChange: ChangeRecorder;
  /** PostgreSQL NOTIFY through the pool (the postgres invalidation bus publishes with it). */
  readonly notify: Notify;
  migrate(): Promise<string[]>;
  migrationStatus(): Promise<{ applied: string[]; pending: string[] }>;
  /** Throws when the key store does not answer. */
  hasAuditTable(): Promise<boolean>;
  createAuditSink(options: Omit<DbAuditSinkOptions, 'db' | 'type'>): DbAuditSink;
  /** When keys were last used, written in batches every `intervalMs` (the server's; the CLI needs none). */
  createKeyUsage(intervalMs: number): KeyUsageRecorder;
  /** Closes the pool; everything above stops working. */
  close(): Promise<void>;
}

export interface StorageOptions {
  readonly roles: RoleTable;
  /** Where Knex's own notices go, redacted; none for the CLI. */
  readonly logger?: Logger;
  /** Idle timeout, touch interval, token key; defaults (no token key: tokens refused) when sign-in is off. */
  readonly sessions?: Partial<Omit<SessionStoreOptions, 'timeoutMs'>>;
}

export function openStorage(config: DbConfig, options: StorageOptions): Storage {
  const db = createDatabase(config, options.logger);
  const { type } = config;
  const keyStore = createKnexKeyStore(db, type, config.timeoutMs);
  return {
    type,
    keyStore,
    keyAdmin: createKeyAdmin(db, type, options.roles),
    ownKeys: createOwnKeyStore(db, type),
    sessions: createKnexSessionStore(db, type, {
      ...options.sessions,
      idleTimeoutMs: options.sessions?.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      touchIntervalMs: options.sessions?.touchIntervalMs ?? DEFAULT_TOUCH_INTERVAL_MS,
      timeoutMs: config.timeoutMs,
    }),
    queryAudit: (query) => queryAudit(db, type, query),
    changeSource: createChangeSource(db, type, config.timeoutMs),
    changeLog: {
      exists: () => hasChangeLog(db),
      record: (changes) => recordChanges(db, type, changes),
      prune: () => pruneChanges(db, type),
    },
    recordChange: (change) => recordChange(db, type, change, options.logger),
    notify: async (channel, payload) => {
      await db.raw('select pg_notify(?, ?)', [channel, payload]);
    },
    migrate: () => migrateLatest(db, type),
    migrationStatus: () => migrationStatus(db, type),
    hasAuditTable: () => db.schema.hasTable(AUDIT_TABLE),
    createKeyUsage: (intervalMs) => createKeyUsageRecorder(db, type, { intervalMs, ...(options.logger ? { logger: options.logger } : {}) }),
    createAuditSink: (sinkOptions) => createDbAuditSink({ ...sinkOptions, db, type }),
    close: () => keyStore.close(),
  };
}

import type { Knex } from 'knex';
import type { DbType } from '../config';
import type { AuditEvent, AuditSink, AuditStats } from '../audit';
import type { Logger } from '../log';
import { describeDbError } from './db-error';
import { AUDIT_TABLE } from './tables';

export interface DbAuditSinkOptions {
  readonly db: Knex;
  readonly type: DbType;
  readonly queueMax: number;
  readonly flushIntervalMs: number;
  readonly retentionDays: number;
  readonly logger: Logger;
  readonly batchSize?: number;
}

export interface DbAuditSink extends AuditSink {
  flush(deadlineMs: number): Promise<void>;
  stats(): AuditStats;
  /** Stops the timers; call flush first. */
  stop(): void;
}

const HOUR_MS = 3_600_000;
const DROP_REPORT_MS = 10_000;

/** Times as the column type wants them: UTC, with milliseconds. */
export function toDbTimestamp(type: DbType, date: Date): string {
  const iso = date.toISOString();
  return type === 'mysql' ? iso.replace('T', ' ').replace('Z', '') : iso;
}

function toRow(type: DbType, e: AuditEvent): Record<string, unknown> {
  const cap = (text: string, n: number) => (text.length > n ? text.slice(0, n) : text);
  return {
    occurred_at: toDbTimestamp(type, e.time),
    request_id: cap(e.requestId, 128),
    user_id: e.user === null ? null : cap(e.user, 128),
    outcome: e.outcome,
    dialect: e.dialect,
    operation: cap(`${e.operationType} ${e.fields.join(',')}`.trim(), 1000),
    operation_name: e.operationName === null ? null : cap(e.operationName, 255),
    permission: cap(e.permissions.join(','), 2000) || null,
    status: e.status,
    client: cap(e.client, 128),
    key_id: e.keyId,
    latency_ms: Math.round(e.latencyMs * 100) / 100,
  };
}

/**
 * Batched, asynchronous audit writes: recording costs a push onto a bounded queue, never a
 * database round trip on the request's path. While the database is slow or down events wait;
 * beyond `queueMax` new events are dropped, counted and reported.
 */
export function createDbAuditSink(options: DbAuditSinkOptions): DbAuditSink {
  const { db, type, queueMax, logger } = options;
  const batchSize = options.batchSize ?? 500;
  const queue: AuditEvent[] = [];
  let written = 0;
  let dropped = 0;
  let droppedReported = 0;
  let lastDropReport = 0;
  let failing = false;
  let inFlight: Promise<void> | null = null;

  const writeBatch = async (): Promise<boolean> => {
    const batch = queue.slice(0, batchSize);
    if (batch.length === 0) return false;
    try {
      await db(AUDIT_TABLE).insert(batch.map((e) => toRow(type, e)));
    } catch (err) {
      if (!failing) logger.error('audit events cannot be written; they wait in memory', { reason: describeDbError(err), queued: queue.length });
      failing = true;
      return false;
    }
    queue.splice(0, batch.length);
    written += batch.length;
    if (failing) logger.notice('audit events are written again', { queued: queue.length });
    failing = false;
    return true;
  };

  const drain = (): Promise<void> => {
    inFlight ??= (async () => {
      while (await writeBatch()) { /* keep writing while batches succeed */ }
    })().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };

  const reportDrops = (): void => {
    if (dropped === droppedReported || Date.now() - lastDropReport < DROP_REPORT_MS) return;
    logger.error('audit queue full: events dropped', { dropped: dropped - droppedReported, droppedTotal: dropped, queueMax });
    droppedReported = dropped;
    lastDropReport = Date.now();
  };

  const purge = async (): Promise<void> => {
    if (options.retentionDays <= 0) return;
    const cutoff = new Date(Date.now() - options.retentionDays * 86_400_000);
    try {
      const deleted = await db(AUDIT_TABLE).where('occurred_at', '<', toDbTimestamp(type, cutoff)).delete();
      if (deleted > 0) logger.info('old audit rows deleted', { deleted, retentionDays: options.retentionDays });
    } catch {
      // The database may be down; the next hour tries again.
    }
  };

  const flushTimer = setInterval(() => {
    reportDrops();
    void drain();
  }, options.flushIntervalMs);
  flushTimer.unref();
  const purgeTimer = setInterval(() => void purge(), HOUR_MS);
  purgeTimer.unref();
  void purge();

  return {
    record(event) {
      if (queue.length >= queueMax) {
        dropped++;
        return;
      }
      queue.push(event);
    },
    async flush(deadlineMs) {
      const deadline = Date.now() + deadlineMs;
      while (queue.length > 0 && Date.now() < deadline) {
        await drain();
        if (queue.length > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      reportDrops();
      if (queue.length > 0) logger.error('audit events not written before shutdown', { lost: queue.length });
    },
    stats: () => ({ queued: queue.length, written, dropped }),
    stop() {
      clearInterval(flushTimer);
      clearInterval(purgeTimer);
    },
  };
}

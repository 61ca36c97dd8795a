import type { Logger } from '../log';
import type { AuditSink } from './types';

export const AUDIT_MARKER = 'PREFECT_AUDIT_TRAIL';

/** Audit lines go out whatever LOG_LEVEL is, with the marker the original proxy used, for log searches. */
export function createLogAuditSink(logger: Logger): AuditSink {
  return {
    record(event) {
      const { time: _time, variables, ...rest } = event;
      const what = `${event.operationType} ${event.fields.join(',') || '-'}`;
      // "for public" read as if public access were on; keyless requests say what happened.
      const who = event.user === null ? 'without a key' : `for ${event.user}`;
      logger.notice(`${AUDIT_MARKER}: ${event.outcome} ${what} ${who}`, {
        audit: true,
        ...rest,
        ...(variables !== undefined ? { variables } : {}),
      });
    },
  };
}

/** Sends every event to each sink; flushes them all. */
export function combineAuditSinks(sinks: readonly AuditSink[]): AuditSink {
  return {
    record: (event) => sinks.forEach((s) => s.record(event)),
    flush: async (deadlineMs) => {
      await Promise.all(sinks.map((s) => s.flush?.(deadlineMs)));
    },
    stats: () => sinks.find((s) => s.stats)?.stats?.() ?? { queued: 0, written: 0, dropped: 0 },
  };
}

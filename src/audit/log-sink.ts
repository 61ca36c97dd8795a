import type { Logger } from '../log';
import type { AuditSink } from './types';

export const AUDIT_MARKER = 'PREFECT_AUDIT_TRAIL';

/** Audit lines go out whatever LOG_LEVEL is, with the marker the original proxy used, for log searches. */
export function createLogAuditSink(logger: Logger): AuditSink {
  return {
    record(event) {
      const what = `${event.operationType} ${event.fields.join(',') || '-'}`;
      logger.notice(`${AUDIT_MARKER}: ${event.outcome} ${what} for ${event.user}`, {
        audit: true,
        ...event,
      });
    },
  };
}

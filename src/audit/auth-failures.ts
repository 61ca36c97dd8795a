import type { AuditEvent, AuditSink } from './types';

/** One refused credential: never the credential itself, only why it was refused. */
export interface AuthFailure {
  readonly requestId: string;
  readonly client: string;
  readonly dialect: AuditEvent['dialect'];
  /** A fixed reason ("invalid or expired API key", "an API key is required..."): never echo what was sent. */
  readonly reason: string;
  /** The route label or template: never a raw path, which may hold a key (`/cache/:key`). */
  readonly route: string;
}

export interface AuthFailureRecorder {
  record(failure: AuthFailure): void;
  /** Writes what is still counted and stops the timer. */
  stop(): void;
}

export interface AuthFailureOptions {
  /** One row per source and window; repeats within it are counted into one summary row. */
  readonly windowMs?: number;
  /** Sources tracked at once; beyond that, failures are counted under one "many sources" entry. */
  readonly maxSources?: number;
}

const MANY_SOURCES = '(many sources)';

interface Window {
  readonly startedAt: number;
  repeats: number;
  last: AuthFailure;
}

/**
 * Failed authentications in the audit trail, aggregated per client address so that a flood of
 * made-up keys costs one row per source per window (plus one summary) rather than one per request.
 */
export function createAuthFailureRecorder(sink: AuditSink, options: AuthFailureOptions = {}): AuthFailureRecorder {
  const windowMs = options.windowMs ?? 60_000;
  const maxSources = options.maxSources ?? 10_000;
  const windows = new Map<string, Window>();

  const emit = (failure: AuthFailure, operationName: string, fields: readonly string[]): void => {
    sink.record({
      outcome: 'BLOCKED', dialect: failure.dialect, operationType: 'AUTH', operationName, fields, permissions: [],
      time: new Date(), requestId: failure.requestId, user: null, keyId: null, client: failure.client, status: 401, latencyMs: 0,
    });
  };

  const summarize = (source: string, window: Window): void => {
    if (window.repeats === 0) return;
    emit({ ...window.last, client: source }, 'authentication failed (repeated)',
      [`${window.repeats} more failed authentications in ${Math.round((Date.now() - window.startedAt) / 1000)} s`, window.last.reason]);
  };

  const sweep = (all: boolean): void => {
    const now = Date.now();
    for (const [source, window] of windows) {
      if (!all && now - window.startedAt < windowMs) continue;
      summarize(source, window);
      windows.delete(source);
    }
  };
  const timer = setInterval(() => sweep(false), Math.max(100, Math.floor(windowMs / 2)));
  timer.unref();

  return {
    record(failure) {
      const source = windows.has(failure.client) || windows.size < maxSources ? failure.client : MANY_SOURCES;
      const open = windows.get(source);
      if (open && Date.now() - open.startedAt < windowMs) {
        open.repeats++;
        open.last = failure;
        return;
      }
      if (open) summarize(source, open);
      windows.set(source, { startedAt: Date.now(), repeats: 0, last: failure });
      emit({ ...failure, client: source }, 'authentication failed', [failure.route, failure.reason]);
    },
    stop() {
      clearInterval(timer);
      sweep(true);
    },
  };
}

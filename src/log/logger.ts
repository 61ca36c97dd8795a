import winston from 'winston';
import type { LogLevel } from '../config';
import { redact, redactText } from './redact';

export interface Logger {
  error(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
  /** Lines an operator must always get (audit, start-up), whatever the level. */
  notice(message: string, meta?: Record<string, unknown>): void;
  readonly level: LogLevel;
  /** Switches the level for `durationMs`, then back to the configured one. */
  overrideLevel(level: LogLevel, durationMs: number): void;
  close(): void;
}

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly format: 'json' | 'pretty';
  readonly env: string;
  /** Where lines go; stdout unless a test captures them. */
  readonly stream?: NodeJS.WritableStream;
}

const redactFormat = winston.format((info) => {
  const cleaned = redact({ ...info }) as Record<string | symbol, unknown>;
  for (const key of Object.keys(info)) delete (info as Record<string, unknown>)[key];
  Object.assign(info, cleaned);
  if (typeof info.message === 'string') info.message = redactText(info.message);
  return info;
});

const prettyLine = winston.format.printf((info) => {
  const { timestamp, level, message, env: _env, ...meta } = info as Record<string, unknown>;
  const rest = Object.keys(meta).length > 0 ? ` ${JSON.stringify(meta)}` : '';
  return `${String(timestamp)} ${String(level)} ${String(message)}${rest}`;
});

export function createLogger(options: LoggerOptions): Logger {
  const transport = options.stream
    ? new winston.transports.Stream({ stream: options.stream })
    : new winston.transports.Console();
  const base = winston.createLogger({
    level: options.level,
    levels: { notice: 0, error: 1, warn: 2, info: 3, debug: 4 },
    defaultMeta: { env: options.env },
    format: winston.format.combine(
      redactFormat(),
      winston.format.timestamp(),
      options.format === 'json' ? winston.format.json() : prettyLine,
    ),
    transports: [transport],
  });
  let current: LogLevel = options.level;
  let resetTimer: NodeJS.Timeout | undefined;

  const setLevel = (level: LogLevel): void => {
    current = level;
    base.level = level;
  };

  return {
    error: (m, meta) => base.log('error', m, meta),
    warn: (m, meta) => base.log('warn', m, meta),
    info: (m, meta) => base.log('info', m, meta),
    debug: (m, meta) => base.log('debug', m, meta),
    notice: (m, meta) => base.log('notice', m, meta),
    get level() {
      return current;
    },
    overrideLevel(level, durationMs) {
      if (resetTimer) clearTimeout(resetTimer);
      setLevel(level);
      resetTimer = setTimeout(() => setLevel(options.level), durationMs);
      resetTimer.unref();
    },
    close() {
      if (resetTimer) clearTimeout(resetTimer);
      base.close();
    },
  };
}

export { createLogger } from './logger';
export type { Logger, LoggerOptions } from './logger';
export { redact, redactText, REDACTED } from './redact';

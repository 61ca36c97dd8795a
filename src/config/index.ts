export { parseConfig, ConfigError } from './parse-config';
export type { ParsedConfig } from './parse-config';
export type { Config, DbConfig, DbType, LogLevel, NetworkConnection } from './types';
export type { OidcConfig, SignInConfig } from './sign-in';
export { LOG_LEVELS } from './types';
export { variableNames, variables } from './spec';
export { describeVariables } from './effective';
export type { EffectiveVariable, ValueSource } from './effective';
export { REDACTED, redactValue } from './redact';

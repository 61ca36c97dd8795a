import { EnvReader } from './env-reader';
import { redactValue } from './redact';
import { variables } from './spec';
import type { Config } from './types';

export type ValueSource = 'environment' | '.env' | 'file' | 'default' | 'unset';

/** One variable as `config check` shows it: the value the service uses, redacted, and its origin. */
export interface EffectiveVariable {
  readonly name: string;
  /** Redacted; undefined when unset (the service then decides, see `resolved`) or unreadable. */
  readonly value: string | undefined;
  readonly source: ValueSource;
  /** The `<NAME>_FILE` path the value was read from. */
  readonly file?: string;
  readonly secret: boolean;
  /** What an unset or `auto` value came to, when the service derives it from other settings. */
  readonly resolved?: string;
}

/** Values the service derives rather than reads; shown so that `auto` is not a mystery. */
const RESOLVED: Readonly<Record<string, (c: Config) => string | undefined>> = {
  LOG_FORMAT: (c) => c.log.format,
  DB_TYPE: (c) => c.db.type,
  DB_PORT: (c) => (c.db.type !== 'sqlite' && typeof c.db.connection === 'object' ? String(c.db.connection.port) : undefined),
  CACHE_INVALIDATION: (c) => c.cacheInvalidation,
};

/**
 * Every variable of the spec with its effective value, read exactly as parseConfig reads it.
 * `fromEnvironment`: names set before `.env` was loaded, so the rest came from `.env`.
 */
export function describeVariables(env: NodeJS.ProcessEnv, fromEnvironment: ReadonlySet<string>, config?: Config): EffectiveVariable[] {
  const reader = new EnvReader(env);
  const isSet = (name: string) => (env[name] ?? '').trim() !== '';
  const origin = (name: string): ValueSource => (fromEnvironment.has(name) ? 'environment' : '.env');
  return variables.map((spec) => {
    const secret = spec.secret === true;
    const raw = reader.raw(spec.name);
    const value = raw === undefined ? undefined : redactValue(raw, secret);
    const fileVariable = `${spec.name}_FILE`;
    const source: ValueSource = secret && isSet(fileVariable) ? 'file'
      : isSet(spec.name) ? origin(spec.name)
      : spec.default !== undefined ? 'default' : 'unset';
    const derived = config && RESOLVED[spec.name]?.(config);
    return {
      name: spec.name,
      value,
      source,
      ...(source === 'file' ? { file: env[fileVariable] } : {}),
      secret,
      ...(derived !== undefined && derived !== raw ? { resolved: derived } : {}),
    };
  });
}

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Knex } from 'knex';
import knex from 'knex';
import type { DbConfig } from '../config';
import type { Logger } from '../log';
import { describeDbError } from './db-error';

const DRIVER_TEXT = ['sql', 'sqlMessage', 'detail', 'where', 'internalQuery', 'hint'];

/** The one Knex instance: keys, audit rows and the change table share it; the pool starts empty so the proxy starts while the database is down. */
export function createDatabase(db: DbConfig, logger?: Logger): Knex {
  const instance = connect(db, logger);
  // Whoever logs or shows a failed query (request log, admin routes, CLI) gets no statement and no
  // driver text: a binding may be a presented key, and the redaction only knows generated ones.
  instance.on('query-error', (err: unknown) => {
    if (!(err instanceof Error)) return;
    err.message = `database query failed: ${describeDbError(err)}`;
    // mysql2 keeps the statement with its values in `sql`; pg quotes values in `detail`.
    for (const field of DRIVER_TEXT) delete (err as unknown as Record<string, unknown>)[field];
  });
  return instance;
}

function connect(db: DbConfig, logger?: Logger): Knex {
  // Knex prints pool and connection trouble with console.log; route it through the redacting logger.
  const log = {
    warn: (m: unknown) => logger?.warn(`key store: ${describe(m)}`),
    error: (m: unknown) => logger?.error(`key store: ${describe(m)}`),
    deprecate: (m: unknown) => logger?.debug(`key store: ${describe(m)}`),
    debug: () => undefined,
  };
  if (db.type === 'sqlite') {
    if (db.filename !== ':memory:') mkdirSync(dirname(db.filename), { recursive: true });
    return knex({
      client: 'better-sqlite3',
      connection: { filename: db.filename },
      useNullAsDefault: true,
      pool: { min: 1, max: 1 },
      compileSqlOnError: false,
      log,
    });
  }
  const connection = typeof db.connection === 'string' ? db.connection : { ...db.connection };
  const common = {
    pool: { min: 0, max: db.poolMax, idleTimeoutMillis: 30_000 },
    acquireConnectionTimeout: db.timeoutMs,
    // Failed statements keep their `?` placeholders instead of the values (a key among them).
    compileSqlOnError: false,
    log,
  };
  if (db.type === 'postgres') {
    const options = typeof connection === 'string'
      ? { connectionString: connection, connectionTimeoutMillis: db.timeoutMs }
      : { ...connection, connectionTimeoutMillis: db.timeoutMs };
    return knex({ client: 'pg', connection: options, ...common });
  }
  // Dates as strings: key dates are tz-less wall-clock values, audit times are written as UTC text.
  // Knex reads the database name from the settings (schema inspection), not from `uri`.
  const options = typeof connection === 'string'
    ? { uri: connection, database: decodeURIComponent(new URL(connection).pathname.slice(1)) || undefined, connectTimeout: db.timeoutMs, dateStrings: true }
    : { ...connection, connectTimeout: db.timeoutMs, dateStrings: true };
  return knex({ client: 'mysql2', connection: options, ...common });
}

/**
 * Knex's own notices ("Acquire connection error: <stack>", "Connection Error: <err>"): the first
 * line, with quoted text taken out, since a driver may quote a value it was given.
 */
function describe(message: unknown): string {
  if (message instanceof Error) return describeDbError(message);
  const line = String(message).split('\n')[0] ?? '';
  const unquoted = line.replace(/'[^']*'|"[^"]*"|`[^`]*`/g, '?');
  return unquoted.length > 200 ? `${unquoted.slice(0, 200)}...` : unquoted;
}

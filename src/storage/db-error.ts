/**
 * What may be said about a failed database call. Driver messages can quote the statement with its
 * bindings (Knex prefixes them) or a value (MySQL "Duplicate entry '...'"), and a binding can be a
 * presented key in clear, so logs and answers get the error's code and a fixed description, never
 * the message.
 */
const DESCRIPTIONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EPIPE: 'connection closed',
  PROTOCOL_CONNECTION_LOST: 'connection lost',
  ER_ACCESS_DENIED_ERROR: 'access denied',
  ER_DBACCESS_DENIED_ERROR: 'access to the database denied',
  ER_TABLEACCESS_DENIED_ERROR: 'access to the table denied',
  ER_COLUMNACCESS_DENIED_ERROR: 'access to a column denied',
  ER_BAD_DB_ERROR: 'unknown database',
  ER_NO_SUCH_TABLE: 'table missing',
  ER_BAD_FIELD_ERROR: 'column missing',
  ER_DUP_ENTRY: 'duplicate value',
  ER_LOCK_WAIT_TIMEOUT: 'lock wait timed out',
  ER_LOCK_DEADLOCK: 'deadlock',
  ER_CON_COUNT_ERROR: 'too many connections',
  // PostgreSQL SQLSTATEs.
  '28P01': 'password authentication failed',
  '28000': 'authorization refused',
  '3D000': 'unknown database',
  '42P01': 'table missing',
  '42703': 'column missing',
  '42501': 'insufficient privilege',
  '23505': 'duplicate value',
  '57014': 'query cancelled',
  '57P01': 'server shutting down',
  '53300': 'too many connections',
  SQLITE_BUSY: 'database locked',
  SQLITE_LOCKED: 'table locked',
  SQLITE_READONLY: 'database is read-only',
  SQLITE_CANTOPEN: 'cannot open the database file',
  SQLITE_CORRUPT: 'database file corrupt',
  SQLITE_NOTADB: 'not a database file',
  SQLITE_CONSTRAINT_PRIMARYKEY: 'duplicate value',
  SQLITE_CONSTRAINT_UNIQUE: 'duplicate value',
};

/** SQLite reports most problems as SQLITE_ERROR: these fixed phrases of its messages name the kind. */
const SQLITE_PHRASES = ['no such table', 'no such column', 'syntax error'];

/** Codes are identifiers chosen by drivers; anything else in `code` is not trusted. */
const CODE = /^[A-Z0-9_]{1,64}$/;

export function describeDbError(err: unknown): string {
  const e = (err ?? {}) as { code?: unknown; name?: unknown; message?: unknown };
  if (e.name === 'KnexTimeoutError') return 'timed out';
  const code = typeof e.code === 'string' && CODE.test(e.code) ? e.code : undefined;
  const message = typeof e.message === 'string' ? e.message : '';
  const description = (code && DESCRIPTIONS[code])
    ?? (code?.startsWith('SQLITE') ? SQLITE_PHRASES.find((p) => message.includes(p)) : undefined)
    ?? 'database error';
  return code ? `${code} (${description})` : description;
}

/** Errors raised by a driver or by Knex (they carry a code), as opposed to bugs. */
export function isDbError(err: unknown): boolean {
  const e = (err ?? {}) as { code?: unknown; name?: unknown };
  return e.name === 'KnexTimeoutError' || (typeof e.code === 'string' && CODE.test(e.code));
}

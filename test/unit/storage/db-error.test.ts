import { describeDbError, isDbError } from '../../../src/storage';

const KEY = 'tEsT-Secret-123';
const driverError = (fields: Record<string, unknown>) => Object.assign(new Error(`select * from t where api_key in ('${KEY}') - boom '${KEY}'`), fields);

describe('describeDbError', () => {
  it.each([
    ['MySQL table missing', driverError({ code: 'ER_NO_SUCH_TABLE' }), 'ER_NO_SUCH_TABLE (table missing)'],
    ['MySQL duplicate entry quoting the value', driverError({ code: 'ER_DUP_ENTRY', sqlMessage: `Duplicate entry '${KEY}'` }), 'ER_DUP_ENTRY (duplicate value)'],
    ['PostgreSQL SQLSTATE', driverError({ code: '42P01' }), '42P01 (table missing)'],
    ['SQLite generic error, kind from a fixed phrase', driverError({ code: 'SQLITE_ERROR', message: `select '${KEY}' - no such table: prefect_api_keys` }), 'SQLITE_ERROR (no such table)'],
    ['SQLite generic error, unknown kind', driverError({ code: 'SQLITE_ERROR' }), 'SQLITE_ERROR (database error)'],
    ['connection refused', driverError({ code: 'ECONNREFUSED' }), 'ECONNREFUSED (connection refused)'],
    ['an unknown code', driverError({ code: 'ER_SOMETHING_NEW' }), 'ER_SOMETHING_NEW (database error)'],
    ['a code that is not an identifier', driverError({ code: KEY }), 'database error'],
    ['no code', driverError({}), 'database error'],
    ['a Knex timeout', Object.assign(new Error(`Defined query timeout`), { name: 'KnexTimeoutError' }), 'timed out'],
    ['not an error', `select '${KEY}'`, 'database error'],
    ['nothing', undefined, 'database error'],
  ])('%s', (_name, err, expected) => {
    expect(describeDbError(err)).toBe(expected);
    expect(describeDbError(err)).not.toContain(KEY);
  });
});

describe('isDbError', () => {
  it.each([
    ['a driver error', driverError({ code: 'ER_NO_SUCH_TABLE' }), true],
    ['a Knex timeout', Object.assign(new Error('t'), { name: 'KnexTimeoutError' }), true],
    ['a bug', new TypeError('x is undefined'), false],
  ])('%s', (_name, err, expected) => {
    expect(isDbError(err)).toBe(expected);
  });
});

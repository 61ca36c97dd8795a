import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EffectiveVariable } from '../../../src/config';
import { describeVariables, parseConfig } from '../../../src/config';

const secretFile = join(mkdtempSync(join(tmpdir(), 'pap-secret-')), 'upstream');
writeFileSync(secretFile, 'from-a-file-secret\n');

const env = {
  API_KIND: 'rest',
  PORT: '4000',
  LOG_LEVEL: 'info',
  HOST: '  ',
  UPSTREAM_AUTH_STRING_FILE: secretFile,
  DATABASE_URL: 'postgres://proxy:pw-123@db:5432/keys',
};
// LOG_LEVEL plays the part of a line of .env: set after the environment was read.
const rows = describeVariables(env, new Set(['API_KIND', 'PORT', 'HOST', 'UPSTREAM_AUTH_STRING_FILE', 'DATABASE_URL']), parseConfig(env).config);
const row = (name: string): EffectiveVariable | undefined => rows.find((r) => r.name === name);

describe('describeVariables', () => {
  it.each<[string, Partial<EffectiveVariable>]>([
    ['API_KIND', { value: 'rest', source: 'environment', secret: false }],
    ['PORT', { value: '4000', source: 'environment' }],
    ['LOG_LEVEL', { value: 'info', source: '.env' }],
    ['HOST', { value: '0.0.0.0', source: 'default' }],
    ['PUBLIC_URL', { value: undefined, source: 'unset' }],
    ['UPSTREAM_AUTH_STRING', { value: '***', source: 'file', file: secretFile, secret: true }],
    ['DATABASE_URL', { value: 'postgres://proxy:***@db:5432/keys', source: 'environment', secret: true }],
    ['DB_TYPE', { value: undefined, source: 'unset', resolved: 'postgres' }],
    ['CACHE_INVALIDATION', { value: 'auto', source: 'default', resolved: 'postgres' }],
    ['RATE_LIMIT', { value: 'off', source: 'default' }],
  ])('%s', (name, expected) => {
    expect(row(name)).toMatchObject(expected);
  });

  it.each(['RATE_LIMIT', 'PORT', 'DATABASE_URL'])('adds no resolved value to %s, which is used as read', (name) => {
    expect(row(name)).not.toHaveProperty('resolved');
  });

  it('never carries a secret', () => {
    const text = JSON.stringify(rows);
    expect(text).not.toContain('from-a-file');
    expect(text).not.toContain('pw-123');
  });
});

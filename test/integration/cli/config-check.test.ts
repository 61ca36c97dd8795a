import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { variables } from '../../../src/config';
import type { CliResult } from '../../support/cli';
import { runCli } from '../../support/cli';

const CLI = join(__dirname, '..', '..', '..', 'dist', 'cli', 'main.js');
const UPSTREAM_SECRET = 'upstream-Secret-4711';
const DB_URL_PASSWORD = 'dbUrl-Passw0rd-815';
const DB_PASSWORD = 'file-Db-Password-42';
const REDIS_PASSWORD = 'redis-Pw-1337';
const SECRETS = [UPSTREAM_SECRET, DB_URL_PASSWORD, DB_PASSWORD, REDIS_PASSWORD];

/** runCli, but in a directory of our own so that a .env can be put there first. */
function runIn(dir: string, args: readonly string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env }, cwd: dir }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A TCP listener standing in for every service the configuration names: nothing may connect. */
let listener: Server;
let connections = 0;
let validEnv: Record<string, string>;

beforeAll(async () => {
  listener = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const port = (listener.address() as AddressInfo).port;
  const secretFile = join(mkdtempSync(join(tmpdir(), 'pap-secret-')), 'db-password');
  writeFileSync(secretFile, `${DB_PASSWORD}\n`);
  validEnv = {
    API_KIND: 'rest',
    API_SERVICE_URL: `http://127.0.0.1:${port}/`,
    UPSTREAM_AUTH_STRING: UPSTREAM_SECRET,
    DATABASE_URL: `postgres://proxy:${DB_URL_PASSWORD}@127.0.0.1:${port}/keys`,
    DB_PASSWORD_FILE: secretFile,
    REDIS_URL: `redis://:${REDIS_PASSWORD}@127.0.0.1:${port}/0`,
    RATE_LIMIT: '20/40',
  };
});

afterAll(() => new Promise((resolve) => listener.close(resolve)));

const lineOf = (stdout: string, name: string) => stdout.split('\n').find((l) => l.startsWith(`${name} `));

describe('prefect-auth-proxy config check', () => {
  it('exits 0 on a valid configuration and lists every variable, its value and its source', async () => {
    const result = await runCli(['config', 'check'], validEnv);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    for (const v of variables) expect(lineOf(result.stdout, v.name)).toBeDefined();
    expect(lineOf(result.stdout, 'API_KIND')).toMatch(/^API_KIND +rest +environment$/);
    expect(lineOf(result.stdout, 'RATE_LIMIT')).toMatch(/ 20\/40 +environment$/);
    expect(lineOf(result.stdout, 'PORT')).toMatch(/ 3000 +default$/);
    expect(lineOf(result.stdout, 'UPSTREAM_AUTH_STRING')).toMatch(/ \*\*\* +environment$/);
    expect(lineOf(result.stdout, 'DATABASE_URL')).toContain('postgres://proxy:***@127.0.0.1:');
    expect(lineOf(result.stdout, 'DB_PASSWORD')).toMatch(/ \*\*\* +file .*db-password$/);
    expect(lineOf(result.stdout, 'REDIS_URL')).toContain('redis://:***@127.0.0.1:');
    expect(lineOf(result.stdout, 'CACHE_INVALIDATION')).toContain('auto (= redis)');
    expect(result.stdout).toContain('configuration is valid');
  });

  it('never prints a secret, nor a part of one, and connects to nothing', async () => {
    const results = await Promise.all([runCli(['config', 'check'], validEnv), runCli(['config', 'check', '--json'], validEnv)]);
    for (const { stdout, stderr } of results) {
      for (const secret of SECRETS) {
        expect(stdout + stderr).not.toContain(secret.slice(0, 6));
        expect(stdout + stderr).not.toContain(encodeURIComponent(secret).slice(0, 6));
      }
    }
    expect(connections).toBe(0);
  });

  it('tells the environment, .env and the default apart; the environment wins over .env', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pap-cli-'));
    writeFileSync(join(dir, '.env'), 'PORT=5000\nLOG_LEVEL=debug\nUPSTREAM_AUTH_STRING=dotenv-Secret-99\n');
    const result = await runIn(dir, ['config', 'check'], { PORT: '4000' });
    expect(result.code).toBe(0);
    expect(lineOf(result.stdout, 'PORT')).toMatch(/ 4000 +environment$/);
    expect(lineOf(result.stdout, 'LOG_LEVEL')).toMatch(/ debug +\.env$/);
    expect(lineOf(result.stdout, 'UPSTREAM_AUTH_STRING')).toMatch(/ \*\*\* +\.env$/);
    expect(lineOf(result.stdout, 'HOST')).toMatch(/ 0\.0\.0\.0 +default$/);
    expect(result.stdout + result.stderr).not.toContain('dotenv-Se');
  });

  it('exits 2 naming every bad variable, one problem a line on stderr', async () => {
    const result = await runCli(['config', 'check'], { ...validEnv, PORT: '70000', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql//nope' });
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split('\n');
    for (const name of ['PORT', 'LOG_LEVEL', 'DATABASE_URL']) {
      expect(lines.filter((l) => l.trim().startsWith(`${name} `))).toHaveLength(1);
    }
    expect(result.stderr).toContain('invalid configuration (3 problems)');
    expect(result.stdout).not.toContain('configuration is valid');
    for (const secret of SECRETS) expect(result.stdout + result.stderr).not.toContain(secret.slice(0, 6));
  });

  it('--json gives scripts one object, valid or not', async () => {
    const valid = await runCli(['config', 'check', '--json'], validEnv);
    expect(valid.code).toBe(0);
    const parsed = JSON.parse(valid.stdout) as { valid: boolean; problems: string[]; variables: Array<{ name: string; value?: string; source: string; secret: boolean }> };
    expect(parsed.valid).toBe(true);
    expect(parsed.problems).toEqual([]);
    expect(parsed.variables.map((v) => v.name)).toEqual(variables.map((v) => v.name));
    expect(parsed.variables.find((v) => v.name === 'UPSTREAM_AUTH_STRING')).toEqual({ name: 'UPSTREAM_AUTH_STRING', value: '***', source: 'environment', secret: true });
    expect(parsed.variables.find((v) => v.name === 'PORT')).toMatchObject({ value: '3000', source: 'default' });

    const invalid = await runCli(['config', 'check', '--json'], { PORT: 'x', DB_TYPE: 'oracle', LOG_LEVEL: 'loud' });
    expect(invalid.code).toBe(2);
    const report = JSON.parse(invalid.stdout) as { valid: boolean; problems: string[] };
    expect(report.valid).toBe(false);
    expect(report.problems).toHaveLength(3);
  });

  it('says in its help that it connects to nothing', async () => {
    const result = await runCli(['config', 'check', '--help'], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('connects to no database');
  });
});

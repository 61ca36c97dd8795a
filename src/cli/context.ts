import { existsSync, rmSync, statSync } from 'node:fs';
import dotenv from 'dotenv';
import type { Config } from '../config';
import { ConfigError, parseConfig } from '../config';
import type { Storage } from '../storage';
import { openStorage, SchemaError } from '../storage';

/** A usage or operational failure: one line on stderr, non-zero exit, no stack trace. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export interface CliContext {
  readonly config: Config;
  /** Key management, audit queries, migrations and the change table: never Knex itself. */
  readonly storage: Storage;
  close(): Promise<void>;
}

/** The same configuration and key store as the server: `.env`, then the environment. */
export async function openContext(): Promise<CliContext> {
  dotenv.config({ quiet: true });
  let config: Config;
  try {
    config = parseConfig(process.env).config;
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 2);
    throw err;
  }
  const storage = openStorage(config.db, { roles: config.roles });
  // The server migrates its embedded store at start-up (runtime.ts); the CLI may run before the
  // server ever has, so it prepares the store the same way.
  if (config.db.type === 'sqlite') await prepareEmbeddedStore(storage, config.db.filename);
  return { config, storage, close: () => storage.close() };
}

async function prepareEmbeddedStore(storage: Storage, filename: string): Promise<void> {
  const fresh = filename !== ':memory:' && !existsSync(filename);
  try {
    await storage.migrate();
  } catch (err) {
    await storage.close();
    // A file this command created but could not prepare would make every later command and the
    // server fail on a table that is not there: take it away rather than leave it behind.
    if (fresh) for (const suffix of ['', '-journal', '-wal', '-shm']) removeFile(`${filename}${suffix}`);
    if (err instanceof SchemaError) throw err;
    const e = err as { code?: string; message?: string };
    const message = (e.message?.split('\n')[0] ?? '').replace(/^database query failed: /, '');
    const reason = e.code && !message.includes(e.code) ? `${e.code} ${message}` : message;
    throw new CliError(`cannot prepare the key store in ${filename} (DB_FILENAME): ${reason}`);
  }
}

function removeFile(path: string): void {
  try {
    if (statSync(path).isFile()) rmSync(path);
  } catch {
    // already gone
  }
}

export type OutputFormat = 'table' | 'json' | 'csv';

/** Rows as an aligned text table: for people. Scripts use --json. */
export function formatTable(rows: ReadonlyArray<Record<string, unknown>>, columns: readonly string[]): string {
  const cells = rows.map((r) => columns.map((c) => (r[c] === null || r[c] === undefined ? '' : String(r[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => (row[i] as string).length)));
  const line = (values: readonly string[]) => values.map((v, i) => v.padEnd(widths[i] as number)).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

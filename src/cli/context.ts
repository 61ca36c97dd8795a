import dotenv from 'dotenv';
import type { Knex } from 'knex';
import type { Config } from '../config';
import { ConfigError, parseConfig } from '../config';
import { createDatabase } from '../keys';

/** A usage or operational failure: one line on stderr, non-zero exit, no stack trace. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export interface CliContext {
  readonly config: Config;
  readonly db: Knex;
  close(): Promise<void>;
}

/** The same configuration and key store as the server: `.env`, then the environment. */
export function openContext(): CliContext {
  dotenv.config({ quiet: true });
  let config: Config;
  try {
    config = parseConfig(process.env).config;
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 2);
    throw err;
  }
  const db = createDatabase(config.db);
  return { config, db, close: () => db.destroy() };
}

export type OutputFormat = 'table' | 'json' | 'csv';

/** Rows as an aligned text table: for people. Scripts use --json. */
export function formatTable(rows: ReadonlyArray<Record<string, unknown>>, columns: readonly string[]): string {
  const cells = rows.map((r) => columns.map((c) => (r[c] === null || r[c] === undefined ? '' : String(r[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => (row[i] as string).length)));
  const line = (values: readonly string[]) => values.map((v, i) => v.padEnd(widths[i] as number)).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

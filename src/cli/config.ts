import type { Command } from 'commander';
import dotenv from 'dotenv';
import type { Config, EffectiveVariable } from '../config';
import { ConfigError, describeVariables, parseConfig } from '../config';
import { formatTable } from './context';

const HELP = `
Reads .env and the environment exactly as the server does, reports every problem at once and prints
the value each variable takes and where it came from (environment, .env, a <NAME>_FILE, or the
default). Secrets and the password of any URL are shown as ***. A value in parentheses is the one
the service derives because the variable is unset; "auto (= redis)" is what auto came to.

It only validates: it connects to no database, Redis or Prefect server, so a valid configuration
can still fail to reach them.

Exit status: 0 valid (warnings allowed), 2 invalid.
`;

/** `config check`: validate the configuration without starting anything, for CI and operators. */
export function registerConfigCommand(program: Command): void {
  program.command('config').description('inspect the configuration')
    .command('check').description('validate .env and the environment and print the effective configuration (connects to nothing)')
    .option('--json', 'one JSON object: valid, problems, warnings, variables')
    .addHelpText('after', HELP)
    .action((o: { json?: boolean }) => checkConfig(o.json === true));
}

function checkConfig(json: boolean): void {
  const fromEnvironment = new Set(Object.keys(process.env));
  // Real environment variables win over .env, as in server.ts.
  dotenv.config({ quiet: true });
  let config: Config | undefined;
  let problems: readonly string[] = [];
  let warnings: readonly string[] = [];
  try {
    ({ config, warnings } = parseConfig(process.env));
  } catch (err) {
    if (!(err instanceof ConfigError)) {
      process.stderr.write(`prefect-auth-proxy: cannot check the configuration: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
      process.exitCode = 1;
      return;
    }
    problems = err.problems;
  }
  const rows = describeVariables(process.env, fromEnvironment, config);
  for (const w of warnings) process.stderr.write(`prefect-auth-proxy: warning: ${w}\n`);
  if (problems.length > 0) {
    process.stderr.write(`prefect-auth-proxy: invalid configuration (${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}):\n`);
    for (const p of problems) process.stderr.write(`  ${p}\n`);
    process.exitCode = 2;
  }
  if (json) {
    process.stdout.write(`${JSON.stringify({ valid: problems.length === 0, problems, warnings, variables: rows }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${formatTable(rows.map(toRow), ['name', 'value', 'source'])}\n`);
  if (problems.length === 0) process.stdout.write('configuration is valid\n');
}

function toRow(v: EffectiveVariable): Record<string, string> {
  const value = v.value === undefined ? (v.resolved === undefined ? '-' : `(${v.resolved})`)
    : v.resolved === undefined ? v.value : `${v.value} (= ${v.resolved})`;
  return { name: v.name, value, source: v.source === 'file' ? `file ${v.file ?? ''}` : v.source };
}

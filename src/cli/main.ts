#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { KeyAdminError, KeyStoreUnavailableError } from '../keys';
import { SchemaError } from '../storage';
import { registerAuditCommand } from './audit';
import { registerConfigCommand } from './config';
import type { CliContext } from './context';
import { CliError, openContext } from './context';
import { registerDbCommands } from './db';
import { registerCacheCommands, registerKeyCommands } from './keys';
import { registerPeopleCommands } from './people';

/** Runs one command with an open key store, turning every failure into one line and an exit code. */
async function run(action: (ctx: CliContext) => Promise<void>): Promise<void> {
  let ctx: CliContext | undefined;
  try {
    ctx = await openContext();
    await action(ctx);
  } catch (err) {
    fail(err);
  } finally {
    await ctx?.close();
  }
}

function fail(err: unknown): void {
  const e = err as { code?: string; message?: string };
  let message: string;
  let code = 1;
  if (err instanceof CliError) {
    message = err.message;
    code = err.exitCode;
  } else if (err instanceof KeyAdminError || err instanceof SchemaError || err instanceof KeyStoreUnavailableError) {
    message = err.message;
  } else {
    message = `key store error: ${[e?.code, e?.message?.split('\n')[0]].filter(Boolean).join(' ')}`;
  }
  process.stderr.write(`prefect-auth-proxy: ${message}\n`);
  process.exitCode = code;
}

const program = new Command('prefect-auth-proxy')
  .description('Manage the keys, schema and audit trail of prefect-auth-proxy. Uses the same .env and environment as the server.')
  .exitOverride()
  .showHelpAfterError();
registerKeyCommands(program, run);
registerDbCommands(program, run);
registerAuditCommand(program, run);
registerCacheCommands(program, run);
registerPeopleCommands(program, run);
registerConfigCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // Help and version exit 0; usage errors 2, as scripts expect.
    process.exitCode = err.exitCode === 0 ? 0 : 2;
    return;
  }
  fail(err);
});

import type { Command } from 'commander';
import { Option } from 'commander';
import type { CliContext } from './context';
import { print } from './keys';
import { recordForProxies, tellProxies } from './tell-proxies';

/**
 * `people ...`: what an administrator does when someone leaves or must lose access now. Applies to
 * people who sign in (SIGN_IN) and the keys they made on "My access"; keys an administrator made
 * for a user are managed with `keys`.
 */
export function registerPeopleCommands(program: Command, run: (action: (ctx: CliContext) => Promise<void>) => Promise<void>): void {
  const people = program.command('people').description('disable people who sign in, and end their sessions');
  const by = () => new Option('--by <admin>', 'who makes the change').default('cli');

  people.command('disable').description('refuse a person\'s sign-ins, end their sessions and stop every key they made themselves')
    .requiredOption('--user <id>', 'the person as sign-in names them (e.g. their email)')
    .option('--reason <text>', 'kept with the person, for the next administrator')
    .addOption(by()).option('--json', 'JSON output')
    .action((o: { user: string; reason?: string; by: string; json?: boolean }) => run(async (ctx) => {
      const { stoppedKeys } = await ctx.storage.ownKeys.setDisabled(o.user, true, { by: o.by, ...(o.reason ? { reason: o.reason } : {}) });
      const endedSessions = await endSessions(ctx, o.user);
      for (const keyUser of stoppedKeys) await tell(ctx, { kind: 'user', userId: keyUser });
      if (o.json) return print({ user: o.user, disabled: true, endedSessions, stoppedKeys });
      process.stdout.write(`Disabled ${o.user}: ${endedSessions} session(s) ended, ${stoppedKeys.length} self-service key(s) stopped.\n`);
    }));

  people.command('enable').description('let a disabled person sign in again (the keys that were stopped stay stopped)')
    .requiredOption('--user <id>').addOption(by()).option('--json', 'JSON output')
    .action((o: { user: string; by: string; json?: boolean }) => run(async (ctx) => {
      await ctx.storage.ownKeys.setDisabled(o.user, false, { by: o.by });
      if (o.json) return print({ user: o.user, disabled: false });
      process.stdout.write(`Enabled ${o.user}.\n`);
    }));

  people.command('end-sessions').description('sign a person out everywhere now (they may sign in again)')
    .requiredOption('--user <id>').option('--json', 'JSON output')
    .action((o: { user: string; json?: boolean }) => run(async (ctx) => {
      const endedSessions = await endSessions(ctx, o.user);
      if (o.json) return print({ user: o.user, endedSessions });
      process.stdout.write(`Ended ${endedSessions} session(s) of ${o.user}.\n`);
    }));
}

async function endSessions(ctx: CliContext, user: string): Promise<number> {
  const hashes = await ctx.storage.sessions.endForUser(user, 'revoked');
  for (const sessionHash of hashes) await tell(ctx, { kind: 'session', sessionHash });
  return hashes.length;
}

async function tell(ctx: CliContext, invalidation: Parameters<typeof recordForProxies>[1]): Promise<void> {
  const { message } = await tellProxies(ctx, invalidation, await recordForProxies(ctx, invalidation));
  process.stderr.write(`${message}\n`);
}

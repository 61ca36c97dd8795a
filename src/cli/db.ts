import type { Command } from 'commander';
import type { CliContext } from './context';
import { print } from './keys';

/** `db init` / `db migrate` / `db status`: the schema, created or upgraded, never destroyed. */
export function registerDbCommands(program: Command, run: (action: (ctx: CliContext) => Promise<void>) => Promise<void>): void {
  const db = program.command('db').description('create or upgrade the key store schema');
  const migrate = (o: { json?: boolean }) => run(async (ctx) => {
    const applied = await ctx.storage.migrate();
    if (o.json) return print({ applied });
    process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'schema is up to date\n');
  });
  db.command('init').description('create the tables (keeps an existing key table as it is)').option('--json').action(migrate);
  db.command('migrate').description('apply pending migrations').option('--json').action(migrate);
  db.command('status').description('list applied and pending migrations').option('--json')
    .action((o: { json?: boolean }) => run(async (ctx) => {
      const status = await ctx.storage.migrationStatus();
      if (o.json) return print(status);
      process.stdout.write(`applied: ${status.applied.join(', ') || '-'}\npending: ${status.pending.join(', ') || '-'}\n`);
    }));
}

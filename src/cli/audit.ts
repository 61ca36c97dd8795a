import type { Command } from 'commander';
import { AUDIT_COLUMNS, AuditFilterError, formatCsv, parseAuditFilters } from '../audit';
import type { CliContext } from './context';
import { CliError, formatTable } from './context';
import { print } from './keys';

/** `audit`: the durable audit trail, filtered, as a table, JSON or CSV. */
export function registerAuditCommand(program: Command, run: (action: (ctx: CliContext) => Promise<void>) => Promise<void>): void {
  program.command('audit').description('query the audit trail (newest first)')
    .option('--user <id>').option('--outcome <ALLOWED|BLOCKED|ERROR>')
    .option('--since <when>', '24h, 7d or an ISO date/time (UTC)').option('--until <when>')
    .option('--limit <n>', 'most rows', '100')
    .option('--format <table|json|csv>', 'output format', 'table').option('--json', 'same as --format json')
    .action((o: Record<string, string | boolean | undefined>) => run(async (ctx) => {
      let filters;
      try {
        filters = parseAuditFilters(o);
      } catch (err) {
        if (err instanceof AuditFilterError) throw new CliError(err.message, 2);
        throw err;
      }
      const format = o.json ? 'json' : String(o.format);
      if (!['table', 'json', 'csv'].includes(format)) throw new CliError('--format must be table, json or csv', 2);
      const rows = await ctx.storage.queryAudit(filters);
      const records = rows as unknown as Array<Record<string, unknown>>;
      if (format === 'json') return print(rows);
      if (format === 'csv') return void process.stdout.write(formatCsv(records, AUDIT_COLUMNS));
      process.stdout.write(`${formatTable(records, ['time', 'outcome', 'user', 'operation', 'permission', 'status', 'client'])}\n`);
    }));
}

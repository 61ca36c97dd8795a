import type { Command } from 'commander';
import { Option } from 'commander';
import type { KeyAdmin, KeyInfo } from '../keys';
import { parseExpiry } from '../keys';
import type { CliContext } from './context';
import { CliError, formatTable } from './context';
import type { Invalidation } from '../invalidation';
import { recordForProxies, tellProxies } from './tell-proxies';

const LIST_COLUMNS = ['user', 'scopes', 'issued', 'expires', 'active', 'lastUsed', 'storage', 'keyId'];

interface Common { json?: boolean; by: string }

/** `keys ...`: the same operations as `/admin/keys`, straight on the key store. */
export function registerKeyCommands(program: Command, run: (action: (ctx: CliContext) => Promise<void>) => Promise<void>): void {
  const keys = program.command('keys').description('create, list, rotate and revoke API keys');
  const withAdmin = (fn: (admin: KeyAdmin, ctx: CliContext) => Promise<void>) => () =>
    run((ctx) => fn(ctx.storage.keyAdmin, ctx));
  const by = () => new Option('--by <admin>', 'who makes the change (at most 11 characters)').default('cli');
  const scopesOf = (o: { scopes?: string; role?: string; only?: string[] }) => {
    if (!o.scopes && !o.role) throw new CliError('give --scopes "<list>" or --role <name>', 2);
    const only = o.only ?? [];
    if (only.length > 0 && !o.role) throw new CliError('--only narrows the role: give --role <name> too (or write the selector in --scopes)', 2);
    // Several --only are ANDed, as `+` in a selector; the key store validates the result.
    const role = o.role && `role:${o.role}${only.length > 0 ? `@${only.join('+')}` : ''}`;
    return [o.scopes, role].filter(Boolean).join(', ');
  };
  const only = () => new Option('--only <selector>', 'narrow the role to named objects, e.g. \'deployment:team-a/*\', \'pool:pool-a\', \'tag:team-a\' (repeat to AND them)')
    .argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);

  keys.command('create').description('create a key for a user; prints the key once')
    .requiredOption('--user <id>', 'user id (primary key)')
    .option('--scopes <list>', 'scopes, separated by commas or spaces')
    .option('--role <name>', 'a role, e.g. viewer, runner, developer, worker, owner')
    .addOption(only())
    .option('--expires <when>', '90d, 12h, or a date like 2027-01-31', '90d')
    .addOption(by()).option('--json', 'JSON output')
    .action((o: Common & { user: string; scopes?: string; role?: string; only?: string[]; expires: string }) => withAdmin(async (admin) => {
      // A new random key cannot be cached anywhere: running proxies have nothing to forget.
      const { info, key } = await admin.create({ user: o.user, scopes: scopesOf(o), expires: parseExpiry(o.expires), by: o.by });
      if (o.json) return print({ ...info, key });
      process.stderr.write(`Created a key for ${info.user} (scopes ${info.scopes}; expires ${info.expires}).\nIt is shown only now; store it safely:\n`);
      process.stdout.write(`${key}\n`);
    })());

  keys.command('list').description('list keys (never the keys themselves)').option('--json', 'JSON output')
    .option('--unused-days <n>', 'only live keys not used for this many days (never used: created before then)', Number)
    .action((o: { json?: boolean; unusedDays?: number }) => withAdmin(async (admin) => {
      const rows = o.unusedDays === undefined ? await admin.list() : await admin.listUnused(o.unusedDays);
      if (o.json) return print(rows);
      process.stdout.write(`${formatTable(rows as unknown as Array<Record<string, unknown>>, LIST_COLUMNS)}\n`);
    })());

  keys.command('expire-unused').description('expire every live key not used for N days, in one transaction')
    .requiredOption('--days <n>', 'days without use (never used: created before then)', Number)
    .option('--dry-run', 'only list the keys that would expire').addOption(by()).option('--json', 'JSON output')
    .action((o: Common & { days: number; dryRun?: boolean }) => withAdmin(async (admin, ctx) => {
      const { users, recorded } = await admin.expireUnused(o.days, { dryRun: Boolean(o.dryRun), by: o.by });
      if (o.json) return print({ users, dryRun: Boolean(o.dryRun) });
      process.stdout.write(`${users.length === 0 ? 'No key' : users.join('\n')}${users.length === 0 ? '' : '\n'}`);
      process.stderr.write(`${o.dryRun ? 'Would expire' : 'Expired'} ${users.length} key(s) not used for ${o.days} days.\n`);
      if (!o.dryRun && users.length > 0) await report(ctx, users[0] as string, recorded);
    })());

  keys.command('show').description('show one user\'s key').requiredOption('--user <id>').option('--json', 'JSON output')
    .action((o: { user: string; json?: boolean }) => withAdmin(async (admin) => printInfo(await admin.show(o.user), o.json))());

  keys.command('revoke').description('expire a user\'s key now').requiredOption('--user <id>').addOption(by()).option('--json', 'JSON output')
    .action((o: Common & { user: string }) => withAdmin(async (admin, ctx) => {
      const { info, recorded } = await admin.revoke(o.user, o.by);
      await report(ctx, info.user, recorded);
      printInfo(info, o.json);
    })());

  keys.command('rotate').description('replace a user\'s key; the old one stops working')
    .requiredOption('--user <id>').option('--expires <when>', 'new expiry (default: keep it, or 90d if expired)')
    .addOption(by()).option('--json', 'JSON output')
    .action((o: Common & { user: string; expires?: string }) => withAdmin(async (admin, ctx) => {
      const { info, key, recorded } = await admin.rotate(o.user, { by: o.by, ...(o.expires ? { expires: parseExpiry(o.expires) } : {}) });
      await report(ctx, info.user, recorded);
      if (o.json) return print({ ...info, key });
      process.stderr.write(`Rotated the key of ${info.user}; the old key no longer works.\nIt is shown only now; store it safely:\n`);
      process.stdout.write(`${key}\n`);
    })());

  keys.command('set-scopes').description('replace a user\'s scopes').requiredOption('--user <id>')
    .option('--scopes <list>').option('--role <name>').addOption(only()).addOption(by()).option('--json', 'JSON output')
    .action((o: Common & { user: string; scopes?: string; role?: string; only?: string[] }) => withAdmin(async (admin, ctx) => {
      const { info, recorded } = await admin.setScopes(o.user, scopesOf(o), o.by);
      await report(ctx, info.user, recorded);
      printInfo(info, o.json);
    })());

  keys.command('expire').description('set when a user\'s key expires').requiredOption('--user <id>')
    .requiredOption('--at <when>', '90d, 12h, now, or a date like 2027-01-31').addOption(by()).option('--json', 'JSON output')
    .action((o: Common & { user: string; at: string }) => withAdmin(async (admin, ctx) => {
      const { info, recorded } = await admin.expire(o.user, parseExpiry(o.at), o.by);
      await report(ctx, info.user, recorded);
      printInfo(info, o.json);
    })());

  keys.command('hash-existing').description('store plaintext keys as sha256:<hex>, in place, in one transaction')
    .option('--dry-run', 'only list the users whose keys would be hashed').addOption(by()).option('--json', 'JSON output')
    .action((o: Common & { dryRun?: boolean }) => withAdmin(async (admin) => {
      const { users } = await admin.hashExisting({ dryRun: o.dryRun === true, by: o.by });
      if (o.json) return print({ dryRun: o.dryRun === true, users });
      const verb = o.dryRun ? 'would hash' : 'hashed';
      process.stdout.write(`${verb} ${users.length} plaintext key(s)${users.length ? `: ${users.join(', ')}` : ''}\n`);
    })());
}

/**
 * After a saved key change: says whether running proxies forget the user's cached key, and how
 * soon. The change stands either way (exit 0); a warning says what to do when they will not.
 */
async function report(ctx: CliContext, userId: string, recorded: boolean): Promise<void> {
  const { message } = await tellProxies(ctx, { kind: 'user', userId }, recorded ? 'recorded' : 'missing');
  process.stderr.write(`${message}\n`);
}

/** `cache ...`: what POST /cache/reset does, for every running proxy at once. */
export function registerCacheCommands(program: Command, run: (action: (ctx: CliContext) => Promise<void>) => Promise<void>): void {
  const cache = program.command('cache').description('make every running proxy forget cached keys (through the key store\'s change table and CACHE_INVALIDATION)');
  cache.command('reset').description('forget every cached key on every proxy')
    .action(() => run((ctx) => forget(ctx, { kind: 'all' })));
  cache.command('forget-user').description('forget the cached keys of one user on every proxy').requiredOption('--user <id>')
    .action((o: { user: string }) => run((ctx) => forget(ctx, { kind: 'user', userId: o.user })));
}

/** Fails (exit 1) when no running proxy will hear of it: nothing else was asked for. */
async function forget(ctx: CliContext, invalidation: Invalidation): Promise<void> {
  const { told, message } = await tellProxies(ctx, invalidation, await recordForProxies(ctx, invalidation));
  if (!told) throw new CliError(message.replace(/^Warning: /, ''), 1);
  process.stderr.write(`${message}\n`);
}

function printInfo(info: KeyInfo, json?: boolean): void {
  if (json) return print(info);
  process.stdout.write(`${formatTable([info as unknown as Record<string, unknown>], LIST_COLUMNS)}\n`);
}

export function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

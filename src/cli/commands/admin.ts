import { InvalidArgumentError } from 'commander';
import { EXIT } from '../../core/errors.js';
import { formatUsd, parseUsd } from '../../core/money.js';
import { DB_OPTION, examples, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';
import { printJson, printTable, usd } from '../output.js';
import { defineAdminBackup } from './admin-backup.js';
import { defineAdminSources } from './admin-sources.js';

export const defineAdmin: DefineCommand = (program, ctx) => {
  const admin = program
    .command('admin')
    .description("Operator commands: they work on a database file directly, never over HTTP");
  examples(admin, ['tn admin credit acc_01JD… 20', 'tn admin audit --db ./tn.db', 'tn admin backup ./tn-copy.db --db ./tn.db']);
  const credit = admin
    .command('credit')
    .description('Add money to an account (a deposit entry in its ledger)')
    .argument('<account>', 'account id (acc_…) or API key (vn_…)')
    .argument('<usd>', 'amount in USD, e.g. 5 or 2.50', usdArgument)
    .option(...DB_OPTION)
    .option('--note <text>', 'why, kept in the ledger', 'operator credit')
    .action(async (account: string, amount: number, opts: { db?: string; note: string }) =>
      ctx.exit(await runCredit({ account, amount, db: opts.db, note: opts.note }, ctx.factory())),
    );
  examples(credit, ['tn admin credit acc_01JD… 20', 'tn admin credit "$TN_API_KEY" 5 --db ./tn.db']);
  const price = admin.command('price').description('Prices per platform and country (whole cents); the catalogue gives the rest');
  price
    .command('set')
    .argument('<platform>', 'platform id or alias')
    .argument('<country>', 'ISO country code, or * for every country')
    .argument('<usd>', 'price in USD, whole cents (e.g. 0.35)', usdArgument)
    .option(...DB_OPTION)
    .action(async (platform: string, country: string, amount: number, opts: { db?: string }) =>
      ctx.exit(await runPriceSet({ platform, country, amount, db: opts.db }, ctx.factory())),
    );
  price
    .command('unset')
    .argument('<platform>')
    .argument('<country>')
    .option(...DB_OPTION)
    .action(async (platform: string, country: string, opts: { db?: string }) =>
      ctx.exit(await runPriceSet({ platform, country, amount: null, db: opts.db }, ctx.factory())),
    );
  price
    .command('list')
    .option(...DB_OPTION)
    .action(async (opts: { db?: string }) => ctx.exit(await runPriceList(opts, ctx.factory())));
  examples(price, ['tn admin price set whatsapp gb 0.40', 'tn admin price set telegram "*" 0.20', 'tn admin price list --db ./tn.db']);

  const audit = admin
    .command('audit')
    .description('Check every money invariant; exits 1 on any violation')
    .option(...DB_OPTION)
    .action(async (opts: { db?: string }) => ctx.exit(await runAudit({ db: opts.db }, ctx.factory())));
  examples(audit, ['tn admin audit', 'tn admin audit --db ./tn.db --json']);
  const migrate = admin
    .command('migrate')
    .description('Bring the database schema up to date and exit (tn serve also does it on start)')
    .option(...DB_OPTION)
    .action(async (opts: { db?: string }) => ctx.exit(await runMigrate({ db: opts.db }, ctx.factory())));
  examples(migrate, ['tn admin migrate --db postgres://tn@db.internal:5432/tn']);
  defineAdminBackup(admin, ctx);
  defineAdminSources(admin, ctx);
};

function usdArgument(value: string): number {
  const micros = parseUsd(value);
  if (micros === null || micros <= 0) throw new InvalidArgumentError('the amount must be a positive USD amount with at most 6 decimals, e.g. 5 or 2.50');
  return micros;
}

export async function runCredit(opts: { account: string; amount: number; db?: string; note: string }, f: Factory): Promise<number> {
  const core = await f.adminCore(opts.db);
  const result = await core.credit(opts.account, opts.amount, opts.note);
  if (f.globals.json) printJson(f.io, result);
  else f.io.out(f.io.stdoutIsTTY ? `Added ${formatUsd(opts.amount)} to ${result.account_id}: balance ${usd(result.balance)}.` : `${result.account_id}\t${result.balance}`);
  return EXIT.ok;
}

export async function runPriceSet(opts: { platform: string; country: string; amount: number | null; db?: string }, f: Factory): Promise<number> {
  const core = await f.adminCore(opts.db);
  const set = await core.setPrice(opts.platform, opts.country, opts.amount);
  if (f.globals.json) printJson(f.io, set);
  else f.io.err(set.price === null ? `${set.platform} in ${set.country}: back to the catalogue price.` : `${set.platform} in ${set.country}: ${formatUsd(opts.amount!)}.`);
  return EXIT.ok;
}

export async function runPriceList(opts: { db?: string }, f: Factory): Promise<number> {
  const core = await f.adminCore(opts.db);
  const list = await core.priceOverrides();
  if (f.globals.json) printJson(f.io, { prices: list });
  else await printTable(f.io, ['PLATFORM', 'COUNTRY', 'PRICE'], list.map((p) => [p.platform, p.country, usd(p.price)]));
  return EXIT.ok;
}

export async function runAudit(opts: { db?: string }, f: Factory): Promise<number> {
  const core = await f.adminCore(opts.db);
  await core.processDue();
  const report = await core.audit();
  const ok = report.violations.length === 0;
  if (f.globals.json) printJson(f.io, { ok, ...report });
  else {
    // The verdict is the command's answer, so it is data (stdout), like the violations above it.
    for (const v of report.violations) f.io.out(v);
    f.io.out(
      `${ok ? 'OK' : `${report.violations.length} violation(s)`}: ${report.accounts} accounts, ${report.orders} orders, ${report.ledgerEntries} ledger entries checked.`,
    );
  }
  return ok ? EXIT.ok : EXIT.bug;
}

export async function runMigrate(opts: { db?: string }, f: Factory): Promise<number> {
  // Opening a database migrates it (under an advisory lock on PostgreSQL); then it is checked.
  const core = await f.core(opts.db, { create: true });
  await core.ping();
  if (f.globals.json) printJson(f.io, { migrated: true });
  else f.io.out('OK: the schema is up to date.');
  return EXIT.ok;
}

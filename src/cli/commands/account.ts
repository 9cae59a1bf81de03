import { EXIT } from '../../core/errors.js';
import { examples, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';
import { orderLine, printJson, printTable, usd } from '../output.js';

export const defineAccount: DefineCommand = (program, ctx) => {
  const cmd = program
    .command('account')
    .description('Balance, loyalty tier, order statistics and recent orders')
    .action(async () => ctx.exit(await runAccount(ctx.factory())));
  examples(cmd, ['tn account', 'tn account --json | jq .balance']);
};

export async function runAccount(f: Factory): Promise<number> {
  const broker = await f.broker();
  const a = await broker.account();
  const { io } = f;
  if (f.globals.json) {
    printJson(io, a);
    return EXIT.ok;
  }
  if (!io.stdoutIsTTY) {
    const rows: [string, string | number][] = [
      ['account_id', a.account_id],
      ['endpoint', broker.endpoint],
      ['balance', a.balance],
      ['tier', a.tier],
      ['discount_percent', a.discount_percent],
      ['completed_orders', a.completed_orders],
      ['orders', a.stats.orders],
      ['spent', a.stats.spent],
      ['sandbox', String(a.sandbox === true)],
      ...(a.delivery_guards ?? []).map((g): [string, string] => ['delivery_guard', `${g.platform}\t${g.country}\t${g.delivered}/${g.ended}\t${g.lifts_at}`]),
    ];
    for (const [k, v] of rows) io.out(`${k}\t${v}`);
    return EXIT.ok;
  }
  const s = await io.style();
  io.out(`${s.bold(a.account_id)}${a.sandbox ? s.yellow('  local sandbox (simulated numbers, test credit)') : ''}`);
  io.out(`  endpoint   ${broker.endpoint}`);
  io.out(`  balance    ${s.bold(usd(a.balance))}`);
  io.out(`  tier       ${a.tier} (${a.discount_percent}% off)` + (a.next_tier ? s.dim(`, ${a.next_tier.orders_needed} more completed orders to ${a.next_tier.tier}`) : ''));
  io.out(
    `  orders     ${a.stats.orders}: ${a.stats.completed} completed, ${a.stats.cancelled} cancelled, ${a.stats.expired} expired, ${a.stats.failed} failed; ${usd(a.stats.spent)} spent`,
  );
  for (const g of a.delivery_guards ?? []) {
    io.out(
      s.yellow(`  paused     ${g.platform} in ${g.country.toUpperCase()}: ${g.delivered} of ${g.ended} recent orders got an SMS; new orders there resume ${g.lifts_at}`),
    );
  }
  if (Object.keys(a.deposit_addresses).length) {
    io.out(`  deposit    ${Object.entries(a.deposit_addresses).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  }
  if (a.recent_orders.length) {
    io.out('');
    await printTable(io, ['ORDER', 'STATUS', 'PLATFORM', 'PHONE', 'CODE'], a.recent_orders.map((o) => orderLine(o).split('\t')));
  }
  return EXIT.ok;
}

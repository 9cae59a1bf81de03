import { InvalidArgumentError } from 'commander';
import type { OrderQuery } from '../../core/broker.js';
import { EXIT } from '../../core/errors.js';
import { examples, integerIn, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';
import { orderLine, printJson, timeText, printTable, usd } from '../output.js';

/** The flags are the API's query parameters, one to one. */
export type OrdersOptions = OrderQuery;

/** `7d`, `12h`, `30m` back from now, or an ISO date as it is. */
export function parseWhen(value: string, now = Date.now()): string {
  const relative = /^(\d{1,5})([mhdw])$/.exec(value.trim());
  if (relative) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[relative[2] as 'm' | 'h' | 'd' | 'w'];
    return new Date(now - Number(relative[1]) * unit).toISOString();
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InvalidArgumentError('a time such as 7d, 12h, 30m, or an ISO date like 2026-11-21');
  }
  return value;
}

export const defineOrders: DefineCommand = (program, ctx) => {
  const cmd = program
    .command('orders')
    .description('Your order history, newest first; filter and page through it')
    .option('-s, --status <status>', 'active, completed, cancelled, expired or failed')
    .option('-p, --platform <platform>', 'only this platform')
    .option('-c, --country <code>', 'only this country')
    .option('--since <when>', 'from this time: 7d, 12h, 30m, or an ISO date', (v: string) => parseWhen(v))
    .option('--until <when>', 'before this time', (v: string) => parseWhen(v))
    .option('--page <n>', 'page number', integerIn(1, 1_000_000, 'page'))
    .option('--limit <n>', 'orders per page (at most 100)', integerIn(1, 100, 'limit'))
    .action(async (opts: OrdersOptions) => ctx.exit(await runOrders(opts, ctx.factory())));
  examples(cmd, ['tn orders --status completed --platform instagram --since 7d --limit 50 --page 2', "tn orders --json | jq '.orders[].code'", 'tn orders | cut -f1,5']);
  cmd.addHelpText('after', '\nPiped: one order per line, tab-separated: order_id, status, platform, phone, code.\n');
};

export async function runOrders(opts: OrdersOptions, f: Factory): Promise<number> {
  const page = await (await f.broker()).orders(opts);
  if (f.globals.json) {
    printJson(f.io, page);
    return EXIT.ok;
  }
  if (!f.io.stdoutIsTTY) {
    for (const o of page.orders) f.io.out(orderLine(o));
    return EXIT.ok;
  }
  await printTable(
    f.io,
    ['ORDER', 'STATUS', 'PLATFORM', 'COUNTRY', 'PHONE', 'CODE', 'PRICE', 'CREATED'],
    page.orders.map((o) => [o.order_id, o.status, o.platform, o.country, o.phone, o.code ?? '', usd(o.price), timeText(o.created_at, true)]),
  );
  f.io.err(`Page ${page.page} of ${Math.max(1, page.pages)} (${page.total} order${page.total === 1 ? '' : 's'}).`);
  return EXIT.ok;
}

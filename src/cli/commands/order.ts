import { EXIT } from '../../core/errors.js';
import { examples, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';
import { buildQuote, printQuote } from '../quote.js';
import { MAX_PRICE_OPTION } from '../max-price.js';
import { describeOrder, printJson } from '../output.js';

export interface OrderOptions {
  platform: string;
  country?: string;
  idempotencyKey?: string;
  dryRun?: boolean;
  maxPrice?: number;
}

export const defineOrder: DefineCommand = (program, ctx) => {
  const cmd = program
    .command('order')
    .description('Order a number and return at once (then `tn wait <id>` for the code)')
    .argument('<platform>', 'platform id or alias')
    .option('-c, --country <code>', 'ISO country code, or "any"')
    .option('--idempotency-key <key>', 'repeat an order without paying twice')
    .option('--dry-run', 'print the quote (price for this account, balance after, median delivery time) and order nothing')
    .option(...MAX_PRICE_OPTION)
    .action(async (platform: string, opts: { country?: string; idempotencyKey?: string; dryRun?: boolean; maxPrice?: number }) => {
      ctx.exit(await runOrder({ platform, ...opts }, ctx.factory()));
    });
  examples(cmd, ['tn order whatsapp --country us', 'tn order ig --json | jq -r .order_id', 'read id phone < <(tn order telegram)', 'tn order telegram --country gb --dry-run']);
};

export async function runOrder(opts: OrderOptions, f: Factory): Promise<number> {
  const { io } = f;
  const config = await f.config();
  const broker = await f.broker();
  const country = opts.country ?? (config.get('country') as string | undefined);
  if (opts.dryRun) {
    await printQuote(io, await buildQuote(broker, [{ platform: opts.platform, country }]), f.globals.json);
    return EXIT.ok;
  }
  const order = await broker.order({
    platform: opts.platform,
    country,
    idempotencyKey: opts.idempotencyKey,
    maxPrice: opts.maxPrice,
  });
  if (f.globals.json) printJson(io, order);
  else if (io.stdoutIsTTY) {
    for (const line of describeOrder(order, await io.style())) io.out(line);
    io.err(`\nNext: tn wait ${order.order_id}   (or tn cancel ${order.order_id})`);
  } else io.out(`${order.order_id}\t${order.phone}`);
  return EXIT.ok;
}

import { EXIT } from '../../core/errors.js';
import { examples, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';
import { MAX_PRICE_OPTION } from '../max-price.js';
import { describeOrder, printJson } from '../output.js';

export interface OrderOptions {
  platform: string;
  country?: string;
  idempotencyKey?: string;
  maxPrice?: number;
}

export const defineOrder: DefineCommand = (program, ctx) => {
  const cmd = program
    .command('order')
    .description('Order a number and return at once (then `tn wait <id>` for the code)')
    .argument('<platform>', 'platform id or alias')
    .option('-c, --country <code>', 'ISO country code, or "any"')
    .option('--idempotency-key <key>', 'repeat an order without paying twice')
    .option(...MAX_PRICE_OPTION)
    .action(async (platform: string, opts: { country?: string; idempotencyKey?: string; maxPrice?: number }) => {
      ctx.exit(await runOrder({ platform, ...opts }, ctx.factory()));
    });
  examples(cmd, ['tn order whatsapp --country us', 'tn order ig --json | jq -r .order_id', 'read id phone < <(tn order telegram)', 'tn order wa --max-price 0.30']);
};

export async function runOrder(opts: OrderOptions, f: Factory): Promise<number> {
  const { io } = f;
  const config = await f.config();
  const broker = await f.broker();
  const order = await broker.order({
    platform: opts.platform,
    country: opts.country ?? (config.get('country') as string | undefined),
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

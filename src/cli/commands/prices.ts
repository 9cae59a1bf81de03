import { EXIT, TnError } from '../../core/errors.js';
import { examples, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';
import { printJson, printTable, usd } from '../output.js';

export interface PricesOptions {
  by: string;
  platform?: string;
  country?: string;
}

export const definePrices: DefineCommand = (program, ctx) => {
  const cmd = program
    .command('prices')
    .description('Price lists with stock: every country for one platform, or every platform in one country')
    .option('--by <country|service>', 'country: list countries for --platform; service: list platforms for --country')
    .option('-p, --platform <platform>', 'with --by country')
    .option('-c, --country <code>', 'with --by service')
    .action(async (opts: Partial<PricesOptions>) => ctx.exit(await runPrices(opts, ctx.factory())));
  examples(cmd, ['tn prices --by country --platform whatsapp', 'tn prices --by service --country gb', 'tn prices --by service --country us --json | jq ".items[] | select(.stock > 0)"']);
  cmd.addHelpText('after', '\nWith only --platform or only --country, --by is implied. Piped, the table is tab-separated with a header line.\n');
};

export async function runPrices(opts: Partial<PricesOptions>, f: Factory): Promise<number> {
  const by = opts.by ?? (opts.platform && !opts.country ? 'country' : opts.country && !opts.platform ? 'service' : undefined);
  let list;
  const broker = await f.broker();
  if (by === 'country') {
    if (!opts.platform) throw new TnError('invalid_request', '--by country needs --platform, e.g. tn prices --by country --platform whatsapp.');
    list = await broker.prices({ by: 'country', platform: opts.platform });
  } else if (by === 'service') {
    if (!opts.country) throw new TnError('invalid_request', '--by service needs --country, e.g. tn prices --by service --country gb.');
    list = await broker.prices({ by: 'service', country: opts.country });
  } else {
    throw new TnError('invalid_request', 'Choose --by country --platform <p> or --by service --country <c>.');
  }
  if (f.globals.json) printJson(f.io, list);
  else {
    await printTable(
      f.io,
      ['PLATFORM', 'COUNTRY', 'PRICE', 'YOUR PRICE', 'STOCK'],
      list.items.map((i) => [i.platform, i.country, usd(i.price), usd(i.your_price), String(i.stock)]),
      { tsvHeader: true },
    );
  }
  return EXIT.ok;
}

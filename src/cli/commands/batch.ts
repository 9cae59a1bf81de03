import { text } from 'node:stream/consumers';
import { EXIT, TnError, exitCodeFor } from '../../core/errors.js';
import type { OrderRequest } from '../../core/broker.js';
import { BATCH_MAX } from '../../core/limits.js';
import { examples, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';
import { printJson, printTable, usd } from '../output.js';
import { buildQuote, printQuote } from '../quote.js';
import { MAX_PRICE_OPTION } from '../max-price.js';

export interface BatchOptions {
  /** Platforms, or `-` to read them from stdin (one per line or separated by spaces; `platform:country` allowed). */
  platforms: string[];
  country?: string;
  dryRun?: boolean;
  maxPrice?: number;
}

export const defineBatch: DefineCommand = (program, ctx) => {
  const cmd = program
    .command('batch')
    .description('Order up to 20 numbers at once; each item succeeds or fails on its own')
    .argument('<platforms...>', 'platforms (platform or platform:country), or - to read them from stdin')
    .option('-c, --country <code>', 'country for items that do not name one')
    .option('--dry-run', 'print the quote (price for this account, balance after, median delivery time) and order nothing')
    .option(...MAX_PRICE_OPTION)
    .action(async (platforms: string[], opts: { country?: string; dryRun?: boolean; maxPrice?: number }) =>
      ctx.exit(await runBatch({ platforms, country: opts.country, dryRun: opts.dryRun, maxPrice: opts.maxPrice }, ctx.factory())),
    );
  examples(cmd, ['tn batch instagram whatsapp telegram', 'tn batch wa:gb wa:us', 'printf "ig\\nwa\\n" | tn batch -', 'tn batch tg tg tg --json | jq ".results[].order.phone"', 'tn batch tg tg wa:gb --dry-run']);
  cmd.addHelpText('after', '\nExit status: 0 when every item was ordered, otherwise the exit code of the first item that failed.\n');
};

export async function runBatch(opts: BatchOptions, f: Factory): Promise<number> {
  const words = opts.platforms.includes('-') ? [...opts.platforms.filter((p) => p !== '-'), ...(await text(f.io.stdin)).split(/\s+/)] : opts.platforms;
  const items: OrderRequest[] = words
    .map((w) => w.trim())
    .filter((w) => w !== '' && !w.startsWith('#'))
    .map((w) => {
      const [platform, country] = w.split(':');
      return { platform: platform!, country: country || opts.country, maxPrice: opts.maxPrice };
    });
  if (items.length === 0) throw new TnError('invalid_request', 'No platforms given.');
  if (opts.dryRun) {
    // The same bound the broker would refuse the batch with.
    if (items.length > BATCH_MAX) throw new TnError('batch_too_large', `A batch holds 1 to ${BATCH_MAX} orders; this one has ${items.length}.`);
    await printQuote(f.io, await buildQuote(await f.broker(), items), f.globals.json);
    return EXIT.ok;
  }

  const result = await (await f.broker()).batch(items);
  const firstError = result.results.find((r) => !r.ok);
  const exit = firstError && !firstError.ok ? exitCodeFor(firstError.error.code) : EXIT.ok;
  if (f.globals.json) {
    printJson(f.io, result);
    return exit;
  }
  await printTable(
    f.io,
    ['RESULT', 'ORDER', 'PLATFORM', 'PHONE', 'PRICE / ERROR'],
    result.results.map((r, i) =>
      r.ok
        ? ['ok', r.order.order_id, r.order.platform, r.order.phone, usd(r.order.price)]
        : ['error', '', items[i]!.platform, '', `${r.error.code}: ${r.error.message}`],
    ),
  );
  const ordered = result.results.filter((r) => r.ok).length;
  f.io.err(`${ordered} of ${items.length} ordered, ${usd(result.total_price)} in all.`);
  return exit;
}

import { EXIT } from '../../core/errors.js';
import { examples, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';
import { percent, printJson, printTable } from '../output.js';

export const defineAvailability: DefineCommand = (program, ctx) => {
  const cmd = program
    .command('availability')
    .description('Stock, success rate and median delivery time per platform, from real order history')
    .action(async () => ctx.exit(await runAvailability(ctx.factory())));
  examples(cmd, ['tn availability', 'tn availability --json']);
};

export async function runAvailability(f: Factory): Promise<number> {
  const { platforms } = await (await f.broker()).availability();
  if (f.globals.json) printJson(f.io, { platforms });
  else {
    await printTable(
      f.io,
      ['PLATFORM', 'STOCK', 'SUCCESS', 'MEDIAN DELIVERY'],
      platforms.map((p) => [
        p.platform,
        String(p.stock),
        percent(p.success_rate),
        p.median_delivery_seconds === null ? '–' : `${p.median_delivery_seconds}s`,
      ]),
    );
  }
  return EXIT.ok;
}

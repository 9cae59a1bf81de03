import { EXIT } from '../../core/errors.js';
import { examples, integerIn, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';
import { percent, printJson, printTable, usd } from '../output.js';

export const defineUsage: DefineCommand = (program, ctx) => {
  const cmd = program
    .command('usage')
    .description('Orders, completions and spending per platform and per day')
    .option('-d, --days <n>', 'how many days back, today included (1–365)', integerIn(1, 365, 'days'), 30)
    .action(async (opts: { days: number }) => ctx.exit(await runUsage({ days: opts.days }, ctx.factory())));
  examples(cmd, ['tn usage --days 7', 'tn usage --json | jq ".daily[] | select(.orders > 0)"']);
};

export async function runUsage(opts: { days: number }, f: Factory): Promise<number> {
  const usage = await (await f.broker()).usage(opts.days);
  if (f.globals.json) {
    printJson(f.io, usage);
    return EXIT.ok;
  }
  await printTable(
    f.io,
    ['PLATFORM', 'ORDERS', 'COMPLETED', 'SUCCESS', 'SPENT'],
    usage.platforms.map((p) => [p.platform, String(p.orders), String(p.completed), percent(p.success_rate), usd(p.spent)]),
  );
  if (f.io.stdoutIsTTY) {
    f.io.out('');
    await printTable(
      f.io,
      ['DATE', 'ORDERS', 'COMPLETED', 'SPENT'],
      usage.daily.filter((d) => d.orders > 0).map((d) => [d.date, String(d.orders), String(d.completed), usd(d.spent)]),
    );
    if (usage.platforms.length === 0) f.io.err(`No orders in the last ${usage.days} days.`);
  }
  return EXIT.ok;
}

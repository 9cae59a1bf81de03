import { EXIT } from '../../core/errors.js';
import { examples, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';
import { printJson, printTable, usd } from '../output.js';

export const defineServices: DefineCommand = (program, ctx) => {
  const services = program
    .command('services')
    .description('List the platforms with their prices (and yours, after the tier discount)')
    .action(async () => ctx.exit(await runServices(ctx.factory())));
  examples(services, ['tn services', 'tn services --json | jq ".services[] | select(.price < 0.15)"']);

};

export async function runServices(f: Factory): Promise<number> {
  const list = await (await f.broker()).services();
  if (f.globals.json) printJson(f.io, list);
  else {
    await printTable(
      f.io,
      ['PLATFORM', 'NAME', 'PRICE', 'YOUR PRICE'],
      list.services.map((s) => [s.platform, s.name, usd(s.price), s.your_price === undefined ? '' : usd(s.your_price)]),
    );
  }
  return EXIT.ok;
}

import { EXIT } from '../../core/errors.js';
import { examples, orderIdArgument, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';
import { describeOrder, orderLine, printJson } from '../output.js';

export const defineStatus: DefineCommand = (program, ctx) => {
  const cmd = program
    .command('status')
    .description('Show an order: status, phone, code')
    .argument('<order_id>', 'the order id', orderIdArgument)
    .action(async (orderId: string) => ctx.exit(await runStatus({ orderId }, ctx.factory())));
  examples(cmd, ['tn status ord_01JD…', 'tn status ord_01JD… --json | jq -r .code']);
};

export async function runStatus(opts: { orderId: string }, f: Factory): Promise<number> {
  const order = await (await f.broker()).getOrder(opts.orderId);
  if (f.globals.json) printJson(f.io, order);
  else if (f.io.stdoutIsTTY) for (const line of describeOrder(order, await f.io.style())) f.io.out(line);
  else f.io.out(orderLine(order));
  return EXIT.ok;
}

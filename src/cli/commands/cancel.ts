import { EXIT } from '../../core/errors.js';
import { examples, orderIdArgument, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';
import { printJson, usd } from '../output.js';

export const defineCancel: DefineCommand = (program, ctx) => {
  const cmd = program
    .command('cancel')
    .description('Cancel an active order; its price is refunded')
    .argument('<order_id>', 'the order id', orderIdArgument)
    .action(async (orderId: string) => ctx.exit(await runCancel({ orderId }, ctx.factory())));
  examples(cmd, ['tn cancel ord_01JD…']);
};

export async function runCancel(opts: { orderId: string }, f: Factory): Promise<number> {
  const order = await (await f.broker()).cancel(opts.orderId);
  if (f.globals.json) printJson(f.io, order);
  else if (f.io.stdoutIsTTY) {
    // Cancelling a retry in progress keeps the code already delivered: no refund then.
    f.io.out(
      order.status === 'cancelled'
        ? `Cancelled ${order.order_id}; ${usd(order.price)} refunded.`
        : `Stopped waiting for another code on ${order.order_id}: it stays completed (its first code was delivered), nothing refunded.`,
    );
  }
  else f.io.out(`${order.order_id}\t${order.status}`);
  return EXIT.ok;
}

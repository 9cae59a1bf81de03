import { EXIT } from '../../core/errors.js';
import type { Order } from '../../core/orders/order.js';
import { examples, integerIn, orderIdArgument, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';
import { noCodeReason, printJson } from '../output.js';

export interface WaitOptions {
  orderId: string;
  timeoutSeconds?: number;
}

export const defineWait: DefineCommand = (program, ctx) => {
  const cmd = program
    .command('wait')
    .description('Wait for the code of an order and print it')
    .argument('<order_id>', 'the order id', orderIdArgument)
    .option('-t, --timeout <seconds>', 'give up after this many seconds (default: until the order ends)', integerIn(1, 3600, 'timeout'))
    .action(async (orderId: string, opts: { timeout?: number }) =>
      ctx.exit(await runWait({ orderId, timeoutSeconds: opts.timeout }, ctx.factory())),
    );
  examples(cmd, ['tn wait ord_01JD…', 'code=$(tn wait "$id" --timeout 60)']);
};

export async function runWait(opts: WaitOptions, f: Factory): Promise<number> {
  const broker = await f.broker();
  const spinner = await f.io.spinner(`Waiting for the SMS of ${opts.orderId}…`);
  let order: Order;
  try {
    order = await broker.wait(opts.orderId, { timeoutMs: opts.timeoutSeconds === undefined ? undefined : opts.timeoutSeconds * 1000 });
  } finally {
    spinner.stop();
  }
  return printCodeOrReason(order, f);
}

/** The shared ending of `wait` and `retry --wait`: the code on stdout, or why there is none on stderr (exit 5). */
export function printCodeOrReason(order: Order, f: Factory): number {
  const ok = order.status === 'completed' && order.code !== null;
  if (f.globals.json) printJson(f.io, order);
  else if (ok) f.io.out(order.code!);
  if (!ok) f.io.err(noCodeReason(order));
  return ok ? EXIT.ok : EXIT.noCode;
}

import { EXIT } from '../../core/errors.js';
import { examples, integerIn, orderIdArgument, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';
import { printJson } from '../output.js';
import { printCodeOrReason } from './wait.js';

export interface RetryOptions {
  orderId: string;
  wait: boolean;
  timeoutSeconds?: number;
}

export const defineRetry: DefineCommand = (program, ctx) => {
  const cmd = program
    .command('retry')
    .description('Ask for another code on the same number (free, until the order expires)')
    .argument('<order_id>', 'a completed order', orderIdArgument)
    .option('-w, --wait', 'wait for the new code and print it')
    .option('-t, --timeout <seconds>', 'with --wait: give up after this many seconds', integerIn(1, 3600, 'timeout'))
    .action(async (orderId: string, opts: { wait?: boolean; timeout?: number }) =>
      ctx.exit(await runRetry({ orderId, wait: opts.wait ?? false, timeoutSeconds: opts.timeout }, ctx.factory())),
    );
  examples(cmd, ['tn retry ord_01JD…', 'code=$(tn retry "$id" --wait)']);
};

export async function runRetry(opts: RetryOptions, f: Factory): Promise<number> {
  const broker = await f.broker();
  const order = await broker.retry(opts.orderId);
  if (!opts.wait) {
    if (f.globals.json) printJson(f.io, order);
    else f.io.out(f.io.stdoutIsTTY ? `Order ${order.order_id} is waiting for another code on ${order.phone}.` : `${order.order_id}\t${order.status}`);
    return EXIT.ok;
  }
  const spinner = await f.io.spinner(`Waiting for another SMS on ${order.phone}…`);
  try {
    const settled = await broker.wait(order.order_id, { timeoutMs: opts.timeoutSeconds === undefined ? undefined : opts.timeoutSeconds * 1000 });
    spinner.stop();
    return printCodeOrReason(settled, f);
  } catch (err) {
    spinner.stop();
    throw err;
  }
}

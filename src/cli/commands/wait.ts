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
  const started = Date.now();
  const text = (): string => {
    const elapsed = Math.floor((Date.now() - started) / 1000);
    const left = opts.timeoutSeconds === undefined ? '' : `, ${Math.max(0, opts.timeoutSeconds - elapsed)}s left`;
    return `Waiting for the SMS of ${opts.orderId}… ${elapsed}s${left} · Ctrl-C stops waiting, the order stays open`;
  };
  const spinner = await f.io.spinner(text());
  // A live clock only where the spinner animates: elsewhere each second would be a new line.
  const clock = f.io.animate ? setInterval(() => spinner.update(text()), 1000) : undefined;
  let order: Order;
  try {
    order = await broker.wait(opts.orderId, { timeoutMs: opts.timeoutSeconds === undefined ? undefined : opts.timeoutSeconds * 1000 });
  } finally {
    clearInterval(clock);
    spinner.stop();
  }
  return printCodeOrReason(order, f);
}

/** The shared ending of `wait` and `retry --wait`: the code on stdout, or why there is none on stderr (exit 5). */
export function printCodeOrReason(order: Order, f: Factory): number {
  const ok = order.status === 'completed' && order.code !== null;
  if (f.globals.json) printJson(f.io, order);
  else if (ok) f.io.out(order.code!);
  if (!ok) f.io.err(noCodeReason(order, f.io.stderrIsTTY));
  return ok ? EXIT.ok : EXIT.noCode;
}

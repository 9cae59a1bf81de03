import { EXIT } from '../../core/errors.js';
import type { VerifiedOrder } from '../../core/broker.js';
import { examples, integerIn, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';
import { ATTEMPTS_OPTION, PER_ATTEMPT_OPTION, attemptReporter } from '../attempts.js';
import { MAX_PRICE_OPTION } from '../max-price.js';
import { noCodeReason, printJson, usd } from '../output.js';

export interface VerifyOptions {
  platform: string;
  country?: string;
  timeoutSeconds?: number;
  idempotencyKey?: string;
  maxPrice?: number;
  attempts?: number;
  perAttempt?: number;
}

export const defineVerify: DefineCommand = (program, ctx) => {
  const cmd = program
    .command('verify')
    .description('Order a number, wait for the SMS and print the code')
    .argument('<platform>', 'platform id or alias (instagram, wa, tg, …)')
    .option('-c, --country <code>', 'ISO country code, or "any"')
    .option('-t, --timeout <seconds>', 'seconds to wait for the code before the order is refunded (30–300)', integerIn(30, 300, 'timeout'))
    .option('--idempotency-key <key>', 'repeat a verify without paying twice')
    .option(...MAX_PRICE_OPTION)
    .option(...ATTEMPTS_OPTION)
    .option(...PER_ATTEMPT_OPTION)
    .action(async (platform: string, opts: Omit<VerifyOptions, 'platform' | 'timeoutSeconds'> & { timeout?: number }) => {
      ctx.exit(await runVerify({ platform, ...opts, timeoutSeconds: opts.timeout }, ctx.factory()));
    });
  examples(cmd, ['tn verify instagram', 'code=$(tn verify wa --country gb)', 'tn verify telegram --timeout 60 --json', 'tn verify wa --attempts 3 --per-attempt 60 --timeout 200']);
};

export async function runVerify(opts: VerifyOptions, f: Factory): Promise<number> {
  const { io } = f;
  const config = await f.config();
  const broker = await f.broker();
  const spinner = await io.spinner(`Ordering a ${opts.platform} number…`);
  const started = Date.now();
  // Ctrl-C while waiting cancels the order, so the money comes back.
  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  process.once('SIGINT', onSigint);
  const attempts = attemptReporter(io, spinner, opts.attempts ?? 1);
  let order: VerifiedOrder;
  try {
    order = await broker.verify(
      {
        platform: opts.platform,
        country: opts.country ?? (config.get('country') as string | undefined),
        timeoutSeconds: opts.timeoutSeconds ?? (config.get('timeout') as number | undefined),
        idempotencyKey: opts.idempotencyKey,
        maxPrice: opts.maxPrice,
        attempts: opts.attempts,
        perAttemptSeconds: opts.perAttempt,
      },
      {
        signal: abort.signal,
        onOrder: (o) => spinner.update(`Waiting for the SMS on ${o.phone} (${o.platform}, ${usd(o.price)})…`),
        onAttempt: attempts.onAttempt,
      },
    );
  } catch (err) {
    spinner.stop();
    // Interrupted: the broker cancels and refunds an order whose verify was abandoned.
    if (abort.signal.aborted) {
      io.err('Interrupted: the order is cancelled and refunded.');
      return 130;
    }
    throw err;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  attempts.after(order);

  if (order.status === 'completed' && order.code) {
    spinner.succeed(`Code received on ${order.phone} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    if (f.globals.json) printJson(io, order);
    else io.out(order.code);
    return EXIT.ok;
  }
  spinner.fail(noCodeReason(order));
  if (!io.stderrIsTTY) io.err(noCodeReason(order));
  if (f.globals.json) printJson(io, order);
  return abort.signal.aborted ? 130 : EXIT.noCode;
}

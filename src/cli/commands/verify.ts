import { EXIT, isTnError } from '../../core/errors.js';
import type { Broker, VerifiedOrder } from '../../core/broker.js';
import type { Order } from '../../core/orders/order.js';
import { examples, integerIn, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';
import { buildQuote, printQuote } from '../quote.js';
import { ATTEMPTS_OPTION, PER_ATTEMPT_OPTION, attemptReporter } from '../attempts.js';
import { MAX_PRICE_OPTION } from '../max-price.js';
import { SIGNAL_EXIT, watchInterrupts, type StopSignal } from '../interrupt.js';
import { attachHint, noCodeReason, platformName, printJson, strandedOrderHint, usd } from '../output.js';
import { VERIFY_TIMEOUT } from '../../core/limits.js';

export interface VerifyOptions {
  platform: string;
  country?: string;
  timeoutSeconds?: number;
  idempotencyKey?: string;
  dryRun?: boolean;
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
    .option('-t, --timeout <seconds>', `seconds to wait for the code before the order is refunded (${VERIFY_TIMEOUT.min}–${VERIFY_TIMEOUT.max})`, integerIn(VERIFY_TIMEOUT.min, VERIFY_TIMEOUT.max, 'timeout'))
    .option('--idempotency-key <key>', 'repeat a verify without paying twice')
    .option('--dry-run', 'print the quote (price for this account, balance after, median delivery time) and order nothing')
    .option(...MAX_PRICE_OPTION)
    .option(...ATTEMPTS_OPTION)
    .option(...PER_ATTEMPT_OPTION)
    .action(async (platform: string, opts: Omit<VerifyOptions, 'platform' | 'timeoutSeconds'> & { timeout?: number }) => {
      ctx.exit(await runVerify({ platform, ...opts, timeoutSeconds: opts.timeout }, ctx.factory()));
    });
  examples(cmd, [
    'tn verify instagram',
    'code=$(tn verify wa --country gb)',
    'tn verify telegram --timeout 60 --json',
    'tn verify whatsapp --country us --dry-run',
    'tn verify wa --attempts 3 --per-attempt 60 --timeout 200',
  ]);
};

export async function runVerify(opts: VerifyOptions, f: Factory): Promise<number> {
  const { io } = f;
  const config = await f.config();
  const broker = await f.broker();
  const country = opts.country ?? (config.get('country') as string | undefined);
  if (opts.dryRun) {
    await printQuote(io, await buildQuote(broker, [{ platform: opts.platform, country }]), f.globals.json);
    return EXIT.ok;
  }
  const timeoutSeconds = opts.timeoutSeconds ?? (config.get('timeout') as number | undefined);
  const spinner = await io.spinner(`Ordering ${platformPhrase(opts.platform)} number…`);
  const started = Date.now();
  // Ctrl-C, SIGTERM, SIGHUP or a closed terminal while waiting: the order is cancelled, so the money comes back.
  const interrupts = watchInterrupts(io);
  let placed: Order | undefined;
  let clock: NodeJS.Timeout | undefined;
  const attempts = attemptReporter(io, spinner, opts.attempts ?? 1);
  let order: VerifiedOrder;
  try {
    order = await broker.verify(
      {
        platform: opts.platform,
        country,
        timeoutSeconds,
        idempotencyKey: opts.idempotencyKey,
        maxPrice: opts.maxPrice,
        attempts: opts.attempts,
        perAttemptSeconds: opts.perAttempt,
      },
      {
        signal: interrupts.signal,
        onOrder: (o) => {
          placed = o;
          // On a terminal the id is shown at once, so that no failure later can hide a paid order.
          if (io.stderrIsTTY) spinner.note(`Order ${o.order_id}: ${o.phone} (${o.platform}, ${o.country.toUpperCase()}, ${usd(o.price)})`);
          const waiting = (): string =>
            `Waiting for the SMS on ${o.phone}… ${elapsedText(started, timeoutSeconds ?? VERIFY_TIMEOUT.default)} · Ctrl-C cancels and refunds`;
          spinner.update(waiting());
          // A live clock only where the spinner animates: elsewhere each second would be a new line.
          if (io.animate) clock = setInterval(() => spinner.update(waiting()), 1000);
        },
        onAttempt: attempts.onAttempt,
      },
    );
  } catch (err) {
    spinner.stop();
    const id = placed?.order_id ?? (isTnError(err) && typeof err.details.order_id === 'string' ? err.details.order_id : undefined);
    if (interrupts.reason) return endInterrupted(f, broker, id, interrupts.reason);
    if (id) attachHint(err, strandedOrderHint(id));
    throw err;
  } finally {
    clearInterval(clock);
    interrupts.dispose();
  }
  if (interrupts.reason && order.status === 'active') return endInterrupted(f, broker, order.order_id, interrupts.reason);
  attempts.after(order);

  if (order.status === 'completed' && order.code) {
    spinner.succeed(`Code received on ${order.phone} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    if (f.globals.json) printJson(io, order);
    else io.out(order.code);
    return EXIT.ok;
  }
  if (interrupts.reason) {
    spinner.stop();
    io.err(interruptedText(order, interrupts.reason));
    if (f.globals.json) printJson(io, order);
    return SIGNAL_EXIT[interrupts.reason];
  }
  spinner.fail(noCodeReason(order, true));
  if (!io.stderrIsTTY) io.err(noCodeReason(order));
  if (order.status === 'active') io.err(strandedOrderHint(order.order_id));
  if (f.globals.json) printJson(io, order);
  return EXIT.noCode;
}

/**
 * The verify was stopped: make sure the order is ended and refunded (a remote broker cancels on
 * the hang-up, but one that restarted meanwhile only follows), and say what became of it.
 */
async function endInterrupted(f: Factory, broker: Broker, orderId: string | undefined, why: StopSignal): Promise<number> {
  let order: Order | undefined;
  if (orderId) {
    try {
      order = await broker.cancel(orderId);
    } catch (err) {
      // Already ended: by the hang-up, by its SMS, or by its timeout.
      order = await broker.getOrder(orderId).catch(() => undefined);
      if (!order || order.status === 'active') {
        f.io.err(`Interrupted (${why}): the order could not be cancelled: ${err instanceof Error ? err.message : String(err)}`);
        f.io.err(strandedOrderHint(orderId));
        if (f.globals.json) printJson(f.io, { error: { code: 'unavailable', message: 'The interrupted order could not be cancelled.', status: 503, order_id: orderId } });
        return SIGNAL_EXIT[why];
      }
    }
  }
  f.io.err(order ? interruptedText(order, why) : `Interrupted (${why}) before the order was seen: if one was placed, the broker cancels and refunds it.`);
  if (f.globals.json && order) printJson(f.io, order);
  return SIGNAL_EXIT[why];
}

function interruptedText(order: Order, why: StopSignal): string {
  if (order.status === 'completed') return `Interrupted (${why}) after the code came: order ${order.order_id} is completed and paid.`;
  const refund = order.refunded ? ` and ${usd(order.price)} refunded` : '';
  return `Interrupted (${why}): order ${order.order_id} is ${order.status}${refund}.`;
}

/** "12s, 108s left": how far into the verify's own timeout the wait is. */
function elapsedText(started: number, timeoutSeconds: number): string {
  const elapsed = Math.floor((Date.now() - started) / 1000);
  return `${elapsed}s, ${Math.max(0, timeoutSeconds - elapsed)}s left`;
}

/** "an Instagram", "a WhatsApp": the platform's name with its article, for the spinner. */
function platformPhrase(platform: string): string {
  const name = platformName(platform);
  return `${/^[aeiou]/i.test(name) ? 'an' : 'a'} ${name}`;
}

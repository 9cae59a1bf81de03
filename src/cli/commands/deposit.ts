import { InvalidArgumentError } from 'commander';
import type { Broker, DepositList, DepositView } from '../../core/broker.js';
import { EXIT, TnError, isTnError } from '../../core/errors.js';
import { examples, integerIn, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';
import { printJson, usd } from '../output.js';

export interface DepositOptions {
  coin?: 'btc' | 'ltc';
  wait: boolean;
  timeoutSeconds?: number;
}

/** How often `--wait` asks the broker to look at the chain (the broker spaces its own reads further if it must). */
const WAIT_POLL_MS = 2_000;
const URI_SCHEME = { btc: 'bitcoin', ltc: 'litecoin' } as const;

export const defineDeposit: DefineCommand = (program, ctx) => {
  const cmd = program
    .command('deposit')
    .description("Show the account's crypto deposit address (a QR code on a terminal); --wait follows the payment until it is credited")
    .argument('[coin]', 'btc or ltc (default: the first the broker takes)', parseCoin)
    .option('--wait', 'follow until a new deposit is credited, then print the new balance', false)
    .option('-t, --timeout <seconds>', 'with --wait: give up after this many seconds (exit 5)', integerIn(1, 7 * 86_400, 'timeout'))
    .action(async (coin: 'btc' | 'ltc' | undefined, opts: { wait: boolean; timeout?: number }) =>
      ctx.exit(await runDeposit({ coin, wait: opts.wait, timeoutSeconds: opts.timeout }, ctx.factory())),
    );
  examples(cmd, ['tn deposit', 'tn deposit ltc', 'tn deposit btc --wait', 'addr=$(tn deposit btc)', 'tn deposit --json | jq .address']);
};

function parseCoin(value: string): 'btc' | 'ltc' {
  const coin = value.toLowerCase();
  if (coin !== 'btc' && coin !== 'ltc') throw new InvalidArgumentError('the coin is btc or ltc');
  return coin;
}

/** Brokers without deposits say so with a 400; an older broker has no such route at all (404): the same for the customer. */
async function deposits(broker: Broker, check: boolean): Promise<DepositList> {
  try {
    return await (check ? broker.checkDeposits() : broker.deposits());
  } catch (err) {
    if (isTnError(err) && err.code === 'not_found') throw noDeposits(broker);
    if (isTnError(err) && err.code === 'invalid_request' && broker.endpoint === 'local') throw noDeposits(broker);
    throw err;
  }
}

const noDeposits = (broker: Broker): TnError =>
  new TnError(
    'invalid_request',
    broker.endpoint === 'local'
      ? 'The local sandbox takes no crypto deposits: its credit is test money. Use a broker that takes deposits (`--endpoint <url>`), or `tn admin credit` on your own.'
      : `The broker at ${broker.endpoint} takes no crypto deposits: ask its operator for credit.`,
  );

export async function runDeposit(opts: DepositOptions, f: Factory): Promise<number> {
  const broker = await f.broker();
  const { io } = f;
  const list = await deposits(broker, false);
  const taken = Object.keys(list.addresses);
  const coin = opts.coin ?? (taken.includes('btc') ? 'btc' : (taken[0] as 'btc' | 'ltc' | undefined));
  const address = coin ? list.addresses[coin] : undefined;
  if (!coin || !address) {
    throw new TnError('invalid_request', taken.length ? `This broker takes no ${opts.coin!.toUpperCase()} deposits; it takes ${taken.join(', ')}.` : 'This broker takes no crypto deposits.');
  }
  const uri = `${URI_SCHEME[coin]}:${address}`;
  const required = list.confirmations[coin] ?? 1;
  const ofCoin = (l: DepositList): DepositView[] => l.deposits.filter((d) => d.coin === coin);
  if (!opts.wait) {
    if (f.globals.json) printJson(io, { coin, address, uri, confirmations: required, minimum_usd: list.minimum_usd, deposits: ofCoin(list) });
    else if (!io.stdoutIsTTY) io.out(address);
    else await showAddress(f, coin, address, uri, required, list.minimum_usd, ofCoin(list));
    return EXIT.ok;
  }
  if (!f.globals.json && io.stdoutIsTTY) await showAddress(f, coin, address, uri, required, list.minimum_usd, ofCoin(list));
  else io.err(`Send ${coin.toUpperCase()} to ${address}`);
  const key = (d: DepositView): string => `${d.txid}:${d.vout}`;
  const settledBefore = new Set(ofCoin(list).filter((d) => d.status !== 'pending').map(key));
  const told = new Set<string>();
  const deadline = opts.timeoutSeconds === undefined ? Infinity : Date.now() + opts.timeoutSeconds * 1000;
  const spinner = await io.spinner(`Waiting for a payment to ${address}…`);
  let outage = false;
  try {
    for (;;) {
      let now: DepositView[];
      let balance: number | undefined;
      let credited: DepositView | undefined;
      try {
        now = ofCoin(await deposits(broker, true));
        credited = now.find((d) => d.status === 'credited' && !settledBefore.has(key(d)));
        if (credited) balance = (await broker.account()).balance;
      } catch (err) {
        // A wait lasts through a broker's restart or a busy moment: only other failures end it.
        if (!isTnError(err) || (err.code !== 'unavailable' && err.code !== 'rate_limited') || Date.now() >= deadline) throw err;
        if (!outage) {
          spinner.stop();
          io.err(`tn: ${err.message} Trying again…`);
        }
        outage = true;
        await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
        continue;
      }
      outage = false;
      if (credited && balance !== undefined) {
        spinner.stop();
        if (f.globals.json) printJson(io, { coin, address, deposit: credited, balance });
        else {
          io.err(`Credited ${usd(credited.usd ?? 0)} for ${credited.amount} ${coin.toUpperCase()} (${credited.txid}).`);
          io.out(io.stdoutIsTTY ? `Balance ${usd(balance)}` : String(balance));
        }
        return EXIT.ok;
      }
      for (const d of now) {
        if (d.status === 'below_minimum' && !settledBefore.has(key(d)) && !told.has(key(d))) {
          told.add(key(d));
          spinner.stop();
          io.err(`${d.amount} ${coin.toUpperCase()} (${d.txid}) is worth ${usd(d.usd ?? 0)}, below the minimum of ${usd(list.minimum_usd)}: recorded, not credited.`);
        }
      }
      const pending = now.find((d) => d.status === 'pending' && !settledBefore.has(key(d)));
      spinner.update(pending ? `Seen ${pending.amount} ${coin.toUpperCase()}: ${pending.confirmations} of ${pending.confirmations_required} confirmations…` : `Waiting for a payment to ${address}…`);
      const left = deadline - Date.now();
      if (left <= 0) {
        spinner.stop();
        if (f.globals.json) printJson(io, { error: new TnError('invalid_request', 'No deposit was credited before the timeout.').toBody() });
        io.err('tn: no deposit was credited before the timeout.');
        return EXIT.noCode;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(WAIT_POLL_MS, left)));
    }
  } finally {
    spinner.stop();
  }
}

async function showAddress(f: Factory, coin: 'btc' | 'ltc', address: string, uri: string, required: number, minimum: number, recent: DepositView[]): Promise<void> {
  const { io } = f;
  const s = await io.style();
  // The QR library is loaded only for people at a terminal.
  const { default: encodeQR } = await import('@paulmillr/qr');
  io.out(`Send ${coin.toUpperCase()} to:\n\n  ${s.bold(address)}\n`);
  io.out(encodeQR(uri, 'ascii', { ecc: 'medium' }));
  io.out(s.dim(`Credited after ${required} confirmation${required === 1 ? '' : 's'} at the broker's USD rate; payments under ${usd(minimum)} are recorded, not credited.`));
  for (const d of recent.slice(0, 5)) {
    const state = d.status === 'pending' ? `pending, ${d.confirmations}/${d.confirmations_required} confirmations` : d.status === 'credited' ? `credited ${usd(d.usd ?? 0)}` : `below the minimum (${usd(d.usd ?? 0)})`;
    io.out(`  ${d.amount} ${coin.toUpperCase()}  ${state}  ${s.dim(d.txid)}`);
  }
}

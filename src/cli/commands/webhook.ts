import { InvalidArgumentError } from 'commander';
import { EXIT } from '../../core/errors.js';
import { secretHint } from '../../core/ids.js';
import { parseUsd } from '../../core/money.js';
import { examples, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';
import { printJson, printTable, timeText, usd } from '../output.js';

export const defineWebhook: DefineCommand = (program, ctx) => {
  const webhook = program.command('webhook').description('Where the broker sends signed events (sms.received, order.failed, balance.low)');
  webhook
    .command('set')
    .description('Set the URL; prints the signing secret')
    .argument('<url>', 'an http(s) URL')
    .option('--low-balance <usd>', 'send balance.low when the balance falls below this (default 1.00)', (v: string) => {
      const micros = parseUsd(v);
      if (micros === null) throw new InvalidArgumentError('a USD amount such as 1 or 0.50');
      return micros / 1_000_000;
    })
    .action(async (url: string, opts: { lowBalance?: number }) => ctx.exit(await runWebhookSet(url, opts, ctx.factory())));
  webhook
    .command('show')
    .description('The URL, a hint of the secret, and the last deliveries with their status codes')
    .option('--reveal', 'print the whole secret')
    .action(async (opts: { reveal?: boolean }) => ctx.exit(await runWebhookShow(opts.reveal === true, ctx.factory())));
  webhook
    .command('test')
    .description('Send a signed webhook.test event now and show how the receiver answered')
    .action(async () => ctx.exit(await runWebhookTest(ctx.factory())));
  webhook
    .command('rotate-secret')
    .description('A new secret; deliveries are signed with both for 24 h')
    .action(async () => ctx.exit(await runWebhookRotate(ctx.factory())));
  webhook
    .command('remove')
    .description('Stop sending webhooks')
    .action(async () => ctx.exit(await runWebhookRemove(ctx.factory())));
  examples(webhook, [
    'tn webhook set https://example.test/hooks/tn',
    'tn webhook set https://example.test/hooks/tn --low-balance 5',
    'tn webhook show',
    'tn webhook test',
    'tn webhook rotate-secret',
    'tn webhook remove',
  ]);
};

/** On the embedded broker nothing delivers: say where deliveries come from. */
async function localHint(f: Factory): Promise<void> {
  if ((await f.endpoint()) === 'local') {
    f.io.err('Note: webhooks are delivered by `tn serve`; on the local endpoint they wait until `tn serve` runs on this database.');
  }
}

const PRIVATE_HINT = 'a server delivers there only when started with `tn serve --allow-private-webhooks` (local development).';

/** A URL that resolves only to loopback or private addresses, named at once rather than found out at the first delivery. */
async function privateTarget(url: string): Promise<string | undefined> {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
  const [{ lookup }, { isIP }, { isPublicAddress }] = await Promise.all([import('node:dns/promises'), import('node:net'), import('../../server/webhooks.js')]);
  const addresses = isIP(host) ? [host] : await lookup(host, { all: true }).then((all) => all.map((a) => a.address), () => []);
  if (addresses.length === 0 || addresses.some((a) => isPublicAddress(a))) return undefined;
  return `${host} is ${isIP(host) ? 'a private address' : `private (${addresses.join(', ')})`}`;
}

export async function runWebhookSet(url: string, opts: { lowBalance?: number }, f: Factory): Promise<number> {
  const result = await (await f.broker()).setWebhook(url, { lowBalanceThreshold: opts.lowBalance });
  const unreachable = await privateTarget(result.url);
  if (unreachable) f.io.err(`Warning: ${unreachable}: ${PRIVATE_HINT}`);
  if (f.globals.json) printJson(f.io, result);
  else if (f.io.stdoutIsTTY) {
    f.io.out(`Webhook set to ${result.url}.`);
    f.io.out(`Signing secret (verify deliveries with it; \`tn webhook show --reveal\` shows it again): ${result.secret}`);
  } else f.io.out(`${result.url}\t${result.secret}`);
  await localHint(f);
  return EXIT.ok;
}

export async function runWebhookShow(reveal: boolean, f: Factory): Promise<number> {
  const info = await (await f.broker()).webhook();
  const secret = reveal ? info.secret : secretHint(info.secret);
  if (f.globals.json) {
    printJson(f.io, { ...info, secret });
    return EXIT.ok;
  }
  const rows: [string, string][] = [
    ['url', info.url ?? '(none)'],
    ['secret', secret],
    ['status', info.disabled ? `disabled since ${info.disabled.at}: ${info.disabled.reason} (set the URL again to resume)` : info.url ? 'active' : 'off'],
    ['low balance', usd(info.low_balance_threshold)],
  ];
  if (info.previous_secret_expires_at) rows.push(['old secret', `still signs until ${timeText(info.previous_secret_expires_at, f.io.stdoutIsTTY)}`]);
  for (const [k, v] of rows) f.io.out(f.io.stdoutIsTTY ? `${k.padEnd(12)}${v}` : `${k}\t${v}`);
  if (info.recent_deliveries.length) {
    f.io.out('');
    await printTable(
      f.io,
      ['WHEN', 'EVENT', 'WEBHOOK-ID', 'TRY', 'ANSWER', 'TOOK', 'OUTCOME'],
      info.recent_deliveries.map((d) => [
        timeText(d.attempted_at, f.io.stdoutIsTTY),
        d.type,
        d.webhook_id,
        String(d.attempt),
        d.status_code === null ? (d.error ?? 'no answer') : String(d.status_code),
        `${d.duration_ms}ms`,
        d.outcome === 'retry_scheduled' && d.next_attempt_at ? `retry ${timeText(d.next_attempt_at, f.io.stdoutIsTTY)}` : d.outcome,
      ]),
    );
  } else if (f.io.stdoutIsTTY) f.io.out('\nNo deliveries yet.');
  return EXIT.ok;
}

export async function runWebhookTest(f: Factory): Promise<number> {
  const broker = await f.broker();
  const sent = await broker.testWebhook();
  if (f.globals.json) {
    printJson(f.io, sent);
    return EXIT.ok;
  }
  f.io.err(`Queued ${sent.type} ${sent.webhook_id}.`);
  if ((await f.endpoint()) === 'local') {
    await localHint(f);
    return EXIT.ok;
  }
  // Wait briefly for the first attempt, so the answer can be shown.
  const spinner = await f.io.spinner('Waiting for the receiver…');
  for (let i = 0; i < 40; i++) {
    const attempt = (await broker.webhook()).recent_deliveries.find((d) => d.webhook_id === sent.webhook_id);
    if (attempt) {
      spinner.stop();
      f.io.out(attempt.status_code === null ? `no answer: ${attempt.error}` : `${attempt.status_code} ${attempt.outcome}`);
      if (attempt.status_code !== null && attempt.status_code >= 200 && attempt.status_code < 300) return EXIT.ok;
      if (attempt.error?.includes('not a public address')) f.io.err(`The delivery was refused: ${PRIVATE_HINT}`);
      else f.io.err('The receiver did not accept the delivery: it is retried on the schedule (see `tn webhook show`).');
      return EXIT.unavailable;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  spinner.stop();
  f.io.err('No attempt recorded yet: see `tn webhook show` later.');
  return EXIT.ok;
}

export async function runWebhookRotate(f: Factory): Promise<number> {
  const rotated = await (await f.broker()).rotateWebhookSecret();
  if (f.globals.json) printJson(f.io, rotated);
  else {
    f.io.out(rotated.secret);
    f.io.err(`The old secret keeps signing deliveries until ${rotated.previous_secret_expires_at}.`);
  }
  return EXIT.ok;
}

export async function runWebhookRemove(f: Factory): Promise<number> {
  await (await f.broker()).removeWebhook();
  if (f.globals.json) printJson(f.io, { removed: true });
  else f.io.err('Webhook removed; pending deliveries were dropped.');
  return EXIT.ok;
}

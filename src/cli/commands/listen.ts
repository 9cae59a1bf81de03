import { EXIT, TnError } from '../../core/errors.js';
import { examples, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';
import { usd } from '../output.js';

const EVENT_TYPES = ['sms.received', 'order.failed', 'balance.low', 'deposit.pending', 'deposit.credited', 'webhook.test'];

export interface ListenOptions {
  forwardTo?: string;
  events?: string[];
}

export const defineListen: DefineCommand = (program, ctx) => {
  const cmd = program
    .command('listen')
    .description("Follow the account's events live; print them, or forward them signed to a local URL")
    .option('-f, --forward-to <url>', 'POST each event to this URL, signed with the account webhook secret')
    .option('-e, --events <types>', `only these event types, comma-separated (${EVENT_TYPES.join(', ')})`, (v: string) => v.split(',').map((t) => t.trim()))
    .action(async (opts: ListenOptions) => ctx.exit(await runListen(opts, ctx.factory())));
  examples(cmd, [
    'tn listen --forward-to http://localhost:3000/hook',
    'tn listen --json | jq -c .data.code',
    'tn listen --events sms.received,balance.low',
  ]);
};

export async function runListen(opts: ListenOptions, f: Factory): Promise<number> {
  const unknown = (opts.events ?? []).filter((t) => !EVENT_TYPES.includes(t));
  if (unknown.length) throw new TnError('invalid_request', `Unknown event type ${unknown.join(', ')}: choose from ${EVENT_TYPES.join(', ')}.`);
  if (opts.forwardTo !== undefined && !/^https?:\/\/\S+$/.test(opts.forwardTo)) throw new TnError('invalid_request', '--forward-to needs an http(s) URL.');
  const endpoint = await f.endpoint();
  if (endpoint === 'local') {
    throw new TnError(
      'invalid_request',
      'Events come from a running broker: start `tn serve` (it uses this same local database by default) and run `tn listen --endpoint http://127.0.0.1:8787`.',
    );
  }
  const apiKey = f.io.env.TN_API_KEY || (await f.config()).apiKeyFor(endpoint);
  if (!apiKey) throw new TnError('unauthorized', `No API key for ${endpoint}: run \`tn register --endpoint ${endpoint}\` or \`tn login --key <key>\`.`);

  const [{ followEvents }, { webhookHeaders }, { request }, { undiciTransport }] = await Promise.all([
    import('../../client/events.js'),
    import('../../core/webhooks/signing.js'),
    import('undici'),
    import('../undici-transport.js'),
  ]);
  const transport = undiciTransport();
  const secret = opts.forwardTo ? (await (await f.broker()).webhook()).secret : undefined;
  // Bold only when stdout is a terminal: `tn listen > events.log` gets plain lines.
  const bold = f.io.stdoutIsTTY ? (await f.io.style()).bold : (t: string) => t;
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await followEvents({
      endpoint,
      apiKey,
      transport,
      signal: stop.signal,
      onOpen: (reconnected) =>
        f.io.stderr.write(
          `${reconnected ? 'Reconnected' : 'Ready'}: listening for ${opts.events?.join(', ') ?? 'all'} events on ${endpoint}` +
            `${opts.forwardTo ? `, forwarding to ${opts.forwardTo}` : ''}. Ctrl-C stops.\n`,
        ),
      onDrop: (err, ms) => f.io.err(`${err.message} Reconnecting in ${(ms / 1000).toFixed(1)} s…`),
      onEvent: async (event) => {
        if (opts.events && !opts.events.includes(event.type)) return;
        let forwarded = '';
        if (opts.forwardTo && secret) {
          try {
            const res = await request(opts.forwardTo, {
              method: 'POST',
              headers: { 'content-type': 'application/json', ...webhookHeaders([secret], event.id, Math.floor(Date.now() / 1000), event.body) },
              body: event.body,
              headersTimeout: 15_000,
              bodyTimeout: 15_000,
            });
            await res.body.dump().catch(() => undefined);
            forwarded = `→ ${res.statusCode}`;
          } catch (err) {
            forwarded = `→ failed: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
          }
        }
        if (f.globals.json) {
          f.io.out(event.body);
          if (forwarded) f.io.err(`${event.id} ${forwarded}`);
        } else f.io.out(`${describe(event.type, event.body, bold)}${forwarded ? `  ${forwarded}` : ''}`);
      },
    });
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await transport.close?.();
  }
  return EXIT.ok;
}

/** One line for people: when, what, and the detail that matters for the type. */
function describe(type: string, body: string, bold: (s: string) => string): string {
  const payload = JSON.parse(body) as { timestamp: string; data: Record<string, unknown> };
  const d = payload.data;
  const detail =
    type === 'sms.received'
      ? `${d.order_id} ${d.platform} ${d.phone} code ${bold(String(d.code))}`
      : type === 'order.failed'
        ? `${d.order_id} ${d.platform} ${d.status}${d.refunded ? ', refunded' : ''}`
        : type === 'balance.low'
          ? `balance ${usd(Number(d.balance))} below ${usd(Number(d.threshold))}`
          : type === 'deposit.pending' || type === 'deposit.credited'
            ? `${String(d.amount)} ${String(d.coin).toUpperCase()} ${String(d.txid)}${type === 'deposit.credited' ? `: ${usd(Number(d.usd))}, balance ${usd(Number(d.balance))}` : `, ${Number(d.confirmations)}/${Number(d.confirmations_required)} confirmations`}`
            : String(d.message ?? '');
  return `${payload.timestamp}  ${type.padEnd(12)}  ${detail}`;
}

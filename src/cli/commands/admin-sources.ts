import { InvalidArgumentError, type Command } from 'commander';
import { EXIT, TnError } from '../../core/errors.js';
import { formatUsd, parseUsd, toUsd } from '../../core/money.js';
import type { SourceKind } from '../../core/sources/kinds.js';
import type { SourceRecord } from '../../core/sources/port.js';
import { DEFAULT_POOL_COOLDOWN_MS } from '../../core/limits.js';
import { SOURCE_KINDS, isGatewayKind } from '../../core/sources/kinds.js';
import { TEMPNUMBER_BASE_URL } from '../../providers/tempnumber-api.js';
import { examples, integerIn, orderIdArgument, publicUrlArgument, type CommandContext, DB_OPTION } from '../command.js';
import type { Factory } from '../factory.js';
import { describeOrder, percent, printJson, printTable, usd } from '../output.js';

/** Where `tn serve` listens by default: the inbound URL printed when no public URL is known. */
const LOCAL_ORIGIN = 'http://127.0.0.1:8787';

/** `tn admin source …`, `tn admin sources`, `tn admin pool …`, `tn admin inbox`: an operator's real numbers. */
export function defineAdminSources(admin: Command, ctx: CommandContext): void {
  const source = admin.command('source').description("Where numbers come from: the operator's gateways, an upstream, the simulator");
  const add = source
    .command('add')
    .description('Add a source; it serves orders from the next one on (the simulator then serves none unless added too)')
    .argument('<kind>', `one of ${SOURCE_KINDS.join(', ')}`, kindArgument)
    .option('--name <name>', 'a short name; it becomes part of the inbound URL (default: the kind)')
    .option('--auth-token <token>', 'twilio: the account auth token (signs every webhook); - reads it from stdin')
    .option('--signing-key <key>', 'android-gateway, httpsms: the webhook signing key; - reads it from stdin')
    .option('--token <token>', 'jasmin: the token its HTTP client puts in the URL (generic: one is made if not given); - reads it from stdin')
    .option('--api-key <key>', 'tempnumber, sms-activate: your API key; - reads it from stdin')
    .option('--base-url <url>', `tempnumber: the API base (default ${TEMPNUMBER_BASE_URL}); sms-activate: the provider's handler URL (required)`)
    .option('--markup <amount>', 'tempnumber, sms-activate: added to its price, e.g. 30% or 0.05 (USD)', parseMarkup)
    .option('--poll-interval <ms>', 'tempnumber, sms-activate: how often a waiting activation is checked (default 3000)', integerIn(200, 60_000, 'poll-interval'))
    .option('--cost <usd>', 'what a number of this source costs you, for routing (default 0)', costArgument)
    .option('--cooldown <seconds>', "own gateways: a pool number's rest after an order, per platform (default 300)", integerIn(0, 7 * 86_400, 'cooldown'))
    .option('--public-url <url>', 'the URL `tn serve --public-url` runs at, for the inbound URL (kept for `list`)', publicUrlArgument)
    .option(...DB_OPTION)
    .action(async (kind: SourceKind, opts: SourceAddOptions) => ctx.exit(await runSourceAdd(kind, opts, ctx.factory())));
  examples(add, [
    'tn admin source add twilio --name office-twilio --auth-token - --public-url https://tn.example.com < twilio-token.txt',
    'tn admin source add android-gateway --name pixel --signing-key - < signing-key.txt',
    'tn admin source add simulator          # the simulator serves again, beside the others',
    'tn admin source add generic --name script --cost 0.02',
    'tn admin source add tempnumber --name upstream --api-key - --markup 30% < tempnumber-key.txt',
    'tn admin source add sms-activate --name hero --base-url https://provider.example/stubs/handler_api.php --api-key - --markup 20% < hero-key.txt',
  ]);
  source
    .command('list')
    .description('Every source, its state and inbound URL (secrets are never shown again)')
    .option('--public-url <url>', 'the URL `tn serve --public-url` runs at (default: the one given to `add`)', publicUrlArgument)
    .option(...DB_OPTION)
    .action(async (opts: { db?: string; publicUrl?: string }) => ctx.exit(await runSourceList(opts, ctx.factory())));
  for (const [verb, description] of [
    ['disable', 'Stop routing new orders to a source (its active orders still finish)'],
    ['enable', 'Route orders to a disabled source again'],
    ['remove', 'Remove a source and its pool numbers (refused while it has active orders)'],
  ] as const) {
    source
      .command(verb)
      .description(description)
      .argument('<name>')
      .option(...DB_OPTION)
      .action(async (name: string, opts: { db?: string }) => ctx.exit(await runSourceChange(verb, name, opts, ctx.factory())));
  }

  const sources = admin
    .command('sources')
    .description('Per source: active orders, success rate and median delivery time (last 24 h), errors in the last hour')
    .option(...DB_OPTION)
    .action(async (opts: { db?: string }) => ctx.exit(await runSourcesOverview(opts, ctx.factory())));
  examples(sources, ['tn admin sources', 'tn admin sources --json']);

  const order = admin
    .command('order')
    .description('An order as the operator sees it: its account, the source that served it, the upstream activation')
    .argument('<order_id>', 'ord_…', orderIdArgument)
    .option(...DB_OPTION)
    .action(async (id: string, opts: { db?: string }) => ctx.exit(await runAdminOrder(id, opts, ctx.factory())));
  examples(order, ['tn admin order ord_01JD… --json']);

  const pool = admin.command('pool').description("Numbers of the operator's own gateways, leased to one order per platform at a time");
  const poolAdd = pool
    .command('add')
    .description('Put one of your numbers in the pool of a gateway source')
    .argument('<number>', 'the number in E.164 form, e.g. +447700900123')
    .requiredOption('--source <name>', 'the gateway source that receives its SMS')
    .requiredOption('--country <code>', 'its country, e.g. gb')
    .option('--platforms <list>', 'all, or a comma-separated list of platforms', 'all')
    .option('--device <id>', "android-gateway: the phone's device id (its messages name the device, not the number)")
    .option('--sim <slot>', 'android-gateway: the SIM slot, 1 or 2, on a dual-SIM phone', integerIn(1, 8, 'sim'))
    .option(...DB_OPTION)
    .action(async (phone: string, opts: PoolAddOptions) => ctx.exit(await runPoolAdd(phone, opts, ctx.factory())));
  examples(poolAdd, [
    'tn admin pool add +447700900123 --source office-twilio --country gb',
    'tn admin pool add +15550100123 --source pixel --country us --device ffZ3k9 --sim 1 --platforms instagram,whatsapp',
  ]);
  pool
    .command('list')
    .description('Every pool number, its source, country and platforms')
    .option(...DB_OPTION)
    .action(async (opts: { db?: string }) => ctx.exit(await runPoolList(opts, ctx.factory())));
  pool
    .command('remove')
    .description('Take a number out of the pool (refused while an order is active on it)')
    .argument('<number>', 'the number in E.164 form')
    .option(...DB_OPTION)
    .action(async (phone: string, opts: { db?: string }) => ctx.exit(await runPoolRemove(phone, opts, ctx.factory())));

  const inbox = admin
    .command('inbox')
    .description('Inbound SMS that matched no order (with --all: every inbound SMS), newest first')
    .option('--all', 'matched ones too', false)
    .option('--limit <n>', 'how many', integerIn(1, 1000, 'limit'), 50)
    .option(...DB_OPTION)
    .action(async (opts: { db?: string; all: boolean; limit: number }) => ctx.exit(await runInbox(opts, ctx.factory())));
  examples(inbox, ['tn admin inbox', 'tn admin inbox --all --limit 10 --json']);
}

interface SourceAddOptions {
  name?: string;
  authToken?: string;
  signingKey?: string;
  token?: string;
  apiKey?: string;
  baseUrl?: string;
  markup?: { percent?: number; micros?: number };
  pollInterval?: number;
  cooldown?: number;
  cost?: number;
  publicUrl?: string;
  db?: string;
}

interface PoolAddOptions {
  source: string;
  country: string;
  platforms: string;
  device?: string;
  sim?: number;
  db?: string;
}

function kindArgument(value: string): SourceKind {
  if (!(SOURCE_KINDS as readonly string[]).includes(value)) throw new InvalidArgumentError(`one of ${SOURCE_KINDS.join(', ')}`);
  return value as SourceKind;
}

function costArgument(value: string): number {
  const micros = parseUsd(value);
  if (micros === null || micros < 0) throw new InvalidArgumentError('a USD amount of at least 0, e.g. 0.02');
  return micros;
}

function parseMarkup(value: string): { percent?: number; micros?: number } {
  const pct = /^(\d{1,4}(?:\.\d{1,2})?)%$/.exec(value.trim());
  if (pct) return { percent: Number(pct[1]) };
  const micros = parseUsd(value);
  if (micros === null || micros < 0) throw new InvalidArgumentError('a percentage such as 30% or a USD amount such as 0.05');
  return { micros };
}

export const inboundUrl = (origin: string | undefined, name: string): string => `${(origin ?? LOCAL_ORIGIN).replace(/\/+$/, '')}/api/v1/inbound/${name}`;

/** Which flag carries each kind's secret. */
const SECRET_OF: Partial<Record<SourceKind, keyof SourceAddOptions>> = {
  twilio: 'authToken',
  'android-gateway': 'signingKey',
  httpsms: 'signingKey',
  jasmin: 'token',
  generic: 'token',
  tempnumber: 'apiKey',
  'sms-activate': 'apiKey',
};

export async function runSourceAdd(kind: SourceKind, opts: SourceAddOptions, f: Factory): Promise<number> {
  // Setting up a new broker starts here, so the database may not exist yet.
  const core = await f.adminCore(opts.db, { create: true });
  const flag = SECRET_OF[kind];
  let secret = flag ? (opts[flag] as string | undefined) : undefined;
  // `-` reads it from stdin: a secret in the arguments shows in the process list and shell history.
  if (secret === '-') {
    secret = (await (await import('node:stream/consumers')).text(f.io.stdin)).trim();
    if (secret === '') throw new TnError('invalid_request', 'The secret was to come from stdin (-), but stdin was empty.');
  }
  // The generic format's bearer token is ours to make, unless the operator brings one.
  const generated = kind === 'generic' && secret === undefined;
  if (generated) secret = `tng_${(await import('node:crypto')).randomBytes(24).toString('base64url')}`;
  const record = await core.addSource({
    name: opts.name ?? kind,
    kind,
    secret,
    cost: opts.cost,
    settings: {
      ...(opts.baseUrl === undefined ? {} : { baseUrl: opts.baseUrl }),
      ...(opts.markup?.percent === undefined ? {} : { markupPercent: opts.markup.percent }),
      ...(opts.markup?.micros === undefined ? {} : { markupMicros: opts.markup.micros }),
      ...(opts.pollInterval === undefined ? {} : { pollMs: opts.pollInterval }),
      ...(opts.cooldown === undefined ? {} : { cooldownMs: opts.cooldown * 1000 }),
      ...(opts.publicUrl === undefined || !isGatewayKind(kind) ? {} : { publicUrl: opts.publicUrl }),
    },
  });
  const url = isGatewayKind(kind) ? inboundUrl(opts.publicUrl, record.name) : null;
  if (f.globals.json) {
    printJson(f.io, { name: record.name, kind: record.kind, inbound_url: url, ...(generated ? { token: secret } : {}) });
    return EXIT.ok;
  }
  f.io.err(`Added source ${record.name} (${kind}); it serves orders from the next one on.`);
  if (url) f.io.out(url);
  if (generated) f.io.out(`token: ${secret}`);
  for (const line of gatewayHint(kind, url, generated ? secret! : null)) f.io.err(line);
  if (!opts.publicUrl && url) f.io.err(`(${LOCAL_ORIGIN} is where \`tn serve\` listens by default: put your public URL there, and pass it to \`tn serve --public-url\`.)`);
  if (secret && !generated) f.io.err('The secret is stored and will not be shown again.');
  if (isGatewayKind(kind)) f.io.err(`Next: tn admin pool add <number> --source ${record.name} --country <code>${kind === 'android-gateway' ? ' --device <id> --sim <slot>' : ''}`);
  return EXIT.ok;
}

/** The exact settings to paste on the gateway's side. */
function gatewayHint(kind: SourceKind, url: string | null, token: string | null): string[] {
  switch (kind) {
    case 'twilio':
      return ['Twilio console → Phone Numbers → your number → Messaging → "A message comes in": Webhook, HTTP POST, this URL.'];
    case 'android-gateway':
      return [
        'SMS Gateway for Android: register a webhook for event sms:received at this URL, with the same signing key:',
        `  curl -X POST -u <user>:<pass> -H 'Content-Type: application/json' https://api.sms-gate.app/3rdparty/v1/webhooks -d '{"url":"${url}","event":"sms:received"}'`,
        '  (Settings → Webhooks → Signing key on the phone must equal --signing-key.)',
      ];
    case 'httpsms':
      return ['httpSMS dashboard → Settings → Webhooks: this URL, event message.phone.received, signing key = --signing-key.'];
    case 'jasmin':
      return [
        'Jasmin jcli: an HTTP client connector for this URL, and a route for incoming SMS to it:',
        `  httpccm -a   cid tn   url ${url}?token=<your --token>   method POST   ok`,
        '  morouter -a   type DefaultRoute   connector http(tn)   ok',
      ];
    case 'generic':
      return [
        'Post each SMS as JSON with the token as a bearer token:',
        `  curl -X POST ${url} -H 'Authorization: Bearer ${token ?? '<token>'}' -H 'Content-Type: application/json' -d '{"to":"+447700900123","from":"Instagram","text":"123456 is your code"}'`,
      ];
    case 'tempnumber':
      return ['Orders routed here become TempNumber activations; its price plus your markup is the customer price.'];
    case 'sms-activate':
      return ['Orders routed here become activations at this provider (getNumberV2); its price plus your markup is the customer price. Keep its account in USD.'];
    default:
      return ['The simulator serves orders again, alongside the other sources.'];
  }
}

const sourceView = (s: SourceRecord, origin: string | undefined) => ({
  name: s.name,
  kind: s.kind,
  enabled: s.enabled,
  cost: toUsd(s.cost),
  secret: s.secret === null ? null : 'set (shown only when added)',
  inbound_url: isGatewayKind(s.kind) ? inboundUrl(origin ?? s.settings.publicUrl, s.name) : null,
  ...(isGatewayKind(s.kind) ? { cooldown_seconds: (s.settings.cooldownMs ?? DEFAULT_POOL_COOLDOWN_MS) / 1000 } : {}),
  ...(s.kind === 'tempnumber' || s.kind === 'sms-activate'
    ? {
        base_url: s.settings.baseUrl ?? TEMPNUMBER_BASE_URL,
        markup: s.settings.markupPercent !== undefined ? `${s.settings.markupPercent}%` : s.settings.markupMicros !== undefined ? formatUsd(s.settings.markupMicros) : null,
      }
    : {}),
});

export async function runSourceList(opts: { db?: string; publicUrl?: string }, f: Factory): Promise<number> {
  const core = await f.adminCore(opts.db);
  const list = (await core.listSources()).map((s) => sourceView(s, opts.publicUrl));
  if (f.globals.json) printJson(f.io, { sources: list });
  else if (list.length === 0) f.io.err('No sources: the built-in simulator serves every order. Add one with `tn admin source add`.');
  else
    await printTable(
      f.io,
      ['NAME', 'KIND', 'STATE', 'COST', 'SECRET', 'INBOUND URL'],
      list.map((s) => [s.name, s.kind, s.enabled ? 'enabled' : 'disabled', usd(s.cost), s.secret === null ? '–' : 'set', s.inbound_url ?? '–']),
    );
  return EXIT.ok;
}

export async function runSourceChange(verb: 'disable' | 'enable' | 'remove', name: string, opts: { db?: string }, f: Factory): Promise<number> {
  const core = await f.adminCore(opts.db);
  if (verb === 'remove') await core.removeSource(name);
  else await core.setSourceEnabled(name, verb === 'enable');
  if (f.globals.json) printJson(f.io, { name, [verb === 'remove' ? 'removed' : 'enabled']: verb === 'remove' ? true : verb === 'enable' });
  else f.io.err(`Source ${name}: ${verb === 'remove' ? 'removed' : `${verb}d`}.`);
  return EXIT.ok;
}

export async function runSourcesOverview(opts: { db?: string }, f: Factory): Promise<number> {
  const core = await f.adminCore(opts.db);
  const rows = (await core.sourceOverview({ balances: true })).map((s) => ({
    source: s.source,
    kind: s.kind,
    enabled: s.enabled,
    active_orders: s.active,
    ended_orders_24h: s.ended,
    success_rate: s.ended ? Math.round((s.delivered / s.ended) * 1000) / 1000 : null,
    median_delivery_seconds: s.medianDeliveryMs === null ? null : Math.round(s.medianDeliveryMs / 100) / 10,
    errors_last_hour: s.errorsLastHour,
    orphaned_24h: s.orphaned,
    below_success_floor: s.belowFloor,
    upstream_balance: s.upstreamBalance === null ? null : toUsd(s.upstreamBalance),
    last_error: s.lastError ? { at: new Date(s.lastError.at).toISOString(), code: s.lastError.code, message: s.lastError.message } : null,
  }));
  if (f.globals.json) printJson(f.io, { sources: rows });
  else
    await printTable(
      f.io,
      ['SOURCE', 'KIND', 'STATE', 'ACTIVE', 'SUCCESS', 'MEDIAN', 'ERRORS 1H', 'ORPHANED', 'LAST ERROR'],
      rows.map((r) => [
        r.source,
        r.kind,
        (r.kind === 'removed' ? 'removed' : r.enabled ? 'enabled' : 'disabled') + (r.below_success_floor ? ', below floor' : '') + (r.upstream_balance === null ? '' : `, ${usd(r.upstream_balance)} left`),
        String(r.active_orders),
        r.success_rate === null ? '–' : `${percent(r.success_rate)} of ${r.ended_orders_24h}`,
        r.median_delivery_seconds === null ? '–' : `${r.median_delivery_seconds} s`,
        String(r.errors_last_hour),
        String(r.orphaned_24h),
        r.last_error ? `${r.last_error.code}: ${r.last_error.message.slice(0, 60)}` : '–',
      ]),
    );
  return EXIT.ok;
}

export async function runPoolAdd(phone: string, opts: PoolAddOptions, f: Factory): Promise<number> {
  const core = await f.adminCore(opts.db);
  const platforms = opts.platforms.trim().toLowerCase() === 'all' ? '*' : opts.platforms.split(',').map((p) => p.trim()).filter(Boolean);
  const entry = await core.addPoolNumber({ phone, source: opts.source, country: opts.country, platforms, device: opts.device ?? null, sim: opts.sim ?? null });
  if (f.globals.json) printJson(f.io, poolView(entry));
  else f.io.err(`Added ${entry.phone} (${entry.country}) to the pool of ${entry.source}, for ${entry.platforms === '*' ? 'every platform' : entry.platforms.join(', ')}.`);
  return EXIT.ok;
}

const poolView = (p: { phone: string; source: string; country: string; platforms: string[] | '*'; device: string | null; sim: number | null }) => ({
  number: p.phone,
  source: p.source,
  country: p.country,
  platforms: p.platforms === '*' ? 'all' : p.platforms,
  device: p.device,
  sim: p.sim,
});

export async function runPoolList(opts: { db?: string }, f: Factory): Promise<number> {
  const core = await f.adminCore(opts.db);
  const list = (await core.listPool()).map(poolView);
  if (f.globals.json) printJson(f.io, { numbers: list });
  else
    await printTable(
      f.io,
      ['NUMBER', 'SOURCE', 'COUNTRY', 'PLATFORMS', 'DEVICE'],
      list.map((p) => [p.number, p.source, p.country, typeof p.platforms === 'string' ? p.platforms : p.platforms.join(','), p.device === null ? '–' : `${p.device}${p.sim === null ? '' : ` SIM ${p.sim}`}`]),
    );
  return EXIT.ok;
}

export async function runPoolRemove(phone: string, opts: { db?: string }, f: Factory): Promise<number> {
  const core = await f.adminCore(opts.db);
  await core.removePoolNumber(phone);
  if (f.globals.json) printJson(f.io, { number: phone, removed: true });
  else f.io.err(`Removed ${phone} from the pool.`);
  return EXIT.ok;
}

export async function runInbox(opts: { db?: string; all: boolean; limit: number }, f: Factory): Promise<number> {
  const core = await f.adminCore(opts.db);
  const list = (await core.inbox({ all: opts.all, limit: opts.limit })).map((m) => ({
    id: m.id,
    source: m.source,
    to: m.to,
    from: m.from,
    device: m.device,
    sim: m.sim,
    text: m.text,
    received_at: new Date(m.receivedAt).toISOString(),
    order_id: m.orderId,
    message_id: m.messageId,
  }));
  if (f.globals.json) printJson(f.io, { messages: list });
  else if (list.length === 0) f.io.err(opts.all ? 'No inbound SMS yet.' : 'No unmatched inbound SMS.');
  else
    await printTable(
      f.io,
      ['RECEIVED', 'SOURCE', 'TO', 'FROM', 'ORDER', 'TEXT'],
      list.map((m) => [m.received_at, m.source, m.to ?? (m.device ? `${m.device}${m.sim === null ? '' : `/${m.sim}`}` : '–'), m.from, m.order_id ?? '–', m.text.replace(/\s+/g, ' ').slice(0, 70)]),
    );
  return EXIT.ok;
}

export async function runAdminOrder(id: string, opts: { db?: string }, f: Factory): Promise<number> {
  const core = await f.adminCore(opts.db);
  const order = await core.operatorOrder(id);
  if (f.globals.json) {
    printJson(f.io, order);
    return EXIT.ok;
  }
  for (const line of describeOrder(order, await f.io.style())) f.io.out(line);
  f.io.out(`  account   ${order.account_id}`);
  f.io.out(`  source    ${order.source}`);
  if (order.upstream) f.io.out(`  upstream  activation ${order.upstream.activation_id}, ${order.upstream.status}, cost ${usd(order.upstream.cost)}`);
  return EXIT.ok;
}

import { spawnSync } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BrokerCore } from '../src/core/broker-core.js';
import { chooseOrder } from '../src/core/sources/matching.js';
import { markedUp } from '../src/core/sources/registry.js';
import type { OrderRecord } from '../src/core/orders/order.js';
import { ManualClock, failure, fundedAccount, makeCore, tempDir } from './helpers.js';
import { BIN, cleanEnv, killLeftovers, runTn, startServe, until } from './support/process.js';

const USD = 1_000_000;
const TOKEN = 'test-token-0123456789';

/** A generic gateway source with these pool numbers (all platforms, in gb). */
async function gateway(core: BrokerCore, name: string, cost: number, numbers: readonly string[], platforms: string[] | '*' = '*'): Promise<void> {
  await core.addSource({ name, kind: 'generic', secret: TOKEN, cost });
  for (const phone of numbers) await core.addPoolNumber({ phone, source: name, country: 'gb', platforms, device: null, sim: null });
}

/** What a gateway would post: the generic format, with its bearer token. */
function sms(core: BrokerCore, source: string, body: Record<string, unknown>) {
  return core.inbound(source, {
    method: 'POST',
    url: `http://127.0.0.1/api/v1/inbound/${source}`,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    rawBody: JSON.stringify(body),
  });
}

async function sourceOf(core: BrokerCore, orderId: string): Promise<string> {
  return (await core.db.read.orders.get(orderId))!.source;
}

describe('routing among sources', () => {
  it('the simulator serves while no source is configured, and only when added back after one is', async () => {
    const { core } = makeCore();
    const { accountId } = await fundedAccount(core, 5 * USD);
    expect(await sourceOf(core, (await core.order(accountId, { platform: 'instagram', country: 'us' })).order_id)).toBe('simulator');
    await gateway(core, 'script', 0, ['+447700900101']);
    const err = await failure(core.order(accountId, { platform: 'instagram', country: 'us' }));
    expect(err.code).toBe('no_numbers');
    await core.addSource({ name: 'simulator', kind: 'simulator' });
    expect(await sourceOf(core, (await core.order(accountId, { platform: 'instagram', country: 'us' })).order_id)).toBe('simulator');
  });

  it('chooses the cheapest source that has stock, and falls through to the next when it runs out', async () => {
    const { core } = makeCore();
    const { accountId } = await fundedAccount(core, 5 * USD);
    await gateway(core, 'dear', 50_000, ['+447700900201', '+447700900202']);
    await gateway(core, 'cheap', 10_000, ['+447700900301']);
    const first = await core.order(accountId, { platform: 'instagram', country: 'gb' });
    expect(first.phone).toBe('+447700900301');
    expect(await sourceOf(core, first.order_id)).toBe('cheap');
    // The cheap source's one number is held for instagram: the next instagram order goes to the dear one.
    const second = await core.order(accountId, { platform: 'instagram', country: 'gb' });
    expect(await sourceOf(core, second.order_id)).toBe('dear');
    const third = await core.order(accountId, { platform: 'instagram', country: 'gb' });
    expect(new Set([second.phone, third.phone])).toEqual(new Set(['+447700900201', '+447700900202']));
    expect((await failure(core.order(accountId, { platform: 'instagram', country: 'gb' }))).code).toBe('no_numbers');
    // Another platform may use the same numbers at the same time.
    expect((await core.order(accountId, { platform: 'whatsapp', country: 'gb' })).phone).toBe('+447700900301');
    // The customer's price is the operator's price, whatever the route cost.
    expect(first.price).toBe(0.12);
  });

  it('skips a source below the success floor while another can serve, and still uses it as a last resort', async () => {
    const clock = new ManualClock();
    // The per-account delivery guard is off: this is about the source's record, not the customer's.
    const { core } = makeCore({ clock, successFloor: { window: 3, minRate: 0.5 }, poolCooldownMs: 0, deliveryGuard: false });
    const { accountId } = await fundedAccount(core, 5 * USD);
    await gateway(core, 'flaky', 0, ['+447700900401']);
    await gateway(core, 'steady', 20_000, ['+447700900501']);
    // Three orders on the cheap source end without an SMS.
    for (let i = 0; i < 3; i++) {
      const order = await core.order(accountId, { platform: 'telegram', country: 'gb' });
      expect(await sourceOf(core, order.order_id)).toBe('flaky');
      await core.cancel(accountId, order.order_id);
    }
    // A source's record is judged again at most once a second.
    clock.advance(1_001);
    const next = await core.order(accountId, { platform: 'telegram', country: 'gb' });
    expect(await sourceOf(core, next.order_id)).toBe('steady');
    // With the good source's number held, the one below the floor still serves rather than nobody.
    const fallback = await core.order(accountId, { platform: 'telegram', country: 'gb' });
    expect(await sourceOf(core, fallback.order_id)).toBe('flaky');
    const overview = await core.sourceOverview();
    expect(overview.find((s) => s.source === 'flaky')).toMatchObject({ belowFloor: true, active: 1, ended: 3, delivered: 0 });
    expect(overview.find((s) => s.source === 'steady')).toMatchObject({ belowFloor: false, active: 1 });
  });

  it('a disabled source takes no new orders, but still delivers the SMS of its active ones; remove waits for them', async () => {
    const { core } = makeCore();
    const { accountId } = await fundedAccount(core, 5 * USD);
    await gateway(core, 'script', 0, ['+447700900601', '+447700900602']);
    const order = await core.order(accountId, { platform: 'instagram', country: 'gb' });
    await core.setSourceEnabled('script', false);
    expect((await failure(core.order(accountId, { platform: 'instagram', country: 'gb' }))).code).toBe('no_numbers');
    expect((await failure(core.removeSource('script'))).message).toMatch(/1 active order/);
    expect((await failure(core.removePoolNumber(order.phone))).message).toMatch(/1 active order/);
    await sms(core, 'script', { to: order.phone, from: 'Instagram', text: '123456 is your Instagram code' });
    expect(await core.getOrder(accountId, order.order_id)).toMatchObject({ status: 'completed', code: '123456' });
    await core.removeSource('script');
    expect(await core.listPool()).toEqual([]);
  });

  it('stock in availability and price lists counts free pool numbers', async () => {
    const { core } = makeCore({ poolCooldownMs: 0 });
    const { accountId } = await fundedAccount(core, 5 * USD);
    await gateway(core, 'script', 0, ['+447700900701', '+447700900702', '+447700900703'], ['instagram']);
    const stock = async (platform: string): Promise<number> => (await core.availability()).platforms.find((p) => p.platform === platform)!.stock;
    expect(await stock('instagram')).toBe(3);
    expect(await stock('whatsapp')).toBe(0);
    await core.order(accountId, { platform: 'instagram', country: 'gb' });
    expect(await stock('instagram')).toBe(2);
    const prices = await core.prices(accountId, { by: 'country', platform: 'instagram' });
    expect(prices.items).toEqual([{ platform: 'instagram', country: 'gb', price: 0.12, your_price: 0.12, stock: 2 }]);
  });

  it('a pool number rests for the cool-down after its order ends before it serves that platform again', async () => {
    const clock = new ManualClock();
    const { core } = makeCore({ clock, poolCooldownMs: 60_000 });
    const { accountId } = await fundedAccount(core, 5 * USD);
    await gateway(core, 'script', 0, ['+447700900801']);
    const order = await core.order(accountId, { platform: 'instagram', country: 'gb' });
    await core.cancel(accountId, order.order_id);
    clock.advance(59_000);
    expect((await failure(core.order(accountId, { platform: 'instagram', country: 'gb' }))).code).toBe('no_numbers');
    clock.advance(1_001);
    expect((await core.order(accountId, { platform: 'instagram', country: 'gb' })).phone).toBe('+447700900801');
  });
});

describe('a source with its own cool-down', () => {
  it('overrides the default, in the database where every process sees it', async () => {
    const clock = new ManualClock();
    const { core } = makeCore({ clock });
    const { accountId } = await fundedAccount(core, 5 * USD);
    await core.addSource({ name: 'quick', kind: 'generic', secret: TOKEN, settings: { cooldownMs: 5_000 } });
    await core.addPoolNumber({ phone: '+447700900811', source: 'quick', country: 'gb', platforms: '*', device: null, sim: null });
    const order = await core.order(accountId, { platform: 'instagram', country: 'gb' });
    await core.cancel(accountId, order.order_id);
    clock.advance(4_999);
    expect((await core.availability()).platforms.find((p) => p.platform === 'instagram')!.stock).toBe(0);
    clock.advance(2);
    expect((await core.availability()).platforms.find((p) => p.platform === 'instagram')!.stock).toBe(1);
    expect((await core.order(accountId, { platform: 'instagram', country: 'gb' })).phone).toBe('+447700900811');
    expect((await failure(core.addSource({ name: 'slow', kind: 'generic', secret: TOKEN, settings: { cooldownMs: -1 } }))).code).toBe('invalid_request');
  });
});

describe('the pool under concurrent orders', () => {
  it('never leases one number to two active orders for the same platform (one process)', async () => {
    const { core } = makeCore();
    const { accountId } = await fundedAccount(core, 50 * USD);
    const numbers = ['+447700900901', '+447700900902', '+447700900903', '+447700900904', '+447700900905'];
    await gateway(core, 'script', 0, numbers);
    const results = await Promise.allSettled(Array.from({ length: 30 }, () => core.order(accountId, { platform: 'instagram', country: 'gb' })));
    const placed = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.phone] : []));
    expect(placed.sort()).toEqual(numbers);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as { code: string }).code).toBe('no_numbers');
    expect((await core.audit()).violations).toEqual([]);
  });

  it('never leases one number twice across processes sharing the database (the real CLI)', async () => {
    const dir = tempDir('tn-pool-');
    const env = cleanEnv({ TN_DATA_DIR: join(dir, 'data'), TN_CONFIG_DIR: join(dir, 'config') });
    const db = join(dir, 'data', 'tn.db');
    const numbers = ['+447700900911', '+447700900912', '+447700900913'];
    expect((await runTn(['admin', 'source', 'add', 'generic', '--name', 'script', '--token', TOKEN, '--db', db], env)).code).toBe(0);
    for (const n of numbers) expect((await runTn(['admin', 'pool', 'add', n, '--source', 'script', '--country', 'gb', '--db', db], env)).code).toBe(0);
    // The first run creates the sandbox account; then eight processes race for three numbers.
    expect((await runTn(['account', '--json'], env)).code).toBe(0);
    const runs = await Promise.all(Array.from({ length: 8 }, () => runTn(['order', 'instagram', '--country', 'gb', '--json'], env)));
    const phones = runs.filter((r) => r.code === 0).map((r) => (JSON.parse(r.stdout) as { phone: string }).phone);
    expect(phones.sort()).toEqual(numbers);
    expect(runs.filter((r) => r.code !== 0).map((r) => r.code)).toEqual([8, 8, 8, 8, 8]);
  }, 60_000);
});

describe('inbound messages', () => {
  it('go to the order whose platform the sender names when one number serves several', async () => {
    const { core } = makeCore();
    const { accountId } = await fundedAccount(core, 5 * USD);
    await gateway(core, 'script', 0, ['+447700900951']);
    const insta = await core.order(accountId, { platform: 'instagram', country: 'gb' });
    const whats = await core.order(accountId, { platform: 'whatsapp', country: 'gb' });
    expect(whats.phone).toBe(insta.phone);
    await sms(core, 'script', { to: '+44 7700 900951', from: 'WhatsApp', text: 'Your WhatsApp code: 246-810' });
    expect(await core.getOrder(accountId, whats.order_id)).toMatchObject({ status: 'completed', code: '246810' });
    expect((await core.getOrder(accountId, insta.order_id)).status).toBe('active');
  });

  it('complete no order with a message for another platform or without a code', async () => {
    const { core } = makeCore();
    const { accountId } = await fundedAccount(core, 5 * USD);
    await gateway(core, 'script', 0, ['+447700900955']);
    const order = await core.order(accountId, { platform: 'instagram', country: 'gb' });
    await sms(core, 'script', { to: order.phone, from: 'Telegram', text: 'Telegram code: 48291' });
    await sms(core, 'script', { to: order.phone, from: 'Vodafone', text: 'Welcome to Vodafone UK' });
    expect(await core.getOrder(accountId, order.order_id)).toMatchObject({ status: 'active', code: null });
    expect((await core.inbox()).map((m) => m.from)).toEqual(['Vodafone', 'Telegram']);
    await sms(core, 'script', { to: order.phone, from: 'Instagram', text: '771204 is your Instagram code' });
    expect(await core.getOrder(accountId, order.order_id)).toMatchObject({ status: 'completed', code: '771204' });
  });

  it('give a retried order only a message received after its last one', async () => {
    const clock = new ManualClock();
    const { core } = makeCore({ clock });
    const { accountId } = await fundedAccount(core, 5 * USD);
    await gateway(core, 'script', 0, ['+447700900956']);
    const order = await core.order(accountId, { platform: 'instagram', country: 'gb' });
    const at = (ms: number): string => new Date(clock.now() + ms).toISOString();
    await sms(core, 'script', { to: order.phone, from: 'Instagram', text: '111111 is your Instagram code', received_at: at(0), id: 'a' });
    clock.advance(120_000);
    await core.retry(accountId, order.order_id);
    // A copy of an older message, delivered late by the gateway, is not the new code; nor is a
    // backlog message the gateway received between the first code and the retry.
    await sms(core, 'script', { to: order.phone, from: 'Instagram', text: '000000 is your Instagram code', received_at: at(-130_000), id: 'old' });
    await sms(core, 'script', { to: order.phone, from: 'Instagram', text: '333333 is your Instagram code', received_at: at(-90_000), id: 'backlog' });
    expect((await core.getOrder(accountId, order.order_id)).status).toBe('active');
    await sms(core, 'script', { to: order.phone, from: 'Instagram', text: '222222 is your Instagram code', received_at: at(0), id: 'b' });
    expect(await core.getOrder(accountId, order.order_id)).toMatchObject({ status: 'completed', codes: ['111111', '222222'] });
  });

  it('keep unmatched messages, and a repeated message id changes nothing', async () => {
    const { core } = makeCore();
    const { accountId } = await fundedAccount(core, 5 * USD);
    await gateway(core, 'script', 0, ['+447700900961']);
    await sms(core, 'script', { to: '+447700900961', from: '+15550100100', text: 'nobody ordered this 111111', id: 'm-1' });
    const order = await core.order(accountId, { platform: 'instagram', country: 'gb' });
    await sms(core, 'script', { to: '+447700900961', from: 'Instagram', text: '222222 is your Instagram code', id: 'm-2' });
    await sms(core, 'script', { to: '+447700900961', from: 'Instagram', text: '222222 is your Instagram code', id: 'm-2' });
    const view = await core.getOrder(accountId, order.order_id);
    expect(view).toMatchObject({ status: 'completed', code: '222222', codes: ['222222'] });
    const inbox = await core.inbox({ all: true });
    expect(inbox.map((m) => [m.messageId, m.orderId])).toEqual([
      ['m-2', order.order_id],
      ['m-1', null],
    ]);
    expect((await core.inbox()).map((m) => m.to)).toEqual(['+447700900961']);
  });

  it('refuse a bad token and a malformed body, changing nothing', async () => {
    const { core } = makeCore();
    await gateway(core, 'script', 0, ['+447700900971']);
    const forged = core.inbound('script', {
      method: 'POST',
      url: 'http://127.0.0.1/api/v1/inbound/script',
      headers: { authorization: 'Bearer not-the-token', 'content-type': 'application/json' },
      rawBody: JSON.stringify({ to: '+447700900971', from: 'x', text: '123456' }),
    });
    expect((await failure(forged)).code).toBe('forbidden');
    expect((await failure(sms(core, 'script', { to: '+447700900971', text: 'no sender' }))).code).toBe('invalid_request');
    expect((await failure(sms(core, 'nosuch', { to: '+447700900971', from: 'x', text: 'y' }))).code).toBe('not_found');
    expect(await core.inbox({ all: true })).toEqual([]);
  });
});

describe('operator input', () => {
  it('refuses bad names, kinds, secrets, numbers and pool entries', async () => {
    const { core } = makeCore();
    for (const name of ['', 'Upper', 'has space', '-lead', 'x'.repeat(41), '../etc']) {
      expect((await failure(core.addSource({ name, kind: 'generic', secret: TOKEN }))).code).toBe('invalid_request');
    }
    expect((await failure(core.addSource({ name: 'tw', kind: 'twilio' }))).message).toMatch(/--auth-token/);
    expect((await failure(core.addSource({ name: 'tw', kind: 'twilio', secret: 'short' }))).code).toBe('invalid_request');
    expect((await failure(core.addSource({ name: 'up', kind: 'tempnumber', secret: TOKEN, settings: { baseUrl: 'ftp://x' } }))).code).toBe('invalid_request');
    await core.addSource({ name: 'pixel', kind: 'android-gateway', secret: TOKEN });
    expect((await failure(core.addSource({ name: 'pixel', kind: 'generic', secret: TOKEN }))).message).toMatch(/already exists/);
    const pool = (over: Partial<Parameters<BrokerCore['addPoolNumber']>[0]>) =>
      core.addPoolNumber({ phone: '+447700900981', source: 'pixel', country: 'gb', platforms: '*', device: 'dev1', sim: 1, ...over });
    expect((await failure(pool({ device: null }))).message).toMatch(/--device/);
    expect((await failure(pool({ phone: 'call me' }))).code).toBe('invalid_request');
    expect((await failure(pool({ country: 'atlantis' }))).code).toBe('unknown_country');
    expect((await failure(pool({ platforms: ['myspace'] }))).code).toBe('unknown_platform');
    expect((await failure(pool({ source: 'nosuch' }))).code).toBe('not_found');
    expect((await failure(pool({ sim: 0 }))).code).toBe('invalid_request');
    await pool({});
    expect((await failure(pool({}))).message).toMatch(/already in the pool/);
    expect((await failure(pool({ phone: '+447700900982' }))).message).toMatch(/already has a number/);
    expect(await core.listPool()).toHaveLength(1);
    expect(await core.listSources()).toHaveLength(1);
  });
});

describe('pure routing helpers', () => {
  it('marks up to whole cents, rounding up', () => {
    const record = (settings: object) => ({ name: 'u', kind: 'tempnumber' as const, secret: 'k', settings, cost: 0, enabled: true, createdAt: 0 });
    expect(markedUp(150_000, record({ markupPercent: 30 }))).toBe(200_000);
    expect(markedUp(150_000, record({}))).toBe(150_000);
    expect(markedUp(150_001, record({}))).toBe(160_000);
    expect(markedUp(100_000, record({ markupMicros: 50_000 }))).toBe(150_000);
  });

  it('chooses by sender first, then text, then the newest', () => {
    const order = (id: string, platform: string, createdAt: number) => ({ id, platform, createdAt }) as OrderRecord;
    const both = [order('a', 'instagram', 1), order('b', 'whatsapp', 2)];
    expect(chooseOrder(both, 'Instagram', 'code 123456')!.id).toBe('a');
    expect(chooseOrder(both, '+15550100100', 'Your WhatsApp code 123456')!.id).toBe('b');
    // A sender that names another platform, or a text with no code, completes nothing.
    expect(chooseOrder(both, 'Telegram', 'Telegram code 12345')).toBeNull();
    expect(chooseOrder(both, 'Vodafone', 'Welcome to Vodafone UK')).toBeNull();
    // Meta sends Instagram codes under another of its names: the text decides then.
    expect(chooseOrder([order('a', 'instagram', 1)], 'Facebook', '123456 is your Instagram code')!.id).toBe('a');
    expect(chooseOrder([order('a', 'instagram', 1)], 'Meta', 'Your code is 123456')!.id).toBe('a');
    expect(chooseOrder([order('f', 'facebook', 2), order('i', 'instagram', 1)], 'Facebook', '123456 is your Instagram code')!.id).toBe('i');
    expect(chooseOrder(both, '+15550100100', 'code 123456')!.id).toBe('b');
    expect(chooseOrder([], 'x', 'y')).toBeNull();
  });
});

describe("the operator's CLI", () => {
  it('adds, lists, disables and removes sources without ever printing a secret again', async () => {
    const dir = tempDir('tn-admin-');
    const env = cleanEnv({ TN_DATA_DIR: join(dir, 'data'), TN_CONFIG_DIR: join(dir, 'config') });
    const db = join(dir, 'new.db');
    const tn = async (...args: string[]) => runTn([...args, '--db', db], env);

    const generic = await tn('admin', 'source', 'add', 'generic', '--name', 'script', '--public-url', 'https://tn.example.com/', '--json');
    expect(generic.code).toBe(0);
    const added = JSON.parse(generic.stdout) as { name: string; kind: string; inbound_url: string; token: string };
    expect(added).toEqual({ name: 'script', kind: 'generic', inbound_url: 'https://tn.example.com/api/v1/inbound/script', token: expect.stringMatching(/^tng_[\w-]{32}$/) });
    const twilio = await tn('admin', 'source', 'add', 'twilio', '--name', 'office', '--auth-token', 'twilio-secret-123', '--cost', '0.01', '--json');
    expect(JSON.parse(twilio.stdout)).toEqual({ name: 'office', kind: 'twilio', inbound_url: 'http://127.0.0.1:8787/api/v1/inbound/office' });
    const upstream = await tn('admin', 'source', 'add', 'tempnumber', '--name', 'upstream', '--api-key', 'tempnumber-key-1', '--markup', '30%', '--json');
    expect(JSON.parse(upstream.stdout)).toEqual({ name: 'upstream', kind: 'tempnumber', inbound_url: null });

    const list = await tn('admin', 'source', 'list', '--json');
    expect(list.stdout).not.toContain('twilio-secret-123');
    expect(list.stdout).not.toContain(added.token);
    expect(list.stdout).not.toContain('tempnumber-key-1');
    const sources = (JSON.parse(list.stdout) as { sources: { name: string; secret: string; enabled: boolean; markup?: string }[] }).sources;
    expect(sources.map((s) => [s.name, s.secret, s.enabled])).toEqual([
      ['script', 'set (shown only when added)', true],
      ['office', 'set (shown only when added)', true],
      ['upstream', 'set (shown only when added)', true],
    ]);
    expect(sources[2]!.markup).toBe('30%');
    // The public URL given to `add` is kept for `list`.
    expect((sources[0] as unknown as { inbound_url: string }).inbound_url).toBe('https://tn.example.com/api/v1/inbound/script');
    // The simulator is added back under its own name unless given another.
    expect(JSON.parse((await tn('admin', 'source', 'add', 'simulator', '--json')).stdout)).toEqual({ name: 'simulator', kind: 'simulator', inbound_url: null });
    expect((await tn('admin', 'source', 'remove', 'simulator')).code).toBe(0);

    expect((await tn('admin', 'source', 'add', 'twilio', '--name', 'nokey')).code).toBe(2);
    expect((await tn('admin', 'source', 'add', 'carrier-pigeon', '--name', 'x')).code).toBe(2);
    expect((await tn('admin', 'source', 'disable', 'office')).code).toBe(0);
    expect((await tn('admin', 'source', 'disable', 'nosuch')).code).toBe(6);
    expect((await tn('admin', 'pool', 'add', '+447700900123', '--source', 'office', '--country', 'gb')).code).toBe(0);
    const pool = JSON.parse((await tn('admin', 'pool', 'list', '--json')).stdout) as { numbers: unknown[] };
    expect(pool.numbers).toEqual([{ number: '+447700900123', source: 'office', country: 'gb', platforms: 'all', device: null, sim: null }]);
    const overview = JSON.parse((await tn('admin', 'sources', '--json')).stdout) as { sources: { source: string; enabled: boolean; active_orders: number }[] };
    expect(overview.sources.map((s) => [s.source, s.enabled, s.active_orders])).toEqual([
      ['script', true, 0],
      ['office', false, 0],
      ['upstream', true, 0],
    ]);
    // A secret can come from stdin, out of the process list.
    const piped = spawnSync(process.execPath, [BIN, 'admin', 'source', 'add', 'jasmin', '--name', 'smsc', '--token', '-', '--db', db, '--json'], { env, input: 'piped-jasmin-token\n' });
    expect(piped.status).toBe(0);
    const { core } = makeCore({ file: db });
    const query = new URLSearchParams({ token: 'piped-jasmin-token', id: 'p-1', from: '+15550100100', to: '+447700900124', content: 'hi 123456' });
    expect((await core.inbound('smsc', { method: 'GET', url: `http://x/api/v1/inbound/smsc?${query.toString()}`, headers: {}, rawBody: '' })).body).toBe('ACK/Jasmin');
    await core.removeSource('smsc');

    expect((await tn('admin', 'source', 'remove', 'office')).code).toBe(0);
    expect(JSON.parse((await tn('admin', 'pool', 'list', '--json')).stdout)).toEqual({ numbers: [] });
    expect(JSON.parse((await tn('admin', 'inbox', '--json')).stdout)).toEqual({
      messages: [expect.objectContaining({ source: 'smsc', to: '+447700900124', from: '+15550100100', order_id: null, message_id: 'p-1' })],
    });
  }, 60_000);
});

describe('secrets in the server log', () => {
  afterEach(killLeftovers);

  it("never shows a gateway's token, which Jasmin sends in the URL", async () => {
    const dir = tempDir('tn-log-');
    const env = cleanEnv({ TN_DATA_DIR: join(dir, 'data'), TN_CONFIG_DIR: join(dir, 'config') });
    const db = join(dir, 'tn.db');
    const secret = 'jasmin-secret-token-42';
    expect((await runTn(['admin', 'source', 'add', 'jasmin', '--name', 'smsc', '--token', secret, '--db', db], env)).code).toBe(0);
    const server = await startServe(['--port', '0', '--db', db], env);
    const query = new URLSearchParams({ token: secret, id: 'j-1', from: '+15550100100', to: '+447700900990', content: 'hello 123456', coding: '0' });
    const res = await fetch(`${server.url}/api/v1/inbound/smsc?${query.toString()}`);
    expect(await res.text()).toBe('ACK/Jasmin');
    const bad = await fetch(`${server.url}/api/v1/inbound/smsc?token=wrong-${secret}&id=j-2`);
    expect(bad.status).toBe(403);
    await until(() => server.stdout().includes('j-2'), 5000, 'the request log lines');
    expect(server.stdout()).toContain('token=[Redacted]');
    expect(server.stdout()).not.toContain(secret);
  }, 30_000);
});

/**
 * A TempNumber stand-in that sells one number at once and holds every poll of it for the test to
 * answer (or never): for what happens while a poll is out. Closed by `stop`.
 */
async function holdingUpstream(activation: { id: number; number: string }): Promise<{ base: string; held: ServerResponse[]; stop(): Promise<void> }> {
  const held: ServerResponse[] = [];
  const upstream = createServer((req, res) => {
    const json = (body: unknown): void => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.url === '/api/v1/services/pricelistByCountry') return json([{ c: 'us', services: [{ s: 'instagram', p: 0.01 }] }]);
    if (req.method === 'POST' && req.url === '/api/v1/activations') return json(activation);
    held.push(res);
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/api/v1`,
    held,
    async stop() {
      upstream.closeAllConnections();
      await new Promise((resolve) => upstream.close(resolve));
    },
  };
}

describe('an upstream that hangs', () => {
  it('holds up no other due work: a simulated SMS still arrives while a poll waits on the upstream', async () => {
    // GET /activations/1 is never answered.
    const { base, held: hanging, stop } = await holdingUpstream({ id: 1, number: '+15550100777' });
    try {
      const { core } = makeCore({ simulator: { delayMs: 20 } });
      const { accountId } = await fundedAccount(core, 5 * USD);
      await core.addSource({ name: 'upstream', kind: 'tempnumber', secret: 'upstream-key', settings: { baseUrl: base, pollMs: 20 } });
      await core.addSource({ name: 'sim', kind: 'simulator', cost: 500_000 });
      const bought = await core.order(accountId, { platform: 'instagram', country: 'us' });
      expect(bought.phone).toBe('+15550100777');
      await until(async () => {
        await core.processDue();
        return hanging.length > 0;
      }, 5000, 'a poll upstream');
      const verified = await core.verifyWithin(accountId, { platform: 'telegram', country: 'us' }, 3000);
      expect(verified).toMatchObject({ status: 'completed' });
      // It came while the poll still hung: nothing waited for the upstream to give up.
      expect(hanging.length).toBeGreaterThan(0);
      expect(hanging.every((res) => res.socket !== null && !res.socket.destroyed)).toBe(true);
      expect((await core.db.read.orders.get(bought.order_id))!.status).toBe('active');
    } finally {
      await stop();
    }
  }, 20_000);

  it('does not let an order expire while its poll may still bring the code', async () => {
    // The poll is answered by the test, after the order's expiry has passed.
    const { base, held, stop } = await holdingUpstream({ id: 7, number: '+15550100778' });
    try {
      const { core } = makeCore({ orderTtlMs: 1_000 });
      const { accountId } = await fundedAccount(core, 5 * USD);
      await core.addSource({ name: 'upstream', kind: 'tempnumber', secret: 'upstream-key', settings: { baseUrl: base, pollMs: 20 } });
      const order = await core.order(accountId, { platform: 'instagram', country: 'us' });
      await until(async () => {
        await core.processDue();
        return held.length > 0;
      }, 5000, 'a poll upstream');
      // The expiry passes while the poll is out; due work runs meanwhile.
      await until(() => Date.now() > Date.parse(order.expires_at) + 100, 5000, 'the expiry');
      await core.processDue();
      expect((await core.db.read.orders.get(order.order_id))!.status).toBe('active');
      held[0]!.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 7, status: 'smsReceived', message: 'Your Instagram code is 615243', code: '615243' }));
      await until(async () => (await core.db.read.orders.get(order.order_id))!.status !== 'active', 5000, 'the poll to land');
      expect(await core.getOrder(accountId, order.order_id)).toMatchObject({ status: 'completed', code: '615243', refunded: false });
    } finally {
      await stop();
    }
  }, 20_000);
});

/**
 * Issue 15 §2: a provider of the sms-activate family as an upstream source. The broker core on a
 * real SQLite file, the adapter's real HTTP (undici) against the fake provider of test/support;
 * where time must pass faster than the wall clock (the early-cancel window, expiries), the core and
 * the fake share one clock that follows the wall clock plus an offset the test moves. The last test
 * drives the real binaries: `tn admin source add sms-activate`, `tn serve`, and a bot speaking the
 * same protocol to tn.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../src/core/clock.js';
import type { BrokerCore } from '../src/core/broker-core.js';
import type { SourceAlert } from '../src/core/context.js';
import type { Order } from '../src/core/orders/order.js';
import { failure, fundedAccount, makeCore, sleep, tempDir } from './helpers.js';
import { startFakeSmsActivate, type FakeSmsActivate, type FakeSmsActivateOptions, type FakeSmsActivation } from './support/fake-sms-activate.js';
import { cleanEnv, killLeftovers, runTn, startServe, until } from './support/process.js';

afterEach(killLeftovers);

const USD = 1_000_000;

class SkippingClock implements Clock {
  offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  skip(ms: number): void {
    this.offset += ms;
  }
}

interface Rig {
  fake: FakeSmsActivate;
  core: BrokerCore;
  accountId: string;
  clock: SkippingClock;
}

async function rig(fakeOptions: FakeSmsActivateOptions = {}): Promise<Rig> {
  const clock = new SkippingClock();
  const fake = await startFakeSmsActivate({ now: () => clock.now(), ...fakeOptions });
  const { core } = makeCore({ clock });
  await core.addSource({ name: 'hero', kind: 'sms-activate', secret: fake.apiKey, settings: { baseUrl: fake.handlerUrl, pollMs: 50, markupPercent: 20 } });
  const { accountId } = await fundedAccount(core, 5 * USD);
  return { fake, core, accountId, clock };
}

const calls = (fake: FakeSmsActivate, action: string, extra: Record<string, string> = {}): FakeSmsActivate['requests'] =>
  fake.requests.filter((r) => r.action === action && Object.entries(extra).every(([k, v]) => r.params[k] === v));

function activationOf(fake: FakeSmsActivate, order: Order): FakeSmsActivation {
  const found = [...fake.activations.values()].filter((a) => `+${a.number}` === order.phone);
  expect(found).toHaveLength(1);
  return found[0]!;
}

const balance = async (core: BrokerCore, accountId: string): Promise<number> => (await core.account(accountId)).balance;

/** Runs due work (as the scheduler would) until `check` holds. */
async function dueUntil(core: BrokerCore, check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await core.processDue();
    await sleep(20);
  }
}

describe('an sms-activate provider as an upstream', () => {
  it('lists its prices with the markup, buys with getNumberV2 at most at the listed price, reads the SMS, retries, and finishes after the retry window', async () => {
    const r = await rig();
    r.fake.setPrice('wa', '16', { cost: 0.3, count: 0 });
    const prices = await r.core.prices(r.accountId, { by: 'country', platform: 'instagram' });
    // 0.15 + 20% = 0.18 in the US, 0.20 + 20% = 0.24 in the UK.
    expect(prices.items.filter((i) => i.stock > 0).map((i) => [i.country, i.price])).toEqual([
      ['gb', 0.24],
      ['us', 0.18],
    ]);
    // Sold out there: not offered.
    expect((await r.core.prices(r.accountId, { by: 'country', platform: 'whatsapp' })).items.filter((i) => i.stock > 0).map((i) => i.country)).toEqual(['us']);

    const order = await r.core.order(r.accountId, { platform: 'instagram', country: 'us' });
    expect(order).toMatchObject({ status: 'active', price: 0.18, country: 'us' });
    expect(calls(r.fake, 'getNumberV2')).toEqual([expect.objectContaining({ params: expect.objectContaining({ service: 'ig', country: '187', maxPrice: '0.15' }) })]);
    const activation = activationOf(r.fake, order);
    expect(r.fake.balance()).toBe(49.85);
    expect(await balance(r.core, r.accountId)).toBe(4.82);

    r.fake.deliver(activation.id, 'Your Instagram code is 482913. Do not share it.', '482913');
    const done = await r.core.wait(r.accountId, order.order_id, { timeoutMs: 5000 });
    expect(done).toMatchObject({ status: 'completed', code: '482913', sms: 'Your Instagram code is 482913. Do not share it.' });

    // Another code: setStatus 3, then the provider's STATUS_WAIT_RETRY until the new one is there.
    const reopened = await r.core.retry(r.accountId, order.order_id);
    expect(reopened.status).toBe('active');
    expect(calls(r.fake, 'setStatus', { id: activation.id, status: '3' })).toHaveLength(1);
    await sleep(200);
    expect((await r.core.getOrder(r.accountId, order.order_id)).status).toBe('active');
    r.fake.deliver(activation.id, 'Your Instagram code is 730044.', '730044');
    const again = await r.core.wait(r.accountId, order.order_id, { timeoutMs: 5000 });
    expect(again).toMatchObject({ status: 'completed', code: '730044', codes: ['482913', '730044'] });

    // Finished upstream only once no retry can come: after the order's expiry.
    await r.core.processDue();
    await sleep(100);
    expect(calls(r.fake, 'setStatus', { status: '6' })).toHaveLength(0);
    r.clock.skip(301_000);
    await dueUntil(r.core, () => activation.state === 'finished', 'setStatus 6');
    expect(calls(r.fake, 'setStatus', { id: activation.id, status: '6' })).toHaveLength(1);
    await r.core.processDue();
    await sleep(100);
    expect(calls(r.fake, 'setStatus', { status: '6' })).toHaveLength(1);
    expect(await balance(r.core, r.accountId)).toBe(4.82);
    expect((await r.core.operatorOrder(order.order_id)).upstream).toMatchObject({ activation_id: activation.id, cost: 0.15, status: 'finished' });
    expect((await r.core.audit()).violations).toEqual([]);
  });

  it('refunds a cancelled order at once, and cancels upstream after the early-cancel window without hammering', async () => {
    const r = await rig({ earlyCancelMs: 120_000 });
    const order = await r.core.order(r.accountId, { platform: 'instagram', country: 'us' });
    const activation = activationOf(r.fake, order);
    const cancelled = await r.core.cancel(r.accountId, order.order_id);
    expect(cancelled).toMatchObject({ status: 'cancelled', refunded: true });
    expect(await balance(r.core, r.accountId)).toBe(5);

    // Refused upstream: the customer keeps the refund; the cost stays held there meanwhile.
    await dueUntil(r.core, () => calls(r.fake, 'setStatus', { status: '8' }).length === 1, 'the first cancel');
    expect(calls(r.fake, 'setStatus', { status: '8' })[0]!.answer).toBe('EARLY_CANCEL_DENIED');
    for (let i = 0; i < 5; i++) {
      await r.core.processDue();
      await sleep(20);
    }
    expect(calls(r.fake, 'setStatus', { status: '8' })).toHaveLength(1);
    expect(r.fake.balance()).toBe(49.85);

    r.clock.skip(16_000);
    await dueUntil(r.core, () => calls(r.fake, 'setStatus', { status: '8' }).length === 2, 'the second cancel');
    expect(activation.state).toBe('wait');

    r.clock.skip(110_000);
    await dueUntil(r.core, () => activation.state === 'cancelled', 'the cancel after the window');
    expect(calls(r.fake, 'setStatus', { status: '8' }).map((c) => c.answer)).toEqual(['EARLY_CANCEL_DENIED', 'EARLY_CANCEL_DENIED', 'ACCESS_CANCEL']);
    expect(r.fake.balance()).toBe(50);
    // The provider's rule is not an error of the source.
    const [overview] = await r.core.sourceOverview();
    expect(overview).toMatchObject({ source: 'hero', errorsLastHour: 0 });
    expect((await r.core.operatorOrder(order.order_id)).upstream).toMatchObject({ status: 'cancelled' });
  });

  it('cancels upstream an order that expired without an SMS', async () => {
    const r = await rig();
    const order = await r.core.order(r.accountId, { platform: 'whatsapp', country: 'us' });
    const activation = activationOf(r.fake, order);
    r.clock.skip(301_000);
    await dueUntil(r.core, () => activation.state === 'cancelled', 'setStatus 8');
    expect(await r.core.getOrder(r.accountId, order.order_id)).toMatchObject({ status: 'expired', refunded: true });
    expect(calls(r.fake, 'setStatus', { id: activation.id, status: '8' }).map((c) => c.answer)).toEqual(['ACCESS_CANCEL']);
    expect(r.fake.balance()).toBe(50);
    expect(await balance(r.core, r.accountId)).toBe(5);
  });

  it('falls back to getNumber and getStatus on a provider without the V2 actions', async () => {
    const r = await rig({ noV2: true });
    const first = await r.core.order(r.accountId, { platform: 'instagram', country: 'gb' });
    expect(first.phone).toMatch(/^\+447700900\d{3}$/);
    const activation = activationOf(r.fake, first);
    expect(calls(r.fake, 'getNumberV2')).toHaveLength(1);
    expect(calls(r.fake, 'getNumber', { service: 'ig', country: '16' })).toHaveLength(1);
    r.fake.deliver(activation.id, 'Instagram: 551203', '551203');
    const done = await r.core.wait(r.accountId, first.order_id, { timeoutMs: 5000 });
    expect(done).toMatchObject({ status: 'completed', code: '551203' });
    // Learnt once: the next order goes straight to getNumber.
    await r.core.order(r.accountId, { platform: 'instagram', country: 'us' });
    expect(calls(r.fake, 'getNumberV2')).toHaveLength(1);
    expect(calls(r.fake, 'getNumber')).toHaveLength(2);
  });

  it('buys once more at a moved price the customer can pay', async () => {
    const r = await rig();
    await r.core.prices(r.accountId, { by: 'country', platform: 'instagram' });
    r.fake.setPrice('ig', '187', { cost: 0.25, count: 40 });
    const order = await r.core.order(r.accountId, { platform: 'instagram', country: 'us' });
    expect(order.status).toBe('active');
    expect(calls(r.fake, 'getNumberV2').map((c) => [c.params.maxPrice, c.answer.startsWith('WRONG_MAX_PRICE') ? c.answer : 'bought'])).toEqual([
      ['0.15', 'WRONG_MAX_PRICE:0.25'],
      ['0.25', 'bought'],
    ]);
    expect((await r.core.operatorOrder(order.order_id)).upstream).toMatchObject({ cost: 0.25 });
  });

  it('takes a provider out of money out of routing, alerts the operator, and shows its balance', async () => {
    const r = await rig({ balance: 0.1 });
    const alerts: SourceAlert[] = [];
    r.core.events.on('alert', (a: SourceAlert) => alerts.push(a));
    const err = await failure(r.core.order(r.accountId, { platform: 'instagram', country: 'us' }));
    expect(err.code).toBe('no_numbers');
    expect(alerts).toEqual([expect.objectContaining({ source: 'hero', code: 'payment_required' })]);
    expect(await balance(r.core, r.accountId)).toBe(5);
    const [overview] = await r.core.sourceOverview({ balances: true });
    expect(overview).toMatchObject({ source: 'hero', kind: 'sms-activate', upstreamBalance: 0.1 * USD, lastError: expect.objectContaining({ code: 'payment_required' }) });

    // A key the provider refuses is the operator's problem too.
    r.fake.failNext('getNumberV2', 1, 'BAD_KEY');
    r.clock.skip(61_000);
    r.fake.setBalance(10);
    const refused = await failure(r.core.order(r.accountId, { platform: 'instagram', country: 'us' }));
    expect(refused.code).toBe('no_numbers');
    expect(alerts.at(-1)).toMatchObject({ code: 'unauthorized' });
  });

  it('keeps polling through a provider error, and records it', async () => {
    const r = await rig();
    const order = await r.core.order(r.accountId, { platform: 'instagram', country: 'us' });
    const activation = activationOf(r.fake, order);
    r.fake.failNext('getStatus', 1, 'ERROR_SQL');
    await dueUntil(r.core, () => calls(r.fake, 'getStatus').some((c) => c.answer === 'ERROR_SQL'), 'the failed poll');
    r.fake.deliver(activation.id, 'Your Instagram code is 100200', '100200');
    const done = await r.core.wait(r.accountId, order.order_id, { timeoutMs: 5000 });
    expect(done).toMatchObject({ status: 'completed', code: '100200' });
    const [overview] = await r.core.sourceOverview();
    expect(overview!.lastError).toMatchObject({ code: 'unavailable', message: expect.stringContaining('ERROR_SQL') });
  });
});

describe('a broker reselling an sms-activate provider, through the real binaries', () => {
  it('the operator adds it, a bot speaks sms-activate to tn serve and gets the code; its cancel reaches the provider', async () => {
    const fake = await startFakeSmsActivate();
    const dir = tempDir('tn-smsa-up-');
    const env = cleanEnv({ TN_CONFIG_DIR: join(dir, 'config'), TN_DATA_DIR: join(dir, 'data') });
    const db = join(dir, 'broker.db');

    const missing = await runTn(['admin', 'source', 'add', 'sms-activate', '--name', 'hero', '--api-key', fake.apiKey, '--db', db], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--base-url');
    const added = await runTn(
      ['admin', 'source', 'add', 'sms-activate', '--name', 'hero', '--base-url', fake.handlerUrl, '--api-key', fake.apiKey, '--markup', '20%', '--poll-interval', '200', '--db', db, '--json'],
      env,
    );
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toEqual({ name: 'hero', kind: 'sms-activate', inbound_url: null });

    const server = await startServe(['--port', '0', '--db', db, '--rate-limit', '0', '--quiet'], env);
    const reg = (await (await fetch(`${server.url}/api/v1/register`, { method: 'POST' })).json()) as { api_key: string; account_id: string };
    expect((await runTn(['admin', 'credit', reg.account_id, '1', '--db', db], env)).code).toBe(0);
    const bot = async (params: Record<string, string>): Promise<string> => {
      const res = await fetch(`${server.url}/stubs/handler_api.php?${new URLSearchParams({ api_key: reg.api_key, ...params }).toString()}`);
      expect(res.status).toBe(200);
      return res.text();
    };

    const prices = JSON.parse(await bot({ action: 'getPrices', service: 'ig', country: '187' })) as Record<string, Record<string, { cost: number }>>;
    expect(prices['187']!.ig!.cost).toBe(0.18);
    const number = await bot({ action: 'getNumber', service: 'ig', country: '187' });
    const [, id, phone] = /^ACCESS_NUMBER:(\d+):(\d+)$/.exec(number) ?? [];
    expect(id, number).toBeDefined();
    const [activation] = [...fake.activations.values()];
    expect(activation).toMatchObject({ service: 'ig', country: '187', number: phone });
    expect(await bot({ action: 'getStatus', id: id! })).toBe('STATUS_WAIT_CODE');
    fake.deliver(activation!.id, 'Your Instagram code is 739105.', '739105');
    let status = '';
    await until(async () => (status = await bot({ action: 'getStatus', id: id! })) !== 'STATUS_WAIT_CODE', 15_000, 'the code');
    expect(status).toBe('STATUS_OK:739105');

    const second = /^ACCESS_NUMBER:(\d+):/.exec(await bot({ action: 'getNumber', service: 'wa', country: '187' }))?.[1];
    expect(await bot({ action: 'setStatus', id: second!, status: '8' })).toBe('ACCESS_CANCEL');
    expect(await bot({ action: 'getBalance' })).toBe('ACCESS_BALANCE:0.82');
    const upstream = [...fake.activations.values()].find((a) => a.service === 'wa')!;
    await until(() => upstream.state === 'cancelled', 15_000, 'the cancel upstream');
    expect(fake.balance()).toBe(49.85);

    const overview = await runTn(['admin', 'sources', '--db', db, '--json'], env);
    expect(JSON.parse(overview.stdout)).toMatchObject({ sources: [{ source: 'hero', kind: 'sms-activate', enabled: true, upstream_balance: 49.85 }] });
    const audit = await runTn(['admin', 'audit', '--db', db], env);
    expect(audit.code).toBe(0);
  }, 60_000);
});

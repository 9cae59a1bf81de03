import { describe, expect, it } from 'vitest';
import { TnError } from '../src/core/errors.js';
import type { BrokerCore } from '../src/core/broker-core.js';
import { ManualClock, failure, fundedAccount, makeCore, sleep } from './helpers.js';

const USD = 1_000_000;

async function expectError(promise: Promise<unknown>, code: string): Promise<TnError> {
  const err = await failure(promise);
  expect(err.code).toBe(code);
  return err;
}

async function balanceOf(core: BrokerCore, accountId: string): Promise<number> {
  return (await core.account(accountId)).balance;
}

describe('ordering', () => {
  it('debits the price, assigns a fictional number and delivers a code', async () => {
    const { core } = makeCore();
    const { accountId } = await fundedAccount(core, 10 * USD);
    const order = await core.order(accountId, { platform: 'instagram', country: 'us' });
    expect(order).toMatchObject({ platform: 'instagram', country: 'us', price: 0.12, status: 'active', code: null, refunded: false });
    expect(order.order_id).toMatch(/^ord_[0-9A-Z]{26}$/);
    expect(order.phone).toMatch(/^\+1\d{3}55501\d{2}$/);
    expect(await balanceOf(core, accountId)).toBe(9.88);

    const done = await core.wait(accountId, order.order_id, { timeoutMs: 5000 });
    expect(done.status).toBe('completed');
    expect(done.code).toMatch(/^\d{6}$/);
    expect(done.sms).toContain(done.code!);
    expect(done.codes).toEqual([done.code]);
    expect(await balanceOf(core, accountId)).toBe(9.88);
    expect((await core.audit()).violations).toEqual([]);
  });

  it('resolves "any" to a real country and accepts aliases', async () => {
    const { core } = makeCore();
    const { accountId } = await fundedAccount(core, USD);
    const order = await core.order(accountId, { platform: 'wa' });
    expect(order.platform).toBe('whatsapp');
    expect(['us', 'ca', 'gb', 'fr']).toContain(order.country);
    const uk = await core.order(accountId, { platform: 'tg', country: 'UK' });
    expect(uk.country).toBe('gb');
    expect(uk.phone).toMatch(/^\+44(7700900|2079460)\d{3}$/);
  });

  it('refuses bad input and changes nothing', async () => {
    const { core } = makeCore();
    const { accountId } = await fundedAccount(core, USD);
    await expectError(core.order(accountId, { platform: 'myspace' }), 'unknown_platform');
    await expectError(core.order(accountId, { platform: 'instagram', country: 'zz' }), 'unknown_country');
    await expectError(core.order(accountId, { platform: 42 as unknown as string }), 'invalid_request');
    await expectError(core.order(accountId, { platform: 'instagram', idempotencyKey: '' }), 'invalid_request');
    await expectError(core.order(accountId, { platform: 'instagram', idempotencyKey: 'k'.repeat(256) }), 'invalid_request');
    const err = await expectError(core.order(accountId, { platform: 'instagram', country: 'de' }), 'no_numbers');
    expect(err.message).toContain('Germany');
    const account = await core.account(accountId);
    expect(account.balance).toBe(1);
    expect(account.stats.orders).toBe(0);
  });

  it('refuses an order the balance cannot pay, writing nothing', async () => {
    const { core } = makeCore();
    const { accountId } = await fundedAccount(core, 100_000);
    const err = await expectError(core.order(accountId, { platform: 'whatsapp' }), 'insufficient_balance');
    expect(err.details).toEqual({ balance: 0.1, price: 0.25 });
    expect(err.message).toBe('Balance $0.10 is below the price $0.25.');
    expect((await core.account(accountId)).stats.orders).toBe(0);
    expect((await core.audit()).violations).toEqual([]);
  });

  it('never shows one account the orders of another', async () => {
    const { core } = makeCore();
    const a = await fundedAccount(core, USD);
    const b = await fundedAccount(core, USD);
    const order = await core.order(a.accountId, { platform: 'instagram' });
    await expectError(core.getOrder(b.accountId, order.order_id), 'not_found');
    await expectError(core.cancel(b.accountId, order.order_id), 'not_found');
    await expectError(core.wait(b.accountId, order.order_id), 'not_found');
    await expectError(core.getOrder(a.accountId, 'ord_nope'), 'not_found');
    expect((await core.getOrder(a.accountId, order.order_id)).status).toBe('active');
  });
});

describe('cancel, retry, expiry', () => {
  it('cancels with a refund, once', async () => {
    const { core } = makeCore({ simulator: { delayMs: 60_000 } });
    const { accountId } = await fundedAccount(core, USD);
    const order = await core.order(accountId, { platform: 'whatsapp' });
    const cancelled = await core.cancel(accountId, order.order_id);
    expect(cancelled).toMatchObject({ status: 'cancelled', refunded: true });
    expect(await balanceOf(core, accountId)).toBe(1);
    await expectError(core.cancel(accountId, order.order_id), 'order_not_active');
    expect(await balanceOf(core, accountId)).toBe(1);
    expect((await core.audit()).violations).toEqual([]);
  });

  it('cannot cancel a completed order', async () => {
    const { core } = makeCore({ simulator: { delayMs: 0 } });
    const { accountId } = await fundedAccount(core, USD);
    const order = await core.order(accountId, { platform: 'instagram' });
    expect((await core.wait(accountId, order.order_id)).status).toBe('completed');
    await expectError(core.cancel(accountId, order.order_id), 'order_not_active');
    expect(await balanceOf(core, accountId)).toBe(0.88);
  });

  it('retry waits for a new code on the same number, free, and keeps the old codes', async () => {
    const { core } = makeCore({ simulator: { delayMs: 200 } });
    const { accountId } = await fundedAccount(core, USD);
    const order = await core.order(accountId, { platform: 'telegram' });
    await expectError(core.retry(accountId, order.order_id), 'order_not_active');
    const first = await core.wait(accountId, order.order_id);
    expect(first.code).toMatch(/^\d{5}$/);
    const again = await core.retry(accountId, order.order_id);
    expect(again).toMatchObject({ status: 'active', phone: order.phone, codes: [first.code] });
    const second = await core.wait(accountId, order.order_id);
    expect(second.status).toBe('completed');
    expect(second.codes).toHaveLength(2);
    expect(second.codes[0]).toBe(first.code);
    expect(second.code).toBe(second.codes[1]);
    expect(await balanceOf(core, accountId)).toBe(0.7);
    expect((await core.audit()).violations).toEqual([]);
  });

  it('expires an order nobody waited for, with a refund dated at its expiry, even after a restart', async () => {
    const clock = new ManualClock();
    const { core, file } = makeCore({ clock, simulator: { noSmsRate: 1 } });
    const { accountId } = await fundedAccount(core, USD);
    const order = await core.order(accountId, { platform: 'whatsapp' });
    await core.close();

    clock.advance(299_000);
    const { core: reopened } = makeCore({ clock, file, simulator: { noSmsRate: 1 } });
    expect((await reopened.getOrder(accountId, order.order_id)).status).toBe('active');
    clock.advance(10_000);
    const expired = await reopened.getOrder(accountId, order.order_id);
    expect(expired).toMatchObject({ status: 'expired', refunded: true });
    expect(await balanceOf(reopened, accountId)).toBe(1);
    await expectError(reopened.retry(accountId, order.order_id), 'order_not_active');
    expect((await reopened.audit()).violations).toEqual([]);
  });

  it('delivers an SMS that fell due while no process was running, at its due time', async () => {
    const clock = new ManualClock();
    const { core, file } = makeCore({ clock, simulator: { delayMs: 3000 } });
    const { accountId } = await fundedAccount(core, USD);
    const order = await core.order(accountId, { platform: 'instagram' });
    await core.close();
    clock.advance(3600_000);
    const { core: later } = makeCore({ clock, file });
    const done = await later.getOrder(accountId, order.order_id);
    expect(done.status).toBe('completed');
    expect(Date.parse(done.completed_at!) - Date.parse(order.created_at)).toBe(3000);
  });

  it('a retry that gets no new code ends completed, not refunded: the first code was delivered', async () => {
    const clock = new ManualClock();
    const { core } = makeCore({ clock, simulator: { delayMs: 1000 } });
    const { accountId } = await fundedAccount(core, USD);
    const order = await core.order(accountId, { platform: 'whatsapp' });
    clock.advance(1000);
    const first = await core.getOrder(accountId, order.order_id);
    expect(first.status).toBe('completed');
    clock.advance(298_000);
    expect((await core.retry(accountId, order.order_id)).status).toBe('active');
    clock.advance(5_000);
    const ended = await core.getOrder(accountId, order.order_id);
    expect(ended).toMatchObject({ status: 'completed', refunded: false, codes: [first.code], completed_at: first.completed_at });
    expect(await balanceOf(core, accountId)).toBe(0.75);

    const other = await core.order(accountId, { platform: 'telegram' });
    clock.advance(1000);
    await core.getOrder(accountId, other.order_id);
    await core.retry(accountId, other.order_id);
    expect(await core.cancel(accountId, other.order_id)).toMatchObject({ status: 'completed', refunded: false });
    expect(await balanceOf(core, accountId)).toBe(0.45);
    expect((await core.audit()).violations).toEqual([]);
  });

  it('a completed order cannot be retried after its expiry', async () => {
    const clock = new ManualClock();
    const { core } = makeCore({ clock, simulator: { delayMs: 1000 } });
    const { accountId } = await fundedAccount(core, USD);
    const order = await core.order(accountId, { platform: 'instagram' });
    clock.advance(1000);
    expect((await core.getOrder(accountId, order.order_id)).status).toBe('completed');
    clock.advance(300_000);
    const err = await expectError(core.retry(accountId, order.order_id), 'order_not_active');
    expect(err.message).toContain('expiry');
  });
});

describe('verify', () => {
  it('returns the completed order with its code', async () => {
    const { core } = makeCore({ simulator: { delayMs: 30 } });
    const { accountId } = await fundedAccount(core, USD);
    const seen: string[] = [];
    const order = await core.verify(accountId, { platform: 'google' }, { onOrder: (o) => seen.push(o.phone) });
    expect(order.status).toBe('completed');
    expect(order.code).toMatch(/^\d{6}$/);
    expect(seen).toEqual([order.phone]);
  });

  it('on timeout expires the order early with a refund', async () => {
    const { core } = makeCore({ simulator: { noSmsRate: 1 } });
    const { accountId } = await fundedAccount(core, USD);
    const started = Date.now();
    const order = await core.verifyWithin(accountId, { platform: 'instagram' }, 150);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(order).toMatchObject({ status: 'expired', refunded: true });
    expect(await balanceOf(core, accountId)).toBe(1);
  });

  it('cancels and refunds when the caller aborts', async () => {
    const { core } = makeCore({ simulator: { noSmsRate: 1 } });
    const { accountId } = await fundedAccount(core, USD);
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 50);
    const order = await core.verifyWithin(accountId, { platform: 'instagram' }, 10_000, { signal: abort.signal });
    expect(order).toMatchObject({ status: 'cancelled', refunded: true });
  });

  it('validates timeout_seconds to 30–300', async () => {
    const { core } = makeCore();
    const { accountId } = await fundedAccount(core, USD);
    for (const bad of [0, 29, 301, 1.5, '60', -1, Number.NaN]) {
      await expectError(core.verify(accountId, { platform: 'instagram', timeoutSeconds: bad as number }), 'invalid_request');
    }
    expect((await core.account(accountId)).stats.orders).toBe(0);
  });
});

describe('idempotency', () => {
  it('answers a repeated key with the first answer and charges once', async () => {
    const { core } = makeCore({ simulator: { delayMs: 10 } });
    const { accountId } = await fundedAccount(core, USD);
    const first = await core.order(accountId, { platform: 'instagram', country: 'us', idempotencyKey: 'k1' });
    await sleep(50);
    const again = await core.order(accountId, { platform: 'instagram', country: 'us', idempotencyKey: 'k1' });
    expect(again).toEqual(first);
    expect(await balanceOf(core, accountId)).toBe(0.88);
    await expectError(core.order(accountId, { platform: 'whatsapp', idempotencyKey: 'k1' }), 'idempotency_key_reused');
    const other = await fundedAccount(core, USD);
    const theirs = await core.order(other.accountId, { platform: 'instagram', country: 'us', idempotencyKey: 'k1' });
    expect(theirs.order_id).not.toBe(first.order_id);
  });

  it('a repeated verify waits on the same order instead of buying another', async () => {
    const { core } = makeCore({ simulator: { delayMs: 10 } });
    const { accountId } = await fundedAccount(core, USD);
    const a = await core.verify(accountId, { platform: 'instagram', idempotencyKey: 'v1' });
    const b = await core.verify(accountId, { platform: 'instagram', idempotencyKey: 'v1' });
    expect(b.order_id).toBe(a.order_id);
    expect(b.code).toBe(a.code);
    expect(await balanceOf(core, accountId)).toBe(0.88);
  });
});

describe('batch', () => {
  it('orders each item on its own and stops charging when the balance runs out', async () => {
    const { core } = makeCore();
    const { accountId } = await fundedAccount(core, 500_000);
    const result = await core.batch(accountId, [
      { platform: 'instagram' },
      { platform: 'nope' },
      { platform: 'whatsapp', country: 'gb' },
      { platform: 'whatsapp' },
      'garbage',
    ]);
    expect(result.results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual([
      'ok',
      'unknown_platform',
      'ok',
      'insufficient_balance',
      'invalid_request',
    ]);
    expect(result.total_price).toBe(0.37);
    expect(await balanceOf(core, accountId)).toBe(0.13);
  });

  it('holds 1 to 20 items', async () => {
    const { core } = makeCore();
    const { accountId } = await fundedAccount(core, USD);
    await expectError(core.batch(accountId, []), 'batch_too_large');
    await expectError(core.batch(accountId, Array.from({ length: 21 }, () => ({ platform: 'instagram' }))), 'batch_too_large');
    await expectError(core.batch(accountId, 'instagram'), 'invalid_request');
  });
});

describe('tiers, account, usage, availability', () => {
  it('applies the Silver discount from the 20th completed order', async () => {
    const { core } = makeCore({ simulator: { delayMs: 0 } });
    const { accountId } = await fundedAccount(core, 10 * USD);
    for (let i = 0; i < 20; i++) {
      const o = await core.order(accountId, { platform: 'whatsapp' });
      expect(o.price).toBe(0.25);
      expect((await core.wait(accountId, o.order_id)).status).toBe('completed');
    }
    const account = await core.account(accountId);
    expect(account).toMatchObject({ tier: 'Silver', discount_percent: 5, completed_orders: 20, next_tier: { tier: 'Gold', orders_needed: 30 } });
    expect(account.balance).toBe(5);
    expect(account.recent_orders).toHaveLength(10);
    const services = await core.services(accountId);
    expect(services.services.find((s) => s.platform === 'whatsapp')).toMatchObject({ price: 0.25, your_price: 0.2375 });
    const discountedOrder = await core.order(accountId, { platform: 'whatsapp' });
    expect(discountedOrder.price).toBe(0.2375);
    expect((await core.account(accountId)).balance).toBe(4.7625);
  });

  it('reports usage per platform and per day, and availability from history', async () => {
    const { core } = makeCore({ simulator: { delayMs: 0 } });
    const { accountId } = await fundedAccount(core, USD);
    const a = await core.order(accountId, { platform: 'instagram' });
    await core.wait(accountId, a.order_id);
    const b = await core.order(accountId, { platform: 'instagram' });
    await core.wait(accountId, b.order_id);
    const c = await core.order(accountId, { platform: 'discord' });
    await core.wait(accountId, c.order_id);

    const usage = await core.usage(accountId, 7);
    expect(usage.days).toBe(7);
    expect(usage.daily).toHaveLength(7);
    expect(usage.daily.at(-1)).toMatchObject({ orders: 3, completed: 3, spent: 0.39 });
    expect(usage.platforms[0]).toEqual({ platform: 'instagram', orders: 2, completed: 2, spent: 0.24, success_rate: 1 });
    for (const bad of [0, 366, 1.5, '7']) await expectError(core.usage(accountId, bad), 'invalid_request');

    const availability = await core.availability();
    const ig = availability.platforms.find((p) => p.platform === 'instagram')!;
    expect(ig.success_rate).toBe(1);
    expect(ig.median_delivery_seconds).toBe(0);
    const unused = availability.platforms.find((p) => p.platform === 'twitch')!;
    expect(unused).toMatchObject({ success_rate: null, median_delivery_seconds: null });
    expect(unused.stock).toBeGreaterThanOrEqual(4000);
    expect(availability.platforms).toHaveLength(34);
  });
});

describe('agent', () => {
  it('orders what a plain-English query asks for, within the price limit', async () => {
    const { core } = makeCore();
    const { accountId } = await fundedAccount(core, USD);
    const answer = await core.agent(accountId, '3 telegram numbers from the UK under $0.50');
    expect(answer).toMatchObject({ understood: true, intent: 'order', interpretation: { platform: 'telegram', country: 'gb', quantity: 3 } });
    expect(answer.orders).toHaveLength(3);
    for (const o of answer.orders!) expect(o).toMatchObject({ platform: 'telegram', country: 'gb' });

    const tooCheap = await core.agent(accountId, 'a whatsapp number under $0.10');
    expect(tooCheap.orders).toEqual([]);
    expect(tooCheap.message).toContain('nothing was ordered');

    const balance = await core.agent(accountId, "what's my balance");
    expect(balance).toMatchObject({ intent: 'balance', balance: 0.1 });

    const vague = await core.agent(accountId, 'get me some numbers');
    expect(vague.understood).toBe(false);
    expect(vague.suggestions?.length).toBeGreaterThan(0);
    expect((await core.account(accountId)).stats.orders).toBe(3);
  });
});

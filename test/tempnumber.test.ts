/**
 * TempNumber as an upstream source, end to end: the broker core on a real SQLite file, the
 * adapter's real HTTP (undici) against the TempNumber fake of test/support. Nothing of our own
 * code is mocked; where time must pass faster than the wall clock (back-offs of seconds), both the
 * core and the fake run on one clock that follows the wall clock plus an offset the test moves.
 */
import { describe, expect, it } from 'vitest';
import type { Clock } from '../src/core/clock.js';
import type { Order } from '../src/core/orders/order.js';
import type { BrokerCore } from '../src/core/broker-core.js';
import type { SourceAlert } from '../src/core/context.js';
import type { SqliteDatabase } from '../src/store/sqlite/engine.js';
import { startFakeTempNumber, type FakeActivation, type FakeTempNumber, type FakeTempNumberOptions } from './support/fake-tempnumber.js';
import { failure, fundedAccount, makeCore, sleep } from './helpers.js';
import type { TnError } from '../src/core/errors.js';

const USD = 1_000_000;
const POLL_MS = 50;

/** The wall clock plus an offset that only moves forward: real timers keep working, and the test may skip ahead. */
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
  fake: FakeTempNumber;
  core: BrokerCore;
  file: string;
  accountId: string;
  clock: SkippingClock;
}

/** A fake upstream, a core on a fresh file with it as the source `upstream`, and a customer with $5. */
async function rig(options: { fake?: FakeTempNumberOptions; pollMs?: number; deliveryGuard?: false } = {}): Promise<Rig> {
  const clock = new SkippingClock();
  const fake = await startFakeTempNumber({ now: () => clock.now(), ...options.fake });
  const { core, file } = makeCore({ clock, deliveryGuard: options.deliveryGuard });
  await core.addSource({
    name: 'upstream',
    kind: 'tempnumber',
    secret: fake.apiKey,
    settings: { baseUrl: fake.url, pollMs: options.pollMs ?? POLL_MS, markupPercent: 30 },
  });
  const { accountId } = await fundedAccount(core, 5 * USD);
  return { fake, core, file, accountId, clock };
}

/** How many requests the fake saw for this method and path (a RegExp for paths with an id). */
function count(fake: FakeTempNumber, method: string, path: string | RegExp, status?: number): number {
  return fake.requests.filter(
    (r) => r.method === method && (typeof path === 'string' ? r.path.endsWith(path) : path.test(r.path)) && (status === undefined || r.status === status),
  ).length;
}

const ACTIVATION_PATH = /\/api\/v1\/activations\/\d+$/;
const CREATE_PATH = /\/api\/v1\/activations$/;

/** The fake's activation behind an order (by its number). */
function activationOf(fake: FakeTempNumber, order: Order): FakeActivation {
  const found = [...fake.activations.values()].filter((a) => a.number === order.phone);
  expect(found).toHaveLength(1);
  return found[0]!;
}

async function balance(core: BrokerCore, accountId: string): Promise<number> {
  return (await core.account(accountId)).balance;
}

/**
 * Moves the shared clock on in `stepMs` steps, reading the order after each (a read carries out
 * what is due, as a client's polling would), until it leaves `active` or `maxMs` have passed.
 * Calls `during()` before each step. Answers the order and, for every request the fake saw
 * meanwhile, the clock time at which it appeared.
 */
async function pump(
  r: Rig,
  orderId: string,
  options: { stepMs: number; maxMs: number; during?: () => void },
): Promise<{ order: Order; seenAt: { at: number; method: string; path: string; status: number }[]; steps: number }> {
  const seenAt: { at: number; method: string; path: string; status: number }[] = [];
  let known = r.fake.requests.length;
  let order = await r.core.getOrder(r.accountId, orderId);
  let steps = 0;
  for (let skipped = 0; order.status === 'active' && skipped < options.maxMs; skipped += options.stepMs) {
    options.during?.();
    r.clock.skip(options.stepMs);
    steps++;
    order = await r.core.getOrder(r.accountId, orderId);
    for (const req of r.fake.requests.slice(known)) seenAt.push({ at: r.clock.now(), ...req });
    known = r.fake.requests.length;
  }
  return { order, seenAt, steps };
}

describe('TempNumber upstream', () => {
  it('takes an order from request to code: lower-case ids, the activation number, price plus markup', async () => {
    const r = await rig();
    const order = await r.core.order(r.accountId, { platform: 'Instagram', country: 'US' });
    expect(order).toMatchObject({ platform: 'instagram', country: 'us', status: 'active', code: null, refunded: false });
    // 0.15 upstream + 30% = 0.195, rounded up to whole cents.
    expect(order.price).toBe(0.2);
    expect(await balance(r.core, r.accountId)).toBe(4.8);

    expect(count(r.fake, 'POST', CREATE_PATH)).toBe(1);
    const activation = activationOf(r.fake, order);
    expect(activation).toMatchObject({ serviceId: 'instagram', countryId: 'us', status: 'smsRequested', price: 0.15 });
    expect(order.phone).toBe(activation.number);
    expect(r.fake.balance()).toBe(100 - 0.15);

    r.fake.deliver(activation.id, 'Your Instagram code is 482913', '482913');
    const done = await r.core.wait(r.accountId, order.order_id, { timeoutMs: 5000 });
    expect(done).toMatchObject({ status: 'completed', code: '482913', sms: 'Your Instagram code is 482913', codes: ['482913'], refunded: false });
    expect(await balance(r.core, r.accountId)).toBe(4.8);
    expect(count(r.fake, 'GET', ACTIVATION_PATH, 200)).toBeGreaterThanOrEqual(1);
    expect((await r.core.audit()).violations).toEqual([]);

    const [overview] = (await r.core.sourceOverview()).filter((s) => s.source === 'upstream');
    expect(overview).toMatchObject({ kind: 'tempnumber', active: 0, ended: 1, delivered: 1, errorsLastHour: 0, lastError: null });
  });

  it('verifyWithin orders and waits for the code in one call', async () => {
    const r = await rig();
    const verified = r.core.verifyWithin(r.accountId, { platform: 'whatsapp', country: 'gb' }, 5000);
    while (r.fake.activations.size === 0) await sleep(10);
    const [activation] = [...r.fake.activations.values()];
    expect(activation).toMatchObject({ serviceId: 'whatsapp', countryId: 'gb' });
    r.fake.deliver(activation!.id, 'WhatsApp code 204-117', '204117');
    const done = await verified;
    expect(done).toMatchObject({ status: 'completed', code: '204117', phone: activation!.number });
    // 0.35 + 30% = 0.455 → 0.46.
    expect(done.price).toBe(0.46);
  });

  it('retries: PUT status retry upstream, then completes again with the second code', async () => {
    const r = await rig();
    const order = await r.core.order(r.accountId, { platform: 'instagram', country: 'us' });
    const activation = activationOf(r.fake, order);
    r.fake.deliver(activation.id, 'Your Instagram code is 482913', '482913');
    expect((await r.core.wait(r.accountId, order.order_id, { timeoutMs: 5000 })).status).toBe('completed');

    const retried = await r.core.retry(r.accountId, order.order_id);
    expect(retried.status).toBe('active');
    expect(count(r.fake, 'PUT', ACTIVATION_PATH, 200)).toBe(1);
    expect(activation.status).toBe('retryRequested');

    // The activation still shows the first message while the retry waits: that is not a new SMS.
    const still = await r.core.wait(r.accountId, order.order_id, { timeoutMs: 4 * POLL_MS });
    expect(still).toMatchObject({ status: 'active', codes: ['482913'] });

    r.fake.deliver(activation.id, 'Your Instagram code is 551177', '551177');
    const again = await r.core.wait(r.accountId, order.order_id, { timeoutMs: 5000 });
    expect(again).toMatchObject({ status: 'completed', code: '551177', codes: ['482913', '551177'], refunded: false });
    expect(activation.status).toBe('retryReceived');
    // One number, one charge.
    expect(await balance(r.core, r.accountId)).toBe(4.8);
    expect(count(r.fake, 'POST', CREATE_PATH)).toBe(1);
  });

  it('cancels with an immediate refund and no upstream call; the activation lapses to a refund there, a late SMS is ignored', async () => {
    const r = await rig();
    const first = await r.core.order(r.accountId, { platform: 'instagram', country: 'us' });
    const second = await r.core.order(r.accountId, { platform: 'instagram', country: 'us' });
    expect(await balance(r.core, r.accountId)).toBe(4.6);
    const a1 = activationOf(r.fake, first);
    const a2 = activationOf(r.fake, second);

    const before = r.fake.requests.length;
    const cancelled = await r.core.cancel(r.accountId, first.order_id);
    expect(cancelled).toMatchObject({ status: 'cancelled', refunded: true });
    await r.core.cancel(r.accountId, second.order_id);
    expect(await balance(r.core, r.accountId)).toBe(5);
    // TempNumber has no cancel: nothing but (at most) a due poll went out meanwhile.
    expect(r.fake.requests.slice(before).filter((q) => q.method !== 'GET')).toEqual([]);
    expect(a1.status).toBe('smsRequested');

    // A late SMS for a cancelled order does not reach it, however long one waits.
    const afterCancel = r.fake.requests.length;
    r.fake.deliver(a2.id, 'Your Instagram code is 777111', '777111');
    await sleep(4 * POLL_MS);
    for (const o of [first, second]) {
      expect(await r.core.wait(r.accountId, o.order_id, { timeoutMs: 2 * POLL_MS })).toMatchObject({
        status: 'cancelled',
        code: null,
        codes: [],
        refunded: true,
      });
    }
    expect(await balance(r.core, r.accountId)).toBe(5);
    // Ended orders are not polled.
    expect(r.fake.requests.slice(afterCancel)).toEqual([]);

    // Upstream, the unused number runs out and its price comes back there (the one that got an SMS is consumed).
    expect(r.fake.balance()).toBe(100 - 0.3);
    r.fake.lapse(a1.id);
    expect(a1.status).toBe('refunded');
    r.fake.lapse(a2.id);
    expect(a2.status).toBe('serviceConsumed');
    expect(r.fake.balance()).toBe(100 - 0.15);
    expect((await r.core.audit()).violations).toEqual([]);
  });

  it('fails and refunds an order whose activation lapses without an SMS', async () => {
    const r = await rig();
    const order = await r.core.order(r.accountId, { platform: 'instagram', country: 'us' });
    expect(await balance(r.core, r.accountId)).toBe(4.8);
    const activation = activationOf(r.fake, order);
    // Polled a few times while nothing comes.
    expect((await r.core.wait(r.accountId, order.order_id, { timeoutMs: 3 * POLL_MS })).status).toBe('active');
    r.fake.lapse(activation.id);
    expect(activation.status).toBe('refunded');

    const ended = await r.core.wait(r.accountId, order.order_id, { timeoutMs: 5000 });
    expect(ended).toMatchObject({ status: 'failed', refunded: true, code: null });
    expect(await balance(r.core, r.accountId)).toBe(5);
    expect(r.fake.balance()).toBe(100);
    expect((await r.core.audit()).violations).toEqual([]);
  });

  describe('rate limits', () => {
    it('rides out a 429 storm on getActivation without Retry-After: the order survives, polls are spaced', async () => {
      const r = await rig();
      const order = await r.core.order(r.accountId, { platform: 'instagram', country: 'us' });
      const activation = activationOf(r.fake, order);
      r.fake.storm('getActivation', 8);

      // 120 s of clock time in 100 ms steps: ~1200 chances to poll.
      const { order: done, seenAt, steps } = await pump(r, order.order_id, {
        stepMs: 100,
        maxMs: 120_000,
        during: () => {
          // The SMS comes in the middle of the storm.
          if (count(r.fake, 'GET', ACTIVATION_PATH, 429) === 4 && activation.status === 'smsRequested') {
            r.fake.deliver(activation.id, 'Your Instagram code is 482913', '482913');
          }
        },
      });
      expect(done).toMatchObject({ status: 'completed', code: '482913', refunded: false });
      expect(activation.status).toBe('smsReceived');

      const polls = seenAt.filter((q) => q.method === 'GET' && ACTIVATION_PATH.test(q.path));
      expect(polls.filter((q) => q.status === 429)).toHaveLength(8);
      expect(count(r.fake, 'GET', ACTIVATION_PATH, 429)).toBe(8);
      // No tight loop: the storm plus the one answer that brought the code, out of more chances.
      expect(polls.filter((q) => q.status === 200)).toHaveLength(1);
      expect(steps).toBeGreaterThan(2 * polls.length);
      // After each 429 the next poll waited at least min(30 s, 4 × pollMs), and never more than 30 s.
      for (let i = 1; i < polls.length; i++) {
        const gap = polls[i]!.at - polls[i - 1]!.at;
        expect(gap).toBeGreaterThanOrEqual(4 * POLL_MS);
        expect(gap).toBeLessThanOrEqual(30_000 + 100);
      }

      const [overview] = (await r.core.sourceOverview()).filter((s) => s.source === 'upstream');
      expect(overview!.errorsLastHour).toBe(8);
      expect(overview!.lastError).toMatchObject({ code: 'rate_limited' });
    });

    it('rides out a 429 storm on getActivation with Retry-After: 1, in real time through wait', async () => {
      const r = await rig();
      const order = await r.core.order(r.accountId, { platform: 'instagram', country: 'us' });
      const activation = activationOf(r.fake, order);
      r.fake.storm('getActivation', 3, 1);
      // The code is there before the first poll, but the storm hides it for a while.
      r.fake.deliver(activation.id, 'Your Instagram code is 482913', '482913');

      const started = Date.now();
      const done = await r.core.wait(r.accountId, order.order_id, { timeoutMs: 15_000 });
      const elapsed = Date.now() - started;
      expect(done).toMatchObject({ status: 'completed', code: '482913' });
      expect(count(r.fake, 'GET', ACTIVATION_PATH, 429)).toBe(3);
      // Each 429 held the endpoint for its Retry-After second; nothing was sent meanwhile.
      expect(count(r.fake, 'GET', ACTIVATION_PATH)).toBe(4);
      expect(elapsed).toBeGreaterThanOrEqual(2900);
      expect(elapsed).toBeLessThan(8000);
    });

    it('falls through to another source when createActivation answers 429', async () => {
      const r = await rig();
      await r.core.addSource({ name: 'script', kind: 'generic', secret: 'generic-token-1', cost: 500_000 });
      await r.core.addPoolNumber({ phone: '+15550100199', source: 'script', country: 'us', platforms: '*', device: null, sim: null });
      r.fake.storm('createActivation', 5);

      const order = await r.core.order(r.accountId, { platform: 'instagram', country: 'us' });
      expect(order).toMatchObject({ status: 'active', phone: '+15550100199' });
      expect(count(r.fake, 'POST', CREATE_PATH, 429)).toBe(1);
      // The next order (another platform, so the pool number is free for it) does not knock again during the back-off.
      const next = await r.core.order(r.accountId, { platform: 'telegram', country: 'us' });
      expect(next).toMatchObject({ status: 'active', phone: '+15550100199' });
      expect(count(r.fake, 'POST', CREATE_PATH)).toBe(1);
      expect(r.fake.activations.size).toBe(0);
      // Both were charged the pool's (catalogue) price, not the upstream's.
      expect([order.price, next.price]).toEqual([0.12, 0.3]);
      expect(await balance(r.core, r.accountId)).toBe(4.58);
      const [overview] = (await r.core.sourceOverview()).filter((s) => s.source === 'upstream');
      expect(overview!.lastError).toMatchObject({ code: 'rate_limited' });
    });

    it('answers no_numbers when createActivation answers 429 and no other source serves; the endpoint then rests', async () => {
      const r = await rig();
      r.fake.storm('createActivation', 1, 2);
      const err = await failure(r.core.order(r.accountId, { platform: 'instagram', country: 'us' }));
      expect(err.code).toBe('no_numbers');
      expect(await balance(r.core, r.accountId)).toBe(5);
      // During the Retry-After, no order reaches the endpoint.
      expect((await failure(r.core.order(r.accountId, { platform: 'instagram', country: 'us' }))).code).toBe('no_numbers');
      expect(count(r.fake, 'POST', CREATE_PATH)).toBe(1);
      // After it, orders go upstream again.
      r.clock.skip(2_000);
      const order = await r.core.order(r.accountId, { platform: 'instagram', country: 'us' });
      expect(order.phone).toBe(activationOf(r.fake, order).number);
      expect(count(r.fake, 'POST', CREATE_PATH)).toBe(2);
    });

    it('fetches the price list at most once a minute across many orders and processes', async () => {
      const r = await rig();
      for (let i = 0; i < 8; i++) await r.core.order(r.accountId, { platform: i % 2 ? 'instagram' : 'telegram', country: 'us' });
      await r.core.prices(r.accountId, { by: 'country', platform: 'instagram' });
      // A second process on the same database reads the list the first one stored.
      const { core: other } = makeCore({ file: r.file, clock: r.clock });
      for (let i = 0; i < 4; i++) await other.order(r.accountId, { platform: 'whatsapp', country: 'gb' });
      expect(count(r.fake, 'POST', CREATE_PATH, 200)).toBe(12);
      expect(count(r.fake, 'GET', '/services/pricelistByCountry')).toBe(1);

      r.clock.skip(59_000);
      await r.core.order(r.accountId, { platform: 'instagram', country: 'us' });
      expect(count(r.fake, 'GET', '/services/pricelistByCountry')).toBe(1);
      r.clock.skip(2_000);
      await r.core.order(r.accountId, { platform: 'instagram', country: 'us' });
      await other.order(r.accountId, { platform: 'instagram', country: 'us' });
      expect(count(r.fake, 'GET', '/services/pricelistByCountry')).toBe(2);
      expect(count(r.fake, 'POST', CREATE_PATH, 200)).toBe(15);
    });
  });

  it('buys at the new price when the upstream price moved since the list was read', async () => {
    const r = await rig();
    await r.core.order(r.accountId, { platform: 'instagram', country: 'us' });
    r.fake.setPrice('instagram', 'us', 0.25);
    // The cached list still says 0.15: TempNumber refuses that expected price, the adapter asks once more at 0.25.
    const order = await r.core.order(r.accountId, { platform: 'instagram', country: 'us' });
    expect(count(r.fake, 'POST', CREATE_PATH, 409)).toBe(1);
    expect(count(r.fake, 'POST', CREATE_PATH, 200)).toBe(2);
    expect(activationOf(r.fake, order).price).toBe(0.25);
    // 0.25 + 30% = 0.325 → 0.33.
    expect(order.price).toBe(0.33);
    expect(await balance(r.core, r.accountId)).toBe(4.47);
  });

  it('paymentRequired: the customer gets no_numbers, the operator an alert, the overview the error', async () => {
    const r = await rig({ fake: { balance: 0.05 } });
    const alerts: SourceAlert[] = [];
    r.core.events.on('alert', (a) => alerts.push(a));

    const err = await failure(r.core.order(r.accountId, { platform: 'instagram', country: 'us' }));
    expect(err.code).toBe('no_numbers');
    expect(await balance(r.core, r.accountId)).toBe(5);
    expect(count(r.fake, 'POST', CREATE_PATH, 402)).toBe(1);
    expect(r.fake.activations.size).toBe(0);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ source: 'upstream', code: 'payment_required' });
    expect(alerts[0]!.message).toMatch(/top up/);

    const [overview] = (await r.core.sourceOverview()).filter((s) => s.source === 'upstream');
    expect(overview).toMatchObject({ kind: 'tempnumber', active: 0, errorsLastHour: 1 });
    expect(overview!.lastError).toMatchObject({ code: 'payment_required', message: expect.stringMatching(/paymentRequired/) });

    // Orders go elsewhere meanwhile: the upstream is not asked again at once.
    expect((await failure(r.core.order(r.accountId, { platform: 'instagram', country: 'us' }))).code).toBe('no_numbers');
    expect(count(r.fake, 'POST', CREATE_PATH)).toBe(1);
  });

  it('a key TempNumber refuses alerts the operator and sends nothing further', async () => {
    const r = await rig();
    const alerts: SourceAlert[] = [];
    r.core.events.on('alert', (a) => alerts.push(a));
    await r.core.removeSource('upstream');
    await r.core.addSource({ name: 'upstream', kind: 'tempnumber', secret: 'not-the-key', settings: { baseUrl: r.fake.url, pollMs: POLL_MS } });
    expect((await failure(r.core.order(r.accountId, { platform: 'instagram', country: 'us' }))).code).toBe('no_numbers');
    expect(count(r.fake, 'GET', '/services/pricelistByCountry', 401)).toBe(1);
    expect(alerts).toEqual([expect.objectContaining({ source: 'upstream', code: 'unauthorized' })]);
    const [overview] = (await r.core.sourceOverview()).filter((s) => s.source === 'upstream');
    expect(overview!.lastError).toMatchObject({ code: 'unauthorized' });
  });

  it('lowSuccessRateException pauses that service and country and routes elsewhere', async () => {
    const r = await rig();
    await r.core.addSource({ name: 'script', kind: 'generic', secret: 'generic-token-1', cost: 500_000 });
    await r.core.addPoolNumber({ phone: '+15550100199', source: 'script', country: 'us', platforms: '*', device: null, sim: null });
    r.fake.failNext('createActivation', 1, 403, 'lowSuccessRateException');

    const first = await r.core.order(r.accountId, { platform: 'instagram', country: 'us' });
    expect(first.phone).toBe('+15550100199');
    await r.core.cancel(r.accountId, first.order_id);
    expect(count(r.fake, 'POST', CREATE_PATH)).toBe(1);
    // Still paused there a while later (the pool number rests for 5 minutes, so there is nothing else).
    r.clock.skip(120_000);
    expect((await failure(r.core.order(r.accountId, { platform: 'instagram', country: 'us' }))).code).toBe('no_numbers');
    expect(count(r.fake, 'POST', CREATE_PATH)).toBe(1);
    // Another service in the same country is not affected.
    const other = await r.core.order(r.accountId, { platform: 'telegram', country: 'us' });
    expect(other.phone).toBe(activationOf(r.fake, other).number);
  });

  it('tracks the 7% rule on its side: after 4 activations without SMS, the 5th order is not sent upstream', async () => {
    // Each order from another customer: the customers' own delivery guard plays no part.
    const r = await rig({ deliveryGuard: false });
    for (let i = 0; i < 4; i++) {
      const { accountId } = await fundedAccount(r.core, USD);
      const order = await r.core.order(accountId, { platform: 'instagram', country: 'us' });
      r.fake.lapse(activationOf(r.fake, order).id);
      expect(await r.core.wait(accountId, order.order_id, { timeoutMs: 5000 })).toMatchObject({ status: 'failed', refunded: true });
    }
    expect(count(r.fake, 'POST', CREATE_PATH)).toBe(4);

    const { accountId } = await fundedAccount(r.core, USD);
    const err = await failure(r.core.order(accountId, { platform: 'instagram', country: 'us' }));
    expect(err.code).toBe('no_numbers');
    expect(count(r.fake, 'POST', CREATE_PATH)).toBe(4);
    expect((await r.core.account(accountId)).balance).toBe(1);

    // The rule is per service and country.
    const gb = await r.core.order(accountId, { platform: 'instagram', country: 'gb' });
    const tg = await r.core.order(accountId, { platform: 'telegram', country: 'us' });
    expect(gb.phone).toBe(activationOf(r.fake, gb).number);
    expect(tg.phone).toBe(activationOf(r.fake, tg).number);
    expect(count(r.fake, 'POST', CREATE_PATH)).toBe(6);
  });

  it('a number bought that no order sold is an orphan: the operator sees it, and the 7% rule counts it', async () => {
    const r = await rig({ deliveryGuard: false });
    // Enough for one number at 0.20: both orders pass the check before buying, only one can commit.
    const { accountId } = await fundedAccount(r.core, 250_000);
    const settled = await Promise.allSettled([0, 1].map(() => r.core.order(accountId, { platform: 'instagram', country: 'us' })));
    expect(settled.map((s) => s.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(((settled.find((s) => s.status === 'rejected') as PromiseRejectedResult).reason as TnError).code).toBe('insufficient_balance');
    expect(count(r.fake, 'POST', CREATE_PATH)).toBe(2);
    expect((await r.core.sourceOverview()).find((s) => s.source === 'upstream')).toMatchObject({ orphaned: 1 });
    expect((await r.core.audit()).violations).toEqual([]);

    // With the orphan, three lapsed activations make four without an SMS: the fifth is not sent upstream.
    const paid = (settled.find((s) => s.status === 'fulfilled') as PromiseFulfilledResult<Order>).value;
    r.fake.lapse(activationOf(r.fake, paid).id);
    expect(await r.core.wait(accountId, paid.order_id, { timeoutMs: 5000 })).toMatchObject({ status: 'failed' });
    for (let i = 0; i < 2; i++) {
      const other = await fundedAccount(r.core, USD);
      const order = await r.core.order(other.accountId, { platform: 'instagram', country: 'us' });
      r.fake.lapse(activationOf(r.fake, order).id);
      expect(await r.core.wait(other.accountId, order.order_id, { timeoutMs: 5000 })).toMatchObject({ status: 'failed' });
    }
    const last = await fundedAccount(r.core, USD);
    expect((await failure(r.core.order(last.accountId, { platform: 'instagram', country: 'us' }))).code).toBe('no_numbers');
    expect(count(r.fake, 'POST', CREATE_PATH)).toBe(4);
  });

  describe('what a customer may be charged', () => {
    it('skips a route above the customer\'s limit and takes the next that fits', async () => {
      const r = await rig();
      // The pool costs the operator more, so routing tries the upstream first: 0.15 + 30% = 0.20 for the customer.
      await r.core.addSource({ name: 'script', kind: 'generic', secret: 'generic-token-1', cost: 500_000 });
      await r.core.addPoolNumber({ phone: '+15550100198', source: 'script', country: 'us', platforms: '*', device: null, sim: null });
      const order = await r.core.order(r.accountId, { platform: 'instagram', country: 'us' }, { maxPrice: 150_000 });
      expect(order).toMatchObject({ phone: '+15550100198', price: 0.12 });
      expect(count(r.fake, 'POST', CREATE_PATH)).toBe(0);
    });

    it('a price that moved above the limit upstream: nothing is bought, nothing is sold', async () => {
      const r = await rig();
      await r.core.order(r.accountId, { platform: 'instagram', country: 'us' }); // caches the list at 0.15
      r.fake.setPrice('instagram', 'us', 0.25);
      const err = await failure(r.core.order(r.accountId, { platform: 'instagram', country: 'us' }, { maxPrice: 200_000 }));
      expect(err.code).toBe('price_above_max');
      expect(err.message).toMatch(/above your limit/);
      expect(await balance(r.core, r.accountId)).toBe(4.8);
      // The 409 named the new price; it was checked against the limit before a second try.
      expect(count(r.fake, 'POST', CREATE_PATH, 409)).toBe(1);
      expect(count(r.fake, 'POST', CREATE_PATH, 200)).toBe(1);
      expect(r.fake.activations.size).toBe(1);
      const [overview] = (await r.core.sourceOverview()).filter((s) => s.source === 'upstream');
      expect(overview!.lastError).toMatchObject({ code: 'price_changed' });
      expect((await r.core.audit()).violations).toEqual([]);
    });

    it('a tier discount never sells an upstream number below its cost, and a balance short of the cost buys nothing', async () => {
      const r = await rig();
      await r.core.removeSource('upstream');
      await r.core.addSource({ name: 'upstream', kind: 'tempnumber', secret: r.fake.apiKey, settings: { baseUrl: r.fake.url, pollMs: POLL_MS } });
      // A VIP customer (15% off) with $0.14 left: 0.15 upstream, no markup.
      const db = (r.core.db as SqliteDatabase).writer;
      db.prepare('UPDATE accounts SET completed_orders = 100 WHERE id = ?').run(r.accountId);
      const vip = await r.core.register({ credit: 140_000 });
      db.prepare('UPDATE accounts SET completed_orders = 100 WHERE id = ?').run(vip.account_id);
      const err = await failure(r.core.order(vip.account_id, { platform: 'instagram', country: 'us' }));
      expect(err.code).toBe('insufficient_balance');
      expect(count(r.fake, 'POST', CREATE_PATH)).toBe(0);
      // With the money, the price is the cost (0.15), not 0.15 less 15%.
      expect((await r.core.order(r.accountId, { platform: 'instagram', country: 'us' })).price).toBe(0.15);
    });

    it('two requests with one idempotency key at once buy one number upstream and charge once', async () => {
      const r = await rig();
      const request = { platform: 'instagram', country: 'us', idempotencyKey: 'retry-of-a-slow-order' };
      const [a, b] = await Promise.all([r.core.order(r.accountId, request), r.core.order(r.accountId, request)]);
      expect(a.order_id).toBe(b.order_id);
      expect(count(r.fake, 'POST', CREATE_PATH)).toBe(1);
      expect(await balance(r.core, r.accountId)).toBe(4.8);
    });
  });
});

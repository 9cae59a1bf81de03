/**
 * Issue 6: price lists, order history and the delivery-rate guard. Like test/contract.test.ts, each
 * behaviour of the `Broker` interface runs twice: on the embedded broker (the core in-process) and
 * on a real HTTP server on a real port reached through the remote client. Both cores run on a
 * `ManualClock`, so windows, expiries and ages are exact.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../src/client/embedded.js';
import { RemoteBroker } from '../src/client/remote.js';
import type { Broker, OrderQuery, PriceList, PriceQuery } from '../src/core/broker.js';
import { PLATFORMS } from '../src/core/catalogue/catalog.js';
import { TnError } from '../src/core/errors.js';
import { ORDER_TTL_MS } from '../src/core/limits.js';
import { ORDER_STATUSES, type Order, type OrderStatus } from '../src/core/orders/order.js';
import type { BrokerCore } from '../src/core/broker-core.js';
import type { DeliveryGuard } from '../src/core/catalogue/delivery-guard.js';
import type { SimulatorOptions } from '../src/providers/simulator.js';
import { buildApp } from '../src/server/app.js';
import { ManualClock, failure, fundedAccount, makeCore, seededRandom } from './helpers.js';

const USD = 1_000_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number): string => new Date(ms).toISOString();

interface Account {
  broker: Broker;
  accountId: string;
  apiKey: string;
}

interface World {
  core: BrokerCore;
  clock: ManualClock;
  /** The server's base URL (remote only). */
  url: string | null;
  /** Every request the server saw, as `METHOD /path` (remote only). */
  seen: string[];
  /** A broker acting for a fresh account holding `micros` of credit. */
  account(micros?: number): Promise<Account>;
  /** Carries out what fell due at the clock's time (a server's scheduler does it in its own time). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

interface WorldOptions {
  simulator?: SimulatorOptions;
  deliveryGuard?: DeliveryGuard | false;
}

type Setup = (options: WorldOptions) => Promise<World>;

const embedded: Setup = async (options) => {
  const clock = new ManualClock();
  const { core } = makeCore({ clock, simulator: options.simulator ?? {}, deliveryGuard: options.deliveryGuard });
  return {
    core,
    clock,
    url: null,
    seen: [],
    account: async (micros = 10 * USD) => {
      const { accountId, apiKey } = await fundedAccount(core, micros);
      return { broker: await EmbeddedBroker.open(core, apiKey), accountId, apiKey };
    },
    settle: () => core.processDue(),
    // makeCore closes the core after the test (closing an EmbeddedBroker would close it too).
    close: async () => undefined,
  };
};

const remote: Setup = async (options) => {
  const clock = new ManualClock();
  const { core } = makeCore({ clock, simulator: options.simulator ?? {}, deliveryGuard: options.deliveryGuard });
  const app = await buildApp({ core, version: 'test', rateLimits: { perKeyPerSecond: 0, registerPerHour: 0 } });
  const seen: string[] = [];
  app.addHook('onRequest', (request, _reply, done) => {
    seen.push(`${request.method} ${request.url.split('?')[0]}`);
    done();
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const clients: RemoteBroker[] = [];
  return {
    core,
    clock,
    url,
    seen,
    account: async (micros = 10 * USD) => {
      const { accountId, apiKey } = await fundedAccount(core, micros);
      const client = new RemoteBroker({ endpoint: url, apiKey });
      clients.push(client);
      return { broker: client, accountId, apiKey };
    },
    settle: () => core.processDue(),
    close: async () => {
      await Promise.all(clients.map((c) => c.close()));
      await app.close();
      await core.close();
    },
  };
};

// ── order history ─────────────────────────────────────────────────────────

/**
 * The simulator draws from `dice`: with `noSmsRate: 0.5`, 0 means "no SMS ever" and 0.999 "an SMS
 * at once" (`delayMs: 0`), so each order's fate is the test's choice.
 */
const dice = { value: 0.999 };
const HISTORY_SIMULATOR: SimulatorOptions = { delayMs: 0, noSmsRate: 0.5, random: () => dice.value };

type Fate = 'complete' | 'cancel' | 'nosms';

interface Placed {
  id: string;
  platform: string;
  country: string;
  created: number;
  status: OrderStatus;
}

interface History {
  alice: Account;
  bob: Account;
  placed: Placed[];
  bobIds: Set<string>;
}

const HISTORY_PLATFORMS = ['whatsapp', 'telegram', 'instagram'] as const;
const HISTORY_COUNTRIES = ['us', 'gb', 'fr'] as const;
const HISTORY_SIZE = 57;

/** 57 orders of Alice (completed, cancelled, expired, active) over an hour, with Bob's orders in between. */
async function buildHistory(w: World): Promise<History> {
  const alice = await w.account(50 * USD);
  const bob = await w.account(50 * USD);
  const rnd = seededRandom(6);
  const placed: { id: string; platform: string; country: string; created: number; fate: Fate }[] = [];
  const bobIds = new Set<string>();
  for (let i = 0; i < HISTORY_SIZE; i++) {
    // A few orders share their millisecond with the one before.
    w.clock.advance(i % 9 === 4 ? 0 : MINUTE);
    const platform = HISTORY_PLATFORMS[Math.floor(rnd() * 3)]!;
    const country = HISTORY_COUNTRIES[Math.floor(rnd() * 3)]!;
    const r = rnd();
    const fate: Fate = i === HISTORY_SIZE - 1 ? 'nosms' : r < 0.4 ? 'complete' : r < 0.7 ? 'cancel' : 'nosms';
    dice.value = fate === 'complete' ? 0.999 : 0;
    const order = await alice.broker.order({ platform, country });
    expect(order.created_at).toBe(iso(w.clock.now()));
    if (fate === 'cancel') expect((await alice.broker.cancel(order.order_id)).status).toBe('cancelled');
    placed.push({ id: order.order_id, platform, country, created: w.clock.now(), fate });
    if (i % 4 === 0) {
      dice.value = 0.999;
      bobIds.add((await bob.broker.order({ platform, country })).order_id);
    }
  }
  await w.settle();
  const now = w.clock.now();
  const result: Placed[] = [];
  for (const p of placed) {
    const actual = (await alice.broker.getOrder(p.id)).status;
    if (p.fate === 'complete') expect(actual).toBe('completed');
    else if (p.fate === 'cancel') expect(actual).toBe('cancelled');
    else if (now - p.created > ORDER_TTL_MS) expect(actual).toBe('expired');
    else if (now - p.created < ORDER_TTL_MS) expect(actual).toBe('active');
    result.push({ id: p.id, platform: p.platform, country: p.country, created: p.created, status: actual });
  }
  // The history has every status but `failed`.
  expect(new Set(result.map((p) => p.status))).toEqual(new Set(['completed', 'cancelled', 'expired', 'active']));
  return { alice, bob, placed: result, bobIds };
}

const ALIASES: Record<string, string> = { ig: 'instagram', wa: 'whatsapp', tg: 'telegram' };

function matches(p: Placed, q: OrderQuery): boolean {
  if (q.status !== undefined && p.status !== q.status) return false;
  if (q.platform !== undefined && p.platform !== (ALIASES[q.platform] ?? q.platform)) return false;
  const country = q.country?.toLowerCase();
  if (country !== undefined && country !== 'any' && p.country !== country) return false;
  if (q.since !== undefined && p.created < Date.parse(q.since)) return false;
  if (q.until !== undefined && p.created >= Date.parse(q.until)) return false;
  return true;
}

/** Walks every page of `q` (and one past the end) and checks it against the model. */
async function checkPaging(h: History, q: OrderQuery, limit: number | undefined): Promise<void> {
  const what = JSON.stringify({ ...q, limit });
  const want = h.placed.filter((p) => matches(p, q)).sort((a, b) => b.created - a.created);
  const size = limit ?? 20;
  const pages = Math.ceil(want.length / size);
  const got: Order[] = [];
  for (let page = 1; page <= pages + 1; page++) {
    const res = await h.alice.broker.orders({ ...q, limit, page });
    expect({ total: res.total, pages: res.pages, page: res.page, limit: res.limit }, what).toEqual({ total: want.length, pages, page, limit: size });
    expect(res.orders.length, `${what} page ${page}`).toBe(page <= pages ? Math.min(size, want.length - (page - 1) * size) : 0);
    got.push(...res.orders);
  }
  const ids = got.map((o) => o.order_id);
  expect(new Set(ids).size, `${what}: duplicates across pages`).toBe(ids.length);
  for (const id of ids) expect(h.bobIds.has(id), `${what}: another account's order ${id}`).toBe(false);
  expect([...ids].sort(), what).toEqual(want.map((p) => p.id).sort());
  // Newest first: the creation times in exactly the model's order.
  expect(got.map((o) => o.created_at), what).toEqual(want.map((p) => iso(p.created)));
  const byId = new Map(h.placed.map((p) => [p.id, p]));
  for (const o of got) {
    const p = byId.get(o.order_id)!;
    expect([o.status, o.platform, o.country], what).toEqual([p.status, p.platform, p.country]);
  }
}

// ── the delivery-rate guard ───────────────────────────────────────────────

const WA_GB = { platform: 'whatsapp', country: 'gb' } as const;
const WA_US = { platform: 'whatsapp', country: 'us' } as const;

/** `n` orders there, each cancelled before any SMS, `gapMs` apart (the first one at the clock's time). */
async function undelivered(w: World, broker: Broker, where: { platform: string; country: string }, n: number, gapMs = 0): Promise<void> {
  for (let i = 0; i < n; i++) {
    if (i > 0) w.clock.advance(gapMs);
    const order = await broker.order(where);
    expect(order.status).toBe('active');
    expect(await broker.cancel(order.order_id)).toMatchObject({ status: 'cancelled', code: null, refunded: true });
  }
}

function expectGuardRefusal(err: TnError, liftsAt: string, where: { platform: string; country: string } = WA_GB): void {
  expect([err.code, err.status, err.exitCode]).toEqual(['delivery_rate_low', 429, 7]);
  expect(err.details).toMatchObject({ lifts_at: liftsAt, ...where });
  expect(err.message).toContain(liftsAt);
}

// ── prices ────────────────────────────────────────────────────────────────

const itemOf = (list: PriceList, platform: string, country: string) => list.items.find((i) => i.platform === platform && i.country === country)!;

describe.each([
  ['embedded', embedded],
  ['remote over HTTP', remote],
] as const)('issue 6 on the broker: %s', (_name, setup) => {
  let world: World | undefined;
  const start = async (options: WorldOptions = {}): Promise<World> => {
    world = await setup(options);
    return world;
  };
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  describe('order history', () => {
    it('pages are exact across every filter, newest first, and hold only the caller\'s orders', async () => {
      // The guard is another test's concern: here it would refuse a run of unlucky orders.
      const w = await start({ simulator: HISTORY_SIMULATOR, deliveryGuard: false });
      const h = await buildHistory(w);
      const t = (i: number): string => iso(h.placed[i]!.created);

      // Default page: the 20 newest.
      const first = await h.alice.broker.orders();
      expect({ page: first.page, limit: first.limit, pages: first.pages, total: first.total }).toEqual({ page: 1, limit: 20, pages: 3, total: HISTORY_SIZE });

      const queries: OrderQuery[] = [
        {},
        ...ORDER_STATUSES.map((status) => ({ status })),
        ...HISTORY_PLATFORMS.map((platform) => ({ platform })),
        ...HISTORY_COUNTRIES.map((country) => ({ country })),
        { platform: 'ig' },
        { country: 'GB' },
        { country: 'any' },
        { platform: 'whatsapp', country: 'gb', status: 'completed' },
        { platform: 'telegram', status: 'cancelled' },
        { since: t(20) },
        { until: t(30) },
        { since: t(10), until: t(40), status: 'completed' },
        { since: t(13), until: t(13) },
        { since: '2026-11-21' },
        { until: '2026-11-21' },
        { since: '2026-11-21T12:30:30Z' },
        { until: '2026-11-21T13:30:00+01:00', country: 'us' },
      ];
      for (const q of queries) for (const limit of [undefined, 7, 100]) await checkPaging(h, q, limit);
      // `failed`: nothing matches, and that is exact too.
      expect(await h.alice.broker.orders({ status: 'failed' })).toEqual({ orders: [], page: 1, limit: 20, pages: 0, total: 0 });

      // Any mix of filters and page sizes.
      const idx = fc.integer({ min: 0, max: HISTORY_SIZE - 1 });
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            status: fc.option(fc.constantFrom(...ORDER_STATUSES), { nil: undefined }),
            platform: fc.option(fc.constantFrom(...HISTORY_PLATFORMS), { nil: undefined }),
            country: fc.option(fc.constantFrom(...HISTORY_COUNTRIES), { nil: undefined }),
            since: fc.option(idx, { nil: undefined }),
            until: fc.option(idx, { nil: undefined }),
            limit: fc.integer({ min: 1, max: 100 }),
          }),
          async ({ since, until, limit, ...rest }) => {
            const q: OrderQuery = { ...rest };
            if (since !== undefined) q.since = t(since);
            if (until !== undefined) q.until = t(until);
            await checkPaging(h, q, limit);
          },
        ),
        { numRuns: 25, seed: 6 },
      );

      // Bob sees his orders and only his.
      const bobs = await h.bob.broker.orders({ limit: 100 });
      expect(bobs.total).toBe(h.bobIds.size);
      expect(new Set(bobs.orders.map((o) => o.order_id))).toEqual(h.bobIds);
    });

    it('rejects a page size above 100, pages below 1, an unknown status and a bad ISO time with 400', async () => {
      const w = await start({ simulator: { delayMs: 0 } });
      const { broker } = await w.account();
      await broker.order({ platform: 'instagram' });
      const bad: OrderQuery[] = [
        { limit: 101 },
        { limit: 1000 },
        { limit: 0 },
        { limit: -5 },
        { page: 0 },
        { page: -1 },
        { page: 1.5 },
        { status: 'bogus' },
        { status: 'COMPLETED' },
        { since: 'yesterday' },
        { since: '2026-13-45' },
        { until: '21/11/2026' },
      ];
      for (const q of bad) {
        const err = await failure(broker.orders(q));
        expect([err.code, err.status, err.exitCode], JSON.stringify(q)).toEqual(['invalid_request', 400, 2]);
      }
      expect((await failure(broker.orders({ platform: 'myspace' }))).code).toBe('unknown_platform');
      expect((await failure(broker.orders({ country: 'zz' }))).code).toBe('unknown_country');
      // The limits themselves are fine.
      expect((await broker.orders({ limit: 100, page: 1 })).total).toBe(1);
      expect((await broker.orders({ limit: 1, page: 1_000 })).orders).toEqual([]);
    });
  });

  describe('the delivery-rate guard', () => {
    it('four undelivered orders pass, the fifth is refused until the oldest leaves the 24 h window', async () => {
      const w = await start({ simulator: { noSmsRate: 1 } });
      const { broker } = await w.account();
      const t0 = w.clock.now();
      expect((await broker.account()).delivery_guards).toEqual([]);
      await undelivered(w, broker, WA_GB, 4, HOUR);
      w.clock.advance(HOUR);
      const liftsAt = iso(t0 + DAY);
      const balance = (await broker.account()).balance;

      const err = await failure(broker.order(WA_GB));
      expectGuardRefusal(err, liftsAt);
      expect(err.details.retry_after).toBe(20 * 3600);
      // Every way of ordering there is refused the same; a refusal costs nothing.
      expect((await failure(broker.verify({ ...WA_GB, timeoutSeconds: 30 }))).code).toBe('delivery_rate_low');
      const batch = await broker.batch([WA_GB, { platform: 'telegram', country: 'gb' }]);
      expect(batch.results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['delivery_rate_low', 'ok']);
      const account = await broker.account();
      expect(account.stats.orders).toBe(5);
      expect(account.balance).toBe(Math.round((balance - 0.3) * 100) / 100);
      expect(account.delivery_guards).toEqual([{ platform: 'whatsapp', country: 'gb', ended: 4, delivered: 0, lifts_at: liftsAt }]);

      // Still refused a millisecond before it lifts...
      w.clock.t = t0 + DAY - 1;
      expectGuardRefusal(await failure(broker.order(WA_GB)), liftsAt);
      // ...and allowed once the first order has left the window: three failures in 24 h are below the threshold.
      w.clock.t = t0 + DAY + 1;
      expect((await broker.account()).delivery_guards).toEqual([]);
      expect(await broker.order(WA_GB)).toMatchObject({ ...WA_GB, status: 'active' });
    });

    it('one delivered SMS in 14 ended orders (7.1%) lets orders through; one more failure (6.7%) stops them', async () => {
      const w = await start({ simulator: { delayMs: MINUTE } });
      const { broker } = await w.account();
      const t0 = w.clock.now();
      const delivered = await broker.order(WA_GB);
      w.clock.advance(MINUTE + 1);
      expect((await broker.getOrder(delivered.order_id)).status).toBe('completed');
      // 13 cancelled before their SMS was due.
      await undelivered(w, broker, WA_GB, 13);
      const before = await broker.account();
      expect(before.stats).toMatchObject({ orders: 14, completed: 1, cancelled: 13 });
      expect(before.delivery_guards).toEqual([]);

      const fifteenth = await broker.order(WA_GB);
      expect(fifteenth.status).toBe('active');
      await broker.cancel(fifteenth.order_id);
      // The one delivered order is the oldest: when it leaves the window the rest are 0 of 14, still
      // refused. The pause lifts only once the 13 cancelled at t0 + 1 min have left too.
      const liftsAt = iso(t0 + MINUTE + 1 + DAY);
      expectGuardRefusal(await failure(broker.order(WA_GB)), liftsAt);
      expect((await broker.account()).delivery_guards).toEqual([{ platform: 'whatsapp', country: 'gb', ended: 15, delivered: 1, lifts_at: liftsAt }]);
    });

    it('orders still waiting for their SMS are not failures; once they expire unanswered, they are', async () => {
      const w = await start({ simulator: { noSmsRate: 1 } });
      const { broker } = await w.account();
      const t0 = w.clock.now();
      for (let i = 0; i < 6; i++) expect((await broker.order(WA_GB)).status).toBe('active');
      expect((await broker.account()).delivery_guards).toEqual([]);
      w.clock.advance(ORDER_TTL_MS + 1);
      await w.settle();
      expect((await broker.orders({ status: 'expired' })).total).toBe(6);
      expectGuardRefusal(await failure(broker.order(WA_GB)), iso(t0 + DAY));
      expect((await broker.account()).delivery_guards).toMatchObject([{ platform: 'whatsapp', country: 'gb', ended: 6, delivered: 0 }]);
    });

    it('the lift time it names is when orders are allowed again, however many failures the window holds', async () => {
      const w = await start({ simulator: { noSmsRate: 1 } });
      const { broker } = await w.account();
      const t0 = w.clock.now();
      const gap = 40_000;
      // Six orders 40 s apart, all still waiting (so all admitted), then all expired without an SMS.
      for (let i = 0; i < 6; i++) {
        if (i > 0) w.clock.advance(gap);
        expect((await broker.order(WA_GB)).status).toBe('active');
      }
      w.clock.advance(ORDER_TTL_MS);
      await w.settle();
      expect((await broker.orders({ status: 'expired' })).total).toBe(6);
      const err = await failure(broker.order(WA_GB));
      expect(err.code).toBe('delivery_rate_low');
      const named = String(err.details.lifts_at);
      const liftsAt = Date.parse(named);
      expect((await broker.account()).delivery_guards).toMatchObject([{ ended: 6, delivered: 0, lifts_at: named }]);
      // Orders are refused until then...
      w.clock.t = liftsAt - 1;
      expect((await failure(broker.order(WA_GB))).code).toBe('delivery_rate_low');
      // ...and allowed right after.
      w.clock.t = liftsAt + 1;
      const third = iso(t0 + 2 * gap + DAY);
      const next = await broker.order(WA_GB).catch((e: unknown) => e);
      expect(next instanceof TnError ? `${next.code} at ${iso(liftsAt + 1)}, after the named ${named}` : 'allowed').toBe('allowed');
      // That moment is when the third order leaves the window, leaving three failures (below the five it takes).
      expect(named).toBe(third);
    });

    it('another country or platform is not affected', async () => {
      const w = await start({ simulator: { noSmsRate: 1 } });
      const { broker } = await w.account();
      const t0 = w.clock.now();
      await undelivered(w, broker, WA_US, 4, MINUTE);
      expectGuardRefusal(await failure(broker.order(WA_US)), iso(t0 + DAY), WA_US);
      expect((await broker.order(WA_GB)).status).toBe('active');
      expect((await broker.order({ platform: 'telegram', country: 'us' })).status).toBe('active');
      // `any` country goes where orders are still allowed.
      const anywhere = await broker.order({ platform: 'whatsapp' });
      expect(anywhere.status).toBe('active');
      expect(anywhere.country).not.toBe('us');
      expect((await broker.account()).delivery_guards).toEqual([{ platform: 'whatsapp', country: 'us', ended: 4, delivered: 0, lifts_at: iso(t0 + DAY) }]);
      // Another account is not affected either.
      const other = await w.account();
      expect((await other.broker.order(WA_US)).status).toBe('active');
    });
  });

  describe('price lists', () => {
    it('agree with the prices actually charged, operator prices and tier discounts included', async () => {
      const w = await start({ simulator: { delayMs: MINUTE } });
      // Silver: 20 completed orders.
      const silver = await w.account(50 * USD);
      for (let i = 0; i < 20; i++) await silver.broker.order({ platform: 'instagram', country: 'us' });
      w.clock.advance(MINUTE + 1);
      await w.settle();
      expect(await silver.broker.account()).toMatchObject({ tier: 'Silver', discount_percent: 5, completed_orders: 20 });
      const standard = await w.account(50 * USD);
      expect(await standard.broker.account()).toMatchObject({ tier: 'Standard', discount_percent: 0 });

      expect(await w.core.setPrice('whatsapp', 'gb', 400_000)).toEqual({ platform: 'whatsapp', country: 'gb', price: 0.4 });
      await w.core.setPrice('whatsapp', '*', 300_000);
      await w.core.setPrice('telegram', 'fr', 170_000);

      for (const [who, factor] of [
        [standard, 1],
        [silver, 0.95],
      ] as const) {
        const byCountry = await who.broker.prices({ by: 'country', platform: 'whatsapp' });
        expect(byCountry).toMatchObject({ by: 'country', platform: 'whatsapp' });
        expect(byCountry.items.map((i) => [i.platform, i.country, i.price])).toEqual([
          ['whatsapp', 'ca', 0.3],
          ['whatsapp', 'fr', 0.3],
          ['whatsapp', 'gb', 0.4],
          ['whatsapp', 'us', 0.3],
        ]);
        const byService = await who.broker.prices({ by: 'service', country: 'gb' });
        expect(byService).toMatchObject({ by: 'service', country: 'gb' });
        expect(byService.items.map((i) => i.platform)).toEqual(PLATFORMS.map((p) => p.id));
        for (const p of PLATFORMS) {
          expect(itemOf(byService, p.id, 'gb').price).toBe(p.id === 'whatsapp' ? 0.4 : p.price / USD);
        }
        expect(itemOf(await who.broker.prices({ by: 'service', country: 'fr' }), 'telegram', 'fr').price).toBe(0.17);
        for (const item of [...byCountry.items, ...byService.items]) {
          expect(item.your_price, `${item.platform}/${item.country}`).toBeCloseTo(item.price * factor, 6);
          const order = await who.broker.order({ platform: item.platform, country: item.country });
          expect(order.price, `${item.platform}/${item.country} charged`).toBe(item.your_price);
        }
      }
      // Silver paid its discounted prices, Standard the list prices (nothing completed in between).
      expect((await silver.broker.account()).tier).toBe('Silver');
      expect((await standard.broker.account()).tier).toBe('Standard');
      // An operator price removed: back to the catalogue's.
      await w.core.setPrice('whatsapp', 'gb', null);
      await w.core.setPrice('whatsapp', '*', null);
      expect(itemOf(await standard.broker.prices({ by: 'service', country: 'gb' }), 'whatsapp', 'gb').your_price).toBe(0.25);
      expect((await standard.broker.order(WA_GB)).price).toBe(0.25);
    });

    it('stock goes down by one per active order and back up when one is cancelled', async () => {
      const w = await start({ simulator: { delayMs: MINUTE } });
      const { broker } = await w.account();
      const stock = async (platform: string, country: string): Promise<number> =>
        itemOf(await broker.prices({ by: 'service', country }), platform, country).stock;
      const before = await broker.prices({ by: 'service', country: 'fr' });
      const wa = itemOf(before, 'whatsapp', 'fr').stock;
      const tg = itemOf(before, 'telegram', 'fr').stock;
      expect(wa).toBeGreaterThan(0);
      const orders = [];
      for (let i = 0; i < 3; i++) orders.push(await broker.order({ platform: 'whatsapp', country: 'fr' }));
      await broker.order({ platform: 'telegram', country: 'fr' });
      const after = await broker.prices({ by: 'service', country: 'fr' });
      expect(itemOf(after, 'whatsapp', 'fr').stock).toBe(wa - 3);
      expect(itemOf(after, 'telegram', 'fr').stock).toBe(tg - 1);
      for (const item of after.items.filter((i) => i.platform !== 'whatsapp' && i.platform !== 'telegram')) {
        expect(item.stock).toBe(itemOf(before, item.platform, 'fr').stock);
      }
      expect(itemOf(await broker.prices({ by: 'country', platform: 'whatsapp' }), 'whatsapp', 'fr').stock).toBe(wa - 3);
      await broker.cancel(orders[0]!.order_id);
      expect(await stock('whatsapp', 'fr')).toBe(wa - 2);
    });

    it('by=country needs a platform, by=service a country (not "any"); unknown names are errors', async () => {
      const w = await start();
      const { broker } = await w.account();
      const bad: unknown[] = [{ by: 'country' }, { by: 'service' }, { by: 'service', country: 'any' }, { by: 'service', country: 'ANY' }, { by: 'planet', country: 'gb' }];
      for (const q of bad) {
        const err = await broker.prices(q as PriceQuery).then(
          (list) => new Error(`answered ${JSON.stringify(list).slice(0, 60)}…`),
          (e: unknown) => e,
        );
        expect.soft(err instanceof TnError ? [err.code, err.status, err.exitCode] : String(err), JSON.stringify(q)).toEqual(['invalid_request', 400, 2]);
      }
      const platform = await failure(broker.prices({ by: 'country', platform: 'myspace' }));
      expect([platform.code, platform.status]).toEqual(['unknown_platform', 400]);
      expect((await failure(broker.prices({ by: 'service', country: 'zz' }))).code).toBe('unknown_country');
      // Aliases and names work as everywhere else.
      expect((await broker.prices({ by: 'country', platform: 'wa' })).platform).toBe('whatsapp');
      expect((await broker.prices({ by: 'service', country: 'GB' })).country).toBe('gb');
    });
  });
});

// ── what only HTTP has ────────────────────────────────────────────────────

describe('issue 6 over HTTP', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  const get = async (url: string, apiKey?: string): Promise<{ status: number; body: { error?: Record<string, unknown> } & Record<string, unknown> }> => {
    const res = await fetch(url, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} });
    return { status: res.status, body: (await res.json()) as { error?: Record<string, unknown> } };
  };

  it('a guard refusal is a 429 delivery_rate_low, which the client reports at once without retrying', async () => {
    const w = (world = await remote({ simulator: { noSmsRate: 1 } }));
    const { broker, apiKey } = await w.account();
    const t0 = w.clock.now();
    await undelivered(w, broker, WA_GB, 4);
    const liftsAt = iso(t0 + DAY);

    const res = await fetch(`${w.url}/api/v1/order`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(WA_GB),
    });
    expect(res.status).toBe(429);
    expect(await res.json()).toEqual({
      error: expect.objectContaining({ code: 'delivery_rate_low', status: 429, message: expect.stringContaining(liftsAt), lifts_at: liftsAt }),
    });

    const orderPosts = (): number => w.seen.filter((s) => s === 'POST /api/v1/order').length;
    const sent = orderPosts();
    const started = performance.now();
    expectGuardRefusal(await failure(broker.order(WA_GB)), liftsAt);
    expect(orderPosts()).toBe(sent + 1);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('the routes answer 400 invalid_request for bad paging, filters and price queries; 401 without a key', async () => {
    const w = (world = await remote({ simulator: { delayMs: 0 } }));
    const { apiKey } = await w.account();
    for (const query of ['limit=101', 'limit=0', 'page=0', 'page=-1', 'page=abc', 'status=bogus', 'since=yesterday', 'until=2026-99-01', 'colour=red']) {
      const r = await get(`${w.url}/api/v1/orders?${query}`, apiKey);
      expect([r.status, r.body.error?.code, r.body.error?.status], query).toEqual([400, 'invalid_request', 400]);
    }
    expect((await get(`${w.url}/api/v1/orders`)).status).toBe(401);
    const ok = await get(`${w.url}/api/v1/orders?limit=100&page=1&status=active&since=2026-11-21`, apiKey);
    expect([ok.status, ok.body]).toEqual([200, { orders: [], page: 1, limit: 100, pages: 0, total: 0 }]);

    for (const query of ['', 'by=country', 'by=service', 'by=service&country=any', 'by=planet&country=gb', 'by=country&platform=whatsapp&colour=red']) {
      const r = await get(`${w.url}/api/v1/prices?${query}`);
      expect([r.status, r.body.error?.code], query).toEqual([400, 'invalid_request']);
    }
    const unknown = await get(`${w.url}/api/v1/prices?by=country&platform=myspace`);
    expect([unknown.status, unknown.body.error?.code]).toEqual([400, 'unknown_platform']);
    // Without a key the list is public: your_price is the list price.
    await w.core.setPrice('whatsapp', 'gb', 400_000);
    const pub = await get(`${w.url}/api/v1/prices?by=country&platform=whatsapp`);
    expect(pub.status).toBe(200);
    expect(itemOf(pub.body as unknown as PriceList, 'whatsapp', 'gb')).toMatchObject({ price: 0.4, your_price: 0.4 });
  });
});

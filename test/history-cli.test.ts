/**
 * Issue 6 through the real binary (`node bin/tn.js`, the compiled dist/: run `npm run build`
 * first): `tn prices`, `tn orders`, `tn admin price`, and the delivery-rate guard's exit code 7.
 * Histories are written straight into the sandbox's database by a core on a `ManualClock`, then
 * read by the CLI as that account (TN_API_KEY).
 */
import { mkdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openCoreOnFile } from '../src/client/embedded.js';
import type { Order } from '../src/core/orders/order.js';
import type { SimulatorOptions } from '../src/providers/simulator.js';
import { makeSandbox, type AccountJson, type ErrorJson, type OrderJson, type RunResult, type Sandbox } from './cli-helpers.js';
import { ManualClock, fundedAccount } from './helpers.js';

const USD = 1_000_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number): string => new Date(ms).toISOString();

const outcome = (r: RunResult): { code: number | null; stdout: string; stderr: string } => ({ code: r.code, stdout: r.stdout, stderr: r.stderr });
const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');
const orderLine = (o: Order): string => [o.order_id, o.status, o.platform, o.phone, o.code ?? ''].join('\t');

interface PriceListJson {
  by: string;
  platform?: string;
  country?: string;
  items: { platform: string; country: string; price: number; your_price: number; stock: number }[];
}

interface OrderPageJson {
  orders: OrderJson[];
  page: number;
  limit: number;
  pages: number;
  total: number;
}

/** A core on the sandbox's database (as `tn` would open it) with its own clock; the caller closes it. */
function sandboxCore(tn: Sandbox, clock: ManualClock, simulator: SimulatorOptions) {
  mkdirSync(tn.dataDir, { recursive: true });
  return openCoreOnFile(tn.dbFile, { clock, simulator });
}

describe.concurrent('tn prices and tn admin price', () => {
  it('piped, prints a header line then one TSV row per country; --json is the price list', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    const set = await tn.run(['admin', 'price', 'set', 'whatsapp', 'gb', '0.40']);
    expect(outcome(set)).toMatchObject({ code: 0, stdout: '' });

    const table = await tn.run(['prices', '--by', 'country', '--platform', 'whatsapp']);
    expect(outcome(table)).toMatchObject({ code: 0 });
    expect(table.stdout).toBe(
      [
        'PLATFORM\tCOUNTRY\tPRICE\tYOUR PRICE\tSTOCK',
        'whatsapp\tca\t$0.25\t$0.25\t2800',
        'whatsapp\tfr\t$0.25\t$0.25\t10000',
        'whatsapp\tgb\t$0.40\t$0.40\t2000',
        'whatsapp\tus\t$0.25\t$0.25\t4000',
        '',
      ].join('\n'),
    );

    const json = await tn.json<PriceListJson>(['prices', '--by', 'country', '--platform', 'whatsapp']);
    expect(json.code).toBe(0);
    expect(json.body).toEqual({
      by: 'country',
      platform: 'whatsapp',
      items: [
        { platform: 'whatsapp', country: 'ca', price: 0.25, your_price: 0.25, stock: 2800 },
        { platform: 'whatsapp', country: 'fr', price: 0.25, your_price: 0.25, stock: 10000 },
        { platform: 'whatsapp', country: 'gb', price: 0.4, your_price: 0.4, stock: 2000 },
        { platform: 'whatsapp', country: 'us', price: 0.25, your_price: 0.25, stock: 4000 },
      ],
    });

    const service = await tn.json<PriceListJson>(['prices', '--by', 'service', '--country', 'gb']);
    expect(service.body).toMatchObject({ by: 'service', country: 'gb' });
    expect(service.body.items).toHaveLength(34);
    expect(service.body.items.find((i) => i.platform === 'whatsapp')).toMatchObject({ price: 0.4, your_price: 0.4 });
    // With only --platform, --by country is implied.
    expect((await tn.json<PriceListJson>(['prices', '--platform', 'wa'])).body).toMatchObject({ by: 'country', platform: 'whatsapp' });
  });

  it('usage errors exit 2: no --by, --by country without --platform, --by service without a country', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    for (const args of [['prices'], ['prices', '--by', 'country'], ['prices', '--by', 'service'], ['prices', '--by', 'service', '--country', 'any']]) {
      const r = await tn.run(args);
      expect(outcome(r), args.join(' ')).toMatchObject({ code: 2, stdout: '' });
      expect(r.stderr.trim(), args.join(' ')).not.toBe('');
    }
    const unknown = await tn.json<ErrorJson>(['prices', '--by', 'country', '--platform', 'myspace']);
    expect(unknown.code).toBe(2);
    expect(unknown.body.error).toMatchObject({ code: 'unknown_platform', status: 400 });
  });

  it('admin price set, list and unset change what tn prices shows; prices are whole cents', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    expect((await tn.run(['admin', 'price', 'set', 'telegram', '*', '0.20'])).code).toBe(0);
    expect((await tn.run(['admin', 'price', 'set', 'telegram', 'fr', '0.35'])).code).toBe(0);
    expect((await tn.json(['admin', 'price', 'list'])).body).toEqual({
      prices: [
        { platform: 'telegram', country: '*', price: 0.2 },
        { platform: 'telegram', country: 'fr', price: 0.35 },
      ],
    });
    const list = await tn.json<PriceListJson>(['prices', '--by', 'country', '--platform', 'telegram']);
    expect(list.body.items.map((i) => [i.country, i.price])).toEqual([
      ['ca', 0.2],
      ['fr', 0.35],
      ['gb', 0.2],
      ['us', 0.2],
    ]);
    expect((await tn.run(['admin', 'price', 'unset', 'telegram', '*'])).code).toBe(0);
    const after = await tn.json<PriceListJson>(['prices', '--by', 'country', '--platform', 'telegram']);
    expect(after.body.items.map((i) => [i.country, i.price])).toEqual([
      ['ca', 0.3],
      ['fr', 0.35],
      ['gb', 0.3],
      ['us', 0.3],
    ]);
    const fraction = await tn.run(['admin', 'price', 'set', 'telegram', 'gb', '0.205']);
    expect(outcome(fraction)).toMatchObject({ code: 2, stdout: '' });
  });
});

describe.concurrent('tn orders', () => {
  /** Two completed orders 8 days ago; five completed and one cancelled in the last hour. */
  async function history(tn: Sandbox): Promise<{ apiKey: string; old: Order[]; recent: Order[]; cancelled: Order }> {
    const clock = new ManualClock(Date.now() - 8 * DAY);
    const core = sandboxCore(tn, clock, { delayMs: MINUTE });
    try {
      const { accountId, apiKey } = await fundedAccount(core, 10 * USD);
      const completed = async (platform: string): Promise<Order> => {
        const order = await core.order(accountId, { platform, country: 'us' });
        clock.advance(MINUTE + 1);
        const done = await core.getOrder(accountId, order.order_id);
        expect(done.status).toBe('completed');
        return done;
      };
      const old = [await completed('instagram'), await completed('telegram')];
      clock.t = Date.now() - HOUR;
      const recent: Order[] = [];
      for (const platform of ['instagram', 'telegram', 'instagram', 'discord', 'instagram']) recent.push(await completed(platform));
      const cancelled = await core.cancel(accountId, (await core.order(accountId, { platform: 'instagram', country: 'gb' })).order_id);
      return { apiKey, old, recent, cancelled };
    } finally {
      await core.close();
    }
  }

  it('--status completed --since 7d --limit 2 --page 2, piped: one order per line, tab-separated', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    const { apiKey, recent } = await history(tn);
    const env = { env: { TN_API_KEY: apiKey } };
    const args = ['orders', '--status', 'completed', '--since', '7d', '--limit', '2', '--page', '2'];
    const newest = [...recent].reverse();

    const piped = await tn.run(args, env);
    expect(outcome(piped)).toMatchObject({ code: 0 });
    expect(piped.stdout).toBe(`${orderLine(newest[2]!)}\n${orderLine(newest[3]!)}\n`);
    for (const line of lines(piped.stdout)) expect(line.split('\t')).toHaveLength(5);

    const json = await tn.json<OrderPageJson>(args, env);
    expect(json.code).toBe(0);
    expect({ ...json.body, orders: json.body.orders.map((o) => o.order_id) }).toEqual({
      orders: [newest[2]!.order_id, newest[3]!.order_id],
      page: 2,
      limit: 2,
      pages: 3,
      total: 5,
    });
    // Without --since the two old ones count too.
    expect((await tn.json<OrderPageJson>(['orders', '--status', 'completed', '--limit', '2'], env)).body).toMatchObject({ total: 7, pages: 4 });
  });

  it('piped without filters: every order, newest first, with an empty code field where none came', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    const { apiKey, old, recent, cancelled } = await history(tn);
    const r = await tn.run(['orders'], { env: { TN_API_KEY: apiKey } });
    expect(outcome(r)).toMatchObject({ code: 0 });
    expect(lines(r.stdout)).toEqual([cancelled, ...[...recent].reverse(), ...[...old].reverse()].map(orderLine));
    expect(lines(r.stdout)[0]!.split('\t')).toEqual([cancelled.order_id, 'cancelled', 'instagram', cancelled.phone, '']);
  });

  it('--limit above 100, --page 0 and a bad --since are usage errors (exit 2)', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    for (const args of [['orders', '--limit', '101'], ['orders', '--page', '0'], ['orders', '--page', '-1'], ['orders', '--since', 'yesterday'], ['orders', '--status', 'bogus']]) {
      const r = await tn.run(args);
      expect(outcome(r), args.join(' ')).toMatchObject({ code: 2, stdout: '' });
      expect(r.stderr.trim(), args.join(' ')).not.toBe('');
    }
    const json = await tn.json<ErrorJson>(['orders', '--limit', '101']);
    expect(json.code).toBe(2);
    expect(json.body.error).toMatchObject({ code: 'invalid_request', status: 400 });
  });
});

describe.concurrent('the delivery-rate guard in the CLI', () => {
  it('a refused order exits 7 with the lift time on stderr; tn account shows the guard; elsewhere orders go on', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    const t0 = Date.now() - HOUR;
    const clock = new ManualClock(t0);
    const core = sandboxCore(tn, clock, { noSmsRate: 1 });
    let apiKey: string;
    try {
      const account = await fundedAccount(core, 10 * USD);
      apiKey = account.apiKey;
      for (let i = 0; i < 4; i++) {
        const order = await core.order(account.accountId, { platform: 'whatsapp', country: 'gb' });
        await core.cancel(account.accountId, order.order_id);
        clock.advance(MINUTE);
      }
    } finally {
      await core.close();
    }
    const env = { env: { TN_API_KEY: apiKey } };
    const liftsAt = iso(t0 + DAY);

    const refused = await tn.run(['order', 'whatsapp', '--country', 'gb'], env);
    expect(outcome(refused)).toMatchObject({ code: 7, stdout: '' });
    expect(refused.stderr).toContain(liftsAt);
    const verify = await tn.run(['verify', 'whatsapp', '--country', 'gb'], env);
    expect(outcome(verify)).toMatchObject({ code: 7, stdout: '' });
    expect(verify.stderr).toContain(liftsAt);

    const json = await tn.json<ErrorJson>(['order', 'whatsapp', '--country', 'gb'], env);
    expect(json.code).toBe(7);
    expect(json.body.error).toMatchObject({ code: 'delivery_rate_low', status: 429, lifts_at: liftsAt, platform: 'whatsapp', country: 'gb' });

    const account = await tn.json<AccountJson & { delivery_guards: unknown[] }>(['account'], env);
    expect(account.body.delivery_guards).toEqual([{ platform: 'whatsapp', country: 'gb', ended: 4, delivered: 0, lifts_at: liftsAt }]);
    expect(account.body.stats.orders).toBe(4);
    const piped = await tn.run(['account'], env);
    expect(lines(piped.stdout)).toContain(`delivery_guard\twhatsapp\tgb\t0/4\t${liftsAt}`);

    // Another platform in the same country is not affected.
    const other = await tn.run(['order', 'telegram', '--country', 'gb'], env);
    expect(outcome(other)).toMatchObject({ code: 0 });
    expect(other.stdout).toMatch(/^ord_\w+\t\+44\d+\n$/);
  });
});

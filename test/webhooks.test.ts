import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { openCoreOnFile } from '../src/client/embedded.js';
import type { WebhookInfo } from '../src/core/broker.js';
import type { Order } from '../src/core/orders/order.js';
import type { OutboxEvent } from '../src/core/events/port.js';
import type { BrokerCore } from '../src/core/broker-core.js';
import type { SimulatorOptions } from '../src/providers/simulator.js';
import { buildApp, type AppOptions } from '../src/server/app.js';
import { DELIVERY_TIMEOUT_MS, RETRY_SCHEDULE_MS, WebhookDeliverer, isPublicAddress } from '../src/server/webhooks.js';
import { fundedAccount, sleep, tempDir } from './helpers.js';
import { until } from './support/process.js';
import { openSse, type SseClient } from './support/sse.js';
import { sseBlocks, startReceiver, typeOf, type Hit, type Receiver } from './support/webhooks-receiver.js';

// Webhooks as API.md §6 and issue 4 define them, checked from the receiver's side: every
// delivery must pass `standardwebhooks`' `Webhook.verify` unchanged.

const USD = 1_000_000;
/** Receivers listen on loopback: allowed here, with a retry schedule in milliseconds. */
const LOCAL = { allowPrivate: true, schedule: [0, 30, 60, 90], jitter: 0 } as const;

// ── an app on a fresh database, listening on a real port ───────────────────

interface App {
  core: BrokerCore;
  url: string;
  /** Stops the app (as `tn serve` does on SIGTERM), then closes the core; also done after each test. */
  close(): Promise<void>;
}

const closers: (() => Promise<void>)[] = [];
// Registered after the receivers' and the temp dirs' hooks, so it runs first: apps stop before receivers go.
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function startApp(options: { webhooks?: AppOptions['webhooks']; simulator?: SimulatorOptions; orderTtlMs?: number } = {}): Promise<App> {
  const file = join(tempDir('tn-webhooks-'), 'tn.db');
  const core = openCoreOnFile(file, { simulator: { delayMs: 20, ...options.simulator }, orderTtlMs: options.orderTtlMs });
  const release = new AbortController();
  const app = await buildApp({
    core,
    version: 'test',
    release: release.signal,
    logger: false,
    rateLimits: { perKeyPerSecond: 0, registerPerHour: 0 },
    webhooks: options.webhooks ?? LOCAL,
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      release.abort();
      await app.close();
      await core.close();
    })());
  closers.push(close);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { core, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close };
}

interface Res<T> {
  status: number;
  body: T;
}
type Call = <T = unknown>(method: string, path: string, body?: unknown) => Promise<Res<T>>;

function client(base: string, apiKey: string): Call {
  return async <T,>(method: string, path: string, body?: unknown): Promise<Res<T>> => {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? null : JSON.parse(text)) as T };
  };
}

interface Account {
  accountId: string;
  apiKey: string;
  call: Call;
}

/** An account with `credit` micro-USD; with a receiver, its webhook points there and the receiver holds the secret. */
async function account(t: App, credit: number, receiver?: Receiver, path = '/hook'): Promise<Account> {
  const { accountId, apiKey } = await fundedAccount(t.core, credit);
  const call = client(t.url, apiKey);
  if (receiver) {
    const set = await call<{ url: string; secret: string }>('PUT', '/webhook', { url: `${receiver.url}${path}` });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    receiver.secrets = [set.body.secret];
  }
  return { accountId, apiKey, call };
}

async function order(a: Account, platform = 'instagram'): Promise<Order> {
  const res = await a.call<Order>('POST', '/order', { platform, country: 'us' });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function webhookInfo(a: Account): Promise<WebhookInfo> {
  const res = await a.call<WebhookInfo>('GET', '/webhook');
  expect(res.status).toBe(200);
  return res.body;
}

async function sendTest(a: Account): Promise<string> {
  const res = await a.call<{ webhook_id: string; type: string }>('POST', '/webhook/test');
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.type).toBe('webhook.test');
  return res.body.webhook_id;
}

const typed = (hits: readonly Hit[], type: string): Hit[] => hits.filter((h) => typeOf(h) === type);
const count = (hits: readonly Hit[], type: string): number => typed(hits, type).length;

/** Every hit: a POST that `standardwebhooks` accepts with every secret the receiver held, in the §6 shape. */
function expectVerified(hits: readonly Hit[]): void {
  expect(hits.length).toBeGreaterThan(0);
  for (const h of hits) {
    const what = `${h.id} ${h.body.slice(0, 80)}`;
    expect(h.method, what).toBe('POST');
    expect(h.secrets.length, what).toBeGreaterThan(0);
    expect(h.verified, `${what}: ${h.errors.join('; ')}`).toEqual(h.secrets.map(() => true));
    expect(h.id, what).toMatch(/^msg_[A-Za-z0-9]+$/);
    expect(Math.abs(Number(h.timestamp) - h.at / 1000), what).toBeLessThan(10);
    expect(h.signature, what).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}( v1,[A-Za-z0-9+/]+={0,2})*$/);
    expect(h.headers['content-type'], what).toMatch(/^application\/json/);
    expect(h.payload, what).not.toBeNull();
    expect(Object.keys(h.payload!).sort(), what).toEqual(['data', 'timestamp', 'type']);
    expect(new Date(h.payload!.timestamp).toISOString(), what).toBe(h.payload!.timestamp);
  }
}

/**
 * Waits until every request the receiver saw is logged as an attempt and none is pending: the
 * worker is then idle, so closing the app does not race a delivery in flight.
 */
async function settle(a: Account, r: Receiver): Promise<void> {
  await until(
    async () => {
      const log = (await webhookInfo(a)).recent_deliveries;
      return log.length >= Math.min(r.hits.length, 20) && log.every((d) => d.state !== 'pending');
    },
    5000,
    'every attempt logged',
  );
}

async function outbox(t: App, accountId: string, after = 0): Promise<OutboxEvent[]> {
  return t.core.eventsAfter(accountId, after);
}

// ── 1. every event type verifies ───────────────────────────────────────────

describe('deliveries verify with the standardwebhooks library, unchanged', () => {
  it('sms.received carries the order; balance.low comes once per crossing below $1.00, again after climbing back', async () => {
    const t = await startApp();
    const r = await startReceiver();
    const a = await account(t, 1_200_000, r);

    // $1.20 → $1.08 → $0.96 (crosses below $1.00) → $0.84 (still below: nothing new)
    const orders: Order[] = [];
    for (let i = 0; i < 3; i++) orders.push(await order(a));
    await r.waitFor((hits) => count(hits, 'sms.received') >= 3 && count(hits, 'balance.low') >= 1, 5000, '3 sms.received and a balance.low');

    // Above the threshold again ($1.34) re-arms it: $1.22 → $1.10 → $0.98 crosses a second time.
    await t.core.credit(a.accountId, 500_000);
    for (let i = 0; i < 3; i++) orders.push(await order(a));
    await r.waitFor((hits) => count(hits, 'sms.received') >= 6 && count(hits, 'balance.low') >= 2, 5000, '6 sms.received and 2 balance.low');
    const testId = await sendTest(a);
    await r.waitFor((hits) => hits.some((h) => h.id === testId), 5000, 'webhook.test');
    await sleep(150);

    expectVerified(r.hits);
    expect(r.hits.every((h) => h.status === 200)).toBe(true);
    expect(new Set(r.hits.map((h) => h.id)).size).toBe(r.hits.length);
    expect(typed(r.hits, 'balance.low').map((h) => h.payload!.data)).toEqual([
      { balance: 0.96, threshold: 1 },
      { balance: 0.98, threshold: 1 },
    ]);
    for (const o of orders) {
      const got = typed(r.hits, 'sms.received').filter((h) => (h.payload!.data as Order).order_id === o.order_id);
      expect(got, o.order_id).toHaveLength(1);
      const now = await a.call<Order>('GET', `/order/${o.order_id}`);
      expect(now.body.status).toBe('completed');
      expect(now.body.code).toMatch(/^\d{6}$/);
      expect(got[0]!.payload!.data).toEqual(now.body);
    }
    const test = r.hits.find((h) => h.id === testId)!;
    expect(test.payload!.type).toBe('webhook.test');

    // The receiver got exactly the outbox, in its order, byte for byte.
    const events = await outbox(t, a.accountId);
    expect(r.hits.map((h) => h.id)).toEqual(events.map((e) => e.msgId));
    expect(r.hits.map((h) => h.body)).toEqual(events.map((e) => e.payload));
    expect(events.map((e) => e.type).sort()).toEqual(['balance.low', 'balance.low', ...Array<string>(6).fill('sms.received'), 'webhook.test']);
  });

  it('concurrent orders that cross the threshold together emit one balance.low; refused orders emit nothing', async () => {
    const t = await startApp();
    const r = await startReceiver();
    const a = await account(t, 1_200_000, r);
    // $1.20 buys exactly ten $0.12 orders: two of twelve are refused with 402.
    const results = await Promise.all(Array.from({ length: 12 }, () => a.call<Order>('POST', '/order', { platform: 'instagram', country: 'us' })));
    expect(results.map((x) => x.status).sort()).toEqual([...Array<number>(10).fill(201), 402, 402]);
    await r.waitFor((hits) => count(hits, 'sms.received') >= 10, 5000, 'ten sms.received');
    await sleep(150);
    expectVerified(r.hits);
    expect(typed(r.hits, 'balance.low').map((h) => h.payload!.data)).toEqual([{ balance: 0.96, threshold: 1 }]);
    const events = await outbox(t, a.accountId);
    expect(events.map((e) => e.type).sort()).toEqual(['balance.low', ...Array<string>(10).fill('sms.received')]);
    expect(r.hits.map((h) => h.id)).toEqual(events.map((e) => e.msgId));
    await settle(a, r);
  });

  it('order.failed for an order that expires and for a verify that times out, and none for a cancel by the owner', async () => {
    const t = await startApp({ simulator: { noSmsRate: 1 }, orderTtlMs: 400 });
    const r = await startReceiver();
    const a = await account(t, 5 * USD, r);

    const expiring = await order(a, 'telegram');
    const cancelled = await order(a, 'instagram');
    const cancel = await a.call<Order>('POST', `/order/${cancelled.order_id}/cancel`);
    expect(cancel.body.status).toBe('cancelled');
    const timedOut = await t.core.verifyWithin(a.accountId, { platform: 'whatsapp', country: 'us' }, 100);
    expect(timedOut).toMatchObject({ status: 'expired', refunded: true });

    await r.waitFor((hits) => count(hits, 'order.failed') >= 2, 5000, 'two order.failed');
    // Deliveries of one account go in order: once this test event is in, everything before it is too.
    const testId = await sendTest(a);
    await r.waitFor((hits) => hits.some((h) => h.id === testId), 5000, 'webhook.test');

    expectVerified(r.hits);
    const failed = typed(r.hits, 'order.failed').map((h) => h.payload!.data as Order);
    expect(failed.map((o) => o.order_id).sort()).toEqual([expiring.order_id, timedOut.order_id].sort());
    for (const o of failed) {
      const now = await a.call<Order>('GET', `/order/${o.order_id}`);
      expect(now.body).toMatchObject({ status: 'expired', refunded: true, code: null });
      expect(o).toEqual(now.body);
    }
    expect(r.hits.some((h) => h.body.includes(cancelled.order_id))).toBe(false);
    expect(r.hits.map((h) => typeOf(h)).sort()).toEqual(['order.failed', 'order.failed', 'webhook.test']);
  });
});

// ── 2. rotation ─────────────────────────────────────────────────────────────

describe('secret rotation', () => {
  it('after rotate-secret deliveries carry two signatures: a receiver holding the old secret and one holding the new both verify', async () => {
    const t = await startApp();
    const r = await startReceiver();
    const a = await account(t, 5 * USD, r);
    const oldSecret = r.secrets[0]!;
    expect(Buffer.from(oldSecret.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);
    expect(Buffer.from(oldSecret.slice(6), 'base64').length).toBeLessThanOrEqual(64);

    const beforeId = await sendTest(a);
    await r.waitFor((hits) => hits.some((h) => h.id === beforeId));
    const before = r.hits.find((h) => h.id === beforeId)!;
    expect(before.signature.split(' ')).toHaveLength(1);

    const rotated = await a.call<{ secret: string; previous_secret_expires_at: string }>('POST', '/webhook/rotate-secret');
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.secret;
    expect(newSecret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(newSecret).not.toBe(oldSecret);
    const info = await webhookInfo(a);
    expect(info.secret).toBe(newSecret);
    expect(info.previous_secret_expires_at).toBe(rotated.body.previous_secret_expires_at);
    const ahead = Date.parse(info.previous_secret_expires_at!) - Date.now();
    expect(Math.abs(ahead - 24 * 3600_000)).toBeLessThan(60_000);

    r.secrets = [oldSecret, newSecret];
    const after = [await sendTest(a)];
    const o = await order(a);
    await r.waitFor((hits) => hits.some((h) => h.id === after[0]) && hits.some((h) => h.body.includes(o.order_id)), 5000, 'two deliveries after rotation');
    const sent = r.hits.filter((h) => h.n > before.n);
    expect(sent.map((h) => typeOf(h))).toEqual(['webhook.test', 'sms.received']);
    expectVerified(r.hits);

    const stranger = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    for (const h of sent) {
      expect(h.signature.split(' ')).toHaveLength(2);
      // Two receivers, one holding each secret, each with the library alone.
      expect(() => new Webhook(oldSecret).verify(h.body, h.headers)).not.toThrow();
      expect(() => new Webhook(newSecret).verify(h.body, h.headers)).not.toThrow();
      expect(() => new Webhook(stranger).verify(h.body, h.headers)).toThrow();
      expect(() => new Webhook(newSecret).verify(`${h.body} `, h.headers)).toThrow();
    }
    // Before the rotation only the old secret signed.
    expect(() => new Webhook(newSecret).verify(before.body, before.headers)).toThrow();
    await settle(a, r);
  });
});

// ── 3. a receiver that fails, then recovers ────────────────────────────────

describe('retries', () => {
  it('a receiver answering 500, 500, 500, 429 then 2xx gets every event once per webhook-id, in the order of the changes, every attempt logged', async () => {
    const t = await startApp({ webhooks: { allowPrivate: true, schedule: [0, 30, 60, 90, 120, 150], jitter: 0 } });
    const script = [500, 500, 500, 429];
    const r = await startReceiver({
      answer: (hit) => {
        const status = script[hit.n];
        if (status === undefined) return { status: 200 };
        return status === 429 ? { status, headers: { 'retry-after': '0' } } : { status };
      },
    });
    // $1.10 → $0.98: the order's debit emits balance.low, then its SMS emits sms.received.
    const a = await account(t, 1_100_000, r);
    const o = await order(a);
    await until(async () => (await outbox(t, a.accountId)).length === 2, 5000, 'the sms.received event');
    const testId = await sendTest(a);
    await r.waitFor(() => r.accepted().length === 3, 5000, 'three events accepted');
    await sleep(150);

    const events = await outbox(t, a.accountId);
    expect(events.map((e) => e.type)).toEqual(['balance.low', 'sms.received', 'webhook.test']);
    expect(events[2]!.msgId).toBe(testId);
    expectVerified(r.hits);

    // Seen by the receiver: retries reuse the id; deduplicated by webhook-id, each event once, in order.
    expect(r.hits.map((h) => h.status)).toEqual([500, 500, 500, 429, 200, 200, 200]);
    expect(r.hits.slice(0, 5).map((h) => h.id)).toEqual(Array<string>(5).fill(events[0]!.msgId));
    const accepted = r.accepted();
    expect(accepted.map((h) => h.id)).toEqual(events.map((e) => e.msgId));
    expect(accepted.map((h) => h.body)).toEqual(events.map((e) => e.payload));
    for (const e of events) expect(r.hits.filter((h) => h.id === e.msgId && h.status === 200)).toHaveLength(1);
    expect(accepted[0]!.payload!.data).toEqual({ balance: 0.98, threshold: 1 });
    expect((accepted[1]!.payload!.data as Order).order_id).toBe(o.order_id);

    // The schedule is kept: each retry waits at least its delay (Retry-After: 0 adds nothing).
    const delays = [30, 60, 90, 120];
    for (let i = 1; i < 5; i++) expect(r.hits[i]!.at - r.hits[i - 1]!.at, `retry ${i}`).toBeGreaterThanOrEqual(delays[i - 1]! - 2);

    // GET /webhook lists every attempt with its status code, and the final state.
    const info = await webhookInfo(a);
    expect(info.url).toBe(`${r.url}/hook`);
    expect(info.low_balance_threshold).toBe(1);
    const attemptNo = new Map<string, number>();
    const expected = r.hits.map((h) => {
      const n = (attemptNo.get(h.id) ?? 0) + 1;
      attemptNo.set(h.id, n);
      return { webhook_id: h.id, type: typeOf(h), attempt: n, status_code: h.status, error: null, state: 'delivered' };
    });
    const log = [...info.recent_deliveries].reverse();
    expect(log.map((d) => ({ webhook_id: d.webhook_id, type: d.type, attempt: d.attempt, status_code: d.status_code, error: d.error, state: d.state }))).toEqual(
      expected,
    );
    for (const d of log) expect(Number.isNaN(Date.parse(d.attempted_at))).toBe(false);
  });

  it("keeps API.md §6's schedule and 15 s timeout by default; a receiver that never answers times out and is logged", async () => {
    expect(RETRY_SCHEDULE_MS).toEqual([0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(DELIVERY_TIMEOUT_MS).toBe(15_000);

    // The deliverer on its own, with a short timeout, against a receiver that holds every request.
    const core = openCoreOnFile(join(tempDir('tn-webhooks-'), 'tn.db'));
    closers.push(() => core.close());
    const r = await startReceiver({ answer: () => ({ status: 200, delayMs: 60_000 }) });
    const { accountId } = await fundedAccount(core, 5 * USD);
    r.secrets = [(await core.setWebhook(accountId, `${r.url}/hook`)).secret];
    const stop = new AbortController();
    const running = new WebhookDeliverer({ core, allowPrivate: true, schedule: [0], jitter: 0, timeoutMs: 300 }).run(stop.signal);
    closers.push(async () => {
      stop.abort();
      await r.close();
      await running;
    });
    const started = Date.now();
    const { webhook_id } = await core.testWebhook(accountId);
    await until(async () => (await core.webhook(accountId)).recent_deliveries.length > 0, 5000, 'the attempt logged');
    expect(Date.now() - started).toBeLessThan(3000);
    const [attempt] = (await core.webhook(accountId)).recent_deliveries;
    expect(attempt).toMatchObject({ webhook_id, status_code: null, state: 'failed' });
    expect(attempt!.error).toMatch(/timeout/i);
    expectVerified(r.hits);
  });

  it('honours Retry-After on a 429', async () => {
    const t = await startApp({ webhooks: { allowPrivate: true, schedule: [0, 30, 60], jitter: 0 } });
    const r = await startReceiver({ answer: (hit) => (hit.n === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 204 }) });
    const a = await account(t, 5 * USD, r);
    await sendTest(a);
    await r.waitFor((hits) => hits.length >= 2, 5000, 'the retry');
    expectVerified(r.hits);
    expect(r.hits[1]!.id).toBe(r.hits[0]!.id);
    expect(r.hits[1]!.at - r.hits[0]!.at).toBeGreaterThanOrEqual(950);
    await until(async () => (await webhookInfo(a)).recent_deliveries.every((d) => d.state === 'delivered'), 2000, 'delivered');
  });

  it('honours Retry-After given as an HTTP date on a 503', async () => {
    const t = await startApp({ webhooks: { allowPrivate: true, schedule: [0, 30, 60], jitter: 0 } });
    // Two seconds ahead, cut to the second by the date format: at least one second from now.
    const r = await startReceiver({
      answer: (hit) => (hit.n === 0 ? { status: 503, headers: { 'retry-after': new Date(Date.now() + 2000).toUTCString() } } : { status: 200 }),
    });
    const a = await account(t, 5 * USD, r);
    await sendTest(a);
    await r.waitFor((hits) => hits.length >= 2, 5000, 'the retry');
    await settle(a, r);
    expectVerified(r.hits);
    expect(r.hits[1]!.id).toBe(r.hits[0]!.id);
    expect(r.hits[1]!.at - r.hits[0]!.at, 'the wait Retry-After asked for').toBeGreaterThanOrEqual(950);
  });
});

describe('stopping', () => {
  it('an app stopped while a delivery is in flight lets it finish and then stops promptly', async () => {
    const t = await startApp();
    const r = await startReceiver({ answer: () => ({ status: 200, delayMs: 200 }) });
    const a = await account(t, 5 * USD, r);
    const id = await sendTest(a);
    await r.waitFor((hits) => hits.length >= 1, 5000, 'the delivery');
    const started = Date.now();
    await t.close();
    // The worker must not go back to sleep for its idle interval once told to stop.
    expect(Date.now() - started, 'time to stop').toBeLessThan(1500);
    expect(r.hits.map((h) => h.id)).toEqual([id]);
  });
});

// ── 4. 410, 3xx ─────────────────────────────────────────────────────────────

describe('410 and redirects', () => {
  it('410 disables the URL: GET /webhook says so, nothing more is sent, PUT /webhook re-enables it', async () => {
    const t = await startApp();
    let gone = true;
    const r = await startReceiver({ answer: () => ({ status: gone ? 410 : 200 }) });
    const a = await account(t, 5 * USD, r);
    const url = `${r.url}/hook`;

    const first = await sendTest(a);
    const queued = await sendTest(a);
    await r.waitFor((hits) => hits.length >= 1, 5000, 'the first delivery');
    await until(async () => (await webhookInfo(a)).disabled !== null, 5000, 'the URL disabled');
    const info = await webhookInfo(a);
    expect(info.disabled!.reason).toMatch(/410/);
    expect(Math.abs(Date.parse(info.disabled!.at) - Date.now())).toBeLessThan(10_000);
    expect(info.recent_deliveries.map((d) => [d.webhook_id, d.status_code, d.state])).toEqual([[first, 410, 'failed']]);

    // More events while disabled: none of them is sent, nor the one that was queued.
    await order(a);
    await order(a);
    await a.call('POST', '/webhook/test');
    await sleep(400);
    expect(r.hits.map((h) => [h.id, h.status])).toEqual([[first, 410]]);
    expect(r.hits.some((h) => h.id === queued)).toBe(false);
    expectVerified(r.hits);

    gone = false;
    const put = await a.call<{ url: string; secret: string }>('PUT', '/webhook', { url });
    expect(put.status).toBe(200);
    expect((await webhookInfo(a)).disabled).toBeNull();
    const again = await sendTest(a);
    await r.waitFor((hits) => hits.some((h) => h.id === again && h.status === 200), 5000, 'a delivery after re-enabling');
    expectVerified(r.hits);
    await settle(a, r);
  });

  it('3xx is a failure and is not followed: the redirect target never sees the delivery, and the attempt is retried', async () => {
    const t = await startApp({ webhooks: { allowPrivate: true, schedule: [0, 600], jitter: 0 } });
    const target = await startReceiver();
    const r = await startReceiver({ answer: (hit) => ({ status: hit.n === 0 ? 302 : 307, headers: { location: `${target.url}/elsewhere` } }) });
    const a = await account(t, 5 * USD, r);
    target.secrets = r.secrets;

    const id = await sendTest(a);
    await r.waitFor((hits) => hits.length >= 1, 5000, 'the first attempt');
    await until(async () => (await webhookInfo(a)).recent_deliveries.length === 1, 2000, 'the first attempt logged');
    const mid = await webhookInfo(a);
    // Recorded as a failure still pending a retry, not as delivered.
    expect(mid.recent_deliveries.map((d) => [d.webhook_id, d.attempt, d.status_code, d.state])).toEqual([[id, 1, 302, 'pending']]);

    await r.waitFor((hits) => hits.length >= 2, 5000, 'the retry');
    await until(async () => (await webhookInfo(a)).recent_deliveries.length === 2, 2000, 'the retry logged');
    await sleep(150);
    const end = await webhookInfo(a);
    expect([...end.recent_deliveries].reverse().map((d) => [d.webhook_id, d.attempt, d.status_code, d.state])).toEqual([
      [id, 1, 302, 'failed'],
      [id, 2, 307, 'failed'],
    ]);
    expect(target.hits).toEqual([]);
    expect(r.hits).toHaveLength(2);
    expectVerified(r.hits);
  });
});

// ── 5. the SSRF guard ───────────────────────────────────────────────────────

describe('the SSRF guard', () => {
  it('isPublicAddress refuses loopback, private, link-local, CGNAT, unspecified and IPv4-mapped addresses', () => {
    for (const address of [
      '127.0.0.1',
      '127.1.2.3',
      '::1',
      '10.0.0.1',
      '172.16.5.4',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:10.0.0.1',
      '::ffff:a9fe:a9fe',
      '0:0:0:0:0:ffff:127.0.0.1',
      'fe80::1',
      'fc00::1',
      'fd12:3456::1',
      '[::1]',
      'localhost',
      'not an address',
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
    for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '172.32.0.1', '100.128.0.1', '::ffff:8.8.8.8']) {
      expect(isPublicAddress(address), address).toBe(true);
    }
  });

  it('deliveries to loopback, private and link-local targets are refused at connect time, and let through with allowPrivate', async () => {
    const v4 = await startReceiver();
    const v6 = await startReceiver({ host: '::1' });
    const guarded = await startApp({ webhooks: { allowPrivate: false, schedule: [0], jitter: 0 } });
    const lenient = await startApp({ webhooks: { allowPrivate: true, schedule: [0], jitter: 0 } });
    const loopback = [
      { url: `http://127.0.0.1:${v4.port}/hook`, receiver: v4 },
      { url: `http://[::1]:${v6.port}/hook`, receiver: v6 },
      // A name that resolves to loopback: only a check of the address actually connected to can catch it.
      { url: `http://localhost:${v4.port}/hook`, receiver: v4 },
    ];
    const refused = [
      ...loopback.map((l) => l.url),
      `http://[::ffff:127.0.0.1]:${v4.port}/hook`,
      `http://0.0.0.0:${v4.port}/hook`,
      'http://10.0.0.1/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://100.64.0.1/hook',
      'http://192.168.1.1/hook',
    ];

    // Each target on its own account; one test event each.
    await Promise.all(
      refused.map(async (url) => {
        const { apiKey } = await fundedAccount(guarded.core, 5 * USD);
        const a = { call: client(guarded.url, apiKey) } as Account;
        const put = await a.call('PUT', '/webhook', { url });
        expect(put.status, url).toBe(200);
        const id = await sendTest(a);
        await until(async () => (await webhookInfo(a)).recent_deliveries.length > 0, 3000, `the attempt to ${url} logged`);
        const [attempt] = (await webhookInfo(a)).recent_deliveries;
        expect(attempt, url).toMatchObject({ webhook_id: id, status_code: null, state: 'failed' });
        expect(attempt!.error, url).toMatch(/public|ssrf/i);
      }),
    );
    await sleep(150);
    expect(v4.hits).toEqual([]);
    expect(v6.hits).toEqual([]);

    // The same loopback receivers, from an app that allows private targets (`--allow-private-webhooks`).
    for (const { url, receiver } of loopback) {
      const { apiKey } = await fundedAccount(lenient.core, 5 * USD);
      const a = { call: client(lenient.url, apiKey) } as Account;
      const put = await a.call<{ secret: string }>('PUT', '/webhook', { url });
      receiver.secrets = [put.body.secret];
      const id = await sendTest(a);
      await receiver.waitFor((hits) => hits.some((h) => h.id === id && h.status === 200), 5000, `the delivery to ${url}`);
      expectVerified(receiver.hits.filter((h) => h.id === id));
      await until(async () => (await webhookInfo(a)).recent_deliveries.length > 0, 3000, `the delivery to ${url} logged`);
      const [attempt] = (await webhookInfo(a)).recent_deliveries;
      expect(attempt).toMatchObject({ webhook_id: id, status_code: 200, error: null, state: 'delivered' });
    }
  });

  it('PUT /webhook refuses URLs that are not http(s) and URLs with credentials', async () => {
    const t = await startApp({ webhooks: { allowPrivate: false, schedule: [0], jitter: 0 } });
    const a = await account(t, 5 * USD);
    for (const url of ['ftp://example.com/hook', 'javascript:alert(1)', 'file:///etc/passwd', 'http://user:pw@example.com/hook', 'https://user@example.com/hook', 'not a url', '']) {
      const res = await a.call<{ error: { code: string; status: number } }>('PUT', '/webhook', { url });
      expect(res.status, url).toBe(400);
      expect(res.body.error, url).toMatchObject({ code: 'invalid_request', status: 400 });
    }
    expect((await webhookInfo(a)).url).toBeNull();
  });
});

// ── 6. the account's event stream ─────────────────────────────────────────

type Triple = [string | null, string, string];
const streams: SseClient[] = [];
afterEach(() => {
  for (const s of streams.splice(0)) s.abort();
});
const track = (s: SseClient): SseClient => {
  streams.push(s);
  return s;
};
const streamed = (s: SseClient): Triple[] => sseBlocks(s.text()).map((b) => [b.id, b.event, b.data]);
// The stream's ids are the events' webhook-ids (msg_…), so a client can resume with one and forward it as it is.
const expectedOf = (events: readonly OutboxEvent[]): Triple[] => events.map((e) => [e.msgId, e.type, e.payload]);

describe('GET /api/v1/events', () => {
  it('sends id: lines; Last-Event-ID (or ?last_event_id) replays exactly the events after it, then live ones', async () => {
    const t = await startApp();
    const a = await account(t, 1_200_000);
    const other = await account(t, 1_100_000);
    const auth = { authorization: `Bearer ${a.apiKey}` };

    const live = track(await openSse(`${t.url}/api/v1/events`, auth));
    expect(live.status).toBe(200);
    // $1.20 → 1.08 → 0.96 (balance.low) → 0.84, three sms.received; the other account's events are not ours.
    for (let i = 0; i < 3; i++) await order(a);
    await order(other);
    await until(async () => (await outbox(t, a.accountId)).length === 4 && (await outbox(t, other.accountId)).length === 2, 5000, 'four events');
    await until(() => streamed(live).length >= 4, 5000, 'four streamed events');
    await sleep(100);
    const first = await outbox(t, a.accountId);
    expect(streamed(live)).toEqual(expectedOf(first));
    expect(live.text()).toMatch(/^id: msg_\w+$/m);
    live.abort();

    // While nobody listens. Resume after the second event, with the id the stream gave it.
    const lastSeen = streamed(live)[1]![0]!;
    const n = first[1]!.id;
    await order(a);
    await order(a);
    await until(async () => (await outbox(t, a.accountId)).length === 6, 5000, 'six events');

    const resumed = track(await openSse(`${t.url}/api/v1/events`, { ...auth, 'last-event-id': lastSeen }));
    const byQuery = track(await openSse(`${t.url}/api/v1/events?last_event_id=${encodeURIComponent(lastSeen)}`, auth));
    await until(() => streamed(resumed).length >= 4 && streamed(byQuery).length >= 4, 5000, 'the replay');
    // Then live ones.
    await order(a);
    await t.core.credit(a.accountId, 100_000);
    await order(other);
    await until(async () => (await outbox(t, a.accountId)).length === 7, 5000, 'seven events');
    const expected = expectedOf(await outbox(t, a.accountId, n));
    expect(expected).toHaveLength(5);
    await until(() => streamed(resumed).length >= 5 && streamed(byQuery).length >= 5, 5000, 'the live event');
    await sleep(100);
    expect(streamed(resumed)).toEqual(expected);
    expect(streamed(byQuery)).toEqual(expected);
    resumed.abort();
    byQuery.abort();
  });

  it('reconnecting while events are being written misses none and repeats none', async () => {
    const t = await startApp();
    const a = await account(t, 10 * USD);
    const auth = { authorization: `Bearer ${a.apiKey}` };
    for (let i = 0; i < 2; i++) await order(a);
    await until(async () => (await outbox(t, a.accountId)).length === 2, 5000, 'two events');
    const [firstEvent] = await outbox(t, a.accountId);
    const n = firstEvent!.id;

    // 30 orders in flight (each will emit sms.received) while clients reconnect at staggered moments.
    const burst = Promise.all(Array.from({ length: 30 }, () => order(a)));
    const clients: SseClient[] = [];
    for (let i = 0; i < 5; i++) {
      clients.push(track(await openSse(`${t.url}/api/v1/events`, { ...auth, 'last-event-id': firstEvent!.msgId })));
      await sleep(7);
    }
    await burst;
    await until(async () => (await outbox(t, a.accountId)).length === 32, 5000, 'all 32 events');
    const expected = expectedOf(await outbox(t, a.accountId, n));
    expect(expected).toHaveLength(31);
    await until(() => clients.every((c) => streamed(c).length >= 31), 5000, 'every client caught up');
    await sleep(100);
    for (const c of clients) {
      expect(streamed(c)).toEqual(expected);
      c.abort();
    }
  });
});

import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openCoreOnFile } from '../src/client/embedded.js';
import type { WebhookInfo } from '../src/core/broker.js';
import type { Order } from '../src/core/orders/order.js';
import type { OutboxEvent } from '../src/core/events/port.js';
import { tempDir } from './helpers.js';
import { cleanEnv, killLeftovers, startServe, until, requireBuild, type ServeProcess } from './support/process.js';
import { startReceiver, typeOf, type Hit, type Receiver } from './support/webhooks-receiver.js';

// A real `tn serve` (the compiled dist/: `npm run build` first) killed with SIGKILL while webhook
// deliveries are pending, then restarted on the same database: the outbox must deliver them all.

beforeAll(requireBuild);
afterEach(killLeftovers);

const SCHEDULE = '0,100,200,300,400';

interface Home {
  env: NodeJS.ProcessEnv;
  file: string;
}

function home(): Home {
  const dir = tempDir('tn-webhooks-serve-');
  return { env: cleanEnv({ TN_CONFIG_DIR: join(dir, 'config'), TN_DATA_DIR: join(dir, 'data') }), file: join(dir, 'tn.db') };
}

const serveArgs = (file: string, simDelayMs: number): string[] => [
  '--port',
  '0',
  '--db',
  file,
  '--rate-limit',
  '0',
  '--sim-delay',
  String(simDelayMs),
  '--allow-private-webhooks',
  '--webhook-retry-schedule',
  SCHEDULE,
];

type Call = <T = unknown>(method: string, path: string, body?: unknown) => Promise<{ status: number; body: T }>;

function client(base: string, apiKey: string): Call {
  return async <T,>(method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? null : JSON.parse(text)) as T };
  };
}

/** An account on the database file, before any server runs, its webhook pointing at `url`. */
async function prepare(file: string, creditMicros: number, url: string): Promise<{ accountId: string; apiKey: string; secret: string }> {
  const core = openCoreOnFile(file);
  try {
    const reg = await core.register({ credit: creditMicros });
    const set = await core.setWebhook(reg.account_id, url);
    return { accountId: reg.account_id, apiKey: reg.api_key, secret: set.secret };
  } finally {
    await core.close();
  }
}

/** The account's outbox, read from the file (safe while a server has it open, or after it died). */
async function outboxOf(file: string, accountId: string): Promise<OutboxEvent[]> {
  const core = openCoreOnFile(file);
  try {
    return await core.eventsAfter(accountId, 0);
  } finally {
    await core.close();
  }
}

async function kill9(server: ServeProcess): Promise<void> {
  server.child.kill('SIGKILL');
  const { signal } = await server.exited;
  expect(signal).toBe('SIGKILL');
}

async function order(call: Call): Promise<Order> {
  const res = await call<Order>('POST', '/order', { platform: 'instagram', country: 'us' });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

function expectAllVerified(r: Receiver): void {
  expect(r.hits.length).toBeGreaterThan(0);
  for (const h of r.hits) {
    expect(h.verified, `${h.id}: ${h.errors.join('; ')}`).toEqual([true]);
    expect(h.payload).not.toBeNull();
  }
}

const acceptedIds = (r: Receiver): Set<string> => new Set(r.accepted().map((h) => h.id));
const seen = (hits: readonly Hit[]): string => hits.map((h) => `${h.status} ${typeOf(h)} ${h.id}`).join(', ');

describe('kill -9 with webhook deliveries pending', () => {
  it('a receiver answering 503 until the kill gets every pending event after the restart, those created during a verify in flight too', async () => {
    const h = home();
    let up = false;
    // Down, it answers 503 slowly: the kill lands well before the five tries of the schedule are spent.
    const r = await startReceiver({ answer: () => (up ? { status: 200 } : { status: 503, delayMs: 250 }) });
    const acct = await prepare(h.file, 1_200_000, `${r.url}/hook`);
    r.secrets = [acct.secret];

    const first = await startServe(serveArgs(h.file, 1500), h.env);
    const call = client(first.url, acct.apiKey);
    const before = await order(call); // $1.20 → $1.08: no event yet

    // A verify waits for its SMS (1.5 s away); its debit ($0.96) crosses below $1.00 meanwhile.
    const verify = fetch(`${first.url}/api/v1/verify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${acct.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ platform: 'instagram', country: 'us', timeout_seconds: 30 }),
    }).then(
      (res) => `answered ${res.status}`,
      () => 'cut off',
    );
    await r.waitFor((hits) => hits.length >= 1, 5000, 'the first attempt of balance.low');
    // Still during the verify: a test event queued behind it, and another order.
    const test = await call<{ webhook_id: string }>('POST', '/webhook/test');
    expect(test.status).toBe(200);
    const after = await order(call);
    await kill9(first);
    expect(await verify).toBe('cut off');

    // Nothing was delivered before the kill: every event in the outbox was pending.
    expect(r.hits.every((x) => x.status === 503), seen(r.hits)).toBe(true);
    const pending = await outboxOf(h.file, acct.accountId);
    expect(pending.map((e) => e.type)).toEqual(['balance.low', 'webhook.test']);
    expect(pending[1]!.msgId).toBe(test.body.webhook_id);

    up = true;
    const second = await startServe(serveArgs(h.file, 1500), h.env);
    const call2 = client(second.url, acct.apiKey);
    await r.waitFor(() => pending.every((e) => acceptedIds(r).has(e.msgId)), 10_000, 'every pending event');

    // The verify's order survived the kill: its SMS comes after the restart, and is delivered too.
    await r.waitFor((hits) => hits.filter((x) => x.status === 200 && typeOf(x) === 'sms.received').length >= 3, 10_000, 'three sms.received');
    const received = r
      .accepted()
      .filter((x) => typeOf(x) === 'sms.received')
      .map((x) => (x.payload!.data as Order).order_id);
    expect(received).toEqual(expect.arrayContaining([before.order_id, after.order_id]));
    expect(received).toHaveLength(3);
    const verified = received.find((id) => id !== before.order_id && id !== after.order_id)!;
    const verifyOrder = await call2<Order>('GET', `/order/${verified}`);
    expect(verifyOrder.body).toMatchObject({ status: 'completed', refunded: false });

    // Everything in the outbox arrived, in the order of the changes, and each signature verifies.
    const events = await outboxOf(h.file, acct.accountId);
    await r.waitFor(() => events.every((e) => acceptedIds(r).has(e.msgId)), 5000, 'every event');
    expect(r.accepted().map((x) => x.id)).toEqual(events.map((e) => e.msgId));
    expect(r.accepted().map((x) => x.body)).toEqual(events.map((e) => e.payload));
    expectAllVerified(r);
    await until(async () => (await call2<WebhookInfo>('GET', '/webhook')).body.recent_deliveries.every((d) => d.state === 'delivered'), 5000, 'all delivered');
    // At least once: the try cut off by the kill (the receiver saw it, answered too late) is sent again.
    expect(r.hits.filter((x) => x.id === pending[0]!.msgId).map((x) => x.status)).toEqual(expect.arrayContaining([503, 200]));
    const log = (await call2<WebhookInfo>('GET', '/webhook')).body.recent_deliveries;
    expect(log.filter((d) => d.webhook_id === pending[0]!.msgId && d.status_code === 200)).toHaveLength(1);
  });

  it('a receiver that is down (nothing listening) gets every pending event once it is up and the server restarted', async () => {
    const h = home();
    // A port that nothing listens on, for now.
    const probe = await startReceiver();
    const port = probe.port;
    await probe.close();
    const acct = await prepare(h.file, 1_100_000, `http://127.0.0.1:${port}/hook`);

    const first = await startServe(serveArgs(h.file, 1000), h.env);
    const call = client(first.url, acct.apiKey);
    const orders = [await order(call), await order(call)]; // $1.10 → $0.98 (balance.low) → $0.86
    const test = await call<{ webhook_id: string }>('POST', '/webhook/test');
    expect(test.status).toBe(200);
    // The first try failed on the closed port, and is logged so.
    await until(async () => (await call<WebhookInfo>('GET', '/webhook')).body.recent_deliveries.length > 0, 5000, 'a failed attempt');
    const log = (await call<WebhookInfo>('GET', '/webhook')).body.recent_deliveries;
    await kill9(first);
    expect(log.every((d) => d.status_code === null && d.error !== null && d.state === 'pending'), JSON.stringify(log)).toBe(true);

    const pending = await outboxOf(h.file, acct.accountId);
    expect(pending.map((e) => e.type)).toEqual(['balance.low', 'webhook.test']);

    const r = await startReceiver({ port, secrets: [acct.secret] });
    const second = await startServe(serveArgs(h.file, 1000), h.env);
    await r.waitFor(() => pending.every((e) => acceptedIds(r).has(e.msgId)), 10_000, 'every pending event');
    // The orders' SMS come after the restart; their events follow, in order.
    await r.waitFor((hits) => hits.filter((x) => x.status === 200 && typeOf(x) === 'sms.received').length >= 2, 10_000, 'two sms.received');
    const events = await outboxOf(h.file, acct.accountId);
    expect(events.map((e) => e.type)).toEqual(['balance.low', 'webhook.test', 'sms.received', 'sms.received']);
    expect(r.accepted().map((x) => x.id)).toEqual(events.map((e) => e.msgId));
    expect(
      r
        .accepted()
        .slice(2)
        .map((x) => (x.payload!.data as Order).order_id)
        .sort(),
    ).toEqual(orders.map((o) => o.order_id).sort());
    expectAllVerified(r);
    const call2 = client(second.url, acct.apiKey);
    await until(async () => (await call2<WebhookInfo>('GET', '/webhook')).body.recent_deliveries.every((d) => d.state === 'delivered'), 5000, 'all delivered');
  });
});

import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openCoreOnFile } from '../src/client/embedded.js';
import type { Order } from '../src/core/orders/order.js';
import { killLeftovers, runTn, startServe, until, requireBuild, type ServeProcess, tempHome } from './support/process.js';
import { openSse, type SseClient } from './support/sse.js';

// Real `tn serve` processes (`node bin/tn.js serve`, the compiled dist/: `npm run build` first),
// killed and stopped the hard way.

const API = '/api/v1';
const USD = 1_000_000;

beforeAll(requireBuild);
afterEach(killLeftovers);

type Home = ReturnType<typeof tempHome>;
const home = (): Home => tempHome('tn-serve-');

const serveArgs = (file: string, ...more: string[]): string[] => ['--port', '0', '--db', file, '--rate-limit', '0', ...more];

async function register(url: string): Promise<{ api_key: string; account_id: string }> {
  const res = await fetch(`${url}${API}/register`, { method: 'POST' });
  expect(res.status).toBe(201);
  return (await res.json()) as { api_key: string; account_id: string };
}

async function credit(h: Home, account: string, usd: string): Promise<void> {
  const res = await runTn(['admin', 'credit', account, usd, '--db', h.file], h.env);
  expect(res.code, res.stderr).toBe(0);
}

async function getJson<T>(url: string, key: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: (await res.json()) as T };
}

interface Account {
  balance: number;
  stats: { orders: number; completed: number; cancelled: number; expired: number; failed: number; spent: number };
}

const micros = (usd: number): number => Math.round(usd * USD);

describe('kill -9 in the middle of a stream of orders', () => {
  it('after a restart every 201 order exists with its debit, overdue ones are expired and refunded, the audit is clean', async () => {
    const h = home();
    const first = await startServe(serveArgs(h.file, '--sim-no-sms-rate', '1'), h.env);
    const { api_key: key, account_id: accountId } = await register(first.url);
    await credit(h, accountId, '50');

    // Several clients order continuously until the server dies under them.
    const created: Order[] = [];
    const unexpected: string[] = [];
    let stop = false;
    const platforms = ['instagram', 'whatsapp', 'telegram', 'facebook', 'twitter'];
    const client = async (n: number): Promise<void> => {
      for (let i = n; !stop; i += 7) {
        try {
          const res = await fetch(`${first.url}${API}/order`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ platform: platforms[i % platforms.length], country: 'any' }),
          });
          const text = await res.text();
          if (res.status === 201) created.push(JSON.parse(text) as Order);
          else unexpected.push(`${res.status} ${text}`);
        } catch {
          return; // the connection died with the server: that order may or may not exist
        }
      }
    };
    const clients = Array.from({ length: 7 }, (_, n) => client(n));
    await until(() => created.length >= 120, 10_000, '120 orders');
    first.child.kill('SIGKILL');
    stop = true;
    await Promise.all(clients);
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(unexpected).toEqual([]);
    expect(created.length).toBeGreaterThanOrEqual(120);

    // While it was down, half of the orders passed their expires_at (instead of waiting 300 s, move
    // their expiry into the past on the file, as the clock would have).
    const overdue = new Set(created.filter((_, i) => i % 2 === 0).map((o) => o.order_id));
    {
      const db = new Database(h.file);
      const past = db.prepare('UPDATE orders SET expires_at = ? WHERE id = ?');
      db.transaction(() => {
        for (const id of overdue) expect(past.run(Date.now() - 1000, id).changes).toBe(1);
      })();
      db.close();
    }

    const second = await startServe(serveArgs(h.file, '--sim-no-sms-rate', '1'), h.env);
    // The restarted server's own sweep expires them, before anyone reads them.
    {
      const db = new Database(h.file, { readonly: true });
      const expired = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM orders WHERE status = 'expired' AND refunded = 1");
      await until(() => expired.get()!.n === overdue.size, 5000, 'the sweep to expire the overdue orders');
      db.close();
    }
    for (const o of created) {
      const { status, body } = await getJson<Order>(`${second.url}${API}/order/${o.order_id}`, key);
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body).toMatchObject({ order_id: o.order_id, phone: o.phone, price: o.price, platform: o.platform });
      if (overdue.has(o.order_id)) expect(body, o.order_id).toMatchObject({ status: 'expired', refunded: true });
      else expect(body, o.order_id).toMatchObject({ status: 'active', refunded: false });
    }

    const { body: account } = await getJson<Account>(`${second.url}${API}/account`, key);
    // Orders whose 201 was lost with the connection may exist too, each with its debit.
    expect(account.stats.orders).toBeGreaterThanOrEqual(created.length);
    expect(account.stats.orders).toBeLessThanOrEqual(created.length + 7);
    expect(account.stats.expired).toBe(overdue.size);
    expect(micros(account.balance) + micros(account.stats.spent)).toBe(50 * USD);

    // The ledger: one debit of the price for every 201, one refund for every overdue order.
    {
      const db = new Database(h.file, { readonly: true });
      const entries = db.prepare<[string], { kind: string; amount: number }>("SELECT kind, amount FROM ledger WHERE order_id = ? ORDER BY id");
      for (const o of created) {
        const expected = [{ kind: 'order_debit', amount: -micros(o.price) }];
        if (overdue.has(o.order_id)) expected.push({ kind: 'refund', amount: micros(o.price) });
        expect(entries.all(o.order_id), o.order_id).toEqual(expected);
      }
      db.close();
    }

    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    const audit = await runTn(['admin', 'audit', '--db', h.file, '--json'], h.env);
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);
    expect(JSON.parse(audit.stdout)).toMatchObject({ ok: true, violations: [] });

    // The request logs (stdout) never show the key.
    expect(first.stdout() + second.stdout()).not.toContain(key);
  });
});

describe('graceful shutdown with waits open', () => {
  it('SIGTERM: every long poll and every stream gets an answer, the process exits 0, the database is closed cleanly', async () => {
    const h = home();
    const server: ServeProcess = await startServe(serveArgs(h.file, '--sim-no-sms-rate', '1'), h.env);
    const { api_key: key, account_id: accountId } = await register(server.url);
    await credit(h, accountId, '10');
    const json = { 'content-type': 'application/json' };

    // Five verify long polls, the key passed each of the three ways.
    const auths: { headers: Record<string, string>; body: Record<string, string> }[] = [
      { headers: { authorization: `Bearer ${key}` }, body: {} },
      { headers: { 'x-api-key': key }, body: {} },
      { headers: {}, body: { api_key: key } },
      { headers: { authorization: `Bearer ${key}` }, body: {} },
      { headers: { 'x-api-key': key }, body: {} },
    ];
    const verifies = auths.map(async (a) => {
      try {
        const res = await fetch(`${server.url}${API}/verify`, {
          method: 'POST',
          headers: { ...json, ...a.headers },
          body: JSON.stringify({ platform: 'telegram', timeout_seconds: 60, ...a.body }),
        });
        return { status: res.status, body: await res.text() };
      } catch (err) {
        return { status: 0, body: `no answer: ${String(err)} ${String((err as { cause?: unknown }).cause)}` };
      }
    });

    // Three streams of active orders, each past its first event.
    const streams: SseClient[] = [];
    const streamed: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${server.url}${API}/order`, { method: 'POST', headers: { ...json, authorization: `Bearer ${key}` }, body: '{"platform":"whatsapp"}' });
      expect(res.status).toBe(201);
      const order = (await res.json()) as Order;
      streamed.push(order.order_id);
      const stream = await openSse(`${server.url}${API}/order/${order.order_id}/stream`, { authorization: `Bearer ${key}` });
      expect(stream.status).toBe(200);
      await stream.waitFor((events) => events.length >= 1);
      streams.push(stream);
    }
    // An account-wide event stream, too.
    const events = await openSse(`${server.url}${API}/events`, { 'x-api-key': key });
    expect(events.status).toBe(200);

    // Every verify has its order: they are all waiting now.
    await until(async () => (await getJson<Account>(`${server.url}${API}/account`, key)).body.stats.orders === 8, 5000, 'the verify orders');
    await new Promise((r) => setTimeout(r, 150));

    const stopping = Date.now();
    server.child.kill('SIGTERM');

    for (const answer of await Promise.all(verifies)) {
      expect(answer.status, answer.body).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ status: 'active', refunded: false, code: null });
    }
    // Each stream closes cleanly without `end`: the order has not ended, so a client reconnects and follows it on.
    for (const [i, stream] of streams.entries()) {
      expect(await stream.ended, stream.text()).toBe('closed');
      expect(stream.events.map((e) => e.event), stream.text()).not.toContain('end');
      expect(stream.events[0]!.data).toMatchObject({ order_id: streamed[i], status: 'active' });
    }
    expect(await events.ended, events.text()).toBe('closed');

    const exit = await server.exited;
    expect(exit, server.stderr()).toEqual({ code: 0, signal: null });
    expect(Date.now() - stopping).toBeLessThan(10_000);

    // Closed cleanly: the last connection checkpointed and removed the WAL; the file reopens and audits clean.
    expect(existsSync(`${h.file}-wal`)).toBe(false);
    const core = openCoreOnFile(h.file);
    try {
      const report = await core.audit();
      expect(report.violations).toEqual([]);
      expect(report.orders).toBe(8);
      // Nothing was cancelled or refunded by the shutdown: the orders are still waiting for their SMS.
      const account = await core.account(accountId);
      expect(account.stats).toMatchObject({ orders: 8, cancelled: 0, expired: 0, failed: 0 });
      expect(micros(account.balance)).toBe(10 * USD - 5 * 300_000 - 3 * 250_000);
    } finally {
      await core.close();
    }
    const audit = await runTn(['admin', 'audit', '--db', h.file], h.env);
    expect(audit.code, audit.stderr).toBe(0);

    // After the stop nobody is listening.
    await expect(fetch(`${server.url}${API}/health`)).rejects.toThrow();
    expect(server.stdout()).not.toContain(key);
    for (const line of server.stdout().split('\n').filter(Boolean)) expect(() => JSON.parse(line), line).not.toThrow();
  });
});

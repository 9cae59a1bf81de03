/**
 * Issue 14 with real processes: two `tn serve` instances on one PostgreSQL act as one broker. An
 * SMS that reaches instance A completes a verify, an order stream and `/events` held open on
 * instance B; an instance killed with SIGKILL leaves no due work undone and none done twice.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanEnv, killLeftovers, runTn, startServe, type ServeProcess, stopServe } from './support/process.js';
import { freshPostgres } from './support/postgres.js';
import { openSse } from './support/sse.js';

const API = '/api/v1';

afterEach(killLeftovers);

interface Setup {
  url: string;
  env: NodeJS.ProcessEnv;
  tn(...args: string[]): Promise<Record<string, unknown>>;
}

async function setup(onFinished: (fn: () => Promise<void>) => void): Promise<Setup> {
  const url = await freshPostgres(onFinished);
  const dir = mkdtempSync(join(tmpdir(), 'tn-scale-'));
  const env = cleanEnv({ TN_CONFIG_DIR: join(dir, 'config'), TN_DATA_DIR: join(dir, 'data') });
  const tn = async (...args: string[]): Promise<Record<string, unknown>> => {
    const r = await runTn([...args, '--db', url, '--json'], env);
    expect(r.code, `tn ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };
  return { url, env, tn };
}

async function customer(server: ServeProcess, s: Setup, usd: string): Promise<{ key: string; auth: Record<string, string> }> {
  const res = await fetch(`${server.url}${API}/register`, { method: 'POST' });
  expect(res.status).toBe(201);
  const { api_key: key } = (await res.json()) as { api_key: string };
  await s.tn('admin', 'credit', key, usd);
  return { key, auth: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } };
}

describe('two tn serve instances on one PostgreSQL', () => {
  it('an SMS arriving on instance A completes the verify, the order stream and /events open on instance B', { timeout: 90_000 }, async ({ onTestFinished }) => {
    const s = await setup(onTestFinished);
    const added = await s.tn('admin', 'source', 'add', 'generic', '--name', 'gw', '--public-url', 'http://gateway.test');
    const token = added.token as string;
    await s.tn('admin', 'pool', 'add', '+15550100501', '--source', 'gw', '--country', 'us');
    const serve = ['--port', '0', '--db', s.url, '--rate-limit', '0'];
    const [a, b] = await Promise.all([startServe(serve, s.env), startServe(serve, s.env)]);
    const { auth } = await customer(a, s, '5');

    const events = await openSse(`${b.url}${API}/events`, auth);
    expect(events.status).toBe(200);
    const verify = fetch(`${b.url}${API}/verify`, { method: 'POST', headers: auth, body: JSON.stringify({ platform: 'instagram', country: 'us', timeout_seconds: 60 }) });
    // The verify's order, as instance A lists it.
    let orderId: string | undefined;
    for (let i = 0; i < 100 && !orderId; i++) {
      const page = (await (await fetch(`${a.url}${API}/orders`, { headers: auth })).json()) as { orders: { order_id: string }[] };
      orderId = page.orders[0]?.order_id;
      if (!orderId) await new Promise((r) => setTimeout(r, 50));
    }
    expect(orderId).toBeDefined();
    const stream = await openSse(`${b.url}${API}/order/${orderId}/stream`, auth);
    expect(stream.status).toBe(200);

    const sent = Date.now();
    const inbound = await fetch(`${a.url}${API}/inbound/gw`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: '+15550100501', from: 'Instagram', text: 'Your Instagram code is 482913', received_at: new Date().toISOString() }),
    });
    expect(inbound.status).toBe(200);

    const answer = (await (await verify).json()) as { order_id: string; status: string; code: string };
    const verifyMs = Date.now() - sent;
    expect(answer).toMatchObject({ order_id: orderId, status: 'completed', code: '482913' });
    const code = await stream.waitFor((e) => e.some((x) => x.event === 'code'), 10_000);
    expect(code.find((x) => x.event === 'code')!.data).toMatchObject({ order_id: orderId, code: '482913' });
    const received = await events.waitFor((e) => e.some((x) => x.event === 'sms.received'), 10_000);
    expect(received.find((x) => x.event === 'sms.received')!.data).toMatchObject({ type: 'sms.received', data: { order_id: orderId, code: '482913' } });
    console.info(`scale-out: an SMS on instance A answered the verify on instance B after ${verifyMs} ms`);
    events.abort();
    stream.abort();
    expect(await s.tn('admin', 'audit')).toMatchObject({ violations: [] });
  });

  it('SIGKILL of the instance that took the orders: the other delivers every due SMS, each once', { timeout: 90_000 }, async ({ onTestFinished }) => {
    const s = await setup(onTestFinished);
    const serve = ['--port', '0', '--db', s.url, '--rate-limit', '0', '--sim-delay', '1500'];
    const [a, b] = await Promise.all([startServe(serve, s.env), startServe(serve, s.env)]);
    const { auth } = await customer(a, s, '10');
    const orders = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const res = await fetch(`${a.url}${API}/order`, { method: 'POST', headers: auth, body: JSON.stringify({ platform: 'telegram' }) });
        expect(res.status).toBe(201);
        return ((await res.json()) as { order_id: string }).order_id;
      }),
    );
    a.child.kill('SIGKILL');
    await a.exited;
    // Instance B's scheduler carries out what A acknowledged and can no longer do.
    const final: { status: string; codes: string[] }[] = [];
    for (const id of orders) {
      let order: { status: string; codes: string[] } = { status: 'active', codes: [] };
      for (let i = 0; i < 200 && order.status === 'active'; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 100));
        order = (await (await fetch(`${b.url}${API}/order/${id}`, { headers: auth })).json()) as typeof order;
      }
      final.push(order);
    }
    for (const o of final) {
      expect(o.status).toBe('completed');
      expect(o.codes).toHaveLength(1);
    }
    expect(await s.tn('admin', 'audit')).toMatchObject({ violations: [] });
    await stopServe(b);
  });
});

/** A TCP proxy in front of PostgreSQL that a test can cut and restore, as a network or a failover would. */
async function pgProxy(target: URL): Promise<{ url: (db: string) => string; cut(): Promise<void>; restore(): Promise<void>; close(): Promise<void> }> {
  const { createServer, connect } = await import('node:net');
  const sockets = new Set<import('node:net').Socket>();
  let server = createServer();
  const port = await new Promise<number>((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as import('node:net').AddressInfo).port));
  });
  const serve = (s: import('node:net').Server): void => {
    s.on('connection', (client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      for (const sock of [client, upstream]) {
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock));
        sock.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
  };
  serve(server);
  return {
    url: (db) => {
      const u = new URL(db);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    async cut() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const sock of sockets) sock.destroy();
      await closed;
    },
    async restore() {
      server = createServer();
      serve(server);
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    },
    async close() {
      for (const sock of sockets) sock.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('an instance that loses PostgreSQL', () => {
  it('answers 503 unavailable (health: degraded, the CLI exit 8), and recovers by itself when it is back', { timeout: 90_000 }, async ({ onTestFinished }) => {
    const s = await setup(onTestFinished);
    const proxy = await pgProxy(new URL(s.url));
    onTestFinished(() => proxy.close());
    const db = proxy.url(s.url);
    const server = await startServe(['--port', '0', '--db', db, '--rate-limit', '0', '--sim-delay', '60000'], s.env);
    const { auth } = await customer(server, s, '5');
    const health = async (): Promise<{ status: number; body: Record<string, unknown> }> => {
      const res = await fetch(`${server.url}${API}/health`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const up = await health();
    expect(up).toMatchObject({ status: 200, body: { status: 'ok', database: 'reachable' } });
    expect(typeof up.body.instance).toBe('string');

    await proxy.cut();
    expect(await health()).toMatchObject({ status: 503, body: { status: 'degraded', database: 'unreachable', instance: up.body.instance } });
    const order = await fetch(`${server.url}${API}/order`, { method: 'POST', headers: auth, body: JSON.stringify({ platform: 'instagram' }) });
    expect(order.status).toBe(503);
    expect(((await order.json()) as { error: { code: string } }).error.code).toBe('unavailable');
    const cli = await runTn(['admin', 'audit', '--db', db], s.env);
    expect(cli.code).toBe(8);

    await proxy.restore();
    let back = await health();
    for (let i = 0; i < 50 && back.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      back = await health();
    }
    expect(back).toMatchObject({ status: 200, body: { database: 'reachable', instance: up.body.instance } });
    const after = await fetch(`${server.url}${API}/order`, { method: 'POST', headers: auth, body: JSON.stringify({ platform: 'instagram' }) });
    expect(after.status).toBe(201);
  });
});

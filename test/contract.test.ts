import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker, openCoreOnFile } from '../src/client/embedded.js';
import { RemoteBroker } from '../src/client/remote.js';
import type { Broker } from '../src/core/broker.js';
import type { BrokerCore } from '../src/core/broker-core.js';
import { buildApp } from '../src/server/app.js';
import { failure, tempDir } from './helpers.js';
import { createPostgres } from './support/postgres.js';
import { openCore } from '../src/compose.js';

/**
 * One behaviour suite, two brokers: the embedded one (the core in-process) and a real HTTP server
 * on a real port reached through the remote client. Both must pass the same tests.
 */
interface World {
  /** A broker acting for a fresh account holding `micros` of credit. */
  account(micros: number): Promise<Broker>;
  close(): Promise<void>;
}

type Setup = (simulator: { delayMs?: number; noSmsRate?: number }) => Promise<World>;

async function fundedKey(core: BrokerCore, micros: number): Promise<string> {
  const reg = await core.register({ credit: micros });
  return reg.api_key;
}

/** The core on a SQLite file, or on a fresh PostgreSQL database dropped on close. */
type Engine = (simulator: { delayMs?: number; noSmsRate?: number }) => Promise<{ core: BrokerCore; dispose: () => Promise<void> }>;

const sqlite: Engine = async (simulator) => {
  const core = openCoreOnFile(join(tempDir(), 'tn.db'), { simulator });
  return { core, dispose: () => core.close() };
};

const postgres: Engine = async (simulator) => {
  const { url, drop } = await createPostgres();
  const core = await openCore(url, { simulator });
  return {
    core,
    dispose: async () => {
      await core.close();
      await drop();
    },
  };
};

const embedded = (engine: Engine): Setup => async (simulator) => {
  const { core, dispose } = await engine(simulator);
  return {
    account: async (micros) => EmbeddedBroker.open(core, await fundedKey(core, micros)),
    close: dispose,
  };
};

const remote = (engine: Engine): Setup => async (simulator) => {
  const { core, dispose } = await engine(simulator);
  const app = await buildApp({ core, version: 'test', rateLimits: { perKeyPerSecond: 0, registerPerHour: 0 } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const clients: RemoteBroker[] = [];
  return {
    account: async (micros) => {
      const client = new RemoteBroker({ endpoint: url, apiKey: await fundedKey(core, micros) });
      clients.push(client);
      return client;
    },
    close: async () => {
      await Promise.all(clients.map((c) => c.close()));
      await app.close();
      await dispose();
    },
  };
};

const USD = 1_000_000;

describe.each([
  ['embedded', embedded(sqlite)],
  ['remote over HTTP', remote(sqlite)],
  ['embedded on PostgreSQL', embedded(postgres)],
  ['remote over HTTP on PostgreSQL', remote(postgres)],
] as const)('broker contract: %s', (_name, setup) => {
  let world: World | undefined;
  const start = async (simulator: { delayMs?: number; noSmsRate?: number } = { delayMs: 20 }): Promise<World> => {
    world = await setup(simulator);
    return world;
  };
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('orders, waits for the code, and charges the price once', async () => {
    const broker = await (await start()).account(USD);
    const order = await broker.order({ platform: 'instagram', country: 'us' });
    expect(order).toMatchObject({ platform: 'instagram', country: 'us', status: 'active', price: 0.12, code: null, codes: [], refunded: false });
    const done = await broker.wait(order.order_id, { timeoutMs: 5000 });
    expect(done.status).toBe('completed');
    expect(done.code).toMatch(/^\d{6}$/);
    expect(await broker.getOrder(order.order_id)).toEqual(done);
    expect((await broker.account()).balance).toBe(0.88);
  });

  it('verify answers with the code', async () => {
    const broker = await (await start()).account(USD);
    const order = await broker.verify({ platform: 'whatsapp', country: 'gb' });
    expect(order).toMatchObject({ status: 'completed', platform: 'whatsapp', country: 'gb', price: 0.25 });
    expect(order.code).toMatch(/^\d{6}$/);
    expect(order.phone).toMatch(/^\+44/);
  });

  it('cancel refunds once; a second cancel is a conflict', async () => {
    const broker = await (await start({ delayMs: 60_000 })).account(USD);
    const order = await broker.order({ platform: 'whatsapp' });
    expect(await broker.cancel(order.order_id)).toMatchObject({ status: 'cancelled', refunded: true });
    const err = await failure(broker.cancel(order.order_id));
    expect(err.code).toBe('order_not_active');
    expect(err.exitCode).toBe(9);
    expect((await broker.account()).balance).toBe(1);
  });

  it('retry brings another code on the same number', async () => {
    const broker = await (await start({ delayMs: 30 })).account(USD);
    const order = await broker.order({ platform: 'telegram' });
    const first = await broker.wait(order.order_id, { timeoutMs: 5000 });
    const again = await broker.retry(order.order_id);
    expect(again).toMatchObject({ status: 'active', phone: order.phone });
    const second = await broker.wait(order.order_id, { timeoutMs: 5000 });
    expect(second.codes).toHaveLength(2);
    expect(second.codes[0]).toBe(first.code);
    expect((await broker.account()).balance).toBe(0.7);
  });

  it('a wait that times out returns the order still active', async () => {
    const broker = await (await start({ noSmsRate: 1 })).account(USD);
    const order = await broker.order({ platform: 'instagram' });
    const waited = await broker.wait(order.order_id, { timeoutMs: 300 });
    expect(waited.status).toBe('active');
  });

  it('maps failures to the same typed errors and exit codes', async () => {
    const w = await start();
    const poor = await w.account(100_000);
    const unknown = await failure(poor.order({ platform: 'myspace' }));
    expect([unknown.code, unknown.exitCode]).toEqual(['unknown_platform', 2]);
    const country = await failure(poor.order({ platform: 'instagram', country: 'zz' }));
    expect(country.code).toBe('unknown_country');
    const short = await failure(poor.order({ platform: 'whatsapp' }));
    expect([short.code, short.exitCode]).toEqual(['insufficient_balance', 4]);
    expect(short.details).toMatchObject({ balance: 0.1, price: 0.25 });
    const stock = await failure(poor.order({ platform: 'instagram', country: 'de' }));
    expect([stock.code, stock.exitCode]).toEqual(['no_numbers', 8]);
    const missing = await failure(poor.getOrder('ord_00000000000000000000000000'));
    expect([missing.code, missing.exitCode]).toEqual(['not_found', 6]);
    expect((await poor.account()).stats.orders).toBe(0);
  });

  it("never reveals another account's order", async () => {
    const w = await start({ delayMs: 60_000 });
    const alice = await w.account(USD);
    const bob = await w.account(USD);
    const order = await alice.order({ platform: 'instagram' });
    // One at a time: each refusal is awaited as it happens, none left unhandled while another runs.
    for (const attempt of [() => bob.getOrder(order.order_id), () => bob.cancel(order.order_id), () => bob.retry(order.order_id), () => bob.wait(order.order_id, { timeoutMs: 100 })]) {
      expect((await failure(attempt())).code).toBe('not_found');
    }
    expect((await alice.getOrder(order.order_id)).status).toBe('active');
  });

  it('idempotency keys: same key and parameters, one order; other parameters, a conflict', async () => {
    const broker = await (await start({ delayMs: 60_000 })).account(USD);
    const a = await broker.order({ platform: 'instagram', country: 'us', idempotencyKey: 'same' });
    const b = await broker.order({ platform: 'instagram', country: 'us', idempotencyKey: 'same' });
    expect(b).toEqual(a);
    const err = await failure(broker.order({ platform: 'telegram', idempotencyKey: 'same' }));
    expect([err.code, err.exitCode]).toEqual(['idempotency_key_reused', 9]);
    expect((await broker.account()).balance).toBe(0.88);
  });

  it('batch items succeed or fail on their own', async () => {
    const broker = await (await start()).account(400_000);
    const result = await broker.batch([{ platform: 'instagram' }, { platform: 'nope' }, { platform: 'whatsapp' }, { platform: 'whatsapp' }]);
    expect(result.results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['ok', 'unknown_platform', 'ok', 'insufficient_balance']);
    expect(result.total_price).toBe(0.37);
    expect((await broker.account()).balance).toBe(0.03);
  });

  it('services, availability, account and usage have the API shapes', async () => {
    const broker = await (await start({ delayMs: 0 })).account(USD);
    const services = await broker.services();
    expect(services).toMatchObject({ service: 'Telenumerus', total_platforms: 34 });
    expect(services.services.find((s) => s.platform === 'whatsapp')).toEqual({ platform: 'whatsapp', name: 'WhatsApp', price: 0.25, your_price: 0.25 });
    const order = await broker.order({ platform: 'discord' });
    await broker.wait(order.order_id, { timeoutMs: 5000 });
    const availability = await broker.availability();
    expect(availability.platforms).toHaveLength(34);
    expect(availability.platforms.find((p) => p.platform === 'discord')).toMatchObject({ success_rate: 1 });
    const account = await broker.account();
    expect(account).toMatchObject({
      balance: 0.85,
      tier: 'Standard',
      discount_percent: 0,
      completed_orders: 1,
      next_tier: { tier: 'Silver', orders_needed: 19 },
      stats: { orders: 1, completed: 1, cancelled: 0, expired: 0, failed: 0, spent: 0.15 },
      webhook: null,
    });
    expect(account.recent_orders[0]!.order_id).toBe(order.order_id);
    const usage = await broker.usage(3);
    expect(usage.daily).toHaveLength(3);
    expect(usage.platforms).toEqual([{ platform: 'discord', orders: 1, completed: 1, spent: 0.15, success_rate: 1 }]);
  });

  it('the agent orders within a price limit and never on a guess', async () => {
    const broker = await (await start()).account(USD);
    const answer = await broker.agent('2 telegram numbers from the UK under $0.50');
    expect(answer).toMatchObject({ understood: true, intent: 'order', interpretation: { platform: 'telegram', country: 'gb', quantity: 2 } });
    expect(answer.orders).toHaveLength(2);
    const vague = await broker.agent('buy me something nice');
    expect(vague.understood).toBe(false);
    expect((await broker.account()).stats.orders).toBe(2);
  });
});

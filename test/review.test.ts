import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCoreOnFile } from '../src/client/embedded.js';
import { RemoteBroker } from '../src/client/remote.js';
import { BrokerCore } from '../src/core/broker-core.js';
import { Simulator } from '../src/providers/simulator.js';
import type { NumberSource } from '../src/core/sources/providers.js';
import { buildApp } from '../src/server/app.js';
import { isPublicAddress } from '../src/server/webhooks.js';
import { openSqlite } from '../src/store/sqlite/engine.js';
import { ManualClock, fundedAccount, makeCore, tempDir } from './helpers.js';

/** Regressions for what a review of the whole code base found. */
describe('review findings', () => {
  it('the agent never pays more than the limit it was given, whatever the operator charges', async () => {
    const { core } = makeCore();
    await core.setPrice('telegram', 'gb', 600_000);
    const { accountId } = await fundedAccount(core, 5_000_000);
    const answer = await core.agent(accountId, '3 telegram numbers from the UK under $0.50');
    expect(answer.orders ?? []).toEqual([]);
    expect(answer.message).toContain('$0.60');
    expect((await core.account(accountId)).stats.orders).toBe(0);
    // And for "any" country the limit is enforced inside the order's transaction.
    await core.setPrice('telegram', '*', 600_000);
    const any = await core.agent(accountId, 'a telegram number under $0.50');
    expect(any.orders ?? []).toEqual([]);
    expect((await core.account(accountId)).balance).toBe(5);
  });

  it('an order whose source is gone expires on time with its refund, and due work keeps moving', async () => {
    const file = join(tempDir(), 'tn.db');
    const clock = new ManualClock();
    const simulator = new Simulator({ delayMs: 1000 });
    const gateway: NumberSource = {
      id: 'gateway',
      countries: () => simulator.countries(),
      capacity: (p, c) => simulator.capacity(p, c),
      pickPhone: (p, c, taken) => simulator.pickPhone(p, c, taken),
      planDelivery: () => simulator.planDelivery(),
      composeSms: (p) => simulator.composeSms(p),
    };
    const before = new BrokerCore({ db: openSqlite(file), sources: [gateway], clock });
    const { accountId } = await fundedAccount(before, 1_000_000);
    const order = await before.order(accountId, { platform: 'instagram' });
    await before.close();

    const after = new BrokerCore({ db: openSqlite(file), sources: [new Simulator()], clock });
    try {
      clock.advance(2000);
      expect((await after.getOrder(accountId, order.order_id)).status).toBe('active');
      clock.advance(300_000);
      expect(await after.getOrder(accountId, order.order_id)).toMatchObject({ status: 'expired', refunded: true });
      expect((await after.account(accountId)).balance).toBe(1);
      expect((await after.audit()).violations).toEqual([]);
    } finally {
      await after.close();
    }
  });

  it('the SSRF guard refuses IPv6 forms that carry private IPv4 or local ranges', () => {
    for (const address of ['::7f00:1', '::127.0.0.1', '::ffff:0:7f00:1', '64:ff9b:1::a00:1', 'fec0::1', '2002:7f00:1::1', '::']) {
      expect(isPublicAddress(address), address).toBe(false);
    }
    expect(isPublicAddress('2606:4700:4700::1111')).toBe(true);
  });

  it('a client that hangs up during verify gets its order cancelled and refunded', async () => {
    const core = openCoreOnFile(join(tempDir(), 'tn.db'), { simulator: { noSmsRate: 1 } });
    const app = await buildApp({ core, version: 'test', rateLimits: { perKeyPerSecond: 0, registerPerHour: 0 }, webhooks: false });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { accountId, apiKey } = await fundedAccount(core, 1_000_000);
    const client = new RemoteBroker({ endpoint: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`, apiKey, retries: 0 });
    try {
      const abort = new AbortController();
      setTimeout(() => abort.abort(), 300);
      await expect(client.verify({ platform: 'instagram', timeoutSeconds: 60 }, { signal: abort.signal })).rejects.toThrow();
      for (let i = 0; i < 50 && (await core.account(accountId)).stats.cancelled === 0; i++) await new Promise((r) => setTimeout(r, 20));
      const account = await core.account(accountId);
      expect(account.stats).toMatchObject({ orders: 1, cancelled: 1 });
      expect(account.balance).toBe(1);
    } finally {
      await client.close();
      await app.close();
      await core.close();
    }
  });
});

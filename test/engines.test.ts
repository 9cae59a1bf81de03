/**
 * The same rules on both store engines: every scenario here runs on a SQLite file and on a
 * PostgreSQL database, against the real engine (issue 14: "on PostgreSQL exactly as on SQLite").
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCore } from '../src/compose.js';
import type { BrokerCore } from '../src/core/broker-core.js';
import { TnError } from '../src/core/errors.js';
import { ManualClock, fundedAccount, tempDir } from './helpers.js';
import { freshPostgres } from './support/postgres.js';

const USD = 1_000_000;

type Open = (onFinished: (fn: () => Promise<void>) => void, options?: Parameters<typeof openCore>[1]) => Promise<{ open: () => Promise<BrokerCore>; where: string }>;

const ENGINES: Record<string, Open> = {
  sqlite: async (_onFinished, options) => {
    const file = join(tempDir(), 'tn.db');
    return { open: () => openCore(file, options), where: file };
  },
  postgres: async (onFinished, options) => {
    const url = await freshPostgres(onFinished);
    return { open: () => openCore(url, options), where: url };
  },
};

for (const [engine, make] of Object.entries(ENGINES)) {
  describe(`the ${engine} engine`, () => {
    it('parallel orders from several broker instances never overdraw, one ledger entry each', { timeout: 60_000 }, async ({ onTestFinished }) => {
      const db = await make(onTestFinished, { simulator: { delayMs: 60_000 } });
      const cores = await Promise.all([db.open(), db.open(), db.open()]);
      onTestFinished(async () => void (await Promise.all(cores.map((c) => c.close()))));
      // $1.00 pays for four WhatsApp numbers at $0.25.
      const { accountId } = await fundedAccount(cores[0]!, USD);
      const settled = await Promise.allSettled(cores.flatMap((core) => Array.from({ length: 8 }, () => core.order(accountId, { platform: 'whatsapp' }))));
      const ok = settled.filter((s) => s.status === 'fulfilled');
      expect(ok).toHaveLength(4);
      for (const s of settled) if (s.status === 'rejected') expect((s.reason as TnError).code).toBe('insufficient_balance');
      expect((await cores[1]!.account(accountId)).balance).toBe(0);
      expect((await cores[2]!.audit()).violations).toEqual([]);
    });

    it('one idempotency key sent to several instances at once makes one order and one charge', { timeout: 60_000 }, async ({ onTestFinished }) => {
      const db = await make(onTestFinished, { simulator: { delayMs: 60_000 } });
      const cores = await Promise.all([db.open(), db.open(), db.open()]);
      onTestFinished(async () => void (await Promise.all(cores.map((c) => c.close()))));
      const { accountId } = await fundedAccount(cores[0]!, USD);
      const orders = await Promise.all(cores.flatMap((core) => [0, 1, 2].map(() => core.order(accountId, { platform: 'telegram', idempotencyKey: 'k-1' }))));
      expect(new Set(orders.map((o) => o.order_id)).size).toBe(1);
      const page = await cores[0]!.orders(accountId);
      expect(page.total).toBe(1);
      expect((await cores[0]!.account(accountId)).balance).toBe(1 - orders[0]!.price);
      expect((await cores[0]!.audit()).violations).toEqual([]);
    });

    it('instances started together on a new database share one sandbox account', { timeout: 60_000 }, async ({ onTestFinished }) => {
      const db = await make(onTestFinished);
      const cores = await Promise.all([db.open(), db.open(), db.open()]);
      onTestFinished(async () => void (await Promise.all(cores.map((c) => c.close()))));
      const keys = await Promise.all(cores.map((c) => c.sandboxKey(undefined)));
      expect(new Set(keys.map((k) => k.apiKey)).size).toBe(1);
      expect(keys.filter((k) => k.created)).toHaveLength(1);
    });

    it('cancel racing the SMS ends each order exactly one way, refunded only when cancelled', { timeout: 60_000 }, async ({ onTestFinished }) => {
      const clock = new ManualClock();
      const db = await make(onTestFinished, { simulator: { delayMs: 1000 }, clock });
      const cores = await Promise.all([db.open(), db.open()]);
      onTestFinished(async () => void (await Promise.all(cores.map((c) => c.close()))));
      const { accountId } = await fundedAccount(cores[0]!, 10 * USD);
      const orders = await Promise.all(Array.from({ length: 12 }, () => cores[0]!.order(accountId, { platform: 'instagram' })));
      clock.advance(1000);
      // One instance delivers what fell due while the other cancels the same orders.
      const [, cancels] = await Promise.all([cores[0]!.processDue(), Promise.allSettled(orders.map((o) => cores[1]!.cancel(accountId, o.order_id)))]);
      for (const [i, o] of orders.entries()) {
        const final = await cores[1]!.getOrder(accountId, o.order_id);
        expect(['completed', 'cancelled']).toContain(final.status);
        expect(final.refunded).toBe(final.status === 'cancelled');
        expect(cancels[i]!.status === 'fulfilled').toBe(final.status === 'cancelled');
      }
      expect((await cores[0]!.audit()).violations).toEqual([]);
    });

    it('due work is done once: expiries refunded once, however many instances look', { timeout: 60_000 }, async ({ onTestFinished }) => {
      const clock = new ManualClock();
      const db = await make(onTestFinished, { simulator: { noSmsRate: 1 }, clock, orderTtlMs: 1000 });
      const cores = await Promise.all([db.open(), db.open(), db.open()]);
      onTestFinished(async () => void (await Promise.all(cores.map((c) => c.close()))));
      const { accountId } = await fundedAccount(cores[0]!, USD);
      const orders = await Promise.all(Array.from({ length: 4 }, () => cores[0]!.order(accountId, { platform: 'google' })));
      clock.advance(1001);
      await Promise.all(cores.map((c) => c.processDue()));
      for (const o of orders) expect(await cores[2]!.getOrder(accountId, o.order_id)).toMatchObject({ status: 'expired', refunded: true });
      expect((await cores[1]!.account(accountId)).balance).toBe(1);
      expect((await cores[0]!.audit()).violations).toEqual([]);
    });

    it('webhook deliveries are claimed by one instance each, and taken over when the claim lapses', { timeout: 60_000 }, async ({ onTestFinished }) => {
      const db = await make(onTestFinished);
      const cores = await Promise.all([db.open(), db.open(), db.open()]);
      onTestFinished(async () => void (await Promise.all(cores.map((c) => c.close()))));
      // One pending delivery per account: the head of each account's queue is what may be sent.
      const accounts = await Promise.all(Array.from({ length: 9 }, () => fundedAccount(cores[0]!, USD)));
      for (const { accountId } of accounts) {
        await cores[0]!.setWebhook(accountId, 'https://hooks.example.test/tn');
        await cores[0]!.testWebhook(accountId);
      }
      const now = Date.now() + 1000;
      const claims = await Promise.all(cores.map((c) => c.deliveries.claim(now, 32, 60_000)));
      const ids = claims.flat().map((d) => d.id);
      expect(ids).toHaveLength(9);
      expect(new Set(ids).size).toBe(9);
      // Claimed: nobody else gets them until the lease runs out; then another instance does.
      expect(await cores[1]!.deliveries.claim(now + 59_000, 32, 60_000)).toEqual([]);
      const retaken = await cores[2]!.deliveries.claim(now + 60_001, 32, 60_000);
      expect(retaken.map((d) => d.id).sort()).toEqual([...ids].sort());
    });

    it('an appended event says whether it queued a webhook delivery (the deliverer wakes only for those)', { timeout: 60_000 }, async ({ onTestFinished }) => {
      const db = await make(onTestFinished, { simulator: { delayMs: 0 } });
      const core = await db.open();
      onTestFinished(() => core.close());
      const told: { type: string; deliveries: number }[] = [];
      core.events.on('outbox', (e) => told.push({ type: e.type, deliveries: e.deliveries }));
      const hooked = await fundedAccount(core, USD);
      await core.setWebhook(hooked.accountId, 'https://hooks.example.test/tn');
      await core.testWebhook(hooked.accountId);
      const plain = await fundedAccount(core, 10 * USD);
      expect(await core.verify(plain.accountId, { platform: 'instagram', timeoutSeconds: 30 })).toMatchObject({ status: 'completed' });
      expect(told).toEqual([
        { type: 'webhook.test', deliveries: 1 },
        { type: 'sms.received', deliveries: 0 },
      ]);
    });

    it('numeric order aliases (sms-activate ids) are unique across instances and private to their account', { timeout: 60_000 }, async ({ onTestFinished }) => {
      const db = await make(onTestFinished, { simulator: { delayMs: 60_000 } });
      const cores = await Promise.all([db.open(), db.open(), db.open()]);
      onTestFinished(async () => void (await Promise.all(cores.map((c) => c.close()))));
      const { accountId } = await fundedAccount(cores[0]!, 10 * USD);
      const other = await fundedAccount(cores[0]!, USD);
      const orders = await Promise.all(cores.flatMap((core) => Array.from({ length: 5 }, () => core.order(accountId, { platform: 'tiktok' }))));
      const numbers = await cores[1]!.orderNumbers(accountId, orders.map((o) => o.order_id));
      expect(new Set(numbers.values()).size).toBe(orders.length);
      for (const o of orders) expect(await cores[2]!.orderIdByNumber(accountId, numbers.get(o.order_id)!)).toBe(o.order_id);
      const err = await cores[0]!.orderIdByNumber(other.accountId, numbers.get(orders[0]!.order_id)!).catch((e: unknown) => e);
      expect((err as TnError).code).toBe('not_found');
    });

    it('a wait on one instance wakes within moments when another instance ends the order', { timeout: 60_000 }, async ({ onTestFinished }) => {
      const db = await make(onTestFinished, { simulator: { noSmsRate: 1 } });
      const [placer, waiter] = await Promise.all([db.open(), db.open()]);
      onTestFinished(async () => void (await Promise.all([placer!.close(), waiter!.close()])));
      const { accountId } = await fundedAccount(placer!, USD);
      const order = await placer!.order(accountId, { platform: 'discord' });
      // Nothing the waiter's own process does ends this order: only the other's cancel can.
      const waiting = waiter!.wait(accountId, order.order_id, { timeoutMs: 20_000 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const cancelledAt = Date.now();
      await placer!.cancel(accountId, order.order_id);
      const done = await waiting;
      const wokeAfterMs = Date.now() - cancelledAt;
      expect(done.status).toBe('cancelled');
      console.info(`${engine}: a waiter on another instance woke ${wokeAfterMs} ms after the cancel`);
      expect(wokeAfterMs).toBeLessThan(2_000);
    });
  });
}

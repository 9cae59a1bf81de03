import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openCoreOnFile } from '../src/client/embedded.js';
import type { Order } from '../src/core/orders/order.js';
import { ManualClock, fundedAccount, sleep, tempDir } from './helpers.js';
import { startFakeTempNumber } from './support/fake-tempnumber.js';
import { requireBuild } from './support/process.js';

// Real OS processes sharing one database file, through the compiled library (`npm run build` first).

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WORKER = join(ROOT, 'test', 'workers', 'tn-worker.mjs');
const USD = 1_000_000;

beforeAll(requireBuild);

/** Children of a test that failed half-way are stopped, each by its own handle. */
const children = new Set<ReturnType<typeof spawn>>();
afterEach(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill();
  children.clear();
});

interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runNode(args: string[], env: NodeJS.ProcessEnv = {}): { child: ReturnType<typeof spawn>; exited: Promise<Exited> } {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<Exited>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, exited };
}

interface Worker<R> {
  /** Resolves once the worker has opened the database and waits for `go()`. */
  ready: Promise<void>;
  /** Starts it, with more options if given. */
  go(extra?: Record<string, unknown>): void;
  done: Promise<R>;
}

function startWorker<R>(command: string, file: string, apiKey: string, opts: Record<string, unknown>): Worker<R> {
  const { child, exited } = runNode([WORKER, command, file, apiKey, JSON.stringify(opts)]);
  const ready = new Promise<void>((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (d: string) => {
      seen += d;
      if (seen.split('\n').includes('ready')) resolve();
    });
    void exited.then((e) => reject(new Error(`worker ${command} exited (${e.code}) before it was ready: ${e.stderr}`)));
  });
  const done = exited.then((e) => {
    const line = e.stdout.split('\n').find((l) => l.startsWith('result '));
    if (e.code !== 0 || !line) throw new Error(`worker ${command} failed with exit code ${e.code}:\n${e.stderr}\n${e.stdout}`);
    return JSON.parse(line.slice('result '.length)) as R;
  });
  // Avoid an unhandled rejection for workers that are never awaited for readiness.
  ready.catch(() => undefined);
  return { ready, go: (extra) => child.stdin!.end(`go${extra ? ` ${JSON.stringify(extra)}` : ''}\n`), done };
}

/** Starts the workers at the same moment: each has opened the file and waits on its stdin. */
async function startTogether<R>(workers: Worker<R>[]): Promise<R[]> {
  await Promise.all(workers.map((w) => w.ready));
  for (const w of workers) w.go();
  return Promise.all(workers.map((w) => w.done));
}

/** The real CLI: `tn admin audit --db <file>`. */
async function cliAudit(file: string): Promise<Exited> {
  const home = tempDir('tn-cli-');
  const { exited } = runNode([join(ROOT, 'bin', 'tn.js'), 'admin', 'audit', '--db', file], {
    TN_CONFIG_DIR: join(home, 'config'),
    TN_DATA_DIR: join(home, 'data'),
  });
  return exited;
}

async function expectCleanAudit(file: string): Promise<void> {
  const audit = await cliAudit(file);
  expect(audit.stdout).toMatch(/^OK: /m);
  expect(audit.code).toBe(0);
}

function query<T>(file: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

const balanceOf = (file: string, accountId: string): number =>
  query<{ balance: number }>(file, 'SELECT balance FROM accounts WHERE id = ?', accountId)[0]!.balance;

async function newAccount(file: string, micros: number): Promise<{ accountId: string; apiKey: string }> {
  const core = openCoreOnFile(file);
  try {
    return await fundedAccount(core, micros);
  } finally {
    await core.close();
  }
}

describe('across processes sharing one database file', () => {
  it('many processes ordering at once for one account: exactly as many orders as the balance pays for', async () => {
    const N = 6;
    const M = 10;
    const file = join(tempDir(), 'tn.db');
    const { accountId, apiKey } = await newAccount(file, 5 * USD); // whatsapp $0.25 → exactly 20 orders
    const K = 20;

    const results = await startTogether(
      Array.from({ length: N }, () =>
        startWorker<{ ok: string[]; errors: Record<string, number> }>('order-many', file, apiKey, {
          barrier: true,
          count: M,
          platform: 'whatsapp',
          simulator: { noSmsRate: 1 },
        }),
      ),
    );

    const placed = results.flatMap((r) => r.ok);
    const refused = results.reduce((n, r) => n + (r.errors.insufficient_balance ?? 0), 0);
    const otherErrors = results.flatMap((r) => Object.keys(r.errors).filter((c) => c !== 'insufficient_balance'));
    expect(placed).toHaveLength(K);
    expect(new Set(placed).size).toBe(K);
    expect(refused).toBe(N * M - K);
    expect(otherErrors).toEqual([]);
    console.info(`order race: successes per process ${results.map((r) => r.ok.length).join(', ')}`);

    expect(balanceOf(file, accountId)).toBe(0);
    const orders = query<{ id: string; phone: string; price: number; status: string }>(file, 'SELECT id, phone, price, status FROM orders');
    expect(orders.map((o) => o.id).sort()).toEqual([...placed].sort());
    expect(new Set(orders.map((o) => o.phone)).size).toBe(K);
    for (const o of orders) expect(o).toMatchObject({ price: 250_000, status: 'active' });
    const ledger = query<{ kind: string; n: number; total: number }>(
      file,
      'SELECT kind, count(*) AS n, sum(amount) AS total FROM ledger WHERE account_id = ? GROUP BY kind ORDER BY kind',
      accountId,
    );
    expect(ledger).toEqual([
      { kind: 'deposit', n: 1, total: 5 * USD },
      { kind: 'order_debit', n: K, total: -5 * USD },
    ]);
    await expectCleanAudit(file);
  });

  it('cancel racing the SMS in another process: each order ends exactly one way', async () => {
    const ORDERS = 40;
    const STEP = 20;
    const file = join(tempDir(), 'tn.db');
    type Variant = 'paced' | 'burst, canceller before the due time' | 'burst, due for both';
    const tally: Partial<Record<Variant, { completed: number; cancelled: number }>> = {};
    /** For the paced rounds: how each order ended, by how many ms the cancel came before the SMS's due time. */
    const byLead: Record<string, { completed: number; cancelled: number }> = {};

    // paced: both processes use the real clock. Order i's SMS falls due at S + i·STEP; at that moment
    //   the delivering process polls it, and the cancelling process cancels it 0–3 ms before.
    // burst, canceller before the due time: every SMS is due for the delivering process; the
    //   cancelling process's clock is stopped 1 ms before the due time (so its own cancel does not
    //   deliver the SMS first); both walk through all orders at once, from opposite ends.
    // burst, due for both: the same, but the SMS is due for the cancelling process too.
    const variants: Variant[] = ['paced', 'paced', 'burst, canceller before the due time', 'burst, due for both'];
    for (const variant of variants) {
      const { accountId, apiKey } = await newAccount(file, 12 * USD);
      // Both processes open the file first; the orders are made after, and handed over with "go".
      const cancelling = startWorker<{ outcomes: Record<string, string> }>('race-cancel', file, apiKey, { barrier: true, simulator: { delayMs: 1 } });
      const delivering = startWorker<{ seen: Record<string, string> }>('race-deliver', file, apiKey, { barrier: true, simulator: { delayMs: 1 } });
      await Promise.all([cancelling.ready, delivering.ready]);

      const ids: string[] = [];
      if (variant === 'paced') {
        const placedAt = Date.now();
        const start = placedAt + 1500;
        const due = Array.from({ length: ORDERS }, (_, i) => start + i * STEP);
        for (const at of due) {
          // Placed at `placedAt` by a clock that stays there, so the placing core delivers nothing itself.
          const placer = openCoreOnFile(file, { clock: new ManualClock(placedAt), simulator: { delayMs: at - placedAt } });
          try {
            ids.push((await placer.order(accountId, { platform: 'whatsapp' })).order_id);
          } finally {
            await placer.close();
          }
        }
        cancelling.go({ ids, at: due.map((at, i) => at - (i % 4)) });
        delivering.go({ ids, at: due });
      } else {
        // Created a minute ago, SMS due 1 ms later; the placing core's clock stays put, so it delivers nothing.
        const t0 = Date.now() - 60_000;
        const placer = openCoreOnFile(file, { clock: new ManualClock(t0), simulator: { delayMs: 1 } });
        try {
          for (let i = 0; i < ORDERS; i++) ids.push((await placer.order(accountId, { platform: 'whatsapp' })).order_id);
        } finally {
          await placer.close();
        }
        cancelling.go({ ids: [...ids].reverse(), ...(variant === 'burst, canceller before the due time' ? { clockMs: t0 } : {}) });
        delivering.go({ ids });
      }
      const [cancelled, delivered] = await Promise.all([cancelling.done, delivering.done]);

      const rows = query<{
        id: string;
        status: string;
        refunded: number;
        price: number;
        refunds: number;
        refund_total: number | null;
        debits: number;
        sms: number;
        code: string | null;
      }>(
        file,
        `SELECT o.id, o.status, o.refunded, o.price,
           (SELECT count(*) FROM ledger l WHERE l.order_id = o.id AND l.kind = 'refund') AS refunds,
           (SELECT sum(amount) FROM ledger l WHERE l.order_id = o.id AND l.kind = 'refund') AS refund_total,
           (SELECT count(*) FROM ledger l WHERE l.order_id = o.id AND l.kind = 'order_debit') AS debits,
           (SELECT count(*) FROM sms s WHERE s.order_id = o.id AND s.accepted = 1) AS sms,
           (SELECT code FROM sms s WHERE s.order_id = o.id AND s.accepted = 1) AS code
         FROM orders o WHERE o.account_id = ?`,
        accountId,
      );
      expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
      const count = (tally[variant] ??= { completed: 0, cancelled: 0 });
      for (const row of rows) {
        expect(row.debits).toBe(1);
        if (variant === 'paced') {
          const lead = `${ids.indexOf(row.id) % 4} ms`;
          (byLead[lead] ??= { completed: 0, cancelled: 0 })[row.status === 'completed' ? 'completed' : 'cancelled']++;
        }
        if (row.status === 'completed') {
          count.completed++;
          expect(row).toMatchObject({ refunded: 0, refunds: 0, sms: 1 });
          expect(row.code).toMatch(/^\d{6}$/);
          expect(cancelled.outcomes[row.id]).toBe('order_not_active');
        } else {
          count.cancelled++;
          expect(row).toMatchObject({ status: 'cancelled', refunded: 1, refunds: 1, refund_total: row.price, sms: 0, code: null });
          expect(cancelled.outcomes[row.id]).toBe('cancelled');
        }
        // What the delivering process saw is what the order ended as.
        expect(delivered.seen[row.id]).toBe(row.status);
      }
      const kept = rows.filter((r) => r.status === 'completed').reduce((s, r) => s + r.price, 0);
      expect(balanceOf(file, accountId)).toBe(12 * USD - kept);
      await expectCleanAudit(file);
    }

    console.info(`cancel/SMS race outcomes (${ORDERS} orders a round): ${JSON.stringify(tally)}; paced, by lead of the cancel: ${JSON.stringify(byLead)}`);
    const total = Object.values(tally).reduce((s, t) => s + t.completed + t.cancelled, 0);
    expect(total).toBe(variants.length * ORDERS);
  });

  it('an order placed by a process that exits gets its code in a process that waits later', async () => {
    const file = join(tempDir(), 'tn.db');
    const { accountId, apiKey } = await newAccount(file, USD);
    const simulator = { delayMs: 300 };

    const { order } = await startWorker<{ order: Order }>('place', file, apiKey, { platform: 'instagram', country: 'us', simulator }).done;
    expect(order).toMatchObject({ status: 'active', code: null, price: 0.12 });
    // Nobody is running: the SMS is only scheduled in the file.
    expect(query(file, 'SELECT status FROM orders WHERE id = ?', order.order_id)).toEqual([{ status: 'active' }]);
    expect(query(file, 'SELECT * FROM sms WHERE order_id = ?', order.order_id)).toEqual([]);

    const waited = await startWorker<{ order: Order; waitedMs: number }>('wait', file, apiKey, {
      orderId: order.order_id,
      timeoutMs: 10_000,
      simulator,
    }).done;
    expect(waited.order).toMatchObject({ order_id: order.order_id, status: 'completed', refunded: false, phone: order.phone });
    expect(waited.order.code).toMatch(/^\d{6}$/);
    // Delivered at its due time, whoever noticed it.
    expect(Date.parse(waited.order.completed_at!) - Date.parse(order.created_at)).toBe(300);
    expect(query(file, 'SELECT code, accepted FROM sms WHERE order_id = ?', order.order_id)).toEqual([{ code: waited.order.code, accepted: 1 }]);
    expect(balanceOf(file, accountId)).toBe(880_000);
    console.info(`cross-process wait: the waiting process waited ${waited.waitedMs} ms for the code`);
    await expectCleanAudit(file);
  });

  it('an order whose SMS never comes, placed by a process that exits, is expired and refunded by a later process', async () => {
    const file = join(tempDir(), 'tn.db');
    const { accountId, apiKey } = await newAccount(file, USD);
    const settings = { simulator: { noSmsRate: 1 }, orderTtlMs: 500 };

    const { order } = await startWorker<{ order: Order }>('place', file, apiKey, { platform: 'whatsapp', ...settings }).done;
    expect(order).toMatchObject({ status: 'active', price: 0.25 });
    const expiresAt = Date.parse(order.expires_at);
    expect(expiresAt - Date.parse(order.created_at)).toBe(500);
    expect(balanceOf(file, accountId)).toBe(750_000);

    await sleep(Math.max(0, expiresAt - Date.now()) + 100);
    // Past its lifetime, but no process has looked yet.
    expect(query(file, 'SELECT status, refunded FROM orders WHERE id = ?', order.order_id)).toEqual([{ status: 'active', refunded: 0 }]);

    const later = await startWorker<{ order: Order }>('get', file, apiKey, { orderId: order.order_id, ...settings }).done;
    expect(later.order).toMatchObject({ order_id: order.order_id, status: 'expired', refunded: true, code: null });
    expect(balanceOf(file, accountId)).toBe(USD);
    // The refund is dated at the expiry, not at the moment someone noticed.
    expect(query(file, "SELECT amount, created_at FROM ledger WHERE order_id = ? AND kind = 'refund'", order.order_id)).toEqual([
      { amount: 250_000, created_at: expiresAt },
    ]);
    await expectCleanAudit(file);
  });
});

describe('idempotency across processes with an upstream source', () => {
  it('one key sent by several processes at once buys one upstream number and makes one order', { timeout: 60_000 }, async () => {
    const fake = await startFakeTempNumber();
    try {
      const file = join(tempDir(), 'tn.db');
      const setup = openCoreOnFile(file);
      await setup.addSource({ name: 'upstream', kind: 'tempnumber', secret: fake.apiKey, settings: { baseUrl: fake.url } });
      const { accountId, apiKey } = await fundedAccount(setup, USD);
      // The price list is fetched once and shared through the database (TempNumber allows 3 a minute).
      await setup.prices(accountId, { by: 'country', platform: 'instagram' });
      await setup.close();

      const workers = Array.from({ length: 4 }, () =>
        startWorker<{ order: Order }>('place', file, apiKey, { platform: 'instagram', country: 'us', idempotencyKey: 'same-key', barrier: true }),
      );
      const results = await startTogether(workers);
      const ids = new Set(results.map((r) => r.order.order_id));
      expect(ids.size).toBe(1);
      // The key was decided before anything was bought: one purchase upstream, none orphaned.
      expect(fake.requests.filter((r) => r.method === 'POST' && /\/activations$/.test(r.path)).length).toBe(1);
      expect(query(file, 'SELECT count(*) AS n FROM upstream_orphans')).toEqual([{ n: 0 }]);
      expect(query(file, 'SELECT count(*) AS n FROM orders WHERE account_id = ?', accountId)).toEqual([{ n: 1 }]);
      expect(balanceOf(file, accountId)).toBe(USD - results[0]!.order.price * USD);
      await expectCleanAudit(file);
    } finally {
      await fake.close();
    }
  });
});

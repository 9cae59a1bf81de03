import Database from 'better-sqlite3';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCoreOnFile } from '../src/client/embedded.js';
import { TnError, type ErrorCode } from '../src/core/errors.js';
import type { BrokerCore } from '../src/core/broker-core.js';
import { audit } from '../src/core/accounts/audit.js';
import { MIGRATIONS } from '../src/store/sqlite/migrations.js';
import { SqliteDatabase, openSqlite } from '../src/store/sqlite/engine.js';
import { ManualClock, fundedAccount, makeCore, seededRandom, tempDir } from './helpers.js';

const USD = 1_000_000;

// ── an independent check of API.md §1, straight from the tables ─────────────────────────────

interface LedgerRow {
  id: number;
  account_id: string;
  kind: string;
  amount: number;
  order_id: string | null;
}
interface OrderRow {
  id: string;
  account_id: string;
  price: number;
  status: string;
  refunded: number;
}

const REFUNDED_STATUSES = new Set(['cancelled', 'expired', 'failed']);

/**
 * Every money invariant, recomputed in plain TypeScript from the raw rows (a read-only connection
 * of its own, none of the store's SQL), so that it does not share a blind spot with `audit()`.
 */
function ledgerProblems(file: string): string[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const accounts = db.prepare('SELECT id, balance, typeof(balance) AS type FROM accounts').all() as {
      id: string;
      balance: number;
      type: string;
    }[];
    const ledger = db.prepare('SELECT id, account_id, kind, amount, order_id, typeof(amount) AS type FROM ledger').all() as (LedgerRow & {
      type: string;
    })[];
    const orders = db.prepare('SELECT id, account_id, price, status, refunded FROM orders').all() as OrderRow[];
    const problems: string[] = [];

    for (const l of ledger) {
      if (l.type !== 'integer') problems.push(`ledger ${l.id}: amount stored as ${l.type}`);
      if (l.kind === 'deposit' && l.amount <= 0) problems.push(`ledger ${l.id}: deposit of ${l.amount}`);
    }
    for (const a of accounts) {
      if (a.type !== 'integer') problems.push(`account ${a.id}: balance stored as ${a.type}`);
      const sum = ledger.filter((l) => l.account_id === a.id).reduce((s, l) => s + l.amount, 0);
      if (sum !== a.balance) problems.push(`account ${a.id}: balance ${a.balance} != ledger sum ${sum}`);
      if (a.balance < 0) problems.push(`account ${a.id}: negative balance ${a.balance}`);
    }
    for (const o of orders) {
      const mine = ledger.filter((l) => l.order_id === o.id);
      const debits = mine.filter((l) => l.kind === 'order_debit');
      const refunds = mine.filter((l) => l.kind === 'refund');
      if (debits.length !== 1) problems.push(`order ${o.id}: ${debits.length} debits`);
      else if (debits[0]!.amount !== -o.price) problems.push(`order ${o.id}: debit ${debits[0]!.amount} for price ${o.price}`);
      if (refunds.length > 1) problems.push(`order ${o.id}: ${refunds.length} refunds`);
      if (REFUNDED_STATUSES.has(o.status)) {
        if (refunds.length !== 1 || refunds[0]!.amount !== o.price) problems.push(`order ${o.id}: ${o.status} without one refund of its price`);
      } else if (refunds.length !== 0) {
        problems.push(`order ${o.id}: ${o.status} but has ${refunds.length} refund(s)`);
      }
      if ((o.refunded === 1) !== (refunds.length > 0)) problems.push(`order ${o.id}: refunded flag ${o.refunded} vs ${refunds.length} refund(s)`);
      for (const l of mine) if (l.account_id !== o.account_id) problems.push(`ledger ${l.id}: other account than order ${o.id}`);
    }
    for (const l of ledger) {
      if ((l.kind === 'order_debit' || l.kind === 'refund') && !orders.some((o) => o.id === l.order_id)) {
        problems.push(`ledger ${l.id}: ${l.kind} for unknown order ${l.order_id}`);
      }
    }
    return problems;
  } finally {
    db.close();
  }
}

function rawOrders(file: string): OrderRow[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT id, account_id, price, status, refunded FROM orders').all() as OrderRow[];
  } finally {
    db.close();
  }
}

function rawBalances(file: string): Map<string, number> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT id, balance FROM accounts').all() as { id: string; balance: number }[];
    return new Map(rows.map((r) => [r.id, r.balance]));
  } finally {
    db.close();
  }
}

// ── random operation sequences ──────────────────────────────────────────────────────────────

type Op =
  | { kind: 'register'; credit: number }
  | { kind: 'credit'; account: number; amount: number }
  | { kind: 'order'; account: number; platform: string; country: string | undefined; key: string | undefined }
  | { kind: 'verify'; account: number; platform: string; country: string | undefined; key: string | undefined; timeoutMs: number }
  | { kind: 'batch'; account: number; items: { platform: string; country: string | undefined }[] }
  | { kind: 'cancel'; order: number }
  | { kind: 'retry'; order: number }
  | { kind: 'get'; order: number }
  | { kind: 'sms'; ms: number }
  | { kind: 'expire' };

// Several prices (0.08 … 0.50), an unknown platform; stocked countries, "any", one without stock and one that does not exist.
const platformArb = fc.oneof(
  { arbitrary: fc.constantFrom('instagram', 'whatsapp', 'telegram', 'twitter', 'coinbase', 'wa'), weight: 9 },
  { arbitrary: fc.constant('myspace'), weight: 1 },
);
const countryArb = fc.oneof(
  { arbitrary: fc.constantFrom<string | undefined>(undefined, 'us', 'gb', 'fr', 'ca', 'any'), weight: 9 },
  { arbitrary: fc.constantFrom('de', 'zz'), weight: 1 },
);
// Mostly enough money for a few orders, sometimes none or not quite one.
const creditArb = fc.oneof(fc.integer({ min: 0, max: 300_000 }), fc.integer({ min: 0, max: 4 * USD }));
const keyArb = fc.option(fc.constantFrom('k1', 'k2', 'k3'), { nil: undefined });
const index = fc.nat({ max: 1000 });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('register' as const), credit: creditArb }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('credit' as const), account: index, amount: fc.integer({ min: 1, max: 2 * USD }) }), weight: 1 },
  {
    arbitrary: fc.record({ kind: fc.constant('order' as const), account: index, platform: platformArb, country: countryArb, key: keyArb }),
    weight: 6,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('verify' as const),
      account: index,
      platform: platformArb,
      country: countryArb,
      key: keyArb,
      timeoutMs: fc.constantFrom(0, 1, 5),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('batch' as const),
      account: index,
      items: fc.array(fc.record({ platform: platformArb, country: countryArb }), { minLength: 1, maxLength: 5 }),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant('cancel' as const), order: index }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('retry' as const), order: index }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('get' as const), order: index }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('sms' as const), ms: fc.integer({ min: 0, max: 5000 }) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('expire' as const) }), weight: 1 },
);

// Random sequences cancel a lot: the delivery-rate guard may rightly refuse the next order there.
const ORDER_ERRORS: ErrorCode[] = ['insufficient_balance', 'no_numbers', 'unknown_platform', 'unknown_country', 'idempotency_key_reused', 'delivery_rate_low'];

/** Runs `action`; a TnError with one of `allowed` codes is an expected refusal, anything else fails the property. */
async function tolerate<T>(
  tally: Map<string, number>,
  label: string,
  allowed: readonly ErrorCode[],
  action: () => Promise<T>,
): Promise<T | undefined> {
  const count = (what: string): void => void tally.set(`${label}:${what}`, (tally.get(`${label}:${what}`) ?? 0) + 1);
  try {
    const result = await action();
    count('ok');
    return result;
  } catch (err) {
    if (err instanceof TnError && allowed.includes(err.code)) {
      count(err.code);
      return undefined;
    }
    throw err;
  }
}

interface Model {
  accounts: string[];
  deposited: Map<string, number>;
  orders: { id: string; accountId: string }[];
}

async function runOps(core: BrokerCore, clock: ManualClock, ops: Op[], tally: Map<string, number>): Promise<Model> {
  const model: Model = { accounts: [], deposited: new Map(), orders: [] };
  const seen = (accountId: string, orderId: string): void => {
    if (!model.orders.some((o) => o.id === orderId)) model.orders.push({ id: orderId, accountId });
  };
  const account = (i: number): string | undefined => model.accounts[i % Math.max(1, model.accounts.length)];
  const order = (i: number) => model.orders[i % Math.max(1, model.orders.length)];

  for (const op of ops) {
    switch (op.kind) {
      case 'register': {
        const reg = await core.register({ credit: op.credit });
        model.accounts.push(reg.account_id);
        model.deposited.set(reg.account_id, op.credit);
        break;
      }
      case 'credit': {
        const id = account(op.account);
        if (!id) break;
        const before = (await core.db.read.accounts.get(id))!.balance;
        const result = await core.credit(id, op.amount);
        expect(Math.round(result.balance * USD)).toBe(before + op.amount);
        model.deposited.set(id, model.deposited.get(id)! + op.amount);
        break;
      }
      case 'order': {
        const id = account(op.account);
        if (!id) break;
        const placed = await tolerate(tally, 'order', ORDER_ERRORS, () =>
          core.order(id, { platform: op.platform, country: op.country, idempotencyKey: op.key }),
        );
        if (placed) seen(id, placed.order_id);
        break;
      }
      case 'verify': {
        const id = account(op.account);
        if (!id) break;
        // The clock moves only when told: push it along while the verify waits, so that its tiny timeout passes.
        const pump = setInterval(() => clock.advance(2), 1);
        try {
          const done = await tolerate(tally, 'verify', ORDER_ERRORS, () =>
            core.verifyWithin(id, { platform: op.platform, country: op.country, idempotencyKey: op.key }, op.timeoutMs),
          );
          if (done) {
            seen(id, done.order_id);
            tally.set(`verify:${done.status}`, (tally.get(`verify:${done.status}`) ?? 0) + 1);
            expect(done.status).not.toBe('active');
          }
        } finally {
          clearInterval(pump);
        }
        break;
      }
      case 'batch': {
        const id = account(op.account);
        if (!id) break;
        const result = await core.batch(id, op.items);
        expect(result.results).toHaveLength(op.items.length);
        for (const r of result.results) {
          const what = `batch:${r.ok ? 'ok' : r.error.code}`;
          tally.set(what, (tally.get(what) ?? 0) + 1);
          if (r.ok) seen(id, r.order.order_id);
          else expect(ORDER_ERRORS).toContain(r.error.code);
        }
        break;
      }
      case 'cancel': {
        const o = order(op.order);
        if (!o) break;
        const cancelled = await tolerate(tally, 'cancel', ['order_not_active'], () => core.cancel(o.accountId, o.id));
        // Cancelling a retry in progress keeps the code already delivered: completed, no refund.
        if (cancelled) {
          expect(cancelled).toMatchObject(cancelled.codes.length ? { status: 'completed', refunded: false } : { status: 'cancelled', refunded: true });
        }
        break;
      }
      case 'retry': {
        const o = order(op.order);
        if (!o) break;
        const retried = await tolerate(tally, 'retry', ['order_not_active'], () => core.retry(o.accountId, o.id));
        if (retried) expect(retried).toMatchObject({ status: 'active', refunded: false });
        break;
      }
      case 'get': {
        const o = order(op.order);
        if (!o) break;
        expect((await core.getOrder(o.accountId, o.id)).order_id).toBe(o.id);
        break;
      }
      case 'sms':
        clock.advance(op.ms);
        await core.processDue();
        break;
      case 'expire':
        clock.advance(301_000);
        await core.processDue();
        break;
    }
    // Not only at the end: no operation may leave the ledger inconsistent, even for a moment between two.
    expect((await core.audit()).violations, JSON.stringify(op)).toEqual([]);
  }
  return model;
}

describe('ledger invariants under random operation sequences', () => {
  it('hold after every sequence: audit() and an independent SQL check agree there is nothing wrong', async () => {
    const dir = tempDir();
    let run = 0;
    const outcomes = new Map<string, number>();
    const tally = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 5, maxLength: 50, size: 'max' }),
        fc.integer(),
        creditArb,
        async (ops, seed, firstCredit) => {
          const file = join(dir, `run-${run++}.db`);
          const clock = new ManualClock();
          // Delays of 1–4 s from the simulator, a quarter of the orders never get an SMS.
          const core = openCoreOnFile(file, { clock, simulator: { random: seededRandom(seed), noSmsRate: 0.25 } });
          try {
            const model = await runOps(core, clock, [{ kind: 'register', credit: firstCredit }, ...ops], tally);

            expect((await core.audit()).violations).toEqual([]);
            expect(ledgerProblems(file)).toEqual([]);

            // Every order the API handed out is in the file and nothing else is (replays do not create orders).
            const orders = rawOrders(file);
            expect(orders.map((o) => o.id).sort()).toEqual(model.orders.map((o) => o.id).sort());
            // The balance is what was deposited minus what was not given back, whatever the ledger says.
            const balances = rawBalances(file);
            for (const accountId of model.accounts) {
              const kept = orders
                .filter((o) => o.account_id === accountId && !REFUNDED_STATUSES.has(o.status))
                .reduce((s, o) => s + o.price, 0);
              expect(balances.get(accountId)).toBe(model.deposited.get(accountId)! - kept);
            }
            for (const o of orders) outcomes.set(o.status, (outcomes.get(o.status) ?? 0) + 1);
          } finally {
            await core.close();
          }
        },
      ),
      { numRuns: 40 },
    );
    // The sequences do reach the interesting states and transitions, not only refusals.
    for (const status of ['active', 'completed', 'cancelled', 'expired']) expect(outcomes.get(status) ?? 0).toBeGreaterThan(0);
    for (const what of ['order:ok', 'order:insufficient_balance', 'cancel:ok', 'cancel:order_not_active', 'retry:ok', 'batch:ok', 'verify:expired']) {
      expect(tally.get(what) ?? 0, what).toBeGreaterThan(0);
    }
  });
});

// ── the audit catches a damaged file ─────────────────────────────────────────────────────────

/** A file with one account, a completed, a cancelled and an active order. */
async function populated(): Promise<{ file: string; accountId: string; completed: string; cancelled: string; active: string }> {
  const clock = new ManualClock();
  const { core, file } = makeCore({ clock, simulator: { delayMs: 1000 } });
  const { accountId } = await fundedAccount(core, 5 * USD);
  const completed = (await core.order(accountId, { platform: 'whatsapp' })).order_id;
  clock.advance(1000);
  expect((await core.getOrder(accountId, completed)).status).toBe('completed');
  const cancelled = (await core.order(accountId, { platform: 'telegram' })).order_id;
  expect((await core.cancel(accountId, cancelled)).status).toBe('cancelled');
  const active = (await core.order(accountId, { platform: 'instagram' })).order_id;
  expect((await core.audit()).violations).toEqual([]);
  expect(ledgerProblems(file)).toEqual([]);
  await core.close();
  return { file, accountId, completed, cancelled, active };
}

function tamper(file: string, sql: string, ...params: unknown[]): void {
  const db = new Database(file);
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

async function auditOf(file: string): Promise<string[]> {
  const core = openCoreOnFile(file);
  try {
    return (await core.audit()).violations;
  } finally {
    await core.close();
  }
}

describe('audit catches corruption', () => {
  it('a balance that disagrees with the ledger', async () => {
    const { file, accountId } = await populated();
    tamper(file, 'UPDATE accounts SET balance = balance + 1 WHERE id = ?', accountId);
    const violations = await auditOf(file);
    expect(violations).toEqual([expect.stringMatching(new RegExp(`account ${accountId}: balance \\d+ µUSD but its ledger sums to \\d+`))]);
    expect(ledgerProblems(file)).toEqual([expect.stringContaining(`account ${accountId}: balance`)]);
  });

  it('a negative balance is refused by the schema itself', async () => {
    const { file, accountId } = await populated();
    expect(() => tamper(file, 'UPDATE accounts SET balance = -1 WHERE id = ?', accountId)).toThrow(/CHECK constraint failed/);
    expect(await auditOf(file)).toEqual([]);
  });

  it('a deleted refund', async () => {
    const { file, accountId, cancelled } = await populated();
    tamper(file, "DELETE FROM ledger WHERE order_id = ? AND kind = 'refund'", cancelled);
    const violations = await auditOf(file);
    expect(violations).toEqual(
      expect.arrayContaining([
        expect.stringContaining(`account ${accountId}: balance`),
        `order ${cancelled}: cancelled without a refund of its price`,
        expect.stringContaining(`order ${cancelled}: refunded flag 1 disagrees`),
      ]),
    );
    expect(ledgerProblems(file).length).toBeGreaterThanOrEqual(3);
  });

  it('a second debit: refused by the unique index, and reported once the index is gone', async () => {
    const { file, accountId, active } = await populated();
    const insert = "INSERT INTO ledger (account_id, kind, amount, order_id, note, created_at) VALUES (?, 'order_debit', -120000, ?, 'dup', 0)";
    expect(() => tamper(file, insert, accountId, active)).toThrow(/UNIQUE constraint failed/);
    expect(await auditOf(file)).toEqual([]);

    tamper(file, 'DROP INDEX ledger_one_debit');
    tamper(file, insert, accountId, active);
    // Keep the cached balance in step, so that only the double debit is wrong.
    tamper(file, 'UPDATE accounts SET balance = balance - 120000 WHERE id = ?', accountId);
    const violations = await auditOf(file);
    expect(violations).toEqual([expect.stringMatching(new RegExp(`^order ${active}: 2 debit entries`))]);
    expect(ledgerProblems(file)).toEqual([`order ${active}: 2 debits`]);
  });

  it('a second refund: refused by the unique index, and reported once the index is gone', async () => {
    const { file, accountId, cancelled } = await populated();
    const insert = "INSERT INTO ledger (account_id, kind, amount, order_id, note, created_at) VALUES (?, 'refund', 300000, ?, 'dup', 0)";
    expect(() => tamper(file, insert, accountId, cancelled)).toThrow(/UNIQUE constraint failed/);
    tamper(file, 'DROP INDEX ledger_one_refund');
    tamper(file, insert, accountId, cancelled);
    tamper(file, 'UPDATE accounts SET balance = balance + 300000 WHERE id = ?', accountId);
    const violations = await auditOf(file);
    expect(violations).toEqual(expect.arrayContaining([`order ${cancelled}: 2 refunds`]));
    expect(ledgerProblems(file)).toEqual(expect.arrayContaining([`order ${cancelled}: 2 refunds`]));
  });

  it('a completed order with a refund, a refunded flag that lies, a debit that is not the price', async () => {
    const { file, accountId, completed, cancelled, active } = await populated();
    tamper(file, "UPDATE orders SET status = 'completed' WHERE id = ?", cancelled);
    tamper(file, 'UPDATE orders SET refunded = 1 WHERE id = ?', active);
    tamper(file, "UPDATE ledger SET amount = amount + 10000 WHERE order_id = ? AND kind = 'order_debit'", completed);
    tamper(file, 'UPDATE accounts SET balance = balance + 10000 WHERE id = ?', accountId);
    const violations = await auditOf(file);
    expect(violations).toEqual(
      expect.arrayContaining([
        `order ${cancelled}: completed but refunded`,
        expect.stringContaining(`order ${active}: refunded flag 1 disagrees`),
        expect.stringMatching(new RegExp(`^order ${completed}: 1 debit entries \\(total -240000\\) for a price of 250000`)),
        // The status was changed behind the account's back: its count of completed orders disagrees too.
        expect.stringContaining(`account ${accountId}: 1 completed orders counted on the account, 2 in its orders`),
      ]),
    );
    expect(violations).toHaveLength(4);
    expect(ledgerProblems(file)).toHaveLength(3);
  });

  it('a refund missing from a cancelled order whose flag was also cleared', async () => {
    const { file, accountId, cancelled } = await populated();
    tamper(file, "DELETE FROM ledger WHERE order_id = ? AND kind = 'refund'", cancelled);
    tamper(file, 'UPDATE orders SET refunded = 0 WHERE id = ?', cancelled);
    tamper(file, 'UPDATE accounts SET balance = balance - 300000 WHERE id = ?', accountId);
    expect(await auditOf(file)).toEqual([`order ${cancelled}: cancelled without a refund of its price`]);
    expect(ledgerProblems(file)).toEqual([`order ${cancelled}: cancelled without one refund of its price`]);
  });
});

// ── schema, pragmas, secrets ────────────────────────────────────────────────────────────────

const pragmaOf = (store: SqliteDatabase, name: string): unknown => store.writer.pragma(name, { simple: true });

function schemaOf(store: SqliteDatabase): { type: string; name: string; sql: string | null }[] {
  return store.writer.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY type, name').all() as {
    type: string;
    name: string;
    sql: string | null;
  }[];
}

describe('the SQLite store', () => {
  it('migrations set user_version to their number; reopening changes nothing', async () => {
    expect(MIGRATIONS.length).toBeGreaterThan(0);
    const file = join(tempDir(), 'tn.db');
    const first = openSqlite(file);
    expect(pragmaOf(first, 'user_version')).toBe(MIGRATIONS.length);
    const schema = schemaOf(first);
    expect(schema.filter((s) => s.type === 'table').map((s) => s.name)).toEqual(
      expect.arrayContaining(['accounts', 'ledger', 'orders', 'sms', 'idempotency_keys']),
    );
    const core = openCoreOnFile(file);
    const { accountId } = await fundedAccount(core, USD);
    await core.order(accountId, { platform: 'instagram' });
    await core.close();
    await first.close();

    for (let i = 0; i < 3; i++) {
      const again = openSqlite(file);
      expect(pragmaOf(again, 'user_version')).toBe(MIGRATIONS.length);
      expect(schemaOf(again)).toEqual(schema);
      expect((await again.read.accounts.get(accountId))?.balance).toBe(880_000);
      expect((await again.read.orders.recent(accountId, 10)).length).toBe(1);
      await again.close();
    }
    // Two connections opening the same file at once both migrate nothing and agree.
    const a = openSqlite(file);
    const b = openSqlite(file);
    expect([pragmaOf(a, 'user_version'), pragmaOf(b, 'user_version')]).toEqual([MIGRATIONS.length, MIGRATIONS.length]);
    expect((await audit(a)).violations).toEqual([]);
    await a.close();
    await b.close();
  });

  it('no statement of ordering, waiting, due work or an account read walks the orders table', { timeout: 60_000 }, async () => {
    // Without ANALYZE (tn never runs it) SQLite once chose to walk every order for the scheduler's
    // release query: fine on an empty table, 1.6 ms a pass at 15,000 orders.
    const { core, file } = makeCore({ simulator: { delayMs: 60_000 } });
    const { accountId } = await fundedAccount(core, 1_000_000_000);
    const platforms = (await core.services(accountId)).services.map((s) => s.platform);
    for (let round = 0; round < 10; round++) {
      await Promise.all(Array.from({ length: 200 }, (_, k) => core.order(accountId, { platform: platforms[(round * 200 + k) % platforms.length]! })));
    }
    const statement = Object.getPrototypeOf(new Database(':memory:').prepare('SELECT 1')) as Record<'get' | 'all' | 'run', (...args: unknown[]) => unknown> & { source?: string };
    const seen = new Map<string, unknown[]>();
    const originals = { get: statement.get, all: statement.all, run: statement.run };
    for (const name of ['get', 'all', 'run'] as const) {
      statement[name] = function (this: { source: string }, ...args: unknown[]) {
        seen.set(this.source, args);
        return originals[name].apply(this, args);
      };
    }
    try {
      const order = await core.order(accountId, { platform: 'instagram' });
      await core.getOrder(accountId, order.order_id);
      await core.cancel(accountId, order.order_id);
      await core.processDue();
      await core.account(accountId);
      await core.usage(accountId);
    } finally {
      Object.assign(statement, originals);
    }
    const explain = new Database(file, { readonly: true });
    try {
      const walks: string[] = [];
      for (const [sql, args] of seen) {
        if (!/^\s*(SELECT|UPDATE|DELETE|INSERT)/i.test(sql)) continue;
        const plan = (explain.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail);
        if (plan.some((d) => /^SCAN (orders|o)\b/.test(d))) walks.push(`${sql.replace(/\s+/g, ' ')}\n  ${plan.join(' | ')}`);
      }
      expect(seen.size).toBeGreaterThan(10);
      expect(walks).toEqual([]);
    } finally {
      explain.close();
    }
  });

  it('settles a unit of work and runs its after-commit hooks only once the WAL is on disk (fdatasync)', async () => {
    const store = openSqlite(join(tempDir(), 'tn.db'));
    const probe = await open(join(tempDir(), 'probe'), 'w');
    const handle = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    const original = handle.datasync;
    const steps: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    handle.datasync = async function (this: unknown) {
      steps.push('sync started');
      await held;
      await original.call(this);
      steps.push('synced');
    };
    try {
      const done = store
        .transaction(async (tx) => {
          await tx.prices.set('instagram', 'us', 120_000);
          tx.afterCommit(() => steps.push('after-commit hook'));
          return 'value';
        })
        .then((value) => steps.push(`settled with ${value}`));
      while (!steps.includes('sync started')) await new Promise((resolve) => setImmediate(resolve));
      // Committed (another connection sees it) but not yet acknowledged: nothing has run.
      expect((await store.read.prices.all()).map((p) => p.price)).toEqual([120_000]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(steps).toEqual(['sync started']);
      release();
      await done;
      expect(steps).toEqual(['sync started', 'synced', 'after-commit hook', 'settled with value']);
    } finally {
      handle.datasync = original;
      await store.close();
    }
  });

  it('journal_mode is wal and synchronous is NORMAL on every open (the engine syncs the WAL itself)', async () => {
    const file = join(tempDir(), 'tn.db');
    const check = (store: SqliteDatabase): void => {
      expect(pragmaOf(store, 'journal_mode')).toBe('wal');
      expect(pragmaOf(store, 'synchronous')).toBe(1);
      expect(pragmaOf(store, 'foreign_keys')).toBe(1);
    };
    const fresh = openSqlite(file);
    check(fresh);
    await fresh.close();
    const reopened = openSqlite(file);
    check(reopened);
    // The store the core actually uses, on a file that already exists.
    const core = openCoreOnFile(file);
    expect(core.db).toBeInstanceOf(SqliteDatabase);
    check(core.db as SqliteDatabase);
    const readonly = openSqlite(file, { readonly: true });
    check(readonly);
    await readonly.close();
    await core.close();
    await reopened.close();
    const last = openSqlite(file);
    check(last);
    await last.close();
  });

  it('stores only the SHA-256 of an API key', async () => {
    const { core, file } = makeCore();
    const { apiKey, accountId } = await fundedAccount(core, USD);
    const other = await fundedAccount(core, 0);
    expect(apiKey).toMatch(/^vn_/);
    const db = (core.db as SqliteDatabase).writer;
    const row = db.prepare('SELECT * FROM accounts WHERE id = ?').get(accountId) as Record<string, unknown>;
    expect(row.key_hash).toBe(createHash('sha256').update(apiKey).digest('hex'));
    const rows = db.prepare('SELECT * FROM accounts').all() as Record<string, unknown>[];
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      for (const value of Object.values(r)) {
        expect(String(value)).not.toContain(apiKey);
        expect(String(value)).not.toContain(apiKey.slice(3));
        expect(String(value)).not.toContain(other.apiKey.slice(3));
      }
    }
    expect(await core.authenticate(apiKey)).toBe(accountId);
    // Nowhere in the file or its WAL either.
    for (const f of [file, `${file}-wal`].filter(existsSync)) {
      const bytes = readFileSync(f);
      expect(bytes.includes(apiKey.slice(3))).toBe(false);
      expect(bytes.includes(other.apiKey.slice(3))).toBe(false);
    }
  });

  it('refuses a database written by a newer tn', async () => {
    const file = join(tempDir(), 'tn.db');
    const store = openSqlite(file);
    await store.close();
    const newer = MIGRATIONS.length + 1;
    tamper(file, `PRAGMA user_version = ${newer}`);

    let err: unknown;
    try {
      openSqlite(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TnError);
    expect((err as TnError).code).toBe('unavailable');
    expect((err as TnError).message).toMatch(/newer/);
    expect(() => openCoreOnFile(file)).toThrow(/newer than this tn/);

    const raw = new Database(file, { readonly: true });
    try {
      expect(raw.pragma('user_version', { simple: true })).toBe(newer);
    } finally {
      raw.close();
    }
  });
});

import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AttemptStep, VerifiedOrder } from '../src/core/broker.js';
import { parseOneJson } from './cli-helpers.js';
import { failure, fundedAccount, makeCore, tempDir } from './helpers.js';
import { cleanEnv, killLeftovers, runTn, startServe, requireBuild } from './support/process.js';

// `verify --attempts` (issue 17 §1): a number that gets no SMS in its time is cancelled and
// refunded, and a fresh one ordered, in the core, so the CLI, the HTTP API and the library agree.

afterEach(killLeftovers);

/** A simulator that drops every SMS while `drop` is set (its no-SMS rate is 0.5; random() decides). */
function droppingSimulator(): { state: { drop: boolean }; random: () => number } {
  const state = { drop: true };
  return { state, random: () => (state.drop ? 0 : 0.75) };
}

function ledger(file: string, accountId: string): { kind: string; amount: number; order_id: string | null }[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT kind, amount, order_id FROM ledger WHERE account_id = ? ORDER BY id').all(accountId) as { kind: string; amount: number; order_id: string | null }[];
  } finally {
    db.close();
  }
}

describe('attempts in the core', () => {
  it('three attempts, the first two without SMS: three debits, two refunds, one completed order', async () => {
    const sim = droppingSimulator();
    const { core, file } = makeCore({ simulator: { delayMs: 20, noSmsRate: 0.5, random: sim.random } });
    const { accountId } = await fundedAccount(core, 5_000_000);
    const steps: AttemptStep[] = [];
    const order: VerifiedOrder = await core.verifyWithin(accountId, { platform: 'instagram', country: 'us' }, 20_000, {
      attempts: 3,
      perAttemptMs: 300,
      onAttempt: (step) => {
        steps.push(step);
        // The third number gets its SMS.
        if (step.index === 2) sim.state.drop = false;
      },
    });
    expect(order.status).toBe('completed');
    expect(order.code).toMatch(/^\d+$/);
    expect(order.attempts!.map((a) => a.outcome)).toEqual(['no_sms', 'no_sms', 'completed']);
    expect(order.attempts!.map((a) => a.refund)).toEqual([0.12, 0.12, 0]);
    expect(order.attempts![2]!.order_id).toBe(order.order_id);
    // A number that got nothing is not tried again.
    expect(new Set(order.attempts!.map((a) => a.phone)).size).toBe(3);
    expect(steps.map((s) => [s.index, s.of, s.attempt.outcome])).toEqual([
      [1, 3, 'no_sms'],
      [2, 3, 'no_sms'],
    ]);

    const entries = ledger(file, accountId);
    const debits = entries.filter((e) => e.kind === 'order_debit');
    const refunds = entries.filter((e) => e.kind === 'refund');
    expect(debits.map((e) => e.order_id)).toEqual(order.attempts!.map((a) => a.order_id));
    expect(refunds.map((e) => e.order_id)).toEqual(order.attempts!.slice(0, 2).map((a) => a.order_id));
    expect(refunds.map((e) => e.amount)).toEqual([120_000, 120_000]);
    const statuses = await Promise.all(order.attempts!.map(async (a) => (await core.getOrder(accountId, a.order_id)).status));
    expect(statuses).toEqual(['cancelled', 'cancelled', 'completed']);
    expect((await core.account(accountId)).balance).toBe(4.88);
    expect((await core.audit()).violations).toEqual([]);
  });

  it('the next attempt goes to another source where routing has one', async () => {
    const sim = droppingSimulator();
    const { core } = makeCore({ simulator: { delayMs: 20, noSmsRate: 0.5, random: sim.random } });
    const { accountId } = await fundedAccount(core, 5_000_000);
    // Routing prefers the cheaper source; only the attempts' rule sends the second number elsewhere.
    await core.addSource({ name: 'cheap', kind: 'simulator', cost: 10_000 });
    await core.addSource({ name: 'dear', kind: 'simulator', cost: 50_000 });
    const order = await core.verifyWithin(accountId, { platform: 'instagram', country: 'us' }, 20_000, {
      attempts: 2,
      perAttemptMs: 200,
      onAttempt: () => void (sim.state.drop = false),
    });
    expect(order.status).toBe('completed');
    const sources = await Promise.all(order.attempts!.map(async (a) => (await core.db.read.orders.get(a.order_id))!.source));
    expect(sources).toEqual(['cheap', 'dear']);
  });

  it('the last attempt without SMS expires as a plain verify does; every one is refunded', async () => {
    const sim = droppingSimulator();
    const { core } = makeCore({ simulator: { delayMs: 20, noSmsRate: 0.5, random: sim.random } });
    const { accountId } = await fundedAccount(core, 5_000_000);
    const order = await core.verifyWithin(accountId, { platform: 'whatsapp', country: 'us' }, 20_000, { attempts: 2, perAttemptMs: 200 });
    expect(order.status).toBe('expired');
    expect(order.refunded).toBe(true);
    expect(order.attempts!.map((a) => [a.outcome, a.refund])).toEqual([
      ['no_sms', 0.25],
      ['expired', 0.25],
    ]);
    expect((await core.account(accountId)).balance).toBe(5);
  });

  it('the overall time bounds the attempts: no attempt starts once it is spent', async () => {
    const sim = droppingSimulator();
    const { core } = makeCore({ simulator: { delayMs: 20, noSmsRate: 0.5, random: sim.random } });
    const { accountId } = await fundedAccount(core, 5_000_000);
    const order = await core.verifyWithin(accountId, { platform: 'telegram', country: 'us' }, 500, { attempts: 10, perAttemptMs: 200 });
    expect(order.attempts!.length).toBeLessThan(10);
    expect(order.attempts!.at(-1)!.outcome).toBe('expired');
    expect((await core.account(accountId)).balance).toBe(5);
  });

  it('an abort (Ctrl-C) cancels the attempt in flight, refunds it and orders no other', async () => {
    const sim = droppingSimulator();
    const { core } = makeCore({ simulator: { delayMs: 20, noSmsRate: 0.5, random: sim.random } });
    const { accountId } = await fundedAccount(core, 5_000_000);
    const abort = new AbortController();
    let placed = 0;
    const order = await core.verifyWithin(accountId, { platform: 'instagram', country: 'us' }, 20_000, {
      attempts: 5,
      perAttemptMs: 200,
      signal: abort.signal,
      onOrder: () => {
        placed += 1;
        if (placed === 2) setTimeout(() => abort.abort(), 50);
      },
    });
    expect(order.status).toBe('cancelled');
    expect(order.attempts!.map((a) => a.outcome)).toEqual(['no_sms', 'cancelled']);
    expect((await core.orders(accountId, {})).total).toBe(2);
    expect((await core.account(accountId)).balance).toBe(5);
  });

  it('the API bounds come from limits.ts: attempts 1–10, per_attempt_seconds 30–300', async () => {
    const { core } = makeCore();
    const { accountId } = await fundedAccount(core, 5_000_000);
    for (const bad of [{ attempts: 0 }, { attempts: 11 }, { attempts: 2.5 }, { perAttemptSeconds: 29 }, { perAttemptSeconds: 301 }]) {
      const err = await failure(core.verify(accountId, { platform: 'instagram', ...bad }));
      expect(err.code, JSON.stringify(bad)).toBe('invalid_request');
    }
    // A plain verify keeps its shape: no attempts array unless asked for.
    const plain = await core.verify(accountId, { platform: 'instagram', country: 'us', timeoutSeconds: 30 });
    expect(plain.status).toBe('completed');
    expect('attempts' in plain).toBe(false);
    const one = await core.verify(accountId, { platform: 'instagram', country: 'us', attempts: 1 });
    expect(one.attempts!.map((a) => a.outcome)).toEqual(['completed']);
  });
});

describe('tn verify --attempts, real binary', () => {
  beforeAll(requireBuild);

  it('on local and against tn serve: each step on stderr, stdout one JSON with the attempts, exit 5, all refunded', async () => {
    const dir = tempDir('tn-attempts-');
    const local = cleanEnv({ TN_CONFIG_DIR: join(dir, 'lc'), TN_DATA_DIR: join(dir, 'ld'), TN_SIM_NO_SMS_RATE: '1' });
    const base = cleanEnv({ TN_CONFIG_DIR: join(dir, 'rc'), TN_DATA_DIR: join(dir, 'rd') });
    const file = join(dir, 'serve.db');
    const server = await startServe(['--port', '0', '--db', file, '--rate-limit', '0', '--sim-no-sms-rate', '1', '-q'], base);
    const reg = (await (await fetch(`${server.url}/api/v1/register`, { method: 'POST' })).json()) as { api_key: string; account_id: string };
    expect((await runTn(['admin', 'credit', reg.account_id, '5', '--db', file], base)).code).toBe(0);
    const remote = { ...base, TN_ENDPOINT: server.url, TN_API_KEY: reg.api_key };

    const args = ['verify', 'instagram', '--country', 'us', '--attempts', '2', '--per-attempt', '30', '--json'];
    // Both wait out two 30 s attempts: run side by side.
    const [onLocal, onRemote] = await Promise.all([runTn(args, local, 90_000), runTn(args, remote, 90_000)]);
    for (const [where, run] of [
      ['local', onLocal],
      ['remote', onRemote],
    ] as const) {
      expect(run.code, `${where}: ${run.stderr}`).toBe(5);
      const order = parseOneJson(run.stdout) as VerifiedOrder;
      expect(order.status, where).toBe('expired');
      expect(order.attempts!.map((a) => [a.outcome, a.refund]), where).toEqual([
        ['no_sms', 0.12],
        ['expired', 0.12],
      ]);
      const first = order.attempts![0]!;
      expect(run.stderr, where).toContain(`no SMS on ${first.phone}`);
      expect(run.stderr, where).toContain('refunded $0.12; trying another number (2/2)');
    }
    expect(onLocal.stderr).toMatch(/no SMS on \+\d+ after 30 s, refunded/);
    const account = (await (await fetch(`${server.url}/api/v1/account`, { headers: { authorization: `Bearer ${reg.api_key}` } })).json()) as { balance: number; stats: { orders: number } };
    expect(account).toMatchObject({ balance: 5, stats: { orders: 2 } });
    // The HTTP API refuses attempts out of bounds before ordering anything.
    const bad = await fetch(`${server.url}/api/v1/verify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${reg.api_key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ platform: 'instagram', attempts: 11 }),
    });
    expect(bad.status).toBe(400);
    const usage = await runTn(['verify', 'instagram', '--attempts', '0'], local);
    expect(usage.code).toBe(2);
  }, 120_000);
});

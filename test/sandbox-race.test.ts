/**
 * Issue 20.1: many `tn` processes started at once on a fresh data directory end up on one sandbox
 * account, and every order they acknowledged is theirs to read afterwards.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeSandbox, parseOneJson, type OrderJson } from './cli-helpers.js';

const PROCESSES = 20;

describe('the first use of the embedded broker', () => {
  it(`${PROCESSES} processes started together share one sandbox account and keep every order`, { timeout: 120_000 }, async ({ onTestFinished }) => {
    const box = await makeSandbox(onTestFinished);
    const runs = await Promise.all(Array.from({ length: PROCESSES }, () => box.run(['order', 'instagram', '--json'], { killAfterMs: 60_000 })));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const orders = runs.map((r) => parseOneJson(r.stdout) as OrderJson);
    // One account made, once: the credit line is said by exactly one process.
    expect(runs.filter((r) => r.stderr.includes('Created a local sandbox account')).length).toBe(1);
    const config = await readFile(join(box.configDir, 'config.json'), 'utf8');
    expect(config.match(/vn_[A-Za-z0-9_-]+/g)?.length).toBe(1);
    // Every acknowledged order is found afterwards, on the one account, which paid for all of them.
    for (const order of orders) {
      const status = await box.json<OrderJson>(['status', order.order_id]);
      expect(status.code, status.stderr).toBe(0);
      expect(status.body.order_id).toBe(order.order_id);
    }
    const account = await box.json<{ stats: { orders: number } }>(['account']);
    expect(account.body.stats.orders).toBe(PROCESSES);
    const audit = await box.run(['admin', 'audit']);
    expect(audit.code, audit.stderr + audit.stdout).toBe(0);
  });
});

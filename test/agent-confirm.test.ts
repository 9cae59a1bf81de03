import { describe, expect, it } from 'vitest';
import { makeSandbox, type AccountJson, type Sandbox } from './cli-helpers.js';
import { hasScript, ptyExit, runInPty } from './support/pty.js';

/**
 * Nothing is spent by surprise: on a terminal `tn agent` says what it understood and the total and
 * asks first (`--yes` skips the question); `--dry-run` on agent, order, verify and batch prints the
 * quote and orders nothing. Piped, the agent orders as before. Needs `npm run build`.
 */

interface QuoteJson {
  dry_run: true;
  items: { platform: string; country: string; quantity: number; price: number; median_delivery_seconds: number | null }[];
  total: number;
  balance: number;
  balance_after: number;
}

async function orderCount(box: Sandbox): Promise<number> {
  const r = await box.json<AccountJson>(['account']);
  return r.body.stats.orders;
}

describe('--dry-run prints the quote and spends nothing', () => {
  it('order, verify, batch and agent', async ({ onTestFinished }) => {
    const box = await makeSandbox(onTestFinished);
    const order = await box.json<QuoteJson>(['order', 'wa', '--country', 'us', '--dry-run']);
    expect(order.code).toBe(0);
    expect(order.body).toMatchObject({ dry_run: true, total: 0.25, balance: 10, balance_after: 9.75 });
    expect(order.body.items).toEqual([{ platform: 'whatsapp', name: 'WhatsApp', country: 'us', quantity: 1, price: 0.25, stock: expect.any(Number), median_delivery_seconds: null }]);

    const verify = await box.json<QuoteJson>(['verify', 'instagram', '--dry-run']);
    expect(verify.body).toMatchObject({ dry_run: true, items: [{ platform: 'instagram', country: 'any', quantity: 1 }] });

    const batch = await box.json<QuoteJson>(['batch', 'tg', 'tg', 'wa:gb', '--dry-run']);
    expect(batch.body.items.map((i) => [i.platform, i.country, i.quantity])).toEqual([
      ['telegram', 'any', 2],
      ['whatsapp', 'gb', 1],
    ]);
    expect(batch.body.total).toBeCloseTo(2 * batch.body.items[0]!.price + batch.body.items[1]!.price, 6);

    const agent = await box.json<QuoteJson>(['agent', '20 telegram numbers', '--dry-run']);
    expect(agent.body).toMatchObject({ dry_run: true, items: [{ platform: 'telegram', quantity: 20 }] });

    const human = await box.run(['order', 'telegram', '--dry-run']);
    expect(human.stdout).toMatch(/^telegram\tany\t1\t\$0\.\d+\t–\n/);
    expect(human.stderr).toContain('Dry run: nothing was ordered.');

    expect(await orderCount(box)).toBe(0);
    expect((await box.json<AccountJson>(['account'])).body.balance).toBe(10);
  });

  it('agent --max-price refuses before ordering, piped too', async ({ onTestFinished }) => {
    const box = await makeSandbox(onTestFinished);
    const r = await box.run(['agent', '3 telegram numbers', '--max-price', '0.05']);
    // The same refusal as order and verify give for a price above --max-price: price_above_max, exit 4.
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/above your limit of \$0\.05: nothing was ordered/);
    expect(await orderCount(box)).toBe(0);
  });

  it('piped, the agent orders as it always did: no question', async ({ onTestFinished }) => {
    const box = await makeSandbox(onTestFinished);
    const r = await box.run(['agent', '2 telegram numbers']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
    expect(await orderCount(box)).toBe(2);
  });
});

describe.skipIf(!hasScript)('tn agent on a terminal asks before spending', () => {
  for (const [answer, ordered] of [
    ['n', 0],
    ['y', 3],
  ] as const) {
    it(`answering ${answer}: ${ordered} orders`, async ({ onTestFinished }) => {
      const box = await makeSandbox(onTestFinished, { NO_COLOR: '1' });
      await box.run(['account']);
      const run = runInPty(['agent', '3 telegram numbers'], box.env, { cols: 100, rows: 30 });
      onTestFinished(() => void run.child.kill('SIGKILL'));
      await run.waitFor(/Understood: 3 × Telegram \(any country\) at \$0\.\d+: \$0\.\d+ in all; balance \$10\.00 → \$9\.\d+\. Order\? \[y\/N\]/);
      run.child.stdin!.write(`${answer}\r`);
      const { screen } = await run.done;
      expect(ptyExit(screen)).toBe(0);
      if (ordered === 0) expect(screen).toContain('Nothing was ordered.');
      expect(await orderCount(box)).toBe(ordered);
    });
  }

  it('--yes: no question, the orders are placed', async ({ onTestFinished }) => {
    const box = await makeSandbox(onTestFinished, { NO_COLOR: '1' });
    await box.run(['account']);
    const { screen } = await runInPty(['agent', '2 telegram numbers', '--yes'], box.env, { cols: 100, rows: 30 }).done;
    expect(ptyExit(screen)).toBe(0);
    expect(screen).not.toContain('[y/N]');
    expect(await orderCount(box)).toBe(2);
  });
});

/**
 * The README's operator path with TempNumber as the source, through the real binaries: `tn admin
 * source add tempnumber` on a new database, `tn serve`, a customer's `tn verify` over HTTP, the
 * SMS arriving upstream (the fake of test/support), the code printed; then `tn retry --wait`.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';
import { startFakeTempNumber } from './support/fake-tempnumber.js';
import { cleanEnv, killLeftovers, runTn, startServe, until } from './support/process.js';

afterEach(killLeftovers);

describe('a broker on TempNumber, end to end', () => {
  it('an operator adds the upstream, a customer verifies through tn serve and gets the code, then another', async () => {
    const fake = await startFakeTempNumber({ prices: { instagram: { us: 0.15 } } });
    const dir = tempDir('tn-upstream-');
    const env = cleanEnv({ TN_CONFIG_DIR: join(dir, 'config'), TN_DATA_DIR: join(dir, 'data') });
    const db = join(dir, 'broker.db');

    const added = await runTn(
      ['admin', 'source', 'add', 'tempnumber', '--name', 'upstream', '--api-key', fake.apiKey, '--base-url', fake.url, '--markup', '30%', '--poll-interval', '200', '--db', db, '--json'],
      env,
    );
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toEqual({ name: 'upstream', kind: 'tempnumber', inbound_url: null });

    const server = await startServe(['--port', '0', '--db', db, '--rate-limit', '0', '--quiet'], env);
    const registered = await runTn(['register', '--endpoint', server.url, '--json'], env);
    expect(registered.code).toBe(0);
    const { account_id: account } = JSON.parse(registered.stdout) as { account_id: string };
    expect((await runTn(['admin', 'credit', account, '1', '--db', db], env)).code).toBe(0);

    const prices = await runTn(['prices', '--by', 'country', '--platform', 'instagram', '--json'], env);
    expect(JSON.parse(prices.stdout)).toMatchObject({ items: [{ country: 'us', price: 0.2, stock: 100 }] });

    const verify = runTn(['verify', 'instagram', '--country', 'us', '--timeout', '60', '--json'], env, 60_000);
    await until(() => fake.activations.size === 1, 15_000, 'the activation upstream');
    const [activation] = [...fake.activations.values()];
    expect(activation).toMatchObject({ serviceId: 'instagram', countryId: 'us', status: 'smsRequested' });
    fake.deliver(activation!.id, 'Your Instagram code is 739105. Do not share it.', '739105');
    const done = await verify;
    expect(done.code).toBe(0);
    const order = JSON.parse(done.stdout) as { order_id: string; phone: string; code: string; price: number; status: string };
    expect(order).toMatchObject({ status: 'completed', code: '739105', phone: activation!.number, price: 0.2 });
    expect(done.stdout).not.toContain('upstream');

    const retry = runTn(['retry', order.order_id, '--wait', '--json'], env, 60_000);
    await until(() => activation!.status === 'retryRequested', 15_000, 'the retry upstream');
    fake.deliver(activation!.id, 'Your Instagram code is 204816.', '204816');
    const again = await retry;
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'completed', code: '204816', codes: ['739105', '204816'] });

    // The operator sees which source served the order, and its activation upstream.
    const seen = await runTn(['admin', 'order', order.order_id, '--db', db, '--json'], env);
    expect(JSON.parse(seen.stdout)).toMatchObject({ order_id: order.order_id, account_id: account, source: 'upstream', upstream: { activation_id: activation!.id, status: 'retryReceived', cost: 0.15 } });

    const overview = await runTn(['admin', 'sources', '--db', db, '--json'], env);
    expect(JSON.parse(overview.stdout)).toMatchObject({
      sources: [{ source: 'upstream', kind: 'tempnumber', enabled: true, active_orders: 0, success_rate: 1, errors_last_hour: 0, upstream_balance: 99.85 }],
    });
    const audit = await runTn(['admin', 'audit', '--db', db], env);
    expect(audit.code).toBe(0);
  }, 90_000);
});
